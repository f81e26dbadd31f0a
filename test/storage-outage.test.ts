// PostgreSQL going away under a running node: a TCP proxy on 127.0.0.1 stands between Parley and
// the real PostgreSQL; closing it (every connection reset, new ones refused) is an outage, opening
// it again is the recovery. While it is down, HTTP routes answer their surface's "unavailable"
// error and WebSocket upgrades get 503 — never a 500 — and afterwards everything works again.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { createBackend, DATABASE_URL, type TestBackend } from "./helpers/backend.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/** A TCP proxy to `target` that can be taken down (all sockets destroyed, port closed) and brought back. */
class OutageProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", r));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.resetAndDestroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Opens a WebSocket upgrade by hand and returns the HTTP status line's code. */
function upgradeStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () =>
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      ),
    );
    let got = "";
    s.on("data", (d) => {
      got += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on("error", reject);
    setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to the upgrade of ${path}`));
    }, 20_000).unref();
  });
}

// PostgreSQL only; an unreachable configured PostgreSQL already fails in helpers/backend.ts under PARLEY_REQUIRE_SERVICES=1
const skip = DATABASE_URL ? false : "PostgreSQL only (PARLEY_DATABASE_URL)";

describe("PostgreSQL outage under a running node", { skip }, () => {
  let backend: TestBackend;
  let proxy: OutageProxy;
  let s: TestServer;
  let port: number;

  before(async () => {
    backend = await createBackend();
    const real = new URL(backend.databaseUrl);
    proxy = new OutageProxy({ host: real.hostname, port: Number(real.port || 5432) });
    await proxy.up();
    const via = new URL(backend.databaseUrl);
    via.hostname = "127.0.0.1";
    via.port = String(proxy.port);
    s = await startServer({}, { backend: { ...backend, databaseUrl: via.toString() } });
    port = Number(new URL(s.base).port);
  });

  after(async () => {
    await s?.close();
    await proxy?.down();
    await backend?.cleanup();
  });

  const register = (systemId: string) =>
    fetch(`${s.base}/api/register`, { method: "POST", body: JSON.stringify({ systemId }) }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { code: number; msg: string },
    }));

  test("while it is down: the gateway answers 503 with its envelope, upgrades get 503; afterwards both work", async () => {
    assert.equal((await register("before-outage")).body.code, 0);
    assert.equal(await upgradeStatus(port, "/ws?systemId=before-outage"), 101);

    // a chat33 guest connected before the outage
    const guest = new WebSocket(`${s.ws}/ws`, { headers: { "FZM-UUID": "guest-outage", "FZM-DEVICE": "Android" } });
    const frames: Array<{ eventType?: number; msgId?: string; code?: number; content?: string }> = [];
    guest.on("message", (d: Buffer) => frames.push(JSON.parse(d.toString())));
    await new Promise((r, j) => guest.once("open", r).once("error", j));

    await proxy.down();
    // joining a room the node has never seen needs storage: chat33's "unavailable" frame, not "no such room"
    guest.send(JSON.stringify({ eventType: 1, msgId: "j1", groupId: "987654" }));
    for (let i = 0; i < 200 && !frames.some((f) => f.msgId === "j1"); i++) await new Promise((r) => setTimeout(r, 50));
    const join = frames.find((f) => f.msgId === "j1");
    assert.equal(join?.code, -9000, JSON.stringify(join));
    assert.equal(join?.content, "服务暂不可用");
    guest.terminate();

    const during = await register("during-outage");
    assert.equal(during.status, 503, JSON.stringify(during.body));
    assert.notEqual(during.body.code, 0);
    // a known system is cached; one the node has to look up finds storage gone
    assert.equal(await upgradeStatus(port, "/ws?systemId=never-registered"), 503);
    // a chat33 route that reads storage answers chat33's own "try again" (503, result -1)
    const login = await fetch(`${s.base}/user/pwdLogin`, {
      method: "POST",
      headers: { "content-type": "application/json", "FZM-DEVICE": "Android" },
      body: JSON.stringify({ mobile: "13800000000", password: "whatever-1" }),
    });
    const loginBody = (await login.json()) as { result: number };
    assert.equal(login.status, 503, JSON.stringify(loginBody));
    assert.notEqual(loginBody.result, 0);

    await proxy.up();
    // the pool reconnects on the next query
    let after = await register("after-outage");
    for (let i = 0; i < 50 && after.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await register("after-outage");
    }
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.code, 0);
    assert.equal(await upgradeStatus(port, "/ws?systemId=after-outage"), 101);
  });
});
