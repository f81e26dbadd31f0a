import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import type { User } from "../src/ports/storage.ts";
import type { Env, Log, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

type Failure = { eventType: number; msgId: string; code: number; content: string };

const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `136${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

type Who = { user: User; token: string };

/** Helpers bound to one test server. */
function kit(get: () => TestServer) {
  const clients: TestClient[] = [];
  const headers = (w: Who | string | null, device = "iOS") => ({
    "FZM-DEVICE": device,
    ...(w === null ? {} : { "FZM-AUTH-TOKEN": typeof w === "string" ? w : w.token }),
  });
  const call = <T = Record<string, unknown>>(w: Who | string | null, path: string, body: unknown = {}) =>
    post<Env<T>>(`${get().base}${path}`, body, headers(w));
  const ok = async <T = Record<string, unknown>>(w: Who, path: string, body: unknown = {}) => {
    const r = await call<T>(w, path, body);
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const login = async (mobile: string, device = "iOS") => {
    const r = await post<Env<{ token: string }>>(
      `${get().base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      headers(null, device),
    );
    assert.equal(r.body.result, 0, r.body.message);
    return r.body.data.token;
  };
  const person = async (nickname: string, extra: Record<string, unknown> = {}, device = "iOS") => {
    const mobile = newMobile();
    const user = await get().app.accounts.createUser({ mobile, password: PASSWORD, nickname, ...extra });
    return { user, token: await login(mobile, device), mobile };
  };
  const befriend = async (a: Who, b: Who) => {
    await ok(a, "/friend/add", { id: String(b.user.id) });
    await ok(b, "/friend/response", { id: String(a.user.id), agree: 1 });
  };
  /** A raw client (nothing awaited but the handshake). */
  const raw = async (path: string, options: WebSocket.ClientOptions = {}) => {
    const c = new TestClient(`${get().ws}${path}`, options);
    clients.push(c);
    await c.opened;
    return c;
  };
  /** An authenticated socket whose subscriptions are in place (the readiness helper waits for them). */
  const socket = async (w: Who | string, device = "iOS", extra: Record<string, string> = {}) => {
    const c = await raw("/ws", { headers: { ...headers(w, device), ...extra } });
    await socketsReady(get().app);
    return c;
  };
  /** The socket is ready (subscriptions in place) and still answers: an unknown event type is -1001. */
  const probe = async (c: TestClient) => {
    await socketsReady(get().app);
    c.ws.send(JSON.stringify({ eventType: 99, msgId: "probe" }));
    assert.deepEqual(await c.next(), {
      eventType: 99,
      msgId: "probe",
      code: -1001,
      content: "参数错误: 未知的事件类型",
    });
  };
  const text = (to: Who, msgId: string, content: string) =>
    JSON.stringify({ eventType: 0, msgId, channelType: 3, targetId: String(to.user.id), msgType: 1, msg: { content } });
  const closeAll = () => {
    for (const c of clients) c.close();
  };
  return { headers, call, ok, login, person, befriend, raw, socket, probe, text, closeAll };
}

