import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import type { Env, Log, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * chat33 groups (seed 002 群有关接口; chat33 "room" = core Group) over real HTTP and real sockets:
 * every /room/* route's success and documented failures, events 20–24, 3 and 10 to exactly the
 * right users, group messages (channelType 2) with offline catch-up, and the rules of issue 11.
 */

/**
 * A chat33 test socket that sets the online-count notices (event 24, which arrive whenever some
 * member's socket comes or goes) aside, so each test reads the frames it is about; `nextOf(c, 24)`
 * reads those.
 */
class RoomClient extends TestClient {
  readonly online: Array<Record<string, unknown>> = [];
  override async next<T = Record<string, unknown>>(timeoutMs = 3000): Promise<T> {
    for (;;) {
      const v = await super.next<Record<string, unknown>>(timeoutMs);
      if (v.eventType !== 24) return v as T;
      this.online.push(v);
    }
  }
  override async silent(ms = 200): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }
  /** The next event 24 (set aside earlier or still to come). */
  async nextOnline(timeoutMs = 3000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = this.online.shift();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no event 24");
      try {
        const f = await super.next<Record<string, unknown>>(Math.min(left, 50));
        if (f.eventType === 24) return f;
        throw new Error(`unexpected frame ${JSON.stringify(f)}`);
      } catch (e) {
        if (!(e as Error).message.startsWith("no frame")) throw e;
      }
    }
  }
}

