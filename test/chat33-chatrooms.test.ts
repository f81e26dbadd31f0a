import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import type { Env, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/** chat33 chat rooms (seed 002 聊天室有关接口, WS events 1/2/3/4/5/7, channelType 1); docs/chat33.md. */

const PASSWORD = "secret-pass-1";
let seq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;
type Who = { user: User; token: string; mobile: string };
type Reply = { eventType: number; msgId: string; code: number; content: string };

describe("chat33 chat rooms (/group/*, WS 1/2/3/4/5/7)", () => {
  let s: TestServer;
  const clients: TestClient[] = [];
  let adminToken: string;
  let admin: Who;
  let alice: Who;
  let bob: Who;
  let roomId: string;

  const hdr = (w: Who | string | null, device = "iOS"): Record<string, string> =>
    w === null
      ? { "FZM-DEVICE": device }
      : { "FZM-DEVICE": device, "FZM-AUTH-TOKEN": typeof w === "string" ? w : w.token };
  const call = <T = Record<string, unknown>>(h: Record<string, string>, path: string, body: unknown = {}) =>
    post<Env<T>>(`${s.base}${path}`, body, h);
  const login = async (mobile: string, device = "iOS") => {
    const r = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      hdr(null, device),
    );
    assert.equal(r.body.result, 0, r.body.message);
    return r.body.data.token;
  };
  const person = async (nickname: string, extra: Record<string, unknown> = {}): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname, ...extra });
    return { user, token: await login(mobile), mobile };
  };
  const socket = async (headers: Record<string, string>) => {
    const c = new TestClient(`${s.ws}/ws`, { headers });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };
  const join = async (c: TestClient, id: string, msgId = "j") => {
    c.ws.send(JSON.stringify({ eventType: 1, msgId, groupId: id }));
    return c.next<Reply>();
  };
  const say = (c: TestClient, msgId: string, content: string, id = roomId) =>
    c.ws.send(JSON.stringify({ eventType: 0, msgId, channelType: 1, targetId: id, msgType: 1, msg: { content } }));
  const info = async (id: string) =>
    (await call<Record<string, unknown>>({ "FZM-UUID": "reader" }, "/group/info", { groupId: id })).body;
  const bearer = () => ({ authorization: `Bearer ${adminToken}` });

  before(async () => {
    s = await startServer({
      "chat33.msgRatePerConnection": 1000,
      "chat33.msgRatePerUser": 1000,
      "chatrooms.historyMaxCount": 5,
    });
    adminToken = s.app.config.adminToken; // the test config sets one
    admin = await person("管理员", { isAdmin: true });
    alice = await person("Alice");
    bob = await person("Bob");
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("managing rooms is for admins: others get -3000; addGroup answers the new groupId", async () => {
    const denied = await call(hdr(alice), "/group/addGroup", { groupName: "BTY交流一号", avatar: "" });
    assert.deepEqual(denied.body, { result: -3000, message: "权限不足", data: {} });
    const byUser = await call<{ groupId: string }>(hdr(admin), "/group/addGroup", {
      groupName: "BTY交流一号",
      avatar: "https://x.test/r.png",
    });
    assert.equal(byUser.body.result, 0, byUser.body.message);
    roomId = byUser.body.data.groupId;
    assert.match(roomId, /^[1-9][0-9]*$/);
    const byToken = await call<{ groupId: string }>(bearer(), "/group/addGroup", { groupName: "第二", avatar: "" });
    assert.equal(byToken.body.result, 0, byToken.body.message);
    for (const [path, body] of [
      ["/group/editAvatar", { groupId: roomId, avatar: "/x.png" }],
      ["/group/editGroupName", { groupId: roomId, groupName: "x" }],
      ["/group/setStatus", { groupId: roomId, type: 1 }],
    ] as const)
      assert.equal((await call(hdr(bob), path, body)).body.result, -3000, path);
    assert.equal(
      (await call(hdr(admin), "/group/editGroupName", { groupId: "999999", groupName: "x" })).body.result,
      -5000,
    );
    assert.equal(
      (await call(hdr(admin), "/group/editAvatar", { groupId: roomId, avatar: "javascript:x" })).body.result,
      -1001,
    );
    assert.equal((await call(hdr(admin), "/group/addGroup", {})).body.result, -1002);
    assert.equal((await call(hdr(admin), "/group/setStatus", { groupId: roomId, type: 3 })).body.result, -1001);
  });

  test("guests list rooms and read info with every documented field; no credentials → -1003", async () => {
    const r = await call<{ groups: Array<Record<string, unknown>> }>({ "FZM-UUID": "g-1" }, "/group/list", {
      groupStatus: 1,
      groupName: "BTY",
    });
    assert.equal(r.body.result, 0);
    assert.equal(r.body.data.groups.length, 1);
    const g = r.body.data.groups[0];
    assert.deepEqual(Object.keys(g).sort(), [
      "avatar",
      "closeTime",
      "createTime",
      "description",
      "groupId",
      "groupName",
      "openTime",
      "status",
      "totalNumber",
      "userNumber",
      "visitorNumber",
    ]);
    assert.deepEqual([g.groupId, g.groupName, g.status, g.totalNumber], [roomId, "BTY交流一号", 1, 0]);
    assert.equal((await call(hdr(null), "/group/list", { groupStatus: 3 })).body.result, -1003);
    assert.equal((await call({ "FZM-UUID": "g" }, "/group/list", { groupStatus: 2 })).body.result, 0);
    assert.equal((await call({ "FZM-UUID": "g" }, "/group/info", { groupId: "abc" })).body.result, -5000);
  });

  test("join as user and guest; a user's two devices count once; guests count apart; a message reaches everyone in the room", async () => {
    const a1 = await socket(hdr(alice));
    const a2 = await socket(hdr(await login(alice.mobile, "Android"), "Android"));
    const g = await socket({ "FZM-UUID": "guest-mac-1" });
    const outside = await socket(hdr(bob));
    for (const c of [a1, a2, g])
      assert.deepEqual(await join(c, roomId), { eventType: 1, msgId: "j", code: 0, content: "操作成功" });
    assert.deepEqual(await join(a1, "999999", "x"), { eventType: 1, msgId: "x", code: -5000, content: "聊天室不存在" });
    const card = await info(roomId);
    assert.deepEqual([card.data], [{ ...(card.data as object), totalNumber: 2, userNumber: 1, visitorNumber: 1 }]);
    const online = await call<{ totalNumber: number }>({ "FZM-UUID": "r" }, "/group/getOnlineNumber", {
      groupId: roomId,
    });
    assert.deepEqual(online.body.data, { totalNumber: 2 });

    say(a1, "r-1", "大家好");
    const echo = await a1.next<MsgFrame>();
    assert.equal(echo.channelType, 1);
    assert.equal(echo.targetId, roomId);
    assert.equal(typeof echo.logId, "string");
    assert.deepEqual(await a2.next(), echo);
    assert.deepEqual(await g.next(), echo, "a guest receives");
    assert.equal(await outside.silent(), true, "not in the room: nothing");

    // guests may not send; a user not in the room gets -5001
    say(g, "r-g", "x");
    assert.equal((await g.next<Reply>()).code, -2008);
    say(outside, "r-o", "x");
    assert.equal((await outside.next<Reply>()).code, -5001);
    // leave answers; a second leave is -5001
    outside.ws.send(JSON.stringify({ eventType: 2, msgId: "l", groupId: roomId }));
    assert.equal((await outside.next<Reply>()).code, -5001);
    a2.ws.send(JSON.stringify({ eventType: 2, msgId: "l", groupId: roomId }));
    assert.deepEqual(await a2.next(), { eventType: 2, msgId: "l", code: 0, content: "操作成功" });
    assert.equal(
      ((await info(roomId)).data as { userNumber: number }).userNumber,
      1,
      "Alice's other device is still in",
    );
  });

  test("close (event 4) keeps the audience and refuses sending; open (event 7) lets them send again", async () => {
    const u = await socket(hdr(bob));
    const g = await socket({ "FZM-UUID": "guest-close" });
    await join(u, roomId);
    await join(g, roomId);
    assert.equal((await call(bearer(), "/group/setStatus", { groupId: roomId, type: 1 })).body.result, 0);
    const closed = await u.next<Record<string, unknown>>();
    assert.deepEqual(Object.keys(closed).sort(), ["datetime", "eventType", "groupId"]);
    assert.deepEqual([closed.eventType, closed.groupId], [4, roomId]);
    assert.equal((await g.next<Record<string, unknown>>()).eventType, 4);
    say(u, "c-1", "closed?");
    assert.deepEqual(await u.next(), { eventType: 0, msgId: "c-1", code: -5000, content: "聊天室已关闭" });
    const list = await call<{ groups: Array<{ groupId: string; status: number }> }>(
      { "FZM-UUID": "g" },
      "/group/list",
      {
        groupStatus: 2,
      },
    );
    assert.ok(list.body.data.groups.some((r) => r.groupId === roomId && r.status === 2));

    assert.equal((await call(hdr(admin), "/group/setStatus", { groupId: roomId, type: 0 })).body.result, 0);
    const opened = await u.next<Record<string, unknown>>();
    assert.equal(opened.eventType, 7);
    assert.equal(opened.groupId, roomId);
    assert.equal(opened.groupName, "BTY交流一号");
    assert.equal(opened.status, 1);
    assert.ok((opened.totalNumber as number) >= 2);
    assert.equal((await g.next<Record<string, unknown>>()).eventType, 7);
    say(u, "c-2", "open again");
    assert.equal((await u.next<MsgFrame>()).msgId, "c-2");
    assert.equal((await g.next<MsgFrame>()).msgId, "c-2");
  });

  test("room mute (event 3, -2007) and blacklist (removed, cannot rejoin)", async () => {
    const carol = await person("Carol");
    const c = await socket(hdr(carol));
    await join(c, roomId);
    await s.app.chatrooms.mute({ adminToken: true }, Number(roomId), carol.user.id, 60_000);
    const muted = await c.next<Record<string, unknown>>();
    assert.equal(muted.eventType, 3);
    assert.equal(muted.mutedLastTime, 60_000);
    say(c, "m-1", "x");
    assert.equal((await c.next<Reply>()).code, -2007);
    await s.app.chatrooms.mute({ adminToken: true }, Number(roomId), carol.user.id, 0);
    assert.equal((await c.next<Record<string, unknown>>()).eventType, 3);
    say(c, "m-2", "back");
    assert.equal((await c.next<MsgFrame>()).msgId, "m-2");

    const before = ((await info(roomId)).data as { userNumber: number }).userNumber;
    await s.app.chatrooms.blacklist({ adminToken: true }, Number(roomId), carol.user.id);
    const removed = await c.next<Record<string, unknown>>();
    assert.deepEqual([removed.eventType, removed.removed, removed.groupId], [3, true, roomId]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(((await info(roomId)).data as { userNumber: number }).userNumber, before - 1);
    assert.deepEqual(await join(c, roomId, "again"), {
      eventType: 1,
      msgId: "again",
      code: -3000,
      content: "权限不足: 已被移出此聊天室",
    });
  });

  test("history pages newest first by startId/nextLog, within retention (historyMaxCount 5)", async () => {
    const c = await socket(hdr(admin));
    await join(c, roomId);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      say(c, `h-${i}`, `history ${i}`);
      for (;;) {
        const f = await c.next<MsgFrame>();
        if (f.msgId === `h-${i}`) {
          ids.push(f.logId);
          break;
        }
      }
    }
    const page = (startId?: string) =>
      call<{ logs: MsgFrame[]; nextLog: string }>({ "FZM-UUID": "hist" }, "/group/getGroupChatHistory", {
        id: roomId,
        number: 3,
        ...(startId ? { startId } : {}),
      });
    const p1 = (await page()).body.data;
    assert.deepEqual(
      p1.logs.map((l) => l.logId),
      [ids[6], ids[5], ids[4]],
    );
    assert.equal(p1.logs[0].channelType, 1);
    assert.equal(p1.nextLog, ids[3]);
    const p2 = (await page(p1.nextLog)).body.data;
    assert.deepEqual(
      p2.logs.map((l) => l.logId),
      [ids[3], ids[2]],
      "only the newest 5 are kept",
    );
    assert.equal(p2.nextLog, "");
    assert.ok((await s.app.chatrooms.pruneHistory()) >= 2, "the sweep deletes what fell out of retention");
    assert.equal((await page("abc")).body.result, -1001);
    assert.equal(
      (await call({ "FZM-UUID": "h" }, "/group/getGroupChatHistory", { id: roomId, number: 0 })).body.result,
      -1001,
    );
  });

  test("an abrupt disconnect leaves the audience", async () => {
    const dave = await person("Dave");
    const d = await socket(hdr(dave));
    await join(d, roomId);
    const n = ((await info(roomId)).data as { userNumber: number }).userNumber;
    d.ws.terminate();
    await d.closed;
    let now = n;
    for (let i = 0; i < 50 && now === n; i++) {
      await new Promise((r) => setTimeout(r, 20));
      now = ((await info(roomId)).data as { userNumber: number }).userNumber;
    }
    assert.equal(now, n - 1);
  });

  test("delete (event 5) empties the room; it is gone for list, info and join", async () => {
    const u = await socket(hdr(bob));
    await join(u, roomId);
    assert.equal((await call(bearer(), "/group/setStatus", { groupId: roomId, type: 2 })).body.result, 0);
    for (;;) {
      const f = await u.next<Record<string, unknown>>();
      if (f.eventType === 5) {
        assert.equal(f.groupId, roomId);
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await s.app.chatrooms.audience.counts(Number(roomId)), { users: 0, guests: 0 });
    assert.equal((await info(roomId)).result, -5000);
    assert.equal((await join(u, roomId, "z")).code, -5000);
    assert.equal((await call(bearer(), "/group/setStatus", { groupId: roomId, type: 0 })).body.result, -5000);
  });

  test("deprecated routes answer: userList, userInfo, muted, report (stored)", async () => {
    const other = (await call<{ groupId: string }>(bearer(), "/group/addGroup", { groupName: "旧接口" })).body.data
      .groupId;
    const c = await socket(hdr(alice));
    await join(c, other);
    const list = await call<{ totalnum: number; userList: Array<{ id: string; userLevel: number }> }>(
      { "FZM-UUID": "x" },
      "/group/userList",
      { groupId: other },
    );
    assert.equal(list.body.data.totalnum, 1);
    assert.deepEqual(
      list.body.data.userList.map((u) => u.id),
      [String(alice.user.id)],
    );
    assert.equal(
      (await call(hdr(alice), "/group/muted", { id: String(bob.user.id), mutedTime: 1000 })).body.result,
      -3000,
    );
    assert.equal(
      (await call(bearer(), "/group/muted", { id: String(bob.user.id), mutedTime: 5000, groupId: other })).body.result,
      0,
    );
    const ui = await call<{ mutedLastTime: number; id: string }>(hdr(alice), "/group/userInfo", {
      id: String(bob.user.id),
    });
    assert.equal(ui.body.data.id, String(bob.user.id));
    assert.equal(ui.body.data.mutedLastTime, 5000);
    assert.equal((await call(hdr(alice), "/group/report", { id: String(bob.user.id), msgId: "42" })).body.result, 0);
    const [report] = await s.app.chatrooms.reports(1);
    assert.deepEqual([report.reporterId, report.targetId, report.logId], [alice.user.id, bob.user.id, "42"]);
    assert.equal((await call(hdr(null), "/group/report", { id: String(bob.user.id), msgId: "42" })).body.result, -1003);
  });
  test("userList / userInfo never show another user's mobile or uid (only to themself and admins); userInfo needs a login", async () => {
    const other = (await call<{ groupId: string }>(bearer(), "/group/addGroup", { groupName: "隐私" })).body.data
      .groupId;
    const c = await socket(hdr(bob));
    await join(c, other);
    type Row = { id: string; account?: string; uid?: string; name: string };
    const listAs = async (h: Record<string, string>) =>
      (await call<{ userList: Row[] }>(h, "/group/userList", { groupId: other })).body.data.userList.find(
        (u) => u.id === String(bob.user.id),
      );
    for (const h of [{ "FZM-UUID": "scraper-1" }, hdr(alice)]) {
      const row = await listAs(h);
      assert.ok(row, "bob is listed");
      assert.equal(row.name, "Bob");
      assert.equal(row.account, undefined);
      assert.equal(row.uid, undefined);
      assert.ok(!JSON.stringify(row).includes(bob.mobile));
    }
    for (const h of [hdr(bob), hdr(admin)]) {
      const row = await listAs(h);
      assert.equal(row?.account, bob.mobile);
      assert.equal(row?.uid, bob.user.uid);
    }
    // a guest may not look users up at all (-1003: no session); users see the public fields only
    const guest = await call({ "FZM-DEVICE": "iOS", "FZM-UUID": "scraper-1" }, "/group/userInfo", {
      id: String(bob.user.id),
    });
    assert.equal(guest.body.result, -1003);
    assert.ok(!JSON.stringify(guest.body).includes(bob.mobile));
    const seen = (await call<Record<string, unknown>>(hdr(alice), "/group/userInfo", { id: String(bob.user.id) })).body;
    assert.equal(seen.result, 0);
    assert.equal(seen.data.name, "Bob");
    assert.equal(seen.data.account, undefined);
    assert.equal(seen.data.uid, undefined);
    assert.ok(!JSON.stringify(seen).includes(bob.mobile));
    for (const w of [bob, admin]) {
      const own = (await call<Record<string, unknown>>(hdr(w), "/group/userInfo", { id: String(bob.user.id) })).body;
      assert.equal(own.data.account, bob.mobile);
      assert.equal(own.data.uid, bob.user.uid);
    }
  });
});