describe("chat33 WebSocket (seed 002 webSocket接口)", () => {
  let s: TestServer;
  const k = kit(() => s);

  before(async () => {
    // generous limits: these tests send many frames quickly (the limits have their own suite)
    s = await startServer({ "chat33.msgRatePerConnection": 1000, "chat33.msgRatePerUser": 1000 });
  });
  after(async () => {
    k.closeAll();
    await s.close();
  });

  describe("messages between friends", () => {
    let a: Awaited<ReturnType<typeof k.person>>;
    let b: Awaited<ReturnType<typeof k.person>>;
    let a1: TestClient; // A on iOS (the sending connection)
    let a2: TestClient; // A on Android
    let b1: TestClient; // B on iOS
    let b2: TestClient; // B in a browser: cookie, no FZM-DEVICE (→ Web)
    let first: MsgFrame;

    before(async () => {
      a = await k.person("Alice", { avatar: "https://x.test/a.png" });
      b = await k.person("Bob");
      await k.befriend(a, b);
      a1 = await k.socket(a);
      a2 = await k.socket(await k.login(a.mobile, "Android"), "Android");
      b1 = await k.socket(b);
      b2 = await k.raw("/ws", { headers: { cookie: `FZM-AUTH-TOKEN=${encodeURIComponent(b.token)}` } });
      await k.probe(b2);
    });

    test("A's message reaches both of B's connections and A's other one; the sender gets one success frame", async () => {
      a1.ws.send(k.text(b, "m-1", "你好"));
      const echo = await a1.next<MsgFrame>();
      const row = await s.app.storage.messages.message(Number(echo.logId));
      assert.ok(row, "stored before the echo");
      assert.deepEqual(echo, {
        eventType: 0,
        msgId: "m-1",
        channelType: 3,
        fromId: String(a.user.id),
        targetId: String(b.user.id),
        datetime: row.createdAt,
        logId: String(row.id),
        msgType: 1,
        msg: { content: "你好" },
        senderInfo: { nickname: "Alice", avatar: "https://x.test/a.png" },
        isSnap: 2,
        ext: null,
        seq: row.seq,
      });
      assert.equal(typeof echo.logId, "string");
      for (const c of [a2, b1, b2]) assert.deepEqual(await c.next(), echo);
      assert.equal(await a1.silent(), true, "exactly one success frame");
      first = echo;
    });

    test("a retry with the same msgId answers the original to the sender only and stores nothing", async () => {
      const conv = await s.app.messages.findDirect(a.user.id, b.user.id);
      assert.ok(conv);
      const before = await s.app.storage.messages.since(conv.id, 0, 100);
      a1.ws.send(k.text(b, "m-1", "你好 (retry, other content)"));
      assert.deepEqual(await a1.next(), first, "same logId, datetime and content");
      assert.equal(await b1.silent(), true);
      assert.equal(await b2.silent(0), true);
      assert.equal(await a2.silent(0), true);
      assert.deepEqual(await s.app.storage.messages.since(conv.id, 0, 100), before);
    });

    test("B answers: A's connections and B's other one receive it (msgId may be an integer)", async () => {
      b2.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId: 7,
          channelType: 3,
          targetId: a.user.id,
          msgType: 1,
          msg: { content: "hi" },
        }),
      );
      const f = await b2.next<MsgFrame>();
      assert.equal(f.msgId, "7");
      assert.equal(f.fromId, String(b.user.id));
      assert.equal(f.targetId, String(a.user.id));
      for (const c of [b1, a1, a2]) assert.deepEqual(await c.next(), f);
    });

    test("media messages keep their documented msg objects", async () => {
      const image = { height: 10, imageUrl: "https://x.test/p.jpg", width: 20 };
      a1.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId: "img-1",
          channelType: 3,
          targetId: String(b.user.id),
          msgType: 3,
          msg: image,
        }),
      );
      const f = await a1.next<MsgFrame>();
      assert.equal(f.msgType, 3);
      assert.deepEqual(f.msg, image);
      for (const c of [a2, b1, b2]) assert.deepEqual(await c.next(), f);
    });

    test("bad message content: failure frames -1005 / -2006 / -5000 / -3001 / -2021 / -2001, to the sender only", async () => {
      const cases: Array<[Record<string, unknown>, number]> = [
        [{ channelType: 1 }, -5000],
        [{ channelType: 2 }, -3001],
        [{ channelType: 9 }, -1005],
        [{ msgType: 99 }, -1005],
        [{ msgType: 4, msg: { coin: 1 } }, -1005],
        [{ msgType: 0, msg: { content: "公告" } }, -2006],
        [{ msgType: 1, msg: { content: "" } }, -1005],
        [{ msgType: 1, msg: { text: "no content" } }, -1005],
        [{ msgType: 3, msg: { imageUrl: "javascript:alert(1)" } }, -1005],
        [{ msgType: 2, msg: { time: 3 } }, -1005],
        [{ msg: "a string" }, -1005],
        [{ msg: [1] }, -1005],
        [{ targetId: true }, -1005],
        [{ targetId: String(a.user.id) }, -2021],
        [{ targetId: "abc" }, -2001],
        [{ targetId: "987654321" }, -2001],
        [{ msgId: "" }, -1005],
        [{ msgId: "x".repeat(129) }, -1005],
      ];
      let i = 0;
      for (const [patch, code] of cases) {
        const msgId = `bad-${i++}`;
        a1.ws.send(
          JSON.stringify({
            eventType: 0,
            msgId,
            channelType: 3,
            targetId: String(b.user.id),
            msgType: 1,
            msg: { content: "x" },
            ...patch,
          }),
        );
        const f = await a1.next<Failure>();
        assert.equal(f.code, code, `${JSON.stringify(patch)} → ${JSON.stringify(f)}`);
        assert.equal(f.eventType, 0);
        assert.equal(typeof f.content, "string");
        if (!("msgId" in patch)) assert.equal(f.msgId, msgId);
      }
      assert.equal(await b1.silent(), true);
      assert.equal(await a2.silent(0), true);
    });

    test("chatLog pages newest first with nextLog; remark is the viewer's", async () => {
      await k.ok(b, "/friend/setRemark", { id: String(a.user.id), remark: "阿丽" });
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) {
        a1.ws.send(k.text(b, `page-${i}`, `p${i}`));
        sent.push((await a1.next<MsgFrame>()).logId);
        for (const c of [a2, b1, b2]) await c.next();
      }
      const got: Log[] = [];
      let startId: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await k.ok<{ logs: Log[]; nextLog: string }>(b, "/friend/chatLog", {
          id: String(a.user.id),
          number: 2,
          ...(startId ? { startId } : {}),
        });
        assert.ok(page.logs.length <= 2);
        got.push(...page.logs);
        if (page.nextLog === "-1") break;
        assert.equal(BigInt(page.nextLog) < BigInt(page.logs[page.logs.length - 1].logId), true);
        startId = page.nextLog;
      }
      const ids = got.map((l) => l.logId);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => Number(BigInt(y) - BigInt(x))),
        "newest first",
      );
      assert.deepEqual(ids.slice(0, 5), [...sent].reverse());
      assert.equal(new Set(ids).size, ids.length, "no duplicates");
      const newest = got[0];
      assert.deepEqual(
        { ...newest },
        {
          channelType: 3,
          datetime: newest.datetime,
          fromId: String(a.user.id),
          logId: sent[4],
          msgId: "page-4",
          msg: { content: "p4" },
          msgType: 1,
          remark: "阿丽",
          senderInfo: { nickname: "Alice", avatar: "https://x.test/a.png" },
          targetId: String(b.user.id),
          isSnap: 2,
          ext: null,
          seq: newest.seq,
        },
      );
      assert.equal(got.find((l) => l.msgId === "7")?.fromId, String(b.user.id), "both directions");
      assert.equal(
        (await k.ok<{ logs: Log[] }>(a, "/friend/chatLog", { id: String(b.user.id), number: 1 })).logs[0].remark,
        "",
      );
      // startId is inclusive
      const from = await k.ok<{ logs: Log[] }>(b, "/friend/chatLog", {
        id: String(a.user.id),
        startId: sent[2],
        number: 2,
      });
      assert.deepEqual(
        from.logs.map((l) => l.logId),
        [sent[2], sent[1]],
      );
      const none = await k.ok(b, "/friend/chatLog", { id: String(a.user.id), startId: "-1", number: 2 });
      assert.deepEqual(none, { logs: [], nextLog: "-1" });
    });

    test("chatLog errors and strangers: -1002, -1001, -2001, -2021; nobody reads another pair's history", async () => {
      const r = (body: unknown, w: Who = b) => k.call(w, "/friend/chatLog", body);
      assert.equal((await r({ id: String(a.user.id) })).body.result, -1002);
      assert.equal((await r({ id: String(a.user.id), number: 0 })).body.result, -1001);
      assert.equal((await r({ id: String(a.user.id), number: 101 })).body.result, -1001);
      assert.equal((await r({ id: String(a.user.id), number: 5, startId: "x" })).body.result, -1001);
      assert.equal((await r({ id: "55555", number: 5 })).body.result, -2001);
      assert.equal((await r({ id: String(b.user.id), number: 5 })).body.result, -2021);
      const c = await k.person("Carol");
      const theirs = await k.ok(c, "/friend/chatLog", { id: String(a.user.id), number: 50 });
      assert.deepEqual(theirs, { logs: [], nextLog: "-1" }, "C sees only her own (empty) conversation with A");
    });

    test("unread counts with lastLog; markRead resets them", async () => {
      const unread = async (w: Who) =>
        (await k.ok<{ infos: Array<{ id: string; number: number; lastLog: Log }> }>(w, "/friend/unread")).infos;
      await k.ok(b, "/chat33/markRead", { type: 2, id: String(a.user.id) });
      assert.deepEqual(await unread(b), []);
      const logIds: string[] = [];
      for (let i = 0; i < 3; i++) {
        a1.ws.send(k.text(b, `u-${i}`, `u${i}`));
        logIds.push((await a1.next<MsgFrame>()).logId);
        for (const c of [a2, b1, b2]) await c.next();
      }
      let infos = await unread(b);
      assert.equal(infos.length, 1);
      assert.equal(infos[0].id, String(a.user.id));
      assert.equal(infos[0].number, 3);
      assert.equal(infos[0].lastLog.logId, logIds[2]);
      assert.deepEqual(infos[0].lastLog.msg, { content: "u2" });
      assert.equal(infos[0].lastLog.remark, "阿丽");
      const forA = (await unread(a)).find((x) => x.id === String(b.user.id));
      assert.equal(forA?.number, 1, "only B's one message counts for A, never A's own");
      assert.equal(forA?.lastLog.logId, logIds[2], "lastLog is the conversation's newest message");
      await k.ok(b, "/chat33/markRead", { type: 2, id: String(a.user.id), logId: logIds[0] });
      infos = await unread(b);
      assert.equal(infos[0].number, 2);
      await k.ok(b, "/chat33/markRead", { type: 2, id: String(a.user.id), logId: logIds[0] });
      assert.equal((await unread(b))[0].number, 2, "the cursor never moves back");
      await k.ok(b, "/chat33/markRead", { type: 2, id: String(a.user.id), logId: logIds[2] });
      assert.deepEqual(await unread(b), []);
      assert.equal(await b1.silent(0), true, "chat33 has no read event");
    });

    test("markRead errors: group -3001, outsider or foreign logId -2023, bad logId -1001", async () => {
      const [log] = (await k.ok<{ logs: Log[] }>(b, "/friend/chatLog", { id: String(a.user.id), number: 1 })).logs;
      const c = await k.person("Cid");
      const fail = async (w: Who, body: unknown, code: number) =>
        assert.equal((await k.call(w, "/chat33/markRead", body)).body.result, code, JSON.stringify(body));
      await fail(b, { type: 1, id: "1", logId: log.logId }, -3001);
      await fail(c, { type: 2, id: String(a.user.id), logId: log.logId }, -2023);
      await fail(c, { type: 2, id: String(b.user.id), logId: log.logId }, -2023);
      await fail(b, { type: 2, id: String(c.user.id), logId: log.logId }, -2023);
      await fail(b, { type: 2, id: String(a.user.id), logId: "abc" }, -1001);
      await fail(b, { type: 2, id: String(a.user.id), logId: "99999999" }, -2023);
      await fail(b, { type: 3, id: String(a.user.id) }, -1001);
    });

    test("recall (own, within the window) → event 10 operateType 1 on both sides; chatLog shows a notice", async () => {
      a1.ws.send(k.text(b, "to-recall", "oops"));
      const m = await a1.next<MsgFrame>();
      for (const c of [a2, b1, b2]) await c.next();
      await k.ok(a, "/chat33/revokeMsg", { logId: m.logId, type: 2 });
      const ten = { eventType: 10, logType: 2, logId: m.logId, operateType: 1, userName: "Alice" };
      for (const c of [a1, a2, b1, b2]) assert.deepEqual(await c.next(), ten);
      const [log] = (
        await k.ok<{ logs: Log[] }>(b, "/friend/chatLog", { id: String(a.user.id), startId: m.logId, number: 1 })
      ).logs;
      assert.equal(log.logId, m.logId);
      assert.equal(log.recalled, 1);
      assert.equal(log.msgType, 6);
      assert.deepEqual(log.msg, { content: "Alice 撤回了一条消息" });
      const again = await k.call(a, "/chat33/revokeMsg", { logId: m.logId, type: 2 });
      assert.equal(again.body.result, -2023, "already recalled");
    });

    test("recall aliases /withdrawMsg and /chat33/RevokeMessage; delete alias /deleteMsg", async () => {
      for (const path of ["/withdrawMsg", "/chat33/RevokeMessage"]) {
        a1.ws.send(k.text(b, `alias-${path}`, "x"));
        const m = await a1.next<MsgFrame>();
        for (const c of [a2, b1, b2]) await c.next();
        await k.ok(a, path, { logId: m.logId, type: 2 });
        for (const c of [a1, a2, b1, b2]) assert.equal((await c.next<{ operateType: number }>()).operateType, 1);
      }
      a1.ws.send(k.text(b, "alias-del", "x"));
      const m = await a1.next<MsgFrame>();
      for (const c of [a2, b1, b2]) await c.next();
      await k.ok(a, "/deleteMsg", { logId: m.logId, type: 2 });
      for (const c of [a1, a2, b1, b2]) assert.equal((await c.next<{ operateType: number }>()).operateType, 2);
    });

    test("delete → event 10 operateType 2 on both sides; the message leaves history", async () => {
      a1.ws.send(k.text(b, "to-delete", "bye"));
      const m = await a1.next<MsgFrame>();
      for (const c of [a2, b1, b2]) await c.next();
      await k.ok(a, "/chat33/deleteMsg", { logId: m.logId, type: 2 });
      const ten = { eventType: 10, logType: 2, logId: m.logId, operateType: 2, userName: "Alice" };
      for (const c of [a1, a2, b1, b2]) assert.deepEqual(await c.next(), ten);
      const { logs } = await k.ok<{ logs: Log[] }>(b, "/friend/chatLog", { id: String(a.user.id), number: 100 });
      assert.equal(
        logs.some((l) => l.logId === m.logId),
        false,
      );
      assert.equal((await k.call(a, "/chat33/deleteMsg", { logId: m.logId, type: 2 })).body.result, -2023);
    });

    test("outsiders and the receiver cannot recall or delete (-2023), nothing is pushed", async () => {
      a1.ws.send(k.text(b, "keep", "keep me"));
      const m = await a1.next<MsgFrame>();
      for (const c of [a2, b1, b2]) await c.next();
      const c = await k.person("Mallory");
      for (const path of ["/chat33/revokeMsg", "/chat33/deleteMsg"]) {
        for (const who of [c, b]) {
          const r = await k.call(who, path, { logId: m.logId, type: 2 });
          assert.equal(r.body.result, -2023, `${path}: ${JSON.stringify(r.body)}`);
        }
        assert.equal(
          (await k.call(a, path, { logId: m.logId, type: 1 })).body.result,
          -2023,
          "type 1: no group message",
        );
        assert.equal((await k.call(a, path, { logId: "x1", type: 2 })).body.result, -1001);
        assert.equal((await k.call(a, path, { logId: m.logId, type: 3 })).body.result, -1001);
        assert.equal((await k.call(a, path, { type: 2 })).body.result, -1002);
      }
      assert.equal(await b1.silent(), true);
      const { logs } = await k.ok<{ logs: Log[] }>(b, "/friend/chatLog", { id: String(a.user.id), number: 1 });
      assert.deepEqual(logs[0].msg, { content: "keep me" });
    });

    test("mute (app.accounts.mute) → event 3 on the muted user's sockets; sending is -2007; a retry still answers", async () => {
      const muted = await s.app.accounts.mute(a.user.id, 60_000);
      for (const c of [a1, a2]) {
        const f = await c.next<{ eventType: number; mutedTime: number; mutedLastTime: number; datetime: number }>();
        assert.equal(f.eventType, 3);
        assert.equal(f.mutedTime, f.datetime);
        assert.equal(f.mutedTime + f.mutedLastTime, muted.mutedUntil);
        assert.ok(f.mutedLastTime > 0 && f.mutedLastTime <= 60_000);
      }
      assert.equal(await b1.silent(0), true, "only the muted user is told");
      a1.ws.send(k.text(b, "while-muted", "x"));
      assert.deepEqual(await a1.next(), { eventType: 0, msgId: "while-muted", code: -2007, content: "用户被禁言" });
      a1.ws.send(k.text(b, "m-1", "retry"));
      assert.deepEqual(await a1.next(), first, "a retry of a message sent before the mute answers the original");
      await s.app.accounts.mute(a.user.id, 0);
      const lifted = await a1.next<{ eventType: number; mutedLastTime: number }>();
      assert.deepEqual([lifted.eventType, lifted.mutedLastTime], [3, 0]);
      await a2.next();
      a1.ws.send(k.text(b, "after-mute", "free"));
      assert.equal((await a1.next<MsgFrame>()).msgId, "after-mute");
      for (const c of [a2, b1, b2]) await c.next();
    });

    test("a non-friend gets -2018; after unfriending, sending is -2018 too", async () => {
      const c = await k.person("Stranger");
      const sc = await k.socket(c);
      sc.ws.send(k.text(a, "x-1", "hello?"));
      assert.deepEqual(await sc.next(), { eventType: 0, msgId: "x-1", code: -2018, content: "对方不是您的好友" });
      assert.equal(await a1.silent(), true);
      const d = await k.person("Dora");
      const e = await k.person("Ed");
      await k.befriend(d, e);
      const sd = await k.socket(d);
      await k.ok(e, "/friend/delete", { id: String(d.user.id) });
      // the deletion's event 32 and its notice (msgType 6, type 8) come first
      assert.equal((await sd.next<{ eventType: number }>()).eventType, 32);
      assert.equal((await sd.next<MsgFrame>()).msgType, 6);
      sd.ws.send(k.text(e, "x-2", "still there?"));
      assert.equal((await sd.next<Failure>()).code, -2018);
    });

    test("a burst beyond the sends one connection may have waiting: every frame answered once (ack or -1012)", async () => {
      const n = 150;
      for (let i = 0; i < n; i++) a1.ws.send(k.text(b, `burst-${i}`, `b${i}`));
      const answers = new Map<string, MsgFrame | Failure>();
      for (let i = 0; i < n; i++) {
        const f = await a1.next<MsgFrame | Failure>();
        assert.equal(answers.has(f.msgId), false, `one answer per frame: ${f.msgId}`);
        answers.set(f.msgId, f);
      }
      const acks = [...answers.values()].filter((f): f is MsgFrame => "logId" in f);
      for (const f of answers.values()) if (!("logId" in f)) assert.equal(f.code, -1012);
      assert.ok(acks.length >= 64, "at least the first 64 are accepted");
      for (const c of [a2, b1, b2])
        for (let i = 0; i < acks.length; i++) assert.equal((await c.next<MsgFrame>()).eventType, 0);
      assert.equal(await b1.silent(), true, "refused frames are not delivered");
      const { logs } = await k.ok<{ logs: Log[] }>(b, "/friend/chatLog", { id: String(a.user.id), number: 100 });
      const burst = logs.filter((l) => l.msgId.startsWith("burst-"));
      assert.equal(burst.length, Math.min(100, acks.length));
    });

    test("one connection's messages sent without waiting share commits, and keep their order (acks and seq)", async () => {
      // the next message of a connection is checked and queued while the previous ones commit
      const repo = s.app.storage.messages;
      const original = repo.appendBatch;
      let commits = 0;
      repo.appendBatch = function (this: typeof repo, batch) {
        commits++;
        return original.call(this, batch);
      };
      const n = 40;
      const acks: MsgFrame[] = [];
      try {
        for (let i = 0; i < n; i++) a1.ws.send(k.text(b, `pipe-${i}`, `p${i}`));
        for (let i = 0; i < n; i++) acks.push(await a1.next<MsgFrame>());
      } finally {
        repo.appendBatch = original;
      }
      assert.deepEqual(
        acks.map((f) => f.msgId),
        Array.from({ length: n }, (_, i) => `pipe-${i}`),
        "acks in the order sent",
      );
      for (let i = 1; i < n; i++) assert.equal(acks[i].seq, acks[0].seq + i, `seq of pipe-${i} follows pipe-${i - 1}`);
      assert.ok(commits < n, `${commits} commits for ${n} messages of one connection`);
      for (const c of [a2, b1, b2])
        for (let i = 0; i < n; i++) assert.equal((await c.next<MsgFrame>()).msgId, `pipe-${i}`, "delivered in order");
    });

    test("a sync right after messages answers with them; messages right after a sync are not held by it", async () => {
      const before = Date.now() - 1;
      a1.ws.send(k.text(b, "around-1", "x1"));
      a1.ws.send(JSON.stringify({ eventType: 42, time: before }));
      a1.ws.send(k.text(b, "around-2", "x2"));
      const seen: Array<Record<string, unknown>> = [];
      while (!(seen.some((f) => f.eventType === 43) && seen.filter((f) => f.msgId === "around-2").length > 0))
        seen.push(await a1.next<Record<string, unknown>>());
      const synced = seen
        .filter((f) => f.eventType === 41 || f.eventType === 40)
        .flatMap((f) => f.list as Array<{ msgId: string }>);
      assert.ok(
        synced.some((m) => m.msgId === "around-1"),
        "the message sent before the sync is in its answer",
      );
      for (const c of [a2, b1, b2]) {
        assert.equal((await c.next<MsgFrame>()).msgId, "around-1");
        assert.equal((await c.next<MsgFrame>()).msgId, "around-2");
      }
    });

    test("colleagues of one company may talk without being friends (SPEC §2)", async () => {
      const co = await s.app.org.createCompany({ text: "Co" });
      const x = await k.person("X", { companyId: co.id });
      const y = await k.person("Y", { companyId: co.id });
      const sx = await k.socket(x);
      const sy = await k.socket(y);
      sx.ws.send(k.text(y, "co-1", "hi colleague"));
      const f = await sx.next<MsgFrame>();
      assert.equal(f.msgId, "co-1");
      assert.deepEqual(await sy.next(), f);
    });
  });

  describe("frames the server cannot use", () => {
    let a: Awaited<ReturnType<typeof k.person>>;
    let c: TestClient;
    before(async () => {
      a = await k.person("Frank");
      c = await k.socket(a);
    });

    test("malformed frames get -1005 消息格式错误 (eventType/msgId echoed when readable)", async () => {
      const cases: Array<[string | Buffer, Failure]> = [
        ["not json", { eventType: -1, msgId: "", code: -1005, content: "消息格式错误" }],
        ["[1,2]", { eventType: -1, msgId: "", code: -1005, content: "消息格式错误" }],
        ["null", { eventType: -1, msgId: "", code: -1005, content: "消息格式错误" }],
        ['"text"', { eventType: -1, msgId: "", code: -1005, content: "消息格式错误" }],
        ['{"msgId":"m"}', { eventType: -1, msgId: "m", code: -1005, content: "消息格式错误" }],
        ['{"eventType":"0","msgId":"m"}', { eventType: -1, msgId: "m", code: -1005, content: "消息格式错误" }],
        ['{"eventType":1.5,"msgId":"m"}', { eventType: -1, msgId: "m", code: -1005, content: "消息格式错误" }],
        ['{"eventType":0}', { eventType: 0, msgId: "", code: -1005, content: "消息格式错误" }],
        ['{"eventType":0,"msgId":"m2"}', { eventType: 0, msgId: "m2", code: -1005, content: "消息格式错误" }],
        [Buffer.from([0xff, 0xfe, 0x00]), { eventType: -1, msgId: "", code: -1005, content: "消息格式错误" }],
      ];
      for (const [frame, want] of cases) {
        c.ws.send(frame, { binary: Buffer.isBuffer(frame) });
        assert.deepEqual(await c.next(), want, String(frame));
      }
    });

    test("unknown event types get -1001; join/leave chat room (1/2) get -5000; the socket stays usable", async () => {
      for (const eventType of [99, 3, 10, 31, -1]) {
        c.ws.send(JSON.stringify({ eventType, msgId: `u${eventType}` }));
        assert.deepEqual(await c.next(), {
          eventType,
          msgId: `u${eventType}`,
          code: -1001,
          content: "参数错误: 未知的事件类型",
        });
      }
      for (const eventType of [1, 2]) {
        c.ws.send(JSON.stringify({ eventType, msgId: "room", groupId: "1" }));
        assert.deepEqual(await c.next(), { eventType, msgId: "room", code: -5000, content: "聊天室不存在" });
      }
      await k.probe(c);
    });
  });

  describe("connecting", () => {
    test("a guest (FZM-UUID or ?uuid=) may connect, but sending is -2008", async () => {
      for (const [path, headers] of [
        ["/ws", { "FZM-UUID": "mac-00:11:22" }],
        ["/ws?uuid=guest-1", {}],
      ] as const) {
        const g = await k.raw(path, { headers });
        g.ws.send(
          JSON.stringify({
            eventType: 0,
            msgId: "g1",
            channelType: 3,
            targetId: "1",
            msgType: 1,
            msg: { content: "x" },
          }),
        );
        assert.deepEqual(await g.next(), { eventType: 0, msgId: "g1", code: -2008, content: "游客没有发消息权限" });
        g.ws.send(JSON.stringify({ eventType: 1, msgId: "j", groupId: "1" }));
        assert.equal((await g.next<Failure>()).code, -5000);
      }
    });

    test("an invalid token gets {eventType:-1, code:-1004} and close 4001; ?token=&device= works", async () => {
      const bad = await k.raw("/ws?token=nope&device=iOS");
      assert.deepEqual(await bad.next(), { eventType: -1, code: -1004, content: "登录过期" });
      assert.equal((await bad.closed).code, 4001);
      const u = await k.person("Query");
      const good = await k.raw(`/ws?token=${encodeURIComponent(u.token)}&device=ios`);
      await k.probe(good);
    });

    test("a logged-out token is -1004; an unknown device is -1006 and close 1008", async () => {
      const u = await k.person("Dev");
      const dev = await k.raw(`/ws?token=${encodeURIComponent(u.token)}&device=Fridge`);
      assert.deepEqual(await dev.next(), { eventType: -1, code: -1006, content: "未知的设备类型" });
      assert.equal((await dev.closed).code, 1008);
      const live = await k.socket(u);
      await s.app.accounts.logout((await s.app.accounts.authenticate(u.token)).session);
      assert.deepEqual(await live.next(), { eventType: -1, code: -1004, content: "登录过期" });
      assert.equal((await live.closed).code, 4001);
      const after = await k.raw("/ws", { headers: k.headers(u) });
      assert.equal((await after.next<Failure>()).code, -1004);
    });

    test("a newer login on the same device type kicks the older socket (-1007, close 4003); other devices stay", async () => {
      const u = await k.person("Kick");
      const ios = await k.socket(u);
      const android = await k.socket(await k.login(u.mobile, "Android"), "Android");
      await k.login(u.mobile, "iOS");
      assert.deepEqual(await ios.next(), { eventType: -1, code: -1007, content: "账号已经在其他终端登录" });
      assert.equal((await ios.closed).code, 4003);
      await k.probe(android);
      const again = await k.raw("/ws", { headers: k.headers(u) });
      assert.deepEqual(await again.next(), { eventType: -1, code: -1007, content: "账号已经在其他终端登录" });
      assert.equal((await again.closed).code, 4003);
    });

    test("a disabled account's socket is told -3000 and closed", async () => {
      const u = await k.person("Gone");
      const c = await k.socket(u);
      await s.app.accounts.adminUpdate(u.user.id, { disabled: true });
      assert.deepEqual(await c.next(), { eventType: -1, code: -3000, content: "账号已被禁用" });
      assert.equal((await c.closed).code, 4001);
    });

    test("/ws?systemId= still reaches the gateway; /ws with no credentials gets the gateway's -1001", async () => {
      const reg = await post(`${s.base}/api/register`, { systemId: "sys-chat33-test" });
      assert.equal(reg.body.code, 0);
      const gw = await k.raw("/ws?systemId=sys-chat33-test");
      const hello = await gw.next<{ code: number; msg: string; data: { clientId: string } }>();
      assert.equal(hello.code, 0);
      assert.equal(hello.msg, "success");
      assert.equal(typeof hello.data.clientId, "string");
      // even with chat33 credentials, systemId decides
      const u = await k.person("Both");
      const both = await k.raw("/ws?systemId=sys-chat33-test", { headers: k.headers(u) });
      assert.equal((await both.next<{ code: number }>()).code, 0);
      const nothing = await k.raw("/ws");
      assert.deepEqual(await nothing.next(), { code: -1001, msg: "系统ID不能为空", data: [] });
    });

    test("the cookie is ignored on a cross-site upgrade (then the gateway answers)", async () => {
      const u = await k.person("Cookie");
      const cookie = `FZM-AUTH-TOKEN=${encodeURIComponent(u.token)}`;
      const evil = await k.raw("/ws", { headers: { cookie, origin: "https://evil.example" } });
      assert.deepEqual(await evil.next(), { code: -1001, msg: "系统ID不能为空", data: [] });
      const host = new URL(s.base).host;
      const same = await k.raw("/ws", { headers: { cookie, origin: `http://${host}` } });
      await k.probe(same);
    });
  });
});

