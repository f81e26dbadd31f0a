import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { contentOrThrow } from "../src/core/messages/content.ts";
import type { Group } from "../src/ports/storage/groups.ts";
import type { User } from "../src/ports/storage.ts";
import type { Env, Frame, Item, Session } from "./helpers/enterprise-types.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * The enterprise surface's view of groups (seed 001: find_group_msg, socket 1101, my_session 1101
 * entries and the 群助手 11017 count): the same group conversation the chat33 surface serves.
 */

const PASSWORD = "secret-pw1";
let seq = 0;
const msgId = () => `cnbift${Date.now()}${++seq}`;

describe("enterprise surface — groups (find_group_msg, 1101, my_session)", () => {
  let s: TestServer;
  let owner: User;
  let member: User;
  let other: User;
  let outsider: User;
  let group: Group;
  const tokens = new Map<number, string>();
  const clients: TestClient[] = [];

  const call = async <T>(u: User | null, path: string, params: unknown) => {
    const res = await fetch(`${s.base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(u ? { authorization: tokens.get(u.id) as string } : {}) },
      body: JSON.stringify(params),
    });
    return { status: res.status, body: (await res.json()) as Env<T> };
  };
  const socket = async (u: User) => {
    const c = new TestClient(
      `${s.ws}/socket?authorization=${encodeURIComponent(tokens.get(u.id) as string)}&platform=pc`,
    );
    clients.push(c);
    assert.equal((await c.next<Frame>()).code, 1000);
    return c;
  };
  // the shared pipeline, as chat33's /ws channelType 2 uses it
  const say = (u: User, content: string) =>
    s.app.messages.send("group", u, group.id, { clientMsgId: msgId(), content: contentOrThrow("text", { content }) });

  before(async () => {
    s = await startServer({ "groups.onlineNoticeMs": 3_600_000 });
    const mk = (username: string, nickname: string) =>
      s.app.accounts.createUser({
        username,
        password: PASSWORD,
        nickname,
        avatar: `http://img.example/${username}.png`,
      });
    [owner, member, other, outsider] = [
      await mk("go", "群主"),
      await mk("gm", "成员"),
      await mk("gx", "另一个"),
      await mk("gz", "路人"),
    ];
    for (const u of [owner, member, other, outsider])
      tokens.set(u.id, (await s.app.accounts.startSession(u, { device: "pc" })).token);
    group = await s.app.groups.create(owner, { name: "项目群", userIds: [member.id, other.id] });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("a group message reaches members' sockets as code 1101; a kicked member's socket stops at once", async () => {
    const [so, sm, sx] = [await socket(owner), await socket(member), await socket(other)];
    const { view } = await say(member, "你好");
    for (const c of [so, sm, sx]) {
      const f = await c.next<Frame<Item>>();
      assert.deepEqual(f, {
        code: 1101,
        msg: "群聊消息",
        data: {
          senderId: member.id,
          receiverId: group.id,
          content: "你好",
          sendTime: view.datetime,
          state: 0,
          type: 1,
          platform: null,
          name: "成员",
          avatar: "http://img.example/gm.png",
          id: view.clientMsgId,
          seq: view.seq,
        },
      });
    }
    await s.app.groups.kick(owner, group.id, [other.id]);
    await say(owner, "after");
    assert.equal((await so.next<Frame<Item>>()).data.content, "after");
    assert.equal((await sm.next<Frame<Item>>()).data.content, "after");
    assert.equal(await sx.silent(), true);
  });

  test("find_group_msg: members page newest first; state from the reader's cursor; others 404", async () => {
    for (let i = 0; i < 4; i++) await say(owner, `m${i}`);
    const r = await call<{ totalElements: number; totalPages: number; data: Item[] }>(member, "/api/find_group_msg", {
      page: 2,
      groupId: group.id,
      userId: member.id,
      size: 2,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.msg, "操作成功！");
    assert.equal(r.body.data.totalElements, 6);
    assert.equal(r.body.data.totalPages, 3);
    assert.deepEqual(
      r.body.data.data.map((x) => [x.content, x.state]),
      [
        ["m1", 0],
        ["m0", 0],
      ],
    );
    // page 1 opens the conversation: it marks it read
    const first = await call<{ data: Item[] }>(member, "/api/find_group_msg", { page: 1, groupId: group.id, size: 2 });
    assert.deepEqual(
      first.body.data.data.map((x) => [x.content, x.state]),
      [
        ["m3", 2],
        ["m2", 2],
      ],
    );
    const again = await call<{ data: Item[] }>(member, "/api/find_group_msg", { page: 3, groupId: group.id, size: 2 });
    assert.deepEqual(
      again.body.data.data.map((x) => [x.content, x.state]),
      [
        ["after", 2],
        ["你好", 2],
      ],
    );
    for (const u of [outsider, other]) {
      const no = await call(u, "/api/find_group_msg", { page: 1, groupId: group.id, size: 2 });
      assert.deepEqual([no.status, no.body.msg], [404, "群组不存在"]);
    }
    const wrongUser = await call(member, "/api/find_group_msg", {
      page: 1,
      groupId: group.id,
      userId: owner.id,
      size: 2,
    });
    assert.equal(wrongUser.status, 403);
    assert.equal((await call(null, "/api/find_group_msg", { page: 1, groupId: group.id, size: 2 })).status, 401);
  });

  test("cnbi_scan: a member gets a one-time URL; opening it logged in joins (owner's link) or applies (member's link)", async () => {
    const url = async (u: User, targetId: number) => {
      const r = await call<{ url: string }>(u, "/auth/cnbi_scan", { platform: "pc", type: "group", targetId });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.msg, "获取生成二维码地址成功！");
      assert.match(r.body.data.url, /\/auth\/cnbi_scan\/[A-Za-z0-9_-]+\/\{userId\}$/);
      return decodeURIComponent(new URL(r.body.data.url).pathname);
    };
    const open = (u: User, path: string) =>
      call<{ groupId: number; status: string }>(u, path.replace("{userId}", String(u.id)), {});
    // not a member (or no such group): 404; wrong type: 400; no token: 401
    assert.equal((await call(outsider, "/auth/cnbi_scan", { type: "group", targetId: group.id })).status, 404);
    assert.equal((await call(owner, "/auth/cnbi_scan", { type: "user", targetId: group.id })).status, 400);
    assert.equal((await call(null, "/auth/cnbi_scan", { type: "group", targetId: group.id })).status, 401);
    const newcomer = await s.app.accounts.createUser({ username: "gq", password: PASSWORD, nickname: "扫码者" });
    tokens.set(newcomer.id, (await s.app.accounts.startSession(newcomer, { device: "pc" })).token);
    const byOwner = await url(owner, group.id);
    // the {userId} must be the caller's own id
    const wrong = await call(newcomer, byOwner.replace("{userId}", String(owner.id)), {});
    assert.equal(wrong.status, 403);
    const joined = await open(newcomer, byOwner);
    assert.deepEqual([joined.status, joined.body.data], [200, { groupId: group.id, status: "joined" }]);
    assert.equal((await s.app.groups.info(newcomer, group.id)).me.role, 1);
    // single use
    const again = await open(newcomer, byOwner);
    assert.deepEqual([again.status, again.body.msg], [400, "二维码已过期或已使用"]);
    // a plain member's link is an application when the group needs approval
    const applicant = await s.app.accounts.createUser({ username: "gq2", password: PASSWORD, nickname: "申请者" });
    tokens.set(applicant.id, (await s.app.accounts.startSession(applicant, { device: "pc" })).token);
    const byMember = await url(member, group.id);
    const pending = await open(applicant, byMember);
    assert.deepEqual([pending.status, pending.body.data.status, pending.body.msg], [200, "pending", "已申请加入群组"]);
    assert.equal(await s.app.storage.groups.member(group.id, applicant.id), null);
    // the blacklist wins, even over the owner's link
    const barred = await s.app.accounts.createUser({ username: "gq3", password: PASSWORD, nickname: "黑名单" });
    tokens.set(barred.id, (await s.app.accounts.startSession(barred, { device: "pc" })).token);
    await s.app.groups.blacklist(owner, group.id, barred.id);
    const refused = await open(barred, await url(owner, group.id));
    assert.equal(refused.status, 403);
    // back to the state the next test expects
    await s.app.groups.kick(owner, group.id, [newcomer.id]);
    await s.app.groups.approve(owner, group.id, applicant.id, false);
  });

  test("my_session: the group as miniType 1101 (otherName = member names), and 群助手 counts pending applications", async () => {
    await s.app.groups.apply(outsider, group.id, "让我进");
    const res = await fetch(`${s.base}/api/my_session`, { headers: { authorization: tokens.get(owner.id) as string } });
    const list = ((await res.json()) as Env<Session[]>).data;
    assert.deepEqual(
      list.slice(0, 3).map((e) => [e.miniType, e.count]),
      [
        [11016, 0],
        [11017, 1],
        [11021, 0],
      ],
    );
    const g = list.find((e) => e.miniType === 1101);
    assert.ok(g);
    assert.deepEqual(
      [g.receiverId, g.content, g.name, g.otherName, g.count, g.state],
      [group.id, "m3", "群主", "群主,成员", 1, 0], // one unread: 成员's 你好 (own messages never count)
    );
    assert.equal(g.otherAvatar, "http://jiaxin365.cn/images/cloud/msg_icon/mes_list_group_mrtx.png");
    const forMember = await fetch(`${s.base}/api/my_session`, {
      headers: { authorization: tokens.get(member.id) as string },
    });
    const mine = ((await forMember.json()) as Env<Session[]>).data;
    assert.equal(mine[1].count, 0, "plain members do not answer applications");
    const entry = mine.find((e) => e.miniType === 1101);
    assert.deepEqual([entry?.count, entry?.state], [0, 2]);
  });
});
