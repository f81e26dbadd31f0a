import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import type { CoreEvent } from "../src/core/events.ts";
import { assertNever } from "../src/core/events.ts";
import { MAX_JSON_DEPTH } from "../src/core/json-limits.ts";
import { renderEvent } from "../src/surfaces/chat33/ws-frames.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Edges shared by every WebSocket surface: ping floods (issue 8 item 4), the query parameters of
 * upgrades (issue 8 item 5) and the nesting depth of client frames.
 */
describe("WebSocket edges on every surface", () => {
  let s: TestServer;
  let token: string;
  const clients: TestClient[] = [];
  const open = async (path: string) => {
    const c = new TestClient(`${s.ws}${path}`);
    clients.push(c);
    await c.opened;
    return c;
  };

  before(async () => {
    s = await startServer({ "chat33.msgRatePerConnection": 1000 });
    await post(`${s.base}/api/register`, { systemId: "sys" });
    const user = await s.app.accounts.createUser({ mobile: "13900000001", password: "secret-pw1", nickname: "Edge" });
    token = (await s.app.accounts.startSession(user, { device: "pc", platform: "pc" })).token;
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  describe("a client that floods pings without reading the pongs is closed with 1008, not dropped", () => {
    const flood = async (c: TestClient) => {
      const raw = (c.ws as unknown as { _socket: Socket })._socket;
      raw.pause(); // never reads the pongs
      raw.cork(); // the pings leave together, as a flooding client's do
      for (let i = 0; i < 200; i++) c.ws.ping(Buffer.alloc(125, 1));
      raw.uncork();
      await new Promise((r) => setTimeout(r, 300));
      raw.resume(); // now read what the server sent: pongs, then the close frame
      return c.closed;
    };
    for (const [surface, path] of [
      ["gateway", "/ws?systemId=sys"],
      ["chat33", "/ws?uuid=guest-flood"],
      ["enterprise", "/socket?platform=pc"],
    ] as const) {
      test(surface, async () => {
        const c = await open(path);
        await socketsReady(s.app); // the socket is fully open
        const closed = await flood(c);
        assert.equal(closed.code, 1008, `close code (1006 = dropped without a close frame): ${JSON.stringify(closed)}`);
        assert.equal(closed.reason, "too many pings");
      });
    }

    test("a client that pings now and then is answered and kept", async () => {
      const c = await open("/ws?systemId=sys");
      await c.next();
      let pongs = 0;
      c.ws.on("pong", () => pongs++);
      for (let i = 0; i < 100; i++) {
        c.ws.ping();
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(pongs, 100);
      assert.equal(c.ws.readyState, c.ws.OPEN);
    });
  });

  describe("every upgrade query parameter is validated", () => {
    const long = "x".repeat(10_000);

    test("gateway /ws: a systemId that breaks its schema (long, whitespace, repeated) is 系统ID无效 and close 1008", async () => {
      for (const q of [`systemId=${long}`, "systemId=s%20y%20s", "systemId=sys&systemId=sys"]) {
        const c = await open(`/ws?${q}`);
        assert.deepEqual(await c.next(), { code: -1001, msg: "系统ID无效", data: [] }, q.slice(0, 40));
        const closed = await c.closed;
        assert.deepEqual(closed, { code: 1008, reason: "invalid systemId" });
      }
      // the documented cases are unchanged
      const empty = await open("/ws?systemId=");
      assert.deepEqual(await empty.next(), { code: -1001, msg: "系统ID不能为空", data: [] });
      const good = await open("/ws?systemId=sys&other=ignored");
      assert.equal((await good.next()).code, 0);
    });

    test("chat33 /ws: each parameter that breaks its schema gets the answer its field documents", async () => {
      const cases: Array<[string, object, number]> = [
        [`uuid=${long}`, { eventType: -1, code: -1003, content: "Session错误: FZM-UUID 无效" }, 4001],
        [`uuid=g1&device=${long}`, { eventType: -1, code: -1006, content: "未知的设备类型" }, 1008],
        [`token=${long}`, { eventType: -1, code: -1004, content: "登录过期" }, 4001],
        // a repeated token is refused, not resolved to its first value
        [
          `token=${encodeURIComponent(token)}&token=${encodeURIComponent(token)}&device=PC`,
          { eventType: -1, code: -1004, content: "登录过期" },
          4001,
        ],
      ];
      for (const [q, frame, code] of cases) {
        const c = await open(`/ws?${q}`);
        assert.deepEqual(await c.next(), frame, q.slice(0, 40));
        assert.equal((await c.closed).code, code, q.slice(0, 40));
      }
      const good = await open(`/ws?token=${encodeURIComponent(token)}&device=PC`);
      await socketsReady(s.app);
      good.ws.send(JSON.stringify({ eventType: 99, msgId: "x" }));
      assert.equal((await good.next()).code, -1001);
    });

    test("enterprise /socket: platform over 32 characters is refused with code 400 and close 1008", async () => {
      for (const q of [
        `platform=${long}`,
        `platform=${"p".repeat(33)}`,
        `authorization=${long}`,
        "platform=a&platform=b",
      ]) {
        const c = await open(`/socket?${q}`);
        const f = await c.next<{ code: number; msg: string; data: unknown }>();
        assert.equal(f.code, 400, q.slice(0, 40));
        assert.match(f.msg, /^参数错误: (platform|authorization) /);
        assert.equal(f.data, null);
        assert.deepEqual(await c.closed, { code: 1008, reason: "invalid parameter" });
      }
      const ok = await open(`/socket?platform=${"p".repeat(32)}&authorization=${encodeURIComponent(token)}`);
      assert.equal((await ok.next()).code, 1000);
    });
  });

  describe(`client frames nested deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) are refused before parsing`, () => {
    test("chat33: -1005 for a frame one level too deep and for 5 000 levels; the socket stays usable", async () => {
      const c = await open("/ws?uuid=guest-deep");
      await socketsReady(s.app);
      const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
      // the frame object is level 1, so `msg` may nest MAX_JSON_DEPTH - 1 levels
      const frame = (msgDepth: number) => `{"eventType":0,"msgId":"d","msg":${nested(msgDepth)}}`;
      for (const depth of [MAX_JSON_DEPTH, 5000]) {
        c.ws.send(frame(depth));
        assert.deepEqual(await c.next(), { eventType: -1, msgId: "d", code: -1005, content: "消息格式错误" });
      }
      // the msgId is echoed when readable at the top level, never from inside the nesting
      c.ws.send(`{"eventType":0,"msg":{"msgId":"inner","x":${nested(40)}},"msgId":"top \\"q\\""}`);
      assert.deepEqual(await c.next(), { eventType: -1, msgId: 'top "q"', code: -1005, content: "消息格式错误" });
      c.ws.send(`{"eventType":0,"msg":{"msgId":"inner","x":${nested(40)}}}`);
      assert.deepEqual(await c.next(), { eventType: -1, msgId: "", code: -1005, content: "消息格式错误" });
      // at the limit the frame is parsed: a guest's message is refused for being a guest's
      c.ws.send(frame(MAX_JSON_DEPTH - 1));
      assert.equal((await c.next<{ eventType: number; code: number }>()).eventType, 0);
      c.ws.send(JSON.stringify({ eventType: 99, msgId: "after" }));
      assert.deepEqual(await c.next(), {
        eventType: 99,
        msgId: "after",
        code: -1001,
        content: "参数错误: 未知的事件类型",
      });
    });
  });

  test("gateway: the node operations of the previous version (gw.bind, gw.close) still work during a rolling upgrade", async () => {
    const c = await open("/ws?systemId=sys");
    await c.next();
    // the newest gateway connection is this client's (ids grow)
    const conn = [...s.app.realtime.connections.values()].filter((x) => x.protocol === "gateway").at(-1);
    assert.ok(conn);
    const node = s.app.realtime.nodeId;
    // another system's name reaches nobody
    assert.equal(
      await s.app.realtime.callNode(node, "gw.bind", { connId: conn.id, systemId: "other", group: "g" }),
      false,
    );
    assert.equal(
      await s.app.realtime.callNode(node, "gw.bind", { connId: conn.id, systemId: "sys", group: "old", userId: "u" }),
      true,
    );
    const r = await post(
      `${s.base}/api/send_to_group`,
      { sendUserId: "x", groupName: "old", code: 7, msg: "m", data: "d" },
      { SystemId: "sys" },
    );
    assert.equal(r.body.code, 0);
    assert.equal((await c.next<{ code: number }>()).code, 7);
    assert.equal(await s.app.realtime.callNode(node, "gw.close", { connId: conn.id, systemId: "sys" }), true);
    assert.deepEqual(await c.closed, { code: 1000, reason: "closed by system" });
  });

  test("generic connection ops: kick (last frame, then 4003) and close reach only the connection's owner", async () => {
    const c = await open("/ws?systemId=sys");
    await c.next();
    const conn = [...s.app.realtime.connections.values()].filter((x) => x.protocol === "gateway").at(-1);
    assert.ok(conn?.owner);
    const addr = { nodeId: s.app.realtime.nodeId, connId: conn.id };
    assert.equal(await s.app.realtime.kick(addr, "someone-else", "{}"), false);
    assert.equal(await s.app.realtime.closeRemote(addr, "someone-else", 1000, "x"), false);
    assert.equal(await s.app.realtime.kick(addr, conn.owner, JSON.stringify({ bye: true })), true);
    assert.deepEqual(await c.next(), { bye: true });
    assert.deepEqual(await c.closed, { code: 4003, reason: "kicked" });
  });

  test("renderers are exhaustive: assertNever rejects (at compile time) an event a switch did not handle", () => {
    type Future = CoreEvent | { type: "future.event" };
    const render = (e: Future): string | null => {
      switch (e.type) {
        case "future.event":
          return "handled";
        default:
          // every CoreEvent is left here: tsc refuses it, as it refuses a surface missing a case
          // @ts-expect-error — a union member not handled above is not `never`
          return assertNever(e);
      }
    };
    assert.equal(render({ type: "future.event" }), "handled");
    assert.equal(renderEvent({ type: "qr.confirmed", deviceId: "d", userId: 1, platform: "pc" }), null);
  });
});
