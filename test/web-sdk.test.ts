import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import type { ParleyClient } from "../web/sdk/client.ts";
import { backoffDelay, Chat33Socket } from "../web/sdk/socket.ts";
import { ConversationStore, convKey } from "../web/sdk/store.ts";
import { Chat33Error, type MessageFrame } from "../web/sdk/types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { adminCall, befriend, nodeSocket, registeredClient, startClient, until } from "./helpers/web-users.ts";

/**
 * The web SDK (web/sdk, docs/sdk.md) against a real Parley server (SQLite, or PostgreSQL + Redis
 * when configured): typed routes and errors, the socket's acknowledgements, resend of
 * unacknowledged messages with the same msgId, reconnect across a server restart, seq gap
 * detection with history fill, the conversation store, groups and a guest in a chat room.
 */

describe("web SDK: backoff", () => {
  test("equal jitter: between half and all of min(max, base·2^n), growing, capped", () => {
    const b = { baseMs: 100, maxMs: 3000 };
    for (let n = 0; n < 12; n++) {
      const ceiling = Math.min(3000, 100 * 2 ** n);
      assert.equal(
        backoffDelay(n, b, () => 0),
        ceiling / 2,
      );
      assert.equal(
        backoffDelay(n, b, () => 0.999999),
        Math.round(ceiling / 2 + 0.999999 * (ceiling / 2)),
      );
    }
    assert.equal(
      backoffDelay(1000, b, () => 1),
      3000,
      "huge attempt numbers stay at the cap",
    );
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5, b)));
    assert.ok(spread.size > 10, "random: clients dropped together come back apart");
  });
});

