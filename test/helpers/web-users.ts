import WebSocket from "ws";
import { ParleyClient } from "../../web/sdk/client.ts";
import type { WebSocketFactory, WebSocketLike } from "../../web/sdk/socket.ts";
import type { Device, LoginInfo } from "../../web/sdk/types.ts";
import { socketsReady } from "./ready.ts";
import type { TestServer } from "./server.ts";

/** Helpers shared by the web SDK and browser tests (test/web-*.test.ts). */

export const ADMIN = "test-admin-token";
export const PASSWORD = "secret-pass-1";
let seq = 0;
/** A fresh 11-digit mobile, unique per process and call. */
export const newMobile = () => `135${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;

/** The `ws` package as the SDK's socket factory (Node 20 has no global WebSocket). */
export const nodeSocket: WebSocketFactory = (url) => new WebSocket(url) as unknown as WebSocketLike;

/** The newest code the `log` SMS sender wrote for `mobile` (the admin outbox). */
export async function outboxCode(s: TestServer, mobile: string): Promise<string> {
  const r = await fetch(`${s.base}/admin/api/sms/outbox?mobile=${mobile}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  const body = (await r.json()) as { data: Array<{ code: string }> };
  const code = body.data[0]?.code;
  if (!code) throw new Error(`no SMS code for ${mobile}`);
  return code;
}

/** Calls an admin-only chat33 route with the admin token (e.g. `/group/addGroup`). */
export async function adminCall<T>(s: TestServer, path: string, body: object): Promise<T> {
  const r = await fetch(`${s.base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "FZM-DEVICE": "Web", authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  const env = (await r.json()) as { result: number; message: string; data: T };
  if (env.result !== 0) throw new Error(`${path}: ${env.result} ${env.message}`);
  return env.data;
}

/** A user made through the SDK: SMS code from the outbox, `/user/register`, then a nickname. */
export async function registeredClient(
  s: TestServer,
  nickname: string,
  device: Device = "Web",
): Promise<{ client: ParleyClient; me: LoginInfo; mobile: string }> {
  const client = new ParleyClient({
    baseUrl: s.base,
    device,
    connect: nodeSocket,
    backoff: { baseMs: 50, maxMs: 400 },
  });
  const mobile = newMobile();
  await client.api.sendSms(mobile);
  const me = await client.register(mobile, PASSWORD, await outboxCode(s, mobile));
  await client.api.editNickname(nickname);
  return { client, me, mobile };
}

/** Makes `a` and `b` friends through the SDK (request, accept). */
export async function befriend(a: ParleyClient, b: ParleyClient): Promise<void> {
  await a.api.addFriend(b.me?.id ?? "", "hi");
  await b.api.answerFriend(a.me?.id ?? "", true);
}

/** Waits until `cond()` holds (polling), or fails after `ms` with `what`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a client's socket and store, and waits until the server has its subscriptions in place. */
export async function startClient(s: TestServer, c: ParleyClient): Promise<void> {
  await c.start();
  await until(() => c.socket?.state === "open", "socket open");
  await socketsReady(s.app);
}