describe("chat33 WebSocket limits", () => {
  let s: TestServer;
  const k = kit(() => s);

  before(async () => {
    s = await startServer({
      "chat33.msgRatePerConnection": 5,
      "chat33.msgRatePerUser": 2,
      "ws.maxFrameBytes": 2048,
      "messages.recallWindowMs": 0,
      "ws.pingIntervalMs": 150,
    });
  });
  after(async () => {
    k.closeAll();
    await s.close();
  });

  test("a session revoked without a notice (hub message lost) still ends its socket on the sweep", async () => {
    const u = await k.person("Lost");
    const c = await k.socket(u);
    const { session } = await s.app.accounts.authenticate(u.token);
    // Straight through the storage port: nothing is published, as if the notice had been lost.
    await s.app.storage.sessions.revoke([session.id], "replaced", Date.now());
    assert.deepEqual(await c.next(5000), { eventType: -1, code: -1007, content: "账号已经在其他终端登录" });
    assert.equal((await c.closed).code, 4003);
  });

  test("more frames per second than chat33.msgRatePerConnection → -1012", async () => {
    const u = await k.person("Rapid");
    const c = await k.raw("/ws", { headers: k.headers(u) });
    const n = 10;
    for (let i = 0; i < n; i++) c.ws.send(JSON.stringify({ eventType: 77, msgId: `r${i}` }));
    const answers: Failure[] = [];
    for (let i = 0; i < n; i++) answers.push(await c.next<Failure>());
    // the window starts with the first frame: the first 5 are within it
    assert.deepEqual(
      answers.slice(0, 5).map((x) => x.code),
      [-1001, -1001, -1001, -1001, -1001],
    );
    const limited = answers.filter((x) => x.code === -1012);
    assert.ok(limited.length >= 1, JSON.stringify(answers));
    assert.equal(limited[0].content, "发送频率过快，请稍后再试");
    assert.ok(limited[0].msgId.startsWith("r"));
  });

  test("more messages per second than chat33.msgRatePerUser (over all connections) → -1012", async () => {
    const a = await k.person("Sender");
    const b = await k.person("Receiver");
    await k.befriend(a, b);
    const c1 = await k.socket(a);
    const c2 = await k.socket(await k.login(a.mobile, "Android"), "Android");
    // 6 messages over two connections (3 each, within the per-connection 5): at most 2 per
    // one-second window pass, and they span at most two windows
    for (let i = 0; i < 3; i++) {
      c1.ws.send(k.text(b, `c1-${i}`, "x"));
      c2.ws.send(k.text(b, `c2-${i}`, "x"));
    }
    const mine: Array<Failure | MsgFrame> = [];
    // c1 gets its own 3 answers plus c2's successes (same user): read until its 3 own answers
    const own = async (c: TestClient, prefix: string) => {
      const out: Array<Failure | MsgFrame> = [];
      while (out.length < 3) {
        const f = await c.next<Failure | MsgFrame>();
        if (f.msgId.startsWith(prefix)) out.push(f);
      }
      return out;
    };
    mine.push(...(await own(c1, "c1-")), ...(await own(c2, "c2-")));
    const limited = mine.filter((f) => "code" in f && f.code === -1012);
    const sent = mine.filter((f) => "logId" in f);
    assert.ok(limited.length >= 2, JSON.stringify(mine));
    assert.ok(sent.length <= 4, "at most 2 per window, at most two windows");
    assert.equal(limited.length + sent.length, 6);
  });

  test("a frame larger than ws.maxFrameBytes closes the socket with 1009", async () => {
    const u = await k.person("Big");
    const c = await k.socket(u);
    c.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: "big",
        channelType: 3,
        targetId: "1",
        msgType: 1,
        msg: { content: "x".repeat(4096) },
      }),
    );
    assert.equal((await c.closed).code, 1009);
  });

  test("recalling after messages.recallWindowMs is -2023; deleting still works", async () => {
    const a = await k.person("Late");
    const b = await k.person("Reader");
    await k.befriend(a, b);
    const c = await k.socket(a);
    c.ws.send(k.text(b, "late-1", "x"));
    const m = await c.next<MsgFrame>();
    // the window is 0 ms: wait until the clock has moved past the message's time
    while (Date.now() <= m.datetime) await new Promise((r) => setTimeout(r, 2));
    const r = await k.call(a, "/chat33/revokeMsg", { logId: m.logId, type: 2 });
    assert.deepEqual(r.body, { result: -2023, message: "删除消息失败: 已超过可撤回时间", data: {} });
    await k.ok(a, "/chat33/deleteMsg", { logId: m.logId, type: 2 });
    assert.equal((await c.next<{ operateType: number }>()).operateType, 2);
  });
});
