import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import type { Env } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * The session of chat33's PC client (33cn/chat33-pc) replayed against a real Parley server, in
 * the client's own order and with its own headers (src/plugins/axios-plugin.ts): `/user/tokenLogin
 * {type: 2, cid: ""}` with the token once, then the cookie alone; the socket at `/ws/` with the
 * cookie, 42 and 27 on open (src/scripts/object.ts); chat frames with isSnap and ext; a forward
 * and a burn-after-reading read (src/config/urls.ts). Runs on SQLite, or PostgreSQL + Redis with
 * PARLEY_DATABASE_URL / PARLEY_REDIS_URL (test/helpers/backend.ts).
 */

const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

/** What the PC client's axios plugin puts on every request. */
const PC_HEADERS = {
  "FZM-DEVICE": "PC",
  "FZM-DEVICE-NAME": "DESKTOP-TEST",
  "FZM-APP-ID": "1001",
  "FZM-VERSION": "2.8.4",
};

type Frame = Record<string, unknown> & { eventType: number };
type Who = { user: User; token: string; mobile: string };

describe("chat33 PC client session (33cn/chat33-pc against Parley)", () => {
  let s: TestServer;
  const clients: TestClient[] = [];
  let a: Who; // the PC user
  let b: Who;
  let c: Who;
  let pcCookie = "";
  let pc: TestClient; // A's socket, as the PC client opens it
  let bs: TestClient;
  let cs: TestClient;
  let roomId = "";

  const person = async (nickname: string): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
    const r = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      { "FZM-DEVICE": "Android" },
    );
    assert.equal(r.body.result, 0, r.body.message);
    return { user, token: r.body.data.token, mobile };
  };
  /** A request as the PC client sends it after login: its headers and the cookie, no token. */
  const pcCall = <T = Record<string, unknown>>(path: string, body: unknown = {}) =>
    post<Env<T>>(`${s.base}${path}`, body, { ...PC_HEADERS, cookie: pcCookie });
  const pcOk = async <T = Record<string, unknown>>(path: string, body: unknown = {}) => {
    const r = await pcCall<T>(path, body);
    assert.equal(r.status, 200, path);
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const ok = async <T = Record<string, unknown>>(w: Who, path: string, body: unknown = {}) => {
    const r = await post<Env<T>>(`${s.base}${path}`, body, { "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": w.token });
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const open = async (path: string, headers: Record<string, string>) => {
    const client = new TestClient(`${s.ws}${path}`, { headers });
    clients.push(client);
    await client.opened;
    return client;
  };
  /** Frames until `done` says so (each must arrive within the helper's timeout). */
  const collect = async (client: TestClient, done: (seen: Frame[]) => boolean) => {
    const seen: Frame[] = [];
    while (!done(seen)) seen.push(await nx<Frame>(client));
    return seen;
  };
  /**
   * The next frame, skipping group online counts (event 24): they are pushed as members' sockets
   * come and go, at times of their own.
   */
  const nx = async <T = Frame>(client: TestClient, timeoutMs = 3000): Promise<T> => {
    for (;;) {
      const f = await client.next<Frame>(timeoutMs);
      if (f.eventType !== 24) return f as unknown as T;
    }
  };
  /** True when nothing but online counts arrives within 200 ms. */
  const quiet = async (client: TestClient): Promise<boolean> => {
    try {
      await nx(client, 200);
      return false;
    } catch {
      return true;
    }
  };
  /** Reads and drops whatever a socket still has coming (its own copies of forwards, events 31). */
  const drain = async (client: TestClient) => {
    for (let i = 0; i < 200; i++) {
      try {
        await client.next(150);
      } catch {
        return;
      }
    }
  };
  const text = (to: Who, msgId: string, content: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      eventType: 0,
      msgId,
      channelType: 3,
      targetId: String(to.user.id),
      msgType: 1,
      msg: { content },
      ...extra,
    });

  before(async () => {
    s = await startServer({ "chat33.msgRatePerConnection": 1000, "chat33.msgRatePerUser": 1000 });
    [a, b, c] = [await person("Alice"), await person("Bob"), await person("Carol")];
  });
  after(async () => {
    for (const cl of clients) cl.close();
    await s.close();
  });

  test("login: /user/tokenLogin {type 2, cid ''} with the token once sets the cookie; the cookie alone then works", async () => {
    const res = await fetch(`${s.base}/user/tokenLogin`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...PC_HEADERS,
        "FZM-AUTH-TOKEN": a.token,
        "FZM-UUID": "pc-device-uuid-1",
      },
      body: JSON.stringify({ type: 2, cid: "" }),
    });
    const body = (await res.json()) as Env<{ id: string }>;
    assert.equal(body.result, 0, body.message);
    assert.equal(body.data.id, String(a.user.id));
    const setCookie = res.headers.get("set-cookie") ?? "";
    const m = /FZM-AUTH-TOKEN=[^;]+/.exec(setCookie);
    assert.ok(m, "the cookie is set");
    pcCookie = m[0];
    const me = await pcOk<{ id: string; name: string }>("/user/userInfo", { id: String(a.user.id) });
    assert.equal(me.name, "Alice");
  });

  test("opening sequence: friend list, unread counts, groups, pending applications", async () => {
    assert.deepEqual(await pcOk("/friend/list", { type: 3, time: 0 }), { userList: [] });
    assert.deepEqual(await pcOk("/friend/unread"), { infos: [] });
    await pcOk("/room/list", { type: 3 });
    await pcOk("/room/unread");
    assert.deepEqual(await pcOk("/chat33/unreadApplyNumber"), { number: 0 });
    // Bob asks (the later clients say where from: 1 = search); Alice sees one pending application
    assert.deepEqual(await ok(b, "/friend/add", { id: String(a.user.id), reason: "hi", sourceType: 1 }), {
      state: 2,
    });
    assert.deepEqual(await pcOk("/chat33/unreadApplyNumber"), { number: 1 });
    const apply = await pcOk<{ applyList: Array<{ type: number; status: number }> }>("/chat33/applyList", {
      id: "",
      number: 20,
    });
    assert.equal(apply.applyList[0].type, 2);
    await pcOk("/friend/response", { id: String(b.user.id), agree: 1 });
    assert.deepEqual(await pcOk("/chat33/unreadApplyNumber"), { number: 0 });
    await ok(a, "/friend/add", { id: String(c.user.id), sourceType: 5 });
    await ok(c, "/friend/response", { id: String(a.user.id), agree: 1 });
    const list = await pcOk<{ userList: Array<{ id: string; isBlocked: number }> }>("/friend/list", { type: 3 });
    assert.deepEqual(list.userList.map((f) => f.id).sort(), [String(b.user.id), String(c.user.id)].sort());
    const created = await pcOk<{ roomId: string }>("/room/create", {
      roomName: "PC group",
      users: [String(b.user.id)],
    });
    roomId = created.roomId;
  });

  test("socket at /ws/ with the cookie: 42 → missed messages (41, with isSnap), then 43; 27 → 29", async () => {
    // Bob wrote while Alice's PC client was closed
    bs = await open("/ws", { "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": b.token });
    cs = await open("/ws", { "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": c.token });
    await socketsReady(s.app);
    const before = Date.now() - 1;
    bs.ws.send(text(a, "b-1", "在吗"));
    const echo = await nx<Frame>(bs);
    assert.equal(echo.eventType, 0);
    assert.equal(echo.isSnap, 2);
    assert.equal(echo.ext, null);
    // the PC client: no headers on the WebSocket (a browser API), the cookie only, a trailing slash
    pc = await open("/ws/", { cookie: pcCookie });
    await socketsReady(s.app);
    pc.ws.send(JSON.stringify({ eventType: 42, time: before }));
    pc.ws.send(JSON.stringify({ eventType: 27, datetime: Number.MAX_SAFE_INTEGER }));
    const frames = await collect(
      pc,
      (seen) => seen.some((f) => f.eventType === 43) && seen.some((f) => f.eventType === 29),
    );
    assert.deepEqual(
      frames.find((f) => f.eventType === 29),
      { eventType: 29 },
    );
    assert.deepEqual(
      frames.find((f) => f.eventType === 43),
      { eventType: 43 },
    );
    const batches = frames.filter((f) => f.eventType === 41);
    const items = batches.flatMap((f) => f.list as Array<Record<string, unknown>>);
    const missed = items.find((i) => i.msgId === "b-1");
    assert.ok(missed, "Bob's message is in the batch");
    assert.deepEqual(missed, {
      msgId: "b-1",
      logId: echo.logId,
      fromId: String(b.user.id),
      channelType: 3,
      isSnap: 2,
      targetId: String(a.user.id),
      msgType: 1,
      msg: { content: "在吗" },
      ext: null,
      datetime: echo.datetime,
      senderInfo: { nickname: "Bob", avatar: "" },
    });
    assert.ok(
      frames.findIndex((f) => f.eventType === 41) < frames.findIndex((f) => f.eventType === 43),
      "43 ends the sync",
    );
    // a new device (time 0) gets the recent messages as read (40)
    const fresh = await open("/ws/", { cookie: pcCookie });
    await socketsReady(s.app);
    fresh.ws.send(JSON.stringify({ eventType: 42, time: 0 }));
    const f2 = await collect(fresh, (seen) => seen.some((f) => f.eventType === 43));
    assert.ok(
      f2
        .filter((f) => f.eventType === 40)
        .some((f) => (f.list as Array<{ msgId: string }>).some((i) => i.msgId === "b-1")),
    );
    fresh.close();
    // anything else unknown is still an error frame
    pc.ws.send(JSON.stringify({ eventType: 45, begin: 0, end: -1, total: 0 }));
    assert.deepEqual(await nx(pc), {
      eventType: 45,
      msgId: "",
      code: -1001,
      content: "参数错误: 未知的事件类型",
    });
    pc.ws.send(JSON.stringify({ eventType: 42, time: "yesterday" }));
    assert.equal((await nx<Frame>(pc)).code, -1001);
  });

  test("a burn-after-reading chat with ext: echoed and stored; the recipient's read deletes it for both (type 15)", async () => {
    const ext = { atList: [], quote: { logId: "1" } };
    pc.ws.send(text(b, "a-snap-1", "阅后即焚", { isSnap: 1, ext }));
    const echo = await nx<Frame>(pc);
    assert.equal(echo.eventType, 0);
    assert.equal(echo.isSnap, 1);
    assert.deepEqual(echo.ext, ext);
    assert.deepEqual(await nx(bs), echo, "the recipient gets the same frame");
    const log = await ok<{ logs: Array<{ logId: string; isSnap: number; ext: unknown }> }>(b, "/friend/chatLog", {
      id: String(a.user.id),
      number: 20,
    });
    const stored = log.logs.find((l) => l.logId === echo.logId);
    assert.equal(stored?.isSnap, 1);
    assert.deepEqual(stored?.ext, ext);
    // the sender reading it burns nothing; the recipient's read does
    await pcOk("/chat33/readSnapMsg", { logId: echo.logId, type: 2 });
    assert.equal(await quiet(pc), true);
    await ok(b, "/chat33/readSnapMsg", { logId: echo.logId, type: 2 });
    const [na, nb] = [await nx<Frame>(pc), await nx<Frame>(bs)];
    assert.deepEqual(na, nb);
    assert.equal(na.msgType, 6);
    assert.deepEqual(
      { type: (na.msg as Record<string, unknown>).type, logId: (na.msg as Record<string, unknown>).logId },
      { type: 15, logId: echo.logId },
    );
    for (const w of [a, b]) {
      const peer = w === a ? b : a;
      const after = await ok<{ logs: Array<{ logId: string }> }>(w, "/friend/chatLog", {
        id: String(peer.user.id),
        number: 50,
      });
      assert.equal(
        after.logs.some((l) => l.logId === echo.logId),
        false,
        "gone for both sides",
      );
    }
    // group messages are never burn-after-reading (type 1), and a normal message is not burnt
    assert.equal((await pcCall("/chat33/readSnapMsg", { logId: echo.logId, type: 1 })).body.result, -1001);
    const normal = log.logs.find((l) => l.isSnap === 2);
    assert.ok(normal);
    assert.equal((await pcCall("/chat33/readSnapMsg", { logId: normal.logId, type: 2 })).body.result, -1001);
    pc.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: "g-snap",
        channelType: 2,
        targetId: roomId,
        msgType: 1,
        msg: { content: "x" },
        isSnap: 1,
      }),
    );
    assert.equal((await nx<Frame>(pc)).code, -1005);
  });

  test("forward: one by one and merged, to a group and friends; a refusing target is listed", async () => {
    // Bob's "在吗" from the conversation with Bob, to the group and to Carol
    const log = await pcOk<{ logs: Array<{ logId: string; msgId: string }> }>("/friend/chatLog", {
      id: String(b.user.id),
      number: 50,
    });
    const src = log.logs.find((l) => l.msgId === "b-1");
    assert.ok(src);
    const stranger = await person("Stranger");
    const single = await pcOk<{ failsNumber: number; roomFails: string[]; userFails: string[] }>("/chat33/forward", {
      sourceId: String(b.user.id),
      type: 2,
      forwardType: 1,
      logArray: [src.logId],
      targetRooms: [roomId],
      targetUsers: [String(c.user.id), String(stranger.user.id)],
    });
    assert.deepEqual(single, { failsNumber: 1, roomFails: [], userFails: [String(stranger.user.id)] });
    const toCarol = await collect(cs, (seen) => seen.some((f) => f.eventType === 0 && f.channelType === 3));
    const fwd = toCarol.find((f) => f.eventType === 0 && f.channelType === 3) as Frame;
    assert.equal(fwd.msgType, 1);
    assert.deepEqual(fwd.msg, {
      content: "在吗",
      forwardType: 1,
      channelType: 3,
      fromId: String(b.user.id),
      fromName: "Bob",
    });
    const groupLog = await pcOk<{ logs: Array<{ msg: { forwardType?: number } }> }>("/room/chatLog", {
      id: roomId,
      number: 20,
    });
    assert.ok(
      groupLog.logs.some((l) => l.msg.forwardType === 1),
      "the group received it",
    );
    const merged = await pcOk<{ failsNumber: number }>("/chat33/forward", {
      sourceId: String(b.user.id),
      type: 2,
      forwardType: 2,
      logArray: [src.logId],
      targetRooms: [],
      targetUsers: [String(c.user.id)],
    });
    assert.equal(merged.failsNumber, 0);
    const m = (await collect(cs, (seen) => seen.some((f) => f.msgType === 8))).find((f) => f.msgType === 8) as Frame;
    const mm = m.msg as {
      forwardType: number;
      forwardUserName: string;
      data: Array<{ msgType: number; msg: unknown }>;
    };
    assert.equal(mm.forwardType, 2);
    assert.equal(mm.forwardUserName, "Alice");
    assert.deepEqual(
      mm.data.map((d) => [d.msgType, d.msg]),
      [[1, { content: "在吗" }]],
    );
    await Promise.all([drain(pc), drain(bs), drain(cs)]);
    // a message of another conversation cannot be forwarded as this one's
    const bad = await pcCall("/chat33/forward", {
      sourceId: String(c.user.id),
      type: 2,
      forwardType: 1,
      logArray: [src.logId],
      targetRooms: [],
      targetUsers: [String(b.user.id)],
    });
    assert.equal(bad.body.result, -2023);
  });

  test("blocks: a blocked user cannot message you (-2032) nor be forwarded to you; unblock restores", async () => {
    await ok(c, "/friend/block", { userId: String(a.user.id) });
    const blocked = await ok<{ userList: Array<{ id: string; isBlocked: number }> }>(c, "/friend/blocked-list");
    assert.deepEqual(
      blocked.userList.map((u) => [u.id, u.isBlocked]),
      [[String(a.user.id), 1]],
    );
    pc.ws.send(text(c, "a-to-c", "hello"));
    assert.deepEqual(await nx(pc), {
      eventType: 0,
      msgId: "a-to-c",
      code: -2032,
      content: "对方拒绝接收你的消息！",
    });
    const { logs } = await pcOk<{ logs: Array<{ logId: string; msgId: string }> }>("/friend/chatLog", {
      id: String(b.user.id),
      number: 50,
    });
    const src = logs.find((l) => l.msgId === "b-1");
    assert.deepEqual(
      await pcOk("/chat33/forward", {
        sourceId: String(b.user.id),
        type: 2,
        forwardType: 1,
        logArray: [src?.logId],
        targetRooms: [],
        targetUsers: [String(c.user.id)],
      }),
      { failsNumber: 1, roomFails: [], userFails: [String(c.user.id)] },
    );
    assert.equal(await quiet(cs), true, "nothing reached the blocker");
    const full = await ok<{ userList: Array<{ id: string }> }>(c, "/friend/list", { type: 3 });
    assert.equal(
      full.userList.some((u) => u.id === String(a.user.id)),
      false,
      "the full list leaves blocked friends out",
    );
    await ok(c, "/friend/unblock", { userId: String(a.user.id) });
    pc.ws.send(text(c, "a-to-c-2", "hello again"));
    assert.equal((await nx<Frame>(pc)).eventType, 0);
    assert.equal((await nx<Frame>(cs)).msgId, "a-to-c-2");
  });

  test("friend rules: confirm 2 adds at once; a question needs its answer (state 1)", async () => {
    const d = await person("Dora");
    await ok(d, "/friend/question", { tp: 1, question: "猫叫什么", answer: "咪咪" });
    assert.deepEqual(await pcOk("/friend/add", { id: String(d.user.id), sourceType: 1, answer: "旺财" }), {
      state: 1,
    });
    assert.deepEqual(await pcOk("/friend/checkAnswer", { friendId: String(d.user.id), answer: "咪咪" }), {
      success: true,
    });
    await ok(d, "/friend/confirm", { tp: 2 });
    assert.deepEqual(await pcOk("/friend/add", { id: String(d.user.id), sourceType: 1, answer: "咪咪" }), {
      state: 3,
    });
    assert.equal(await s.app.friends.areFriends(a.user.id, d.user.id), true);
    const info = await pcOk<{ isFriend: number; needConfirm: number; needAnswer: number; question: string }>(
      "/user/userInfoByUid",
      { uid: d.user.uid },
    );
    assert.deepEqual([info.isFriend, info.needConfirm, info.needAnswer, info.question], [1, 2, 1, "猫叫什么"]);
    const many = await pcOk<{ userList: Array<{ id: string }> }>("/user/usersInfo", {
      uids: [d.user.uid, b.user.uid, "no-such-uid"],
    });
    assert.deepEqual(
      many.userList.map((u) => u.id),
      [String(d.user.id), String(b.user.id)],
    );
    // deleting: event 32 to both, then the notice (msgType 6, type 8)
    const ds = await open("/ws", { "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": d.token });
    await socketsReady(s.app);
    await drain(pc);
    await pcOk("/friend/delete", { id: String(d.user.id) });
    for (const client of [pc, ds]) {
      const e32 = await nx<Frame>(client);
      assert.equal(e32.eventType, 32);
      assert.equal((e32.senderInfo as { id: string }).id, String(a.user.id));
      assert.equal((e32.receiveInfo as { id: string }).id, String(d.user.id));
      const notice = await nx<Frame>(client);
      assert.equal(notice.msgType, 6);
      assert.deepEqual((notice.msg as { type: number; content: string }).type, 8);
    }
  });

  test("file and photo history, batch file recall, ext remark, routes that need external services", async () => {
    await Promise.all([drain(pc), drain(bs)]);
    pc.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: "a-file",
        channelType: 3,
        targetId: String(b.user.id),
        msgType: 9,
        msg: { fileUrl: "https://x.test/f.pdf", name: "report.pdf", size: 10, md5: "" },
      }),
    );
    const file = await nx<Frame>(pc);
    await nx(bs);
    pc.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: "a-img",
        channelType: 3,
        targetId: String(b.user.id),
        msgType: 3,
        msg: { imageUrl: "https://x.test/i.png", width: 1, height: 1 },
      }),
    );
    const img = await nx<Frame>(pc);
    await nx(bs);
    const files = await pcOk<{ logs: Array<{ logId: string }>; nextLog: string }>("/friend/historyFiles", {
      id: String(b.user.id),
      startId: "",
      number: 10,
    });
    assert.deepEqual(
      files.logs.map((l) => l.logId),
      [file.logId],
    );
    assert.equal(files.nextLog, "-1");
    const photos = await pcOk<{ logs: Array<{ logId: string }> }>("/friend/historyPhotos", {
      id: String(b.user.id),
      number: 10,
    });
    assert.deepEqual(
      photos.logs.map((l) => l.logId),
      [img.logId],
    );
    const byQuery = await pcOk<{ logs: unknown[] }>("/friend/historyFiles", {
      id: String(b.user.id),
      number: 10,
      query: "nothing-like-this",
    });
    assert.equal(byQuery.logs.length, 0);
    assert.deepEqual(await pcOk("/room/historyFiles", { id: roomId, number: 10 }), { logs: [], nextLog: "-1" });
    assert.equal((await ok(c, "/room/historyPhotos", { id: roomId, number: 10 }).catch(() => null)) === null, true);
    const revoked = await pcOk("/chat33/RevokeFiles", { logs: [file.logId, img.logId], type: 2 });
    assert.deepEqual(revoked, { failsNumber: 1, fails: [img.logId] }, "only file messages");
    await pcOk("/friend/setExtRemark", {
      id: String(b.user.id),
      remark: "鲍勃",
      telephones: [{ remark: "work", phone: "12345" }],
      description: "同事",
      pictures: [],
    });
    const info = await pcOk<{ remark: string; extRemark: { description: string } }>("/user/userInfoByUid", {
      uid: b.user.uid,
    });
    assert.equal(info.remark, "鲍勃");
    assert.equal(info.extRemark.description, "同事");
    for (const path of ["/user/isSetPayPwd", "/chat33/uploadSecretKey", "/chat33/encryptForward", "/praise/list"]) {
      const r = await pcCall(path, {});
      assert.equal(r.status, 200, path);
      assert.deepEqual(r.body, { result: -9002, message: "暂未开放", data: {} }, path);
    }
    assert.deepEqual(await pcOk("/open", { appId: "1001" }), {});
    const voice = await post<Env>(`${s.base}/v1/send/voice`, { mobile: "13700000000" });
    assert.deepEqual(voice.body, { result: -9002, message: "暂未开放", data: {} });
  });

  test("recall: the PC client at /ws/ gets the later server's notice (msgType 6, type 1); a /ws socket gets event 10", async () => {
    await Promise.all([drain(pc), drain(bs)]);
    pc.ws.send(text(b, "a-oops", "发错了"));
    const sent = await nx<Frame>(pc);
    await nx(bs);
    await pcOk("/chat33/RevokeMessage", { logId: sent.logId, type: 2 });
    const later = await nx<Frame>(pc);
    assert.equal(later.eventType, 0);
    assert.equal(later.msgType, 6);
    assert.equal(later.channelType, 3);
    assert.equal(later.targetId, String(b.user.id));
    assert.deepEqual(later.msg, {
      type: 1,
      logId: sent.logId,
      operator: String(a.user.id),
      name: "Alice",
      content: "Alice 撤回了一条消息",
    });
    assert.deepEqual(await nx(bs), {
      eventType: 10,
      logType: 2,
      logId: sent.logId,
      operateType: 1,
      userName: "Alice",
    });
  });

  test("another PC login replaces the session: the /ws/ socket gets event 9 (the later server's), then closes", async () => {
    const e = await person("Erin");
    const pcLogin = async () => {
      const r = await post<Env<{ token: string }>>(
        `${s.base}/user/pwdLogin`,
        { mobile: e.mobile, password: PASSWORD },
        { ...PC_HEADERS },
      );
      assert.equal(r.body.result, 0, r.body.message);
      return r.body.data.token;
    };
    const first = await pcLogin();
    const sock = await open("/ws/", { ...PC_HEADERS, "FZM-AUTH-TOKEN": first });
    await socketsReady(s.app);
    await pcLogin();
    const f = await nx<Frame>(sock);
    assert.equal(f.eventType, 9);
    assert.equal(f.content, "账号已经在其他终端登录");
    assert.equal((await sock.closed).code, 4003, "kicked");
  });

  test("red packets with the cookie alone: send into a friend chat and the group, a claim notifies the PC socket", async () => {
    await drain(pc);
    const dep = await post<{ code: number }>(
      `${s.base}/admin/api/wallet/deposit`,
      { userId: String(a.user.id), coin: 1, amount: 5, idempotencyKey: `pc-${a.user.id}` },
      { authorization: "Bearer test-admin-token" },
    );
    assert.equal(dep.body.code, 0, JSON.stringify(dep.body));
    const bal = await pcOk<{ balances: Array<{ coin: number; amount: number }> }>("/red-packet/balance");
    assert.equal(bal.balances.find((x) => x.coin === 1)?.amount, 5);
    // into the friend chat (cType 0, chat33's own numbering), an equal split
    const sent = await pcOk<{ packetId: string; packetType: number; packetUrl: string }>("/red-packet/send", {
      cType: 0,
      toId: String(b.user.id),
      coin: 1,
      type: 2,
      amount: 1.5,
      size: 2,
      remark: "恭喜发财",
    });
    assert.equal(sent.packetType, 2);
    const m = (await collect(pc, (seen) => seen.some((f) => f.eventType === 0 && f.msgType === 4))).find(
      (f) => f.msgType === 4,
    ) as Frame & { msg: Record<string, unknown> };
    assert.deepEqual(m.msg, {
      coin: 1,
      packetId: sent.packetId,
      packetType: 2,
      packetUrl: sent.packetUrl,
      remark: "恭喜发财",
    });
    const got = await ok<{ amount: number; remain: number }>(b, "/red-packet/receive-entry", {
      packet_id: sent.packetId,
    });
    assert.deepEqual([got.amount, got.remain], [0.75, 1]);
    // the claim notice (msgType 6) reaches the sender's PC socket
    await collect(pc, (seen) => seen.some((f) => f.eventType === 0 && f.msgType === 6));
    const detail = await pcOk<{ remain: number; my_amount: number; receive: Array<{ uid: string }> }>(
      "/red-packet/detail",
      { packet_id: sent.packetId },
    );
    assert.equal(detail.remain, 1);
    assert.deepEqual(
      detail.receive.map((r) => r.uid),
      [String(b.user.id)],
      "the sender sees the claims: the cookie is a session for /red-packet/detail too",
    );
    // into the group (cType 1), a random split; Bob claims, then the records list both
    const g = await pcOk<{ packetId: string }>("/red-packet/send", {
      cType: 1,
      toId: roomId,
      coin: 1,
      type: 1,
      amount: 1,
      size: 1,
    });
    const gg = await ok<{ amount: number; remain: number }>(b, "/red-packet/receive-entry", { packet_id: g.packetId });
    assert.deepEqual([gg.amount, gg.remain], [1, 0]);
    const after = await pcOk<{ balances: Array<{ coin: number; amount: number }> }>("/red-packet/balance");
    assert.equal(after.balances.find((x) => x.coin === 1)?.amount, 2.5);
    assert.deepEqual(await s.app.wallet.verify(), []);
    await drain(pc);
  });

  test("logout ends the session: the cookie no longer works and the socket is closed", async () => {
    await drain(pc);
    await pcOk("/user/logout");
    const r = await pcCall("/friend/list", { type: 3 });
    assert.equal(r.body.result, -1004);
    const f = await nx<Frame>(pc);
    assert.equal(f.eventType, -1);
  });
});

describe("the PC client's Origin (Electron, file://) and ws.allowedOrigins (docs/chat33.md)", () => {
  /** A user signed in as the PC client does: the token once on /user/tokenLogin, then the cookie. */
  const pcCookieOn = async (s: TestServer): Promise<string> => {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname: "Dora" });
    const login = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      PC_HEADERS,
    );
    assert.equal(login.body.result, 0, login.body.message);
    const res = await fetch(`${s.base}/user/tokenLogin`, {
      method: "POST",
      headers: { "content-type": "application/json", ...PC_HEADERS, "FZM-AUTH-TOKEN": login.body.data.token },
      body: JSON.stringify({ type: 2, cid: "" }),
    });
    assert.equal(((await res.json()) as Env).result, 0);
    const m = /FZM-AUTH-TOKEN=[^;]+/.exec(res.headers.get("set-cookie") ?? "");
    assert.ok(m, "the cookie is set");
    return m[0];
  };

  test("without ws.allowedOrigins the cookie does not count from Origin file://: /ws/ refuses the upgrade", async () => {
    const s = await startServer();
    try {
      const cookie = await pcCookieOn(s);
      const pc = new TestClient(`${s.ws}/ws/`, { headers: { cookie }, origin: "file://" });
      // no credential counts, and /ws/ (unlike /ws) has no gateway to fall back to
      await assert.rejects(pc.opened, /HTTP 404/);
      const same = new TestClient(`${s.ws}/ws/`, { headers: { cookie }, origin: s.base });
      await same.opened;
      same.close();
    } finally {
      await s.close();
    }
  });

  test("ws.allowedOrigins=file:// lets the PC client's cookie socket in, and refuses origins not listed", async () => {
    const s = await startServer({ "ws.allowedOrigins": "file://" });
    try {
      const cookie = await pcCookieOn(s);
      const pc = new TestClient(`${s.ws}/ws/`, { headers: { cookie }, origin: "file://" });
      await pc.opened;
      await socketsReady(s.app);
      pc.ws.send(JSON.stringify({ eventType: 27, datetime: Number.MAX_SAFE_INTEGER }));
      assert.deepEqual(await pc.next(), { eventType: 29 }, "a chat33 session socket answers 27");
      pc.close();
      // with the list set, every browser origin that opens sockets must be on it: the server's own too
      const own = new TestClient(`${s.ws}/ws/`, { headers: { cookie }, origin: s.base });
      await assert.rejects(own.opened, /403/);
    } finally {
      await s.close();
    }
  });
});