describe("web SDK against a real server", () => {
  let s: TestServer;
  let a: ParleyClient;
  let b: ParleyClient;
  let aMobile = "";
  const started: ParleyClient[] = [];

  before(async () => {
    s = await startServer();
    const ra = await registeredClient(s, "Alice");
    const rb = await registeredClient(s, "Bob");
    a = ra.client;
    b = rb.client;
    aMobile = ra.mobile;
    started.push(a, b);
  });
  after(async () => {
    for (const c of started) c.stop();
    await s.close();
  });

  test("typed routes: register by SMS set the session; errors carry chat33's result code", async () => {
    assert.ok(a.me?.id && a.token, "token mode keeps the token in memory");
    const info = await a.api.userInfo(a.me.id);
    assert.equal(info.name, "Alice");
    await assert.rejects(a.api.pwdLogin(aMobile, "wrong-password"), (e: Chat33Error) => {
      assert.ok(e instanceof Chat33Error);
      assert.equal(e.code, -2004);
      assert.equal(e.path, "/user/pwdLogin");
      return true;
    });
    await assert.rejects(a.api.userInfo("999999"), (e: Chat33Error) => e.code === -2001);
    const search = await b.api.search(a.me.uid);
    assert.equal(search.type, 2);
    assert.equal(search.userInfo?.id, a.me.id);
  });

  test("friends: request, accept, then messages are acknowledged with logId and seq and reach the other store", async () => {
    await befriend(a, b);
    assert.deepEqual(
      (await b.api.friends()).map((f) => f.id),
      [a.me?.id],
    );
    await startClient(s, a);
    await startClient(s, b);
    const key = convKey(3, b.me?.id ?? "");
    const ack1 = await a.sendText(key, "你好");
    const ack2 = await a.sendText(key, "second");
    assert.equal(typeof ack1.logId, "string");
    assert.equal(ack2.seq, ack1.seq + 1, "gapless seq per conversation");
    const bKey = convKey(3, a.me?.id ?? "");
    const bs = b.store;
    assert.ok(bs);
    await until(() => bs.get(bKey).messages.length === 2, "B's store has both");
    assert.deepEqual(
      bs.get(bKey).messages.map((m) => m.msg.content),
      ["你好", "second"],
    );
    assert.equal(bs.get(bKey).unread, 2);
    assert.equal(bs.totalUnread, 2);
    await bs.markRead(bKey);
    assert.deepEqual(await b.api.friendUnread(), [], "the read cursor moved on the server");
  });

  test("an unacknowledged message is resent with the same msgId after the socket drops: stored once", async () => {
    const key = convKey(3, b.me?.id ?? "");
    const sock = a.socket;
    assert.ok(sock);
    // 1) sent, then the connection dies before the ack can be read
    const p1 = a.sendText(key, "lost ack?", "sdk-resend-1");
    sock.drop();
    // 2) queued while the socket is down
    await until(() => sock.state !== "open", "socket down");
    const p2 = a.sendText(key, "queued", "sdk-resend-2");
    assert.ok(sock.unacked().includes("sdk-resend-2"), "waits in the outbox");
    const [f1, f2] = await Promise.all([p1, p2]);
    assert.equal(f1.msgId, "sdk-resend-1");
    assert.equal(f2.msgId, "sdk-resend-2");
    assert.deepEqual(sock.unacked(), []);
    const page = await a.api.friendLog(b.me?.id ?? "", "", 50);
    const ids = page.logs.map((l) => l.msgId);
    assert.equal(ids.filter((x) => x === "sdk-resend-1").length, 1);
    assert.equal(ids.filter((x) => x === "sdk-resend-2").length, 1);
    // a repeated msgId answers the original message
    const again = await a.sendText(key, "other content", "sdk-resend-1");
    assert.equal(again.logId, f1.logId);
    assert.equal(again.msg.content, "lost ack?");
  });

  test("a failure frame rejects with its code (a non-friend) and leaves nothing in the outbox", async () => {
    const { client: c } = await registeredClient(s, "Carol");
    started.push(c);
    await startClient(s, c);
    await assert.rejects(c.sendText(convKey(3, a.me?.id ?? ""), "hi"), (e: Chat33Error) => e.code === -2018);
    assert.deepEqual(c.socket?.unacked(), []);
  });

  test("seq gap detection: a store that misses frames reads history until the gap is closed", async () => {
    // B's second store listens on a raw socket and is fed every frame but two: the loss a
    // dropped connection would cause. The third live frame shows the gap.
    const store = new ConversationStore(b.api, b.me?.id ?? "");
    const key = convKey(3, a.me?.id ?? "");
    await store.open(key);
    const held = store.get(key).messages.length;
    const raw = new WebSocket(`${s.ws}/ws?token=${b.token}`);
    const frames: MessageFrame[] = [];
    raw.on("message", (d) => {
      const f = JSON.parse(String(d));
      if (f.eventType === 0 && f.logId) frames.push(f);
    });
    await new Promise((r) => raw.once("open", r));
    await socketsReady(s.app);
    const aKey = convKey(3, b.me?.id ?? "");
    for (const t of ["g1", "g2", "g3", "g4"]) await a.sendText(aKey, t);
    await until(() => frames.length === 4, "4 frames");
    await store.ingestLive(frames[0]);
    await store.ingestLive(frames[3]);
    raw.close();
    const texts = store
      .get(key)
      .messages.slice(held)
      .map((m) => m.msg.content);
    assert.deepEqual(texts, ["g1", "g2", "g3", "g4"], "the missed g2 and g3 were filled, in order, once");
    assert.equal(store.gapsFilled, 1);
    const seqs = store.get(key).messages.map((m) => m.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    assert.equal(new Set(seqs).size, seqs.length);
  });

  test("peek: the newest message of conversations with nothing unread (list previews), without loading them", async () => {
    const store = new ConversationStore(a.api, a.me?.id ?? "");
    const key = convKey(3, b.me?.id ?? "");
    await store.peek([key]);
    const newest = (await a.api.friendLog(b.me?.id ?? "", "", 1)).logs[0];
    assert.equal(store.get(key).last?.logId, newest.logId);
    assert.equal(store.get(key).live, false);
    assert.deepEqual(store.get(key).messages, []);
  });

  test("infinite scroll: loadOlder pages back to the first message, each once", async () => {
    const store = new ConversationStore(a.api, a.me?.id ?? "", { pageSize: 3 });
    const key = convKey(3, b.me?.id ?? "");
    await store.open(key);
    let guard = 0;
    while (store.get(key).older !== null && guard++ < 50) await store.loadOlder(key);
    const all = (await a.api.friendLog(b.me?.id ?? "", "", 100)).logs;
    assert.deepEqual(
      store.get(key).messages.map((m) => m.logId),
      all.map((l) => l.logId).reverse(),
    );
  });

  test("recall: event 10 turns the message into a notice in the other store", async () => {
    const key = convKey(3, b.me?.id ?? "");
    const ack = await a.sendText(key, "oops");
    const bs = b.store;
    assert.ok(bs);
    const bKey = convKey(3, a.me?.id ?? "");
    await until(() => bs.get(bKey).messages.some((m) => m.logId === ack.logId), "B has it");
    await a.api.recall(2, ack.logId);
    await until(() => bs.get(bKey).messages.find((m) => m.logId === ack.logId)?.recalled === 1, "recalled in B");
    assert.equal(bs.get(bKey).messages.find((m) => m.logId === ack.logId)?.msgType, 6);
  });

  test("the server restarts mid-conversation: both clients reconnect; nothing is lost or doubled", async () => {
    const key = convKey(3, b.me?.id ?? "");
    const bKey = convKey(3, a.me?.id ?? "");
    const bs = b.store;
    assert.ok(bs);
    // B has the conversation open (live), so its reconnect sync reads back whatever B's socket
    // missed. Whether B's new socket is subscribed before A's outbox flushes is a race (its
    // backoff, the new server's subscriptions): either way B must end with every message once.
    await bs.open(bKey);
    const texts = () => bs.get(bKey).messages.map((m) => m.msg.content);
    await a.sendText(key, "before restart");
    await until(() => texts().includes("before restart"), "B got it");
    const port = Number(new URL(s.base).port);
    const backend = s.backend;
    await s.app.close();
    await until(() => a.socket?.state !== "open" && b.socket?.state !== "open", "both sockets down");
    // sent while the server is down: waits in A's outbox
    const pending = [a.sendText(key, "during 1"), a.sendText(key, "during 2")];
    const old = s;
    s = await startServer({ port }, { backend });
    s.close = async () => {
      await s.app.close();
      await old.backend.cleanup();
    };
    await Promise.all(pending);
    await a.sendText(key, "after restart");
    // Caught up = the messages themselves are in B's store. Not `last`: the reconnect's sync sets
    // `last` from the unread route's newest message at once, before (or, for a conversation that
    // is not open, instead of) reading the messages — the race a loaded full run hit.
    const sent = ["before restart", "during 1", "during 2", "after restart"];
    await until(() => sent.every((t) => texts().includes(t)), "B caught up", 30_000);
    const server = (await b.api.friendLog(a.me?.id ?? "", "", 100)).logs.map((l) => l.logId).reverse();
    const held = bs.get(bKey).messages.map((m) => m.logId);
    assert.deepEqual(held, server.slice(server.length - held.length), "B holds the server's history, in order");
    assert.equal(new Set(held).size, held.length, "no duplicates");
    for (const t of sent) assert.equal(texts().filter((x) => x === t).length, 1, t);
  });

  test("groups: create, message to every member's store, invite, read receipts", async () => {
    const { client: c } = await registeredClient(s, "Cid");
    started.push(c);
    await befriend(a, c);
    await startClient(s, c);
    const { roomId } = await a.api.createGroup([b.me?.id ?? "", c.me?.id ?? ""], "三人行");
    await socketsReady(s.app);
    const info = await a.api.groupInfo(roomId);
    assert.equal(info.memberNumber, 3);
    assert.equal(info.memberLevel, 3);
    const key = convKey(2, roomId);
    const ack = await a.sendText(key, "群消息");
    for (const x of [b, c]) {
      const st = x.store;
      assert.ok(st);
      await until(() => st.get(key).messages.some((m) => m.logId === ack.logId), "member store got it");
    }
    await b.store?.markRead(key);
    const receipts = await a.api.readInfo(roomId, ack.logId);
    assert.equal(receipts.readNumber, 1);
    assert.deepEqual(receipts.readList, [b.me?.id]);
  });

  test("a guest joins a chat room by uuid, hears messages, and re-joins after a reconnect", async () => {
    const { groupId } = await adminCall<{ groupId: string }>(s, "/group/addGroup", { groupName: "大厅" });
    const guest = new Chat33Socket({
      baseUrl: s.ws,
      uuid: "guest-device-1",
      connect: nodeSocket,
      backoff: { baseMs: 50, maxMs: 200 },
    });
    const heard: MessageFrame[] = [];
    let joins = 0;
    guest.on("message", (f) => heard.push(f));
    guest.on("joined", () => joins++);
    guest.start();
    await until(() => guest.state === "open", "guest open");
    await guest.join(groupId);
    const a2 = a.socket;
    assert.ok(a2);
    await a2.join(groupId);
    await a.sendText(convKey(1, groupId), "welcome");
    await until(() => heard.some((f) => f.msg.content === "welcome"), "guest heard it");
    await assert.rejects(
      guest.send({ channelType: 1, targetId: groupId, msgType: 1, msg: { content: "x" } }),
      (e: Chat33Error) => e.code === -2008,
    );
    guest.drop();
    await until(() => guest.state === "connecting", "guest down");
    await until(() => joins === 2, "re-joined after the reconnect");
    await a.sendText(convKey(1, groupId), "again");
    await until(() => heard.some((f) => f.msg.content === "again"), "guest re-joined automatically");
    guest.close();
  });
});