const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `136${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

type Who = { user: User; token: string; id: string };
type Member = { id: string; nickname: string; roomNickname: string; avatar: string; memberLevel: number };
type RoomInfo = {
  id: string;
  markId: string;
  name: string;
  avatar: string;
  onlineNumber: number;
  memberNumber: number;
  noDisturbing: number;
  memberLevel: number;
  canAddFriend: number;
  joinPermission: number;
  users: Member[];
};

describe("chat33 surface — groups (/room/*, events 20–24, channelType 2)", () => {
  let s: TestServer;
  const clients: RoomClient[] = [];

  const headers = (w: Who | null) => ({
    "FZM-DEVICE": "iOS",
    ...(w === null ? {} : { "FZM-AUTH-TOKEN": w.token }),
  });
  const call = <T = Record<string, unknown>>(w: Who | null, path: string, body: unknown = {}) =>
    post<Env<T>>(`${s.base}${path}`, body, headers(w));
  const ok = async <T = Record<string, unknown>>(w: Who, path: string, body: unknown = {}) => {
    const r = await call<T>(w, path, body);
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const fails = async (w: Who | null, path: string, body: unknown, result: number) => {
    const r = await call(w, path, body);
    assert.equal(r.status, 200, `${path}: HTTP ${r.status}`);
    assert.equal(r.body.result, result, `${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
    assert.deepEqual(r.body.data, {});
    return r.body.message;
  };

  const person = async (nickname: string): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
    const r = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      headers(null),
    );
    assert.equal(r.body.result, 0, r.body.message);
    return { user, token: r.body.data.token, id: String(user.id) };
  };

  /** A socket whose subscriptions (session, user topic and its groups) are in place. */
  const socket = async (w: Who): Promise<RoomClient> => {
    const c = new RoomClient(`${s.ws}/ws`, { headers: headers(w) });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };

  let seq = 0;
  const sendText = (c: RoomClient, roomId: string, content: string, msgId = `m${++seq}`) => {
    c.ws.send(JSON.stringify({ eventType: 0, msgId, channelType: 2, targetId: roomId, msgType: 1, msg: { content } }));
    return msgId;
  };

  /** Frames until one matches; fails on a timeout. */
  const nextOf = async <T = Record<string, unknown>>(c: RoomClient, eventType: number): Promise<T> => {
    if (eventType === 24) return (await c.nextOnline()) as T;
    for (;;) {
      const f = await c.next<Record<string, unknown>>();
      if (f.eventType === eventType) return f as T;
    }
  };

  /** Reads frames until none came for 150 ms (e.g. read receipts of earlier tests). */
  const drain = async (...socks: RoomClient[]) => {
    for (const x of socks) await x.drain(150);
  };

  const create = async (owner: Who, users: Who[], extra: Record<string, unknown> = {}) =>
    (await ok<{ roomId: string }>(owner, "/room/create", { users: users.map((u) => u.id), ...extra })).roomId;

  before(async () => {
    s = await startServer({
      "chat33.msgRatePerConnection": 1000,
      "chat33.msgRatePerUser": 1000,
      "groups.onlineNoticeMs": 100,
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  describe("create, info, list, events 20", () => {
    let a: Who;
    let b: Who;
    let c: Who;
    let sa: RoomClient;
    let sb: RoomClient;
    let sc: RoomClient;
    let roomId: string;

    before(async () => {
      [a, b, c] = [await person("Ann"), await person("Ben"), await person("Cat")];
      [sa, sb, sc] = [await socket(a), await socket(b), await socket(c)];
    });

    test("/room/create: the creator is owner, users join; the creator gets event 20 for each member, each member its own", async () => {
      roomId = await create(a, [b, c], { roomName: "三人行", roomAvatar: "https://x.test/g.png" });
      assert.match(roomId, /^[1-9][0-9]*$/);
      for (const [sock, expected] of [
        [sa, [a.id, b.id, c.id]],
        [sb, [b.id]],
        [sc, [c.id]],
      ] as const) {
        const joined: string[] = [];
        for (let i = 0; i < expected.length; i++) {
          const e = await sock.next<{ eventType: number; roomId: string; userId: string; datetime: number }>();
          assert.equal(e.eventType, 20);
          assert.equal(e.roomId, roomId);
          assert.equal(typeof e.datetime, "number");
          joined.push(e.userId);
        }
        assert.deepEqual(joined.sort(), [...expected].sort());
      }
    });

    test("/room/info: documented fields, the caller's memberLevel, members owner first; online members counted", async () => {
      const info = await ok<RoomInfo>(b, "/room/info", { roomId });
      assert.equal(info.id, roomId);
      assert.match(info.markId, /^0[0-9]+$/);
      assert.equal(info.name, "三人行");
      assert.equal(info.avatar, "https://x.test/g.png");
      assert.equal(info.memberNumber, 3);
      assert.equal(info.onlineNumber, 3);
      assert.equal(info.memberLevel, 1);
      assert.equal(info.noDisturbing, 2);
      assert.equal(info.canAddFriend, 1);
      assert.equal(info.joinPermission, 1);
      assert.deepEqual(info.users[0], { id: a.id, nickname: "Ann", roomNickname: "", avatar: "", memberLevel: 3 });
      assert.equal((await ok<RoomInfo>(a, "/room/info", { roomId })).memberLevel, 3);
      const outsider = await person("Out");
      await fails(outsider, "/room/info", { roomId }, -3001);
      await fails(outsider, "/room/userList", { roomId }, -3001);
      await fails(a, "/room/info", { roomId: "x" }, -3001);
      await fails(a, "/room/info", { roomId: "999999" }, -3001);
      await fails(a, "/room/info", {}, -1002);
      await fails(null, "/room/info", { roomId }, -1003);
    });

    test("/room/create: unknown users -2001, bad body -1001/-1002; a default name from the members", async () => {
      await fails(a, "/room/create", { users: ["999999"] }, -2001);
      await fails(a, "/room/create", { users: ["x"] }, -2001);
      await fails(a, "/room/create", {}, -1002);
      await fails(a, "/room/create", { users: "b" }, -1001);
      await fails(a, "/room/create", { users: [], roomAvatar: "javascript:alert(1)" }, -1001);
      const solo = await create(a, []);
      assert.equal((await ok<RoomInfo>(a, "/room/info", { roomId: solo })).name, "Ann");
      assert.equal((await nextOf<{ roomId: string }>(sa, 20)).roomId, solo);
    });

    test("/room/list type 1/3 lists the caller's groups; type 2 (常用) none; /room/userList, userInfo, searchMember", async () => {
      const all = await ok<{ roomList: Array<Record<string, unknown>> }>(b, "/room/list", { type: 3 });
      assert.deepEqual(all.roomList, [
        {
          id: roomId,
          markId: all.roomList[0].markId,
          name: "三人行",
          avatar: "https://x.test/g.png",
          noDisturbing: 2,
          commonlyUsed: 1,
          onTop: 2,
        },
      ]);
      assert.deepEqual(await ok(b, "/room/list", { type: 1 }), all);
      assert.deepEqual(await ok(b, "/room/list", { type: 2 }), { roomList: [] });
      await fails(b, "/room/list", { type: 4 }, -1001);
      const list = await ok<{ userList: Member[] }>(c, "/room/userList", { roomId });
      assert.deepEqual(
        list.userList.map((m) => [m.id, m.memberLevel]),
        [
          [a.id, 3],
          [b.id, 1],
          [c.id, 1],
        ],
      );
      await ok(c, "/room/setMemberNickname", { roomId, nickname: "小猫" });
      assert.deepEqual(await ok(a, "/room/userInfo", { roomId, userId: c.id }), {
        id: c.id,
        nickname: "Cat",
        roomNickname: "小猫",
        avatar: "",
        memberLevel: 1,
      });
      await fails(a, "/room/userInfo", { roomId, userId: "999999" }, -1001);
      const found = await ok<{ userList: Member[] }>(a, "/room/searchMember", { roomId, query: "小猫" });
      assert.deepEqual(
        found.userList.map((m) => m.id),
        [c.id],
      );
      assert.deepEqual(
        (await ok<{ userList: Member[] }>(a, "/room/searchMember", { roomId, query: "be" })).userList.map((m) => m.id),
        [b.id],
      );
      assert.deepEqual(await ok(a, "/room/getOnlineNumber", { roomId }), { onlineNumber: 3 });
    });

    test("/room/setNoDisturbing and /room/stickyOnTop are the caller's own", async () => {
      await ok(b, "/room/setNoDisturbing", { roomId, setNoDisturbing: 1 });
      await ok(b, "/room/stickyOnTop", { roomId, stickyOnTop: 1 });
      const forB = (
        await ok<{ roomList: Array<{ noDisturbing: number; onTop: number }> }>(b, "/room/list", { type: 3 })
      ).roomList[0];
      assert.deepEqual([forB.noDisturbing, forB.onTop], [1, 1]);
      const forC = (
        await ok<{ roomList: Array<{ noDisturbing: number; onTop: number }> }>(c, "/room/list", { type: 3 })
      ).roomList[0];
      assert.deepEqual([forC.noDisturbing, forC.onTop], [2, 2]);
      await fails(b, "/room/setNoDisturbing", { roomId, setNoDisturbing: 3 }, -1001);
      await fails(b, "/room/setMemberNickname", { roomId, nickname: "a\u0000b" }, -1001);
    });

    test("/chat33/search finds the group by markId (type 1); a user's uid still finds the user", async () => {
      const info = await ok<RoomInfo>(a, "/room/info", { roomId });
      const outsider = await person("Seeker");
      assert.deepEqual(await ok(outsider, "/chat33/search", { markId: info.markId }), {
        type: 1,
        roomInfo: {
          id: roomId,
          markId: info.markId,
          name: "三人行",
          avatar: "https://x.test/g.png",
          canAddFriend: 1,
          joinPermission: 1,
        },
      });
      assert.equal((await ok<{ type: number }>(outsider, "/chat33/search", { markId: a.user.uid })).type, 2);
      await fails(outsider, "/chat33/search", { markId: "0999999" }, -2001);
    });
  });

  describe("group messages over /ws (channelType 2), history, unread, recall/delete", () => {
    let a: Who;
    let b: Who;
    let c: Who;
    let sa: RoomClient;
    let sb: RoomClient;
    let roomId: string;

    before(async () => {
      [a, b, c] = [await person("Ann2"), await person("Ben2"), await person("Cat2")];
      roomId = await create(a, [b, c]);
      [sa, sb] = [await socket(a), await socket(b)];
    });

    test("a member's message reaches every online member once (the sender's echo included), with logId and datetime", async () => {
      const msgId = sendText(sa, roomId, "大家好");
      const [ea, eb] = [await sa.next<MsgFrame>(), await sb.next<MsgFrame>()];
      assert.deepEqual(ea, eb);
      assert.equal(ea.eventType, 0);
      assert.equal(ea.msgId, msgId);
      assert.equal(ea.channelType, 2);
      assert.equal(ea.fromId, a.id);
      assert.equal(ea.targetId, roomId);
      assert.equal(typeof ea.logId, "string");
      assert.equal(typeof ea.datetime, "number");
      assert.deepEqual(ea.msg, { content: "大家好" });
      assert.deepEqual(ea.senderInfo, { nickname: "Ann2", avatar: "" });
      assert.equal(await sa.silent(), true);
      assert.equal(await sb.silent(), true);
    });

    test("a retry with the same msgId answers only the sender with the original", async () => {
      const msgId = sendText(sb, roomId, "一次");
      const first = await sb.next<MsgFrame>();
      await sa.next();
      sendText(sb, roomId, "一次", msgId);
      assert.deepEqual(await sb.next<MsgFrame>(), first);
      assert.equal(await sa.silent(), true);
    });

    test("non-members get the failure frame -3001; bad targets too; unknown msgType -1005", async () => {
      const out = await person("Out2");
      const so = await socket(out);
      const msgId = sendText(so, roomId, "let me in");
      assert.deepEqual(await so.next(), { eventType: 0, msgId, code: -3001, content: "用户没有加入聊天群权限" });
      const bad = sendText(so, "abc", "x");
      assert.equal((await so.next<{ code: number; msgId: string }>()).code, -3001);
      so.ws.send(JSON.stringify({ eventType: 0, msgId: "t", channelType: 2, targetId: roomId, msgType: 77, msg: {} }));
      assert.equal((await sa.silent(100)) && (await so.next<{ code: number }>()).code, -1005);
      assert.ok(bad);
      assert.equal(await sa.silent(), true);
    });

    test("an offline member catches up: /room/unread counts and /room/chatLog pages without gaps", async () => {
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) {
        sendText(sa, roomId, `n${i}`);
        sent.push((await sa.next<MsgFrame>()).logId);
        await sb.next();
      }
      const unread = await ok<{ infos: Array<{ id: string; number: number; lastLog: Log }> }>(c, "/room/unread");
      assert.equal(unread.infos.length, 1);
      assert.equal(unread.infos[0].id, roomId);
      assert.equal(unread.infos[0].number, 7);
      assert.equal(unread.infos[0].lastLog.logId, sent[4]);
      assert.equal(unread.infos[0].lastLog.channelType, 2);
      const seen: string[] = [];
      let startId = "";
      for (let guard = 0; guard < 10; guard++) {
        const page = await ok<{ logs: Log[]; nextLog: string }>(c, "/room/chatLog", { id: roomId, startId, number: 3 });
        seen.push(...page.logs.map((l) => l.logId));
        if (page.nextLog === "-1") break;
        startId = page.nextLog;
      }
      assert.equal(seen.length, 7);
      assert.deepEqual(seen.slice(0, 5), [...sent].reverse());
      assert.deepEqual(
        [...seen].sort((x, y) => Number(y) - Number(x)),
        seen,
        "newest first",
      );
      const out = await person("Out3");
      await fails(out, "/room/chatLog", { id: roomId, number: 3 }, -3001);
      await fails(c, "/room/chatLog", { id: roomId, number: 0 }, -1001);
      // reading moves the cursor: /chat33/markRead type 1 with the group id
      await ok(c, "/chat33/markRead", { type: 1, id: roomId });
      assert.deepEqual(await ok(c, "/room/unread"), { infos: [] });
    });

    test("/room/readInfo (extension): read and unread counts from the members' cursors; lists for the sender", async () => {
      await drain(sa, sb);
      sendText(sa, roomId, "read me");
      const m = await sa.next<MsgFrame>();
      await sb.next();
      const before = await ok<{ readNumber: number; unreadNumber: number; readList: string[] }>(a, "/room/readInfo", {
        roomId,
        logId: m.logId,
      });
      assert.deepEqual(before, { readNumber: 0, unreadNumber: 2, readList: [], unreadList: [b.id, c.id] });
      await ok(b, "/chat33/markRead", { type: 1, id: roomId, logId: m.logId });
      const receipt = await nextOf<{ roomId: string; logId: string; readNumber: number; unreadNumber: number }>(sa, 60);
      assert.deepEqual(
        [receipt.roomId, receipt.logId, receipt.readNumber, receipt.unreadNumber],
        [roomId, m.logId, 1, 1],
      );
      assert.deepEqual(await ok(c, "/room/readInfo", { roomId, logId: m.logId }), { readNumber: 1, unreadNumber: 1 });
      await fails(c, "/room/readInfo", { roomId, logId: "999999" }, -2023);
    });

    test("recall: own message within the window; the owner deletes anyone's; a member cannot (event 10 to the group)", async () => {
      await drain(sa, sb); // read receipts (event 60) of the tests before
      sendText(sb, roomId, "oops");
      const m = await sb.next<MsgFrame>();
      await sa.next();
      await ok(b, "/chat33/revokeMsg", { logId: m.logId, type: 1 });
      for (const sock of [sa, sb])
        assert.deepEqual(await sock.next(), {
          eventType: 10,
          logType: 1,
          logId: m.logId,
          operateType: 1,
          userName: "Ben2",
        });
      await fails(b, "/chat33/revokeMsg", { logId: m.logId, type: 2 }, -2023);
      sendText(sa, roomId, "owner's");
      const mine = await sa.next<MsgFrame>();
      await sb.next();
      await fails(b, "/chat33/deleteMsg", { logId: mine.logId, type: 1 }, -2023);
      sendText(sb, roomId, "to delete");
      const theirs = await sb.next<MsgFrame>();
      await sa.next();
      await ok(a, "/chat33/deleteMsg", { logId: theirs.logId, type: 1 });
      for (const sock of [sa, sb])
        assert.deepEqual(await sock.next(), {
          eventType: 10,
          logType: 1,
          logId: theirs.logId,
          operateType: 2,
          userName: "Ann2",
        });
      const out = await person("Out4");
      await fails(out, "/chat33/deleteMsg", { logId: mine.logId, type: 1 }, -2023);
    });
  });

  describe("roles, kick, leave, ownership, dissolve (events 21, 22)", () => {
    let o: Who;
    let ad: Who;
    let m1: Who;
    let m2: Who;
    let so: RoomClient;
    let sad: RoomClient;
    let s1: RoomClient;
    let s2: RoomClient;
    let roomId: string;

    before(async () => {
      [o, ad, m1, m2] = [await person("Own"), await person("Adm"), await person("Mem1"), await person("Mem2")];
      roomId = await create(o, [ad, m1, m2]);
      [so, sad, s1, s2] = [await socket(o), await socket(ad), await socket(m1), await socket(m2)];
    });

    test("members lack the role for kick, setLevel, setPermission and delete: -3000", async () => {
      await fails(m1, "/room/kickOut", { roomId, users: [m2.id] }, -3000);
      await fails(m1, "/room/setLevel", { roomId, userId: m2.id, level: 2 }, -3000);
      await fails(m1, "/room/setPermission", { roomId, joinPermission: 2 }, -3000);
      await fails(m1, "/room/delete", { roomId }, -3000);
      await fails(m1, "/room/setName", { roomId, name: "x" }, -3000);
      await fails(m1, "/room/setMutedSingle", { roomId, userId: m2.id, deadline: Date.now() + 60_000 }, -3000);
      await fails(m1, "/room/joinInRoomApplyList", { roomId }, -3000);
    });

    test("setLevel is the owner's: an admin may not appoint; 2 makes an admin", async () => {
      await ok(o, "/room/setLevel", { roomId, userId: ad.id, level: 2 });
      await fails(ad, "/room/setLevel", { roomId, userId: m1.id, level: 2 }, -3000);
      await fails(o, "/room/setLevel", { roomId, userId: o.id, level: 1 }, -2021);
      await fails(o, "/room/setLevel", { roomId, userId: "999999", level: 2 }, -1001);
      await fails(o, "/room/setLevel", { roomId, userId: ad.id, level: 4 }, -1001);
      assert.equal((await ok<RoomInfo>(ad, "/room/info", { roomId })).memberLevel, 2);
      await ok(ad, "/room/setPermission", { roomId, canAddFriend: 2 });
      assert.equal((await ok<RoomInfo>(m1, "/room/info", { roomId })).canAddFriend, 2);
      await ok(ad, "/room/setName", { roomId, name: "新名字" });
      await ok(ad, "/room/setAvatar", { roomId, avatar: "/files/g.png" });
      const info = await ok<RoomInfo>(m1, "/room/info", { roomId });
      assert.deepEqual([info.name, info.avatar], ["新名字", "/files/g.png"]);
      await fails(ad, "/room/setAvatar", { roomId, avatar: "javascript:x" }, -1001);
    });

    test("announcements (later chat33): owner/admins post a system message to all; members list them", async () => {
      await drain(so, sad, s1, s2);
      await ok(ad, "/room/sendSystemMsgs", { roomId, content: "明天开会\n请准时" });
      for (const sock of [so, sad, s1, s2]) {
        const f = await sock.next<MsgFrame>();
        assert.deepEqual([f.eventType, f.msgType, f.fromId, f.msg.content], [0, 0, ad.id, "明天开会\n请准时"]);
      }
      await ok(o, "/room/sendSystemMsgs", { roomId, content: "第二条" });
      for (const sock of [so, sad, s1, s2]) await sock.next();
      await fails(m1, "/room/sendSystemMsgs", { roomId, content: "me too" }, -3000);
      const all = await ok<{
        number: number;
        list: Array<{ id: string; senderName: string; content: string }>;
        nextLog: string;
      }>(m1, "/room/systemMsgs", { roomId, number: 1 });
      assert.equal(all.number, 2);
      assert.deepEqual(
        all.list.map((x) => [x.senderName, x.content]),
        [["Own", "第二条"]],
      );
      const older = await ok<{ list: Array<{ content: string }>; nextLog: string }>(m1, "/room/systemMsgs", {
        roomId,
        startId: all.nextLog,
        number: 5,
      });
      assert.deepEqual([older.list.map((x) => x.content), older.nextLog], [["明天开会\n请准时"], "-1"]);
      const out = await person("Out6");
      await fails(out, "/room/systemMsgs", { roomId }, -3001);
      await fails(out, "/room/sendSystemMsgs", { roomId, content: "x" }, -3001);
      await fails(o, "/room/sendSystemMsgs", { roomId, content: "" }, -1002);
    });

    test("canAddFriend 2 refuses /friend/add with that roomId; a non-member's roomId is -3001", async () => {
      await fails(m1, "/friend/add", { id: m2.id, roomId }, -3000);
      const out = await person("Out5");
      await fails(out, "/friend/add", { id: m2.id, roomId }, -3001);
      await ok(o, "/room/setPermission", { roomId, canAddFriend: 1 });
      await ok(m1, "/friend/add", { id: m2.id, rootId: roomId });
      await nextOf(s1, 31);
      await nextOf(s2, 31);
    });

    test("an admin kicks a member: event 21 type 2 to them and the rest; the kicked socket hears no more", async () => {
      await fails(ad, "/room/kickOut", { roomId, users: [o.id] }, -3000);
      await ok(ad, "/room/kickOut", { rootId: roomId, users: [m2.id] });
      for (const sock of [so, sad, s1, s2]) {
        const e = await sock.next<Record<string, unknown>>();
        assert.deepEqual(
          { ...e, datetime: 0 },
          { eventType: 21, roomId, userId: m2.id, type: 2, content: "Mem2 被移出了群聊", datetime: 0 },
        );
      }
      sendText(s1, roomId, "after the kick");
      await s1.next();
      await so.next();
      await sad.next();
      assert.equal(await s2.silent(), true, "the kicked member receives nothing");
      await fails(m2, "/room/chatLog", { id: roomId, number: 5 }, -3001);
      const msgId = sendText(s2, roomId, "still here?");
      assert.deepEqual(await s2.next(), { eventType: 0, msgId, code: -3001, content: "用户没有加入聊天群权限" });
    });

    test("the owner cannot leave (-3000); a member leaves: event 21 type 1", async () => {
      const msg = await fails(o, "/room/loginOut", { roomId }, -3000);
      assert.match(msg, /群主/);
      await ok(m1, "/room/loginOut", { rootId: roomId });
      for (const sock of [so, sad, s1]) {
        const e = await sock.next<{ eventType: number; userId: string; type: number; content: string }>();
        assert.deepEqual([e.eventType, e.userId, e.type, e.content], [21, m1.id, 1, "Mem1 退出了群聊"]);
      }
      await fails(m1, "/room/loginOut", { roomId }, -3001);
    });

    test("setLevel 3 transfers ownership: the old owner becomes an admin and may then leave", async () => {
      await ok(o, "/room/setLevel", { roomId, userId: ad.id, level: 3 });
      assert.equal((await ok<RoomInfo>(ad, "/room/info", { roomId })).memberLevel, 3);
      assert.equal((await ok<RoomInfo>(o, "/room/info", { roomId })).memberLevel, 2);
      await fails(o, "/room/delete", { roomId }, -3000);
      await fails(o, "/room/kickOut", { roomId, users: [ad.id] }, -3000);
      await ok(o, "/room/loginOut", { roomId });
      await nextOf(sad, 21);
      await nextOf(so, 21);
    });

    test("the owner dissolves: event 22 to every member; afterwards the group is gone (-3001)", async () => {
      await ok(ad, "/room/joinRoomInvite", { roomId, users: [m1.id] });
      await nextOf(sad, 20);
      await nextOf(s1, 20);
      await ok(ad, "/room/delete", { roomId });
      for (const sock of [sad, s1])
        assert.deepEqual({ ...(await nextOf(sock, 22)), datetime: 0 }, { eventType: 22, roomId, datetime: 0 });
      await fails(ad, "/room/info", { roomId }, -3001);
      await fails(ad, "/room/delete", { roomId }, -3001);
      assert.deepEqual(await ok(m1, "/room/list", { type: 3 }), { roomList: [] });
      sendText(s1, roomId, "anyone?");
      assert.equal((await s1.next<{ code: number }>()).code, -3001);
    });
  });

  describe("applications and invitations (event 23), join permissions, blacklist, capacity", () => {
    let o: Who;
    let ad: Who;
    let m: Who;
    let x: Who;
    let y: Who;
    let so: RoomClient;
    let sad: RoomClient;
    let sm: RoomClient;
    let sx: RoomClient;
    let roomId: string;
    type E23 = {
      eventType: number;
      senderInfo: { id: string; name: string };
      receiveInfo: { id: string; name: string };
      id: number;
      type: number;
      applyReason: string;
      status: number;
    };

    before(async () => {
      [o, ad, m, x, y] = [
        await person("O"),
        await person("A"),
        await person("M"),
        await person("X"),
        await person("Y"),
      ];
      roomId = await create(o, [ad, m], { roomName: "审批群" });
      await ok(o, "/room/setLevel", { roomId, userId: ad.id, level: 2 });
      [so, sad, sm, sx] = [await socket(o), await socket(ad), await socket(m), await socket(x)];
    });

    test("an application (approval needed): event 23 to owner, admins and the applicant, never to plain members", async () => {
      await ok(x, "/room/joinRoomApply", { roomId, applyReason: "让我进去" });
      const forO = await so.next<E23>();
      assert.deepEqual(await sad.next(), forO);
      assert.deepEqual(await sx.next(), forO);
      assert.equal(forO.eventType, 23);
      assert.equal(forO.type, 1);
      assert.equal(forO.status, 1);
      assert.equal(forO.applyReason, "让我进去");
      assert.deepEqual([forO.senderInfo.id, forO.senderInfo.name], [x.id, "X"]);
      assert.deepEqual([forO.receiveInfo.id, forO.receiveInfo.name], [roomId, "审批群"]);
      assert.equal(await sm.silent(), true);
      // asking again while it waits changes nothing
      await ok(x, "/room/joinInRoomApply", { roomId });
      assert.equal(await so.silent(), true);
      await fails(m, "/room/joinRoomApply", { roomId }, -1001);
    });

    test("the lists: /room/joinInRoomApplyList for managers, /chat33/applyList for managers and the applicant", async () => {
      const list = await ok<{ applyList: E23[]; totalNumber: number }>(ad, "/room/joinInRoomApplyList", { roomId });
      assert.equal(list.totalNumber, 1);
      assert.deepEqual(
        [list.applyList[0].senderInfo.id, list.applyList[0].status, list.applyList[0].type],
        [x.id, 1, 1],
      );
      const forX = await ok<{ applyList: E23[]; totalNumber: number }>(x, "/chat33/applyList", { id: "", number: 10 });
      assert.deepEqual(
        forX.applyList.map((a) => [a.type, a.receiveInfo.id]),
        [[1, roomId]],
      );
      const forM = await ok<{ totalNumber: number }>(m, "/chat33/applyList", { id: "", number: 10 });
      assert.equal(forM.totalNumber, 0);
    });

    test("approve: event 23 (status 3) to the applicant, then event 20; answering twice is -1001", async () => {
      await ok(ad, "/room/joinInRoomApprove", { roomId, userId: x.id, agree: 1 });
      const answer = await sx.next<E23>();
      assert.deepEqual([answer.eventType, answer.status], [23, 3]);
      assert.equal((await nextOf<{ userId: string }>(so, 20)).userId, x.id, "the owner hears the join");
      assert.equal((await nextOf<{ userId: string }>(sx, 20)).userId, x.id);
      assert.equal((await nextOf<{ userId: string }>(sm, 20)).userId, x.id);
      await nextOf(sad, 20);
      await fails(ad, "/room/joinRoomApprove", { roomId, userId: x.id, agree: 1 }, -1001);
      // the new member receives the group's messages at once, and starts with nothing unread
      assert.deepEqual(await ok(x, "/room/unread"), { infos: [] });
      sendText(sm, roomId, "欢迎");
      assert.equal((await sx.next<MsgFrame>()).msg.content, "欢迎");
      await sm.next();
      await so.next();
      await sad.next();
    });

    test("refuse: event 23 status 2 to the applicant only", async () => {
      await ok(y, "/room/joinRoomApply", { roomId });
      await so.next();
      await sad.next();
      await ok(o, "/room/joinRoomApprove", { roomId, userId: y.id, agree: 2 });
      const sy = await socket(y);
      assert.equal(await sy.silent(), true, "y connected after the answer");
      assert.equal(await so.silent(), true);
      const forY = await ok<{ applyList: E23[] }>(y, "/chat33/applyList", { id: "", number: 10 });
      assert.equal(forY.applyList[0].status, 2);
      await fails(y, "/room/info", { roomId }, -3001);
    });

    test("a plain member's invitation becomes an application; an admin's joins at once (alias paths)", async () => {
      await ok(m, "/room/joinRoomInvite", { roomId, users: [y.id] });
      assert.equal((await so.next<E23>()).senderInfo.id, y.id);
      await sad.next();
      await fails(y, "/room/info", { roomId }, -3001);
      await ok(ad, "/room/inviteJoinInRoomApply", { roomId, users: [y.id] });
      const joined = await nextOf<{ userId: string }>(so, 20);
      assert.equal(joined.userId, y.id);
      assert.equal((await ok<RoomInfo>(y, "/room/info", { roomId })).memberLevel, 1);
      await ok(o, "/room/kickOut", { roomId, users: [y.id] });
      await nextOf(so, 21);
    });

    test("free group: apply joins at once; closed group: apply and members' invitations -3000, the owner's still join", async () => {
      await ok(o, "/room/setPermission", { roomId, joinPermission: 2 });
      await ok(y, "/room/joinRoomApply", { roomId });
      assert.equal((await nextOf<{ userId: string }>(so, 20)).userId, y.id);
      await ok(o, "/room/kickOut", { roomId, users: [y.id] });
      await nextOf(so, 21);
      await ok(o, "/room/setPermission", { roomId, joinPermission: 3 });
      await fails(y, "/room/joinRoomApply", { roomId }, -3000);
      await fails(m, "/room/joinRoomInvite", { roomId, users: [y.id] }, -3000);
      await ok(o, "/room/joinInRoom", { roomId, users: [y.id] });
      assert.equal((await nextOf<{ userId: string }>(so, 20)).userId, y.id);
      await ok(o, "/room/kickOut", { roomId, users: [y.id] });
      await nextOf(so, 21);
      await ok(o, "/room/setPermission", { roomId, joinPermission: 1 });
      await fails(o, "/room/setPermission", { roomId, joinPermission: 4 }, -1001);
    });

    test("the blacklist wins: a blacklisted user cannot apply or be invited, even by the owner", async () => {
      await s.app.groups.blacklist(o.user, Number(roomId), y.user.id);
      await fails(y, "/room/joinRoomApply", { roomId }, -3000);
      await fails(o, "/room/joinRoomInvite", { roomId, users: [y.id] }, -3000);
      await s.app.groups.unblacklist(o.user, Number(roomId), y.user.id);
      await ok(y, "/room/joinRoomApply", { roomId });
      await nextOf(so, 23);
    });

    test("capacity: an invitation past it is refused whole (-3000); the owner may raise it", async () => {
      const z = await person("Z");
      const count = (await ok<RoomInfo>(o, "/room/info", { roomId })).memberNumber;
      await s.app.groups.setCapacity(o.user, Number(roomId), count);
      const msg = await fails(o, "/room/joinRoomInvite", { roomId, users: [z.id] }, -3000);
      assert.match(msg, /已满/);
      await assert.rejects(s.app.groups.setCapacity(o.user, Number(roomId), count - 1));
      await assert.rejects(s.app.groups.setCapacity(ad.user, Number(roomId), count + 1));
      await s.app.groups.setCapacity(o.user, Number(roomId), count + 1);
      await ok(o, "/room/joinRoomInvite", { roomId, users: [z.id] });
      await nextOf(so, 20);
    });
  });

  describe("mutes (event 3), the global mute, online count (event 24)", () => {
    let o: Who;
    let m: Who;
    let n: Who;
    let so: RoomClient;
    let sm: RoomClient;
    let sn: RoomClient;
    let roomId: string;

    before(async () => {
      [o, m, n] = [await person("MO"), await person("MM"), await person("MN")];
      roomId = await create(o, [m, n]);
      [so, sm, sn] = [await socket(o), await socket(m), await socket(n)];
    });

    test("setMutedSingle: event 3 to that member, whose sends get -2007; 0 lifts it; owners cannot be muted", async () => {
      await drain(so, sm, sn);
      const until = Date.now() + 60_000;
      await ok(o, "/room/setMutedSingle", { roomId, userId: m.id, deadline: until });
      const e3 = await sm.next<Record<string, unknown>>();
      assert.equal(e3.eventType, 3);
      assert.equal(e3.roomId, roomId);
      assert.equal(e3.channelType, 2);
      assert.ok((e3.mutedLastTime as number) > 50_000);
      assert.equal(await sn.silent(), true);
      const msgId = sendText(sm, roomId, "muted?");
      assert.deepEqual(await sm.next(), { eventType: 0, msgId, code: -2007, content: "用户被禁言" });
      await ok(o, "/room/setMutedSingle", { roomId, userId: m.id, deadline: 0 });
      assert.equal((await sm.next<{ mutedLastTime: number }>()).mutedLastTime, 0);
      sendText(sm, roomId, "free again");
      assert.equal((await sm.next<MsgFrame>()).eventType, 0);
      await drain(so, sn);
      await fails(o, "/room/setMutedSingle", { roomId, userId: o.id, deadline: until }, -3000);
      await fails(o, "/room/setMutedSingle", { roomId, userId: "999999", deadline: until }, -1001);
    });

    test("setMutedList: 4 mutes everyone but owner/admins (event 3 to all), 3 exempts the listed, 1 lifts all", async () => {
      await ok(o, "/room/setMutedList", { roomId, listType: 4 });
      for (const x of [so, sm, sn]) assert.equal((await x.next<{ eventType: number }>()).eventType, 3);
      let id = sendText(sn, roomId, "x");
      assert.equal((await sn.next<{ code: number }>()).code, -2007);
      sendText(so, roomId, "the owner speaks");
      for (const x of [so, sm, sn]) assert.equal((await x.next<MsgFrame>()).msg.content, "the owner speaks");
      await ok(o, "/room/setMutedList", { roomId, listType: 3, users: [n.id] });
      await drain(so, sm, sn);
      sendText(sn, roomId, "exempt");
      for (const x of [so, sm, sn]) assert.equal((await x.next<MsgFrame>()).msg.content, "exempt");
      id = sendText(sm, roomId, "not exempt");
      assert.deepEqual(await sm.next(), { eventType: 0, msgId: id, code: -2007, content: "用户被禁言" });
      await ok(o, "/room/setMutedList", { roomId, listType: 2, users: [n.id], deadline: Date.now() + 60_000 });
      await drain(sn);
      await ok(o, "/room/setMutedList", { roomId, listType: 1 });
      await drain(so, sm, sn);
      sendText(sn, roomId, "all lifted");
      for (const x of [so, sm, sn]) assert.equal((await x.next<MsgFrame>()).msg.content, "all lifted");
      await fails(o, "/room/setMutedList", { roomId, listType: 2, users: [n.id] }, -1001);
      await fails(o, "/room/setMutedList", { roomId, listType: 5 }, -1001);
      await fails(o, "/room/setMutedList", { roomId, listType: 2, users: [o.id], deadline: Date.now() + 1000 }, -3000);
      await fails(m, "/room/setMutedList", { roomId, listType: 4 }, -3000);
    });

    test("a globally muted user (/user/muted) gets -2007 in groups too", async () => {
      await s.app.accounts.mute(n.user.id, 60_000);
      await drain(sn);
      const id = sendText(sn, roomId, "global");
      assert.deepEqual(await sn.next(), { eventType: 0, msgId: id, code: -2007, content: "用户被禁言" });
      await s.app.accounts.mute(n.user.id, 0);
      await drain(sn);
    });

    test("event 24: a member going offline or online changes the count, coalesced into one notice", async () => {
      await drain(so, sm, sn);
      await new Promise((r) => setTimeout(r, 250)); // notices of the sockets opened earlier are out
      so.online.length = 0;
      sn.close();
      await sn.closed;
      const e = await nextOf<{ roomId: string; number: string }>(so, 24);
      assert.deepEqual([e.roomId, e.number], [roomId, "2"]);
      assert.deepEqual(await ok(o, "/room/getOnlineNumber", { roomId }), { onlineNumber: 2 });
      // two sockets of one user come and go within one window: one notice, the count unchanged
      const x1 = await socket(n);
      const x2 = await socket(n);
      x1.close();
      await x1.closed;
      const e2 = await nextOf<{ number: string }>(so, 24);
      assert.equal(e2.number, "3");
      assert.equal(await so.silent(300), true);
      x2.close();
    });
  });
});
