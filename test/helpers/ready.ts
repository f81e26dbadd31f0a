import type { App } from "../../src/main.ts";

/**
 * Resolves once every open socket of `app` is ready: its surface finished opening it (session and
 * user subscriptions in place, the session re-checked), so an event published from now on reaches
 * it — on every node of a cluster, because a subscription resolves only once the hub has it.
 * Call it after the client's handshake (`await client.opened`): the server registers the socket
 * before it answers the handshake. Fails after `timeoutMs` instead of hanging.
 */
export async function socketsReady(app: Pick<App, "realtime">, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pending = [...app.realtime.connections.values()].filter((c) => !c.ready && !c.closing).length;
    if (pending === 0) return;
    if (Date.now() > end) throw new Error(`${pending} socket(s) not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
