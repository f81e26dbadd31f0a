import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };
type Card = { id: string; name: string; avatar: string; position: string };
type Event31 = {
  eventType: number;
  senderInfo: Card;
  receiveInfo: Card;
  id: number;
  type: number;
  applyReason: string;
  status: number;
  datetime: number;
};
type FriendEntry = {
  addTime: number;
  id: string;
  name: string;
  avatar: string;
  position: string;
  remark: string;
  noDisturbing: number;
  commonlyUsed: number;
  onTop: number;
  isDelete: number;
};
type ApplyList = {
  applyList: Array<Omit<Event31, "eventType">>;
  totalNumber: number;
  nextId: string;
};

const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

describe("chat33 surface — friends (seed 002 好友有关接口, /chat33/applyList, /chat33/search)", () => {
  let s: TestServer;
  const clients: TestClient[] = [];

  type Who = { user: User; token: string };
  const headers = (w: Who | string | null, device = "iOS") => ({
    "FZM-DEVICE": device,
    ...(w === null ? {} : { "FZM-AUTH-TOKEN": typeof w === "string" ? w : w.token }),
  });
  const call = <T = Record<string, unknown>>(w: Who | string | null, path: string, body: unknown = {}) =>
    post<Env<T>>(`${s.base}${path}`, body, headers(w));
  const ok = async <T = Record<string, unknown>>(w: Who, path: string, body: unknown = {}) => {
    const r = await call<T>(w, path, body);
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const fails = async (w: Who | string | null, path: string, body: unknown, result: number) => {
    const r = await call(w, path, body);
    assert.equal(r.body.result, result, `${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
    assert.deepEqual(r.body.data, {});
    return r.body.message;
  };

  const person = async (nickname: string, extra: Record<string, unknown> = {}): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname, ...extra });
    const r = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      headers(null),
    );
    assert.equal(r.body.result, 0, r.body.message);
    return { user, token: r.body.data.token };
  };

  /** A chat33 socket whose subscriptions are in place (the readiness helper waits for them). */
  const socket = async (w: Who): Promise<TestClient> => {
    const c = new TestClient(`${s.ws}/ws`, { headers: headers(w) });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };

  const befriend = async (a: Who, b: Who, remark = "") => {
    await ok(a, "/friend/add", { id: String(b.user.id), remark });
    await ok(b, "/friend/response", { id: String(a.user.id), agree: 1 });
  };

  before(async () => {
    // One test puts two friends in a group (for /friend/add with roomId): its online-count
    // notices (event 24, tested in chat33-rooms.test.ts) would interleave with the frames here.
    s = await startServer({ "groups.onlineNoticeMs": 3_600_000 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  describe("request, answer, event 31", () => {
    let a: Who;
    let b: Who;
    let sa: TestClient;
    let sb: TestClient;
    let room: { id: number };

    before(async () => {
      const acme = await s.app.org.createCompany({ text: "Acme" });
      a = await person("Alice", { position: "产品", companyId: acme.id, sex: 2, avatar: "https://x.test/a.png" });
      b = await person("Bob", { position: "开发", sex: 1 });
      // a group holding both (before the sockets connect, so its event 20 reaches neither)
      room = await s.app.groups.create(a.user, { userIds: [b.user.id] });
      sa = await socket(a);
      sb = await socket(b);
    });

    test("/friend/add: both users' sockets get event 31 (status 1); rootId is stored as the roomId", async () => {
      assert.deepEqual(
        await ok(a, "/friend/add", {
          id: String(b.user.id),
          reason: "我是Alice",
          remark: "老鲍",
          rootId: String(room.id),
        }),
        { state: 2 },
      );
      const [ea, eb] = [await sa.next<Event31>(), await sb.next<Event31>()];
      assert.deepEqual(ea, eb, "one frame for both");
      const pending = await s.app.storage.friends.pendingBetween(a.user.id, b.user.id);
      assert.ok(pending);
      assert.equal(pending.roomId, String(room.id));
      assert.deepEqual(ea, {
        eventType: 31,
        senderInfo: { id: String(a.user.id), name: "Alice", avatar: "https://x.test/a.png", position: "" },
        receiveInfo: { id: String(b.user.id), name: "Bob", avatar: "", position: "" },
        id: pending.id,
        type: 2,
        applyReason: "我是Alice",
        status: 1,
        datetime: pending.updatedAt,
      });
    });

    test("asking again while the request waits changes nothing and pushes nothing", async () => {
      await ok(a, "/friend/add", { id: String(b.user.id), reason: "again" });
      assert.equal(await sb.silent(), true);
      const list = await ok<ApplyList>(b, "/chat33/applyList", { id: "", number: 10 });
      assert.equal(list.totalNumber, 1);
      assert.equal(list.applyList[0].applyReason, "我是Alice");
    });

    test("/friend/requestList shows the other user for both sides", async () => {
      const forB = await ok<Array<Record<string, unknown>>>(b, "/friend/requestList");
      const pending = await s.app.storage.friends.pendingBetween(a.user.id, b.user.id);
      assert.deepEqual(forB, [
        {
          avatar: "https://x.test/a.png",
          id: String(a.user.id),
          reason: "我是Alice",
          sex: 2,
          status: 1,
          time: String(pending?.updatedAt),
          username: "Alice",
          isSender: 2,
        },
      ]);
      const forA = await ok<Array<Record<string, unknown>>>(a, "/friend/requestList");
      assert.equal(forA.length, 1);
      assert.equal(forA[0].id, String(b.user.id));
      assert.equal(forA[0].isSender, 1);
      assert.equal(forA[0].username, "Bob");
    });

    test("/chat33/applyList: senderInfo/receiveInfo, type 2, own position visible to oneself only", async () => {
      const forA = await ok<ApplyList>(a, "/chat33/applyList", { id: "", number: 10 });
      assert.equal(forA.totalNumber, 1);
      assert.equal(forA.nextId, "-1");
      assert.deepEqual(forA.applyList[0].senderInfo, {
        id: String(a.user.id),
        name: "Alice",
        avatar: "https://x.test/a.png",
        position: "产品",
      });
      assert.equal(forA.applyList[0].receiveInfo.position, "", "Bob is no colleague of Alice");
      assert.equal(forA.applyList[0].type, 2);
      assert.equal(forA.applyList[0].status, 1);
      const forB = await ok<ApplyList>(b, "/chat33/applyList", { id: "", number: 10 });
      assert.equal(forB.applyList[0].senderInfo.position, "");
      assert.equal(forB.applyList[0].receiveInfo.position, "开发");
    });

    test("/friend/response agree: event 31 status 3 on both sockets, then they are friends", async () => {
      await ok(b, "/friend/response", { id: String(a.user.id), agree: 1 });
      const [ea, eb] = [await sa.next<Event31>(), await sb.next<Event31>()];
      assert.deepEqual(ea, eb);
      assert.equal(ea.status, 3);
      assert.equal(ea.senderInfo.id, String(a.user.id));
      assert.equal(ea.receiveInfo.id, String(b.user.id));
      // then the later server's notice in the conversation, from the accepter, to both
      const [na, nb] = [
        await sa.next<{ eventType: number; msgType: number; fromId: string; msg: Record<string, unknown> }>(),
        await sb.next<{ eventType: number; msgType: number; fromId: string; msg: Record<string, unknown> }>(),
      ];
      assert.deepEqual(na, nb);
      assert.equal(na.eventType, 0);
      assert.equal(na.msgType, 6);
      assert.equal(na.fromId, String(b.user.id));
      assert.equal(na.msg.type, 13);
      assert.equal(na.msg.content, "你们已经成为好友了");
      assert.equal(await s.app.friends.areFriends(a.user.id, b.user.id), true);
      const info = await ok<{ isFriend: number; remark: string }>(a, "/user/userInfo", { id: String(b.user.id) });
      assert.equal(info.isFriend, 1);
      assert.equal(info.remark, "老鲍", "the remark given with the request");
    });

    test("answering again is -2019; adding a friend again is -2017", async () => {
      await fails(b, "/friend/response", { id: String(a.user.id), agree: 1 }, -2019);
      await fails(b, "/friend/response", { id: String(a.user.id), agree: 2 }, -2019);
      assert.equal(await fails(a, "/friend/add", { id: String(b.user.id) }, -2017), "已经是好友关系");
      await fails(b, "/friend/add", { id: String(a.user.id) }, -2017);
    });

    test("/friend/list type 3 shows the friend with the viewer's settings", async () => {
      const { userList } = await ok<{ userList: FriendEntry[] }>(a, "/friend/list", { type: 3 });
      const since = (await s.app.friends.friendship(a.user.id, b.user.id))?.addedAt;
      assert.deepEqual(userList, [
        {
          addTime: since,
          id: String(b.user.id),
          name: "Bob",
          avatar: "",
          position: "",
          remark: "老鲍",
          noDisturbing: 2,
          commonlyUsed: 1,
          onTop: 2,
          isDelete: 1,
          isBlocked: 2,
          uid: b.user.uid,
        },
      ]);
    });

    test("refusing: event 31 status 2 to both; the refused side may ask again", async () => {
      const c = await person("Carol");
      const sc = await socket(c);
      await ok(c, "/friend/add", { id: String(a.user.id), reason: "hi" });
      assert.equal((await sa.next<Event31>()).status, 1);
      assert.equal((await sc.next<Event31>()).status, 1);
      await ok(a, "/friend/response", { id: String(c.user.id), agree: 2 });
      const [ea, ec] = [await sa.next<Event31>(), await sc.next<Event31>()];
      assert.deepEqual(ea, ec);
      assert.equal(ea.status, 2);
      assert.equal(await s.app.friends.areFriends(a.user.id, c.user.id), false);
      await fails(a, "/friend/response", { id: String(c.user.id), agree: 1 }, -2019);
      await ok(c, "/friend/add", { id: String(a.user.id), reason: "please" });
      assert.equal((await sa.next<Event31>()).applyReason, "please");
      await sc.next();
    });

    test("a request the other way round while one waits makes them friends at once", async () => {
      const d = await person("Dave");
      const e = await person("Eve");
      await ok(d, "/friend/add", { id: String(e.user.id) });
      await ok(e, "/friend/add", { id: String(d.user.id) });
      assert.equal(await s.app.friends.areFriends(d.user.id, e.user.id), true);
    });
  });

  describe("errors of the request routes", () => {
    let a: Who;
    let b: Who;
    before(async () => {
      a = await person("Ann");
      b = await person("Ben");
    });

    test("/friend/add: self -2021, unknown or malformed id -2001, disabled user -2001", async () => {
      assert.equal(await fails(a, "/friend/add", { id: String(a.user.id) }, -2021), "不能对自己进行操作");
      assert.equal(await fails(a, "/friend/add", { id: "999999" }, -2001), "用户不存在");
      await fails(a, "/friend/add", { id: "abc" }, -2001);
      const off = await person("Off");
      await s.app.accounts.adminUpdate(off.user.id, { disabled: true });
      await fails(a, "/friend/add", { id: String(off.user.id) }, -2001);
    });

    test("/friend/add: field checks -1002 / -1001", async () => {
      await fails(a, "/friend/add", {}, -1002);
      await fails(a, "/friend/add", { id: "" }, -1002);
      await fails(a, "/friend/add", { id: b.user.id }, -1001);
      await fails(a, "/friend/add", { id: String(b.user.id), reason: "x".repeat(257) }, -1001);
      await fails(a, "/friend/add", { id: String(b.user.id), remark: "a\u0000b" }, -1001);
      assert.equal(await s.app.storage.friends.pendingBetween(a.user.id, b.user.id), null, "nothing written");
    });

    test("/friend/response: no request -2020, self -2021, bad agree -1001, unknown user -2001", async () => {
      assert.equal(await fails(b, "/friend/response", { id: String(a.user.id), agree: 1 }, -2020), "好友请求不存在");
      await fails(b, "/friend/response", { id: String(b.user.id), agree: 1 }, -2021);
      await fails(b, "/friend/response", { id: String(a.user.id), agree: 3 }, -1001);
      await fails(b, "/friend/response", { id: String(a.user.id), agree: "1" }, -1001);
      await fails(b, "/friend/response", { id: String(a.user.id) }, -1002);
      await fails(b, "/friend/response", { id: "424242", agree: 1 }, -2001);
    });

    test("the answerer must be the receiver: the sender answering its own request is -2020", async () => {
      await ok(a, "/friend/add", { id: String(b.user.id) });
      await fails(a, "/friend/response", { id: String(b.user.id), agree: 1 }, -2020);
      await ok(b, "/friend/response", { id: String(a.user.id), agree: 2 });
    });

    test("every friend route needs a session: -1003 without a token, -1004 with a bad one, -1006 device", async () => {
      const routes: Array<[string, unknown]> = [
        ["/friend/add", { id: "1" }],
        ["/friend/response", { id: "1", agree: 1 }],
        ["/friend/requestList", {}],
        ["/friend/list", { type: 3 }],
        ["/friend/delete", { id: "1" }],
        ["/friend/setRemark", { id: "1", remark: "x" }],
        ["/friend/setNoDisturbing", { id: "1", setNoDisturbing: 1 }],
        ["/friend/setDND", { id: "1", setNoDisturbing: 1 }],
        ["/friend/stickyOnTop", { id: "1", stickyOnTop: 1 }],
        ["/friend/chatLog", { id: "1", number: 1 }],
        ["/friend/unread", {}],
        ["/chat33/applyList", { id: "", number: 1 }],
        ["/chat33/search", { markId: "1" }],
        ["/chat33/deleteMsg", { logId: "1", type: 2 }],
        ["/chat33/revokeMsg", { logId: "1", type: 2 }],
        ["/chat33/markRead", { type: 2, id: "1" }],
      ];
      for (const [path, body] of routes) {
        await fails(null, path, body, -1003);
        await fails("not-a-token", path, body, -1004);
        const r = await post<Env>(`${s.base}${path}`, body, { "FZM-AUTH-TOKEN": a.token, "FZM-DEVICE": "Fridge" });
        assert.equal(r.body.result, -1006, path);
      }
    });

    test("GET on a friend route is 405", async () => {
      const res = await fetch(`${s.base}/friend/list`);
      assert.equal(res.status, 405);
    });
  });

  describe("friend settings, list, delete", () => {
    let a: Who;
    let b: Who;
    let c: Who;
    let stranger: Who;
    before(async () => {
      a = await person("Amy");
      b = await person("Bill");
      c = await person("Cid");
      stranger = await person("Stranger");
      await befriend(a, b, "比尔");
      await befriend(a, c);
    });
    const entry = async (w: Who, id: number, type = 3) =>
      (await ok<{ userList: FriendEntry[] }>(w, "/friend/list", { type })).userList.find((f) => f.id === String(id));

    test("setRemark / setNoDisturbing / setDND / stickyOnTop change only the viewer's side", async () => {
      await ok(a, "/friend/setRemark", { id: String(b.user.id), remark: "  小比  " });
      await ok(a, "/friend/setNoDisturbing", { id: String(b.user.id), setNoDisturbing: 1 });
      await ok(a, "/friend/stickyOnTop", { id: String(b.user.id), stickyOnTop: 1 });
      let e = await entry(a, b.user.id);
      assert.equal(e?.remark, "小比");
      assert.equal(e?.noDisturbing, 1);
      assert.equal(e?.onTop, 1);
      const other = await entry(b, a.user.id);
      assert.deepEqual([other?.remark, other?.noDisturbing, other?.onTop], ["", 2, 2]);
      await ok(a, "/friend/setDND", { id: String(b.user.id), setNoDisturbing: 2 });
      await ok(a, "/friend/stickyOnTop", { id: String(b.user.id), stickyOnTop: 2 });
      await ok(a, "/friend/setRemark", { id: String(b.user.id), remark: "" });
      e = await entry(a, b.user.id);
      assert.deepEqual([e?.remark, e?.noDisturbing, e?.onTop], ["", 2, 2]);
    });

    test("/friend/list type 1 普通 and 2 常用 filter on commonlyUsed (set with /friend/setCommonlyUsed)", async () => {
      await ok(a, "/friend/setCommonlyUsed", { id: String(c.user.id), commonlyUsed: 2 });
      const ids = async (type: number) =>
        (await ok<{ userList: FriendEntry[] }>(a, "/friend/list", { type })).userList.map((f) => f.id).sort();
      assert.deepEqual(await ids(2), [String(c.user.id)]);
      assert.deepEqual(await ids(1), [String(b.user.id)]);
      assert.deepEqual(await ids(3), [String(b.user.id), String(c.user.id)].sort());
      assert.equal((await entry(a, c.user.id))?.commonlyUsed, 2);
      await fails(a, "/friend/list", { type: 4 }, -1001);
      await fails(a, "/friend/list", {}, -1002);
      await fails(a, "/friend/list", { type: 3, time: "1" }, -1001);
    });

    test("settings errors: not friends -2018, self -2021, unknown -2001, bad values -1001", async () => {
      await fails(a, "/friend/setRemark", { id: String(stranger.user.id), remark: "x" }, -2018);
      await fails(a, "/friend/setNoDisturbing", { id: String(stranger.user.id), setNoDisturbing: 1 }, -2018);
      await fails(a, "/friend/stickyOnTop", { id: String(stranger.user.id), stickyOnTop: 1 }, -2018);
      await fails(a, "/friend/setRemark", { id: String(a.user.id), remark: "me" }, -2021);
      await fails(a, "/friend/setRemark", { id: "777777", remark: "x" }, -2001);
      await fails(a, "/friend/setRemark", { id: String(b.user.id), remark: "x".repeat(65) }, -1001);
      await fails(a, "/friend/setRemark", { id: String(b.user.id), remark: "\u202e" }, -1001);
      await fails(a, "/friend/setRemark", { id: String(b.user.id) }, -1002);
      await fails(a, "/friend/setNoDisturbing", { id: String(b.user.id), setNoDisturbing: 0 }, -1001);
      await fails(a, "/friend/stickyOnTop", { id: String(b.user.id), stickyOnTop: true }, -1001);
    });

    test("/friend/delete ends both sides; `time` lists the change with isDelete 2", async () => {
      const t = Date.now() - 1;
      await ok(c, "/friend/delete", { id: String(a.user.id) });
      assert.equal(await s.app.friends.areFriends(a.user.id, c.user.id), false);
      assert.equal(await entry(a, c.user.id), undefined, "not in the full list any more");
      const changed = await ok<{ userList: FriendEntry[] }>(a, "/friend/list", { type: 3, time: t });
      const gone = changed.userList.find((f) => f.id === String(c.user.id));
      assert.equal(gone?.isDelete, 2);
      assert.equal(
        changed.userList.some((f) => f.id === String(b.user.id)),
        false,
        "unchanged friends are not in an incremental answer",
      );
      const info = await ok<{ isFriend: number }>(a, "/user/userInfo", { id: String(c.user.id) });
      assert.equal(info.isFriend, 2);
    });

    test("/friend/delete errors: not friends -2018, self -2021, unknown -2001", async () => {
      await fails(a, "/friend/delete", { id: String(c.user.id) }, -2018);
      await fails(a, "/friend/delete", { id: String(a.user.id) }, -2021);
      await fails(a, "/friend/delete", { id: "888888" }, -2001);
      await fails(a, "/friend/delete", {}, -1002);
    });

    test("after a delete they may become friends again", async () => {
      await befriend(c, a);
      assert.equal((await entry(a, c.user.id))?.isDelete, 1);
    });
  });

  describe("/chat33/applyList paging and /chat33/search", () => {
    let hub: Who;
    const others: Who[] = [];
    before(async () => {
      hub = await person("Hub");
      for (let i = 0; i < 5; i++) {
        const o = await person(`P${i}`);
        others.push(o);
        await ok(o, "/friend/add", { id: String(hub.user.id), reason: `r${i}` });
      }
    });

    test("pages newest first: `id` is inclusive, nextId is the next older record, -1 at the end", async () => {
      const seen: string[] = [];
      let id = "";
      for (let guard = 0; guard < 10; guard++) {
        const page = await ok<ApplyList>(hub, "/chat33/applyList", { id, number: 2 });
        assert.equal(page.totalNumber, 5);
        seen.push(...page.applyList.map((x) => x.applyReason));
        if (page.nextId === "-1") break;
        assert.equal(
          page.applyList.some((x) => String(x.id) === page.nextId),
          false,
          "nextId is not on this page",
        );
        id = page.nextId;
      }
      assert.deepEqual(seen, ["r4", "r3", "r2", "r1", "r0"]);
      const past = await ok<ApplyList>(hub, "/chat33/applyList", { id: "-1", number: 2 });
      assert.deepEqual(past, { applyList: [], totalNumber: 5, nextId: "-1" });
      await fails(hub, "/chat33/applyList", { id: "x", number: 2 }, -1001);
      await fails(hub, "/chat33/applyList", { id: "", number: 0 }, -1001);
      await fails(hub, "/chat33/applyList", { id: "", number: 101 }, -1001);
      await fails(hub, "/chat33/applyList", { number: 2 }, -1002);
    });

    test("an outsider sees none of these requests", async () => {
      const outsider = await person("Out");
      const page = await ok<ApplyList>(outsider, "/chat33/applyList", { id: "", number: 10 });
      assert.deepEqual(page, { applyList: [], totalNumber: 0, nextId: "-1" });
      assert.deepEqual(await ok(outsider, "/friend/requestList"), []);
    });

    test("/chat33/search by markId (uid): type 2 with the viewer's remark; unknown -2001", async () => {
      const [p0] = others;
      await ok(hub, "/friend/response", { id: String(p0.user.id), agree: 1 });
      await ok(hub, "/friend/setRemark", { id: String(p0.user.id), remark: "零号" });
      assert.deepEqual(await ok(hub, "/chat33/search", { markId: p0.user.uid }), {
        type: 2,
        userInfo: { id: String(p0.user.id), name: "P0", avatar: "", position: "", remark: "零号" },
      });
      const forP1 = await ok<{ userInfo: { remark: string } }>(others[1], "/chat33/search", { markId: p0.user.uid });
      assert.equal(forP1.userInfo.remark, "");
      await fails(hub, "/chat33/search", { markId: "no-such-uid" }, -2001);
      await fails(hub, "/chat33/search", { markId: "" }, -1002);
    });

    test("/chat33/search shows the position to colleagues only", async () => {
      const co = await s.app.org.createCompany({ text: "Co" });
      const x = await person("X", { companyId: co.id, position: "CEO" });
      const y = await person("Y", { companyId: co.id });
      assert.equal(
        (await ok<{ userInfo: Card }>(y, "/chat33/search", { markId: x.user.uid })).userInfo.position,
        "CEO",
      );
      assert.equal((await ok<{ userInfo: Card }>(hub, "/chat33/search", { markId: x.user.uid })).userInfo.position, "");
    });
  });
});
