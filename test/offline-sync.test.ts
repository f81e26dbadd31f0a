import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import type { Env, Log, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

const PASSWORD = "secret-pass-1";
const TOTAL = 200;
const PAGE = 30;
const BURST = 50;
/** Every RECALL_EVERY-th message is recalled while B is away. */
const RECALL_EVERY = 20;

/**
 * SPEC §3.5 on the chat33 surface: nothing is lost while a user is offline. B goes away, A sends
 * 200 messages (recalling some), B comes back and rebuilds the conversation from
 * `/friend/unread` and `/friend/chatLog` alone; then live delivery resumes exactly once.
 */
describe("offline sync (chat33): unread counts and history after a reconnect", () => {
  let s: TestServer;
  let a: { user: User; token: string };
  let b: { user: User; token: string };
  const clients: TestClient[] = [];
  let a1: TestClient; // A's socket, online throughout
  let b2: TestClient; // B's socket after the reconnect
  const sent: MsgFrame[] = [];
  const recalled = new Set<string>();

  const headers = (token: string) => ({ "FZM-AUTH-TOKEN": token, "FZM-DEVICE": "iOS" });
  const ok = async <T = Record<string, unknown>>(w: { token: string }, path: string, body: unknown = {}) => {
    const r = await post<Env<T>>(`${s.base}${path}`, body, headers(w.token));
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const person = async (mobile: string, nickname: string) => {
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
    const r = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      headers(""),
    );
    assert.equal(r.body.result, 0, r.body.message);
    return { user, token: r.body.data.token };
  };
  /** A socket whose subscriptions are in place (the readiness helper waits for them). */
  const socket = async (token: string) => {
    const c = new TestClient(`${s.ws}/ws`, { headers: headers(token) });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };
  const text = (msgId: string, content: string) =>
    JSON.stringify({ eventType: 0, msgId, channelType: 3, targetId: String(b.user.id), msgType: 1, msg: { content } });

  before(async () => {
    s = await startServer({ "chat33.msgRatePerConnection": 1000, "chat33.msgRatePerUser": 1000 });
    a = await person("13800000001", "Alice");
    b = await person("13800000002", "Bob");
    await ok(a, "/friend/add", { id: String(b.user.id) });
    await ok(b, "/friend/response", { id: String(a.user.id), agree: 1 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("B goes offline; A sends 200 messages in bursts of 50 and recalls some", async () => {
    const b1 = await socket(b.token);
    b1.close();
    await b1.closed;
    a1 = await socket(a.token);
    // bursts stay under the 64 sends one connection may have waiting (MAX_PENDING_SENDS)
    for (let start = 0; start < TOTAL; start += BURST) {
      for (let i = start; i < start + BURST; i++) a1.ws.send(text(`off-${i}`, `message ${i}`));
      for (let i = start; i < start + BURST; i++) sent.push(await a1.next<MsgFrame>());
    }
    // one connection's sends are handled in order: acks in send order, logIds increasing
    assert.deepEqual(
      sent.map((f) => f.msgId),
      Array.from({ length: TOTAL }, (_, i) => `off-${i}`),
    );
    for (let i = 1; i < TOTAL; i++) assert.ok(BigInt(sent[i].logId) > BigInt(sent[i - 1].logId));
    for (let i = 0; i < TOTAL; i += RECALL_EVERY) {
      await ok(a, "/chat33/revokeMsg", { logId: sent[i].logId, type: 2 });
      recalled.add(sent[i].logId);
      assert.deepEqual(await a1.next(), {
        eventType: 10,
        logType: 2,
        logId: sent[i].logId,
        operateType: 1,
        userName: "Alice",
      });
    }
    // a client that lost some acks retries: the originals come back, nothing is stored twice
    for (const i of [5, 6, 7]) {
      a1.ws.send(text(`off-${i}`, "retried"));
      assert.deepEqual(await a1.next(), sent[i]);
    }
  });

  test("back online: /friend/unread counts everything that arrived, with the newest as lastLog", async () => {
    b2 = await socket(b.token);
    assert.equal(await b2.silent(), true, "nothing is replayed on the socket: sync is by history");
    const { infos } = await ok<{ infos: Array<{ id: string; number: number; lastLog: Log }> }>(b, "/friend/unread");
    assert.equal(infos.length, 1);
    assert.equal(infos[0].id, String(a.user.id));
    assert.equal(infos[0].number, TOTAL, "recalled messages still count (they read as notices)");
    const last = sent[TOTAL - 1];
    assert.equal(infos[0].lastLog.logId, last.logId);
    assert.deepEqual(infos[0].lastLog.msg, last.msg);
  });

  test("history: the same set, newest first by logId, no duplicates, recalled ones marked", async () => {
    const logs: Log[] = [];
    let startId: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await ok<{ logs: Log[]; nextLog: string }>(b, "/friend/chatLog", {
        id: String(a.user.id),
        number: PAGE,
        ...(startId ? { startId } : {}),
      });
      // the friendship's own notice ("你们已经成为好友了", msgType 6 type 13) opens the conversation
      logs.push(...page.logs.filter((l) => !(l.msgType === 6 && (l.msg as { type?: number }).type === 13)));
      if (page.nextLog === "-1") break;
      startId = page.nextLog;
    }
    assert.equal(logs.length, TOTAL);
    assert.equal(new Set(logs.map((l) => l.logId)).size, TOTAL, "no duplicates");
    const oldestFirst = [...logs].reverse();
    for (let i = 1; i < TOTAL; i++) assert.ok(BigInt(oldestFirst[i].logId) > BigInt(oldestFirst[i - 1].logId));
    oldestFirst.forEach((log, i) => {
      const f = sent[i];
      assert.equal(log.logId, f.logId);
      assert.equal(log.msgId, f.msgId);
      assert.equal(log.datetime, f.datetime);
      assert.equal(log.fromId, String(a.user.id));
      assert.equal(log.targetId, String(b.user.id));
      if (recalled.has(f.logId)) {
        assert.equal(log.recalled, 1);
        assert.equal(log.msgType, 6);
        assert.deepEqual(log.msg, { content: "Alice 撤回了一条消息" });
      } else {
        assert.equal(log.recalled, undefined);
        assert.equal(log.msgType, 1);
        assert.deepEqual(log.msg, { content: `message ${i}` }, "a retry never replaced the content");
      }
    });
    assert.equal(recalled.size, TOTAL / RECALL_EVERY);
  });

  test("seq is gapless 1..200 in storage order (core view; the chat33 wire has no seq)", async () => {
    const conv = await s.app.messages.findDirect(a.user.id, b.user.id);
    assert.ok(conv);
    const views = await s.app.messages.since(b.user, conv.id, 0, 1000);
    // seq 1 is the friendship's notice ("你们已经成为好友了"), then the 200 messages
    assert.equal(views[0].kind, "notice");
    assert.deepEqual(
      views.map((v) => v.seq),
      Array.from({ length: TOTAL + 1 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      views.slice(1).map((v) => v.logId),
      sent.map((f) => f.logId),
    );
  });

  test("a live message after the reconnect arrives exactly once; markRead clears the unread count", async () => {
    a1.ws.send(text("live-1", "welcome back"));
    const echo = await a1.next<MsgFrame>();
    assert.equal(echo.msgId, "live-1");
    assert.deepEqual(await b2.next(), echo);
    assert.equal(await b2.silent(), true, "exactly once");
    assert.equal(await a1.silent(0), true);
    await ok(b, "/chat33/markRead", { type: 2, id: String(a.user.id), logId: echo.logId });
    assert.deepEqual(await ok(b, "/friend/unread"), { infos: [] });
  });
});
