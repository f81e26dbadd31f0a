import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { contentOrThrow } from "../src/core/messages/content.ts";
import type { User } from "../src/ports/storage/accounts.ts";
import { socketsReady } from "./helpers/ready.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/web-users.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Groups, chat rooms and message moderation of the admin API (docs/admin.md "Conversations"),
 * over real HTTP on the configured storage; the blacklist/gag/close operations come from /im and
 * show up here.
 */

const TOKEN = "test-admin-token";
const PASSWORD = "conv-pass-1";

type Env<T = unknown> = { code: number; msg: string; data: T };
type Reply<T = unknown> = { status: number; body: Env<T> };
interface GroupOut {
  id: number;
  markId: string;
  name: string;
  ownerId: string;
  members: number;
  capacity: number;
  muteAll: boolean;
  dissolvedAt: number | null;
}
interface MemberOut {
  user: { id: string; nickname: string };
  role: number;
  mutedUntil: number;
}
interface RoomOut {
  id: number;
  name: string;
  status: string;
  users: number;
  guests: number;
  shardSize: number;
  ownShardSize: boolean;
}
interface MessageOut {
  logId: string;
  conversationKind: string;
  groupId: number | null;
  participants: string[] | null;
  senderId: string;
  sender: { id: string } | null;
  kind: string;
  content: Record<string, unknown>;
  recalledAt: number | null;
  deletedAt: number | null;
}

let mobiles = 13_700_003_000;

describe("admin API: conversations", () => {
  let s: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let dave: User;
  const clients: TestClient[] = [];

  async function call<T = unknown>(method: "GET" | "POST", path: string, body?: unknown): Promise<Reply<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${s.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Env<T> };
  }
  const get = <T>(path: string) => call<T>("GET", `/admin/api${path}`);
  const post = <T>(path: string, body: unknown) => call<T>("POST", `/admin/api${path}`, body);
  const data = async <T>(r: Promise<Reply<T>>): Promise<T> => {
    const x = await r;
    assert.equal(x.status, 200, JSON.stringify(x.body));
    assert.equal(x.body.code, 0);
    return x.body.data;
  };
  const im = async (query: string) => {
    const res = await fetch(`${s.base}/im${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { code: number; errmsg: string };
    assert.equal(body.code, 0, `${query}: ${JSON.stringify(body)}`);
    return body;
  };
  const person = async (nickname: string) => {
    const mobile = String(++mobiles);
    return s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
  };
  const chat33Socket = async (u: User) => {
    const { token } = await s.app.accounts.startSession(u, { device: "ios" });
    const c = new TestClient(`${s.ws}/ws`, { headers: { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": token } });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return { c, token };
  };

  before(async () => {
    s = await startServer();
    alice = await person("Alice");
    bob = await person("Bob");
    carol = await person("Carol");
    dave = await person("Dave");
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("groups: search, member counts, detail with roles and blacklist, set roles, timed mute, dissolved", async () => {
    const eng = await s.app.groups.create(alice, { name: "Engineering 研发", userIds: [bob.id, carol.id, dave.id] });
    const ops = await s.app.groups.create(bob, { name: "Ops", userIds: [] });

    const all = await data(get<{ total: number; list: GroupOut[] }>("/groups"));
    assert.equal(all.total, 2);
    assert.deepEqual(
      all.list.map((g) => [g.id, g.members]),
      [
        [ops.id, 1],
        [eng.id, 4],
      ],
    );
    const found = await data(get<{ total: number; list: GroupOut[] }>(`/groups?query=${encodeURIComponent("研发")}`));
    assert.deepEqual(
      found.list.map((g) => g.id),
      [eng.id],
    );
    const byMark = await data(get<{ list: GroupOut[] }>(`/groups?query=${ops.markId}`));
    assert.deepEqual(
      byMark.list.map((g) => g.name),
      ["Ops"],
    );
    const paged = await data(get<{ total: number; list: GroupOut[] }>("/groups?page=2&size=1"));
    assert.equal(paged.total, 2);
    assert.equal(paged.list[0]?.id, eng.id);

    // blacklist through /im; the detail shows it, and the member is gone
    await im(`/group/config?action=add&option=blacklist&gid=${eng.id}&uid=${dave.id}`);
    let d = await data(
      get<{ group: GroupOut; members: MemberOut[]; blacklist: Array<{ id: string }> }>(`/groups/detail?id=${eng.id}`),
    );
    assert.equal(d.group.members, 3);
    assert.deepEqual(
      d.members.map((m) => [m.user.id, m.role]),
      [
        [String(alice.id), 3],
        [String(bob.id), 1],
        [String(carol.id), 1],
      ],
    );
    assert.deepEqual(
      d.blacklist.map((u) => u.id),
      [String(dave.id)],
    );

    // roles: bob admin, then carol owner (alice becomes an admin); the owner cannot be demoted
    await data(post("/groups/role", { id: eng.id, userId: bob.id, role: 2 }));
    await data(post("/groups/role", { id: eng.id, userId: carol.id, role: 3 }));
    d = await data(get(`/groups/detail?id=${eng.id}`));
    const roles = new Map(d.members.map((m) => [m.user.id, m.role]));
    assert.equal(roles.get(String(carol.id)), 3);
    assert.equal(roles.get(String(alice.id)), 2);
    assert.equal(roles.get(String(bob.id)), 2);
    assert.equal(d.group.ownerId, String(carol.id));
    assert.equal((await post("/groups/role", { id: eng.id, userId: carol.id, role: 1 })).status, 403);
    assert.equal((await post("/groups/role", { id: eng.id, userId: dave.id, role: 2 })).status, 404);
    assert.equal((await post("/groups/role", { id: eng.id, userId: bob.id, role: 4 })).status, 400);

    // a timed mute of a plain member; admins and owners cannot be muted
    await data(post("/groups/role", { id: eng.id, userId: bob.id, role: 1 }));
    const t0 = Date.now();
    const muted = await data(
      post<{ mutedUntil: number }>("/groups/mute", { id: eng.id, userId: bob.id, durationMs: 600_000 }),
    );
    assert.ok(muted.mutedUntil >= t0 + 600_000);
    d = await data(get(`/groups/detail?id=${eng.id}`));
    assert.equal(d.members.find((m) => m.user.id === String(bob.id))?.mutedUntil, muted.mutedUntil);
    const gagged = await im(`/group/config?action=get&option=gag&gid=${eng.id}`);
    assert.ok(JSON.stringify(gagged).includes(String(bob.id)), "the 003 gag list sees the timed mute");
    await data(post("/groups/mute", { id: eng.id, userId: bob.id, durationMs: 0 }));
    d = await data(get(`/groups/detail?id=${eng.id}`));
    assert.equal(d.members.find((m) => m.user.id === String(bob.id))?.mutedUntil, 0);
    assert.equal((await post("/groups/mute", { id: eng.id, userId: carol.id, durationMs: 1000 })).status, 403);

    // dissolve through /im: gone from the live list, in the dissolved one; detail 404
    await im(`/group/config?action=close&option=group&gid=${ops.id}`);
    const live = await data(get<{ list: GroupOut[] }>("/groups"));
    assert.deepEqual(
      live.list.map((g) => g.id),
      [eng.id],
    );
    const gone = await data(get<{ list: GroupOut[] }>("/groups?dissolved=true"));
    assert.equal(gone.list[0]?.id, ops.id);
    assert.ok(gone.list[0]?.dissolvedAt);
    assert.equal(gone.list[0]?.members, 0);
    assert.equal((await get(`/groups/detail?id=${ops.id}`)).status, 404);

    for (const q of ["?size=0", "?page=0", "?dissolved=maybe", "?bogus=1"])
      assert.equal((await get(`/groups${q}`)).status, 400, q);
    assert.equal((await get("/groups/detail")).status, 400);
  });

  test("chat rooms: create, list, close/open/delete, timed mutes, blacklist and audience in the detail", async () => {
    const room = await data(post<RoomOut>("/rooms", { name: "Lobby 大厅", description: "everyone" }));
    assert.equal(room.status, "open");
    assert.equal(room.users, 0);
    assert.equal(room.ownShardSize, false);
    const other = await data(post<RoomOut>("/rooms", { name: "Quiet" }));

    await s.app.chatrooms.join(room.id, { userId: alice.id });
    await s.app.chatrooms.join(room.id, { guest: "g-1" });
    const listed = await data(get<RoomOut[]>("/rooms"));
    const lobby = listed.find((r) => r.id === room.id);
    assert.equal(lobby?.users, 1);
    assert.equal(lobby?.guests, 1);
    assert.deepEqual(
      (await data(get<RoomOut[]>(`/rooms?query=${encodeURIComponent("大厅")}`))).map((r) => r.id),
      [room.id],
    );

    // a chat33 socket in the room is told about the close
    const { c } = await chat33Socket(bob);
    c.ws.send(JSON.stringify({ eventType: 1, msgId: "join", groupId: String(room.id) }));
    await c.next(); // the join answer
    const closed = await data(post<RoomOut>("/rooms/status", { id: room.id, status: "closed" }));
    assert.equal(closed.status, "closed");
    const notice = await c.next<{ eventType: number }>(10_000);
    assert.equal(notice.eventType, 4, JSON.stringify(notice));
    assert.deepEqual(
      (await data(get<RoomOut[]>("/rooms?status=closed"))).map((r) => r.id),
      [room.id],
    );
    assert.equal((await data(post<RoomOut>("/rooms/status", { id: room.id, status: "open" }))).status, "open");

    // shard size through /im shows here
    await im(`/room/config?action=set&option=cap&rid=${room.id}&cap=50`);
    const withCap = (await data(get<RoomOut[]>("/rooms"))).find((r) => r.id === room.id);
    assert.equal(withCap?.shardSize, 50);
    assert.equal(withCap?.ownShardSize, true);

    // mutes with a duration (one user; the whole room), the blacklist from /im
    const t0 = Date.now();
    await data(post("/rooms/mute", { id: room.id, userId: carol.id, durationMs: 60_000 }));
    await data(post("/rooms/mute", { id: room.id, durationMs: 30_000 }));
    await im(`/room/config?action=add&option=blacklist&rid=${room.id}&uid=${dave.id}`);
    const d = await data(
      get<{
        room: RoomOut;
        audience: { users: Array<{ id: string }>; userCount: number; guestCount: number };
        blacklist: Array<{ id: string }>;
        mutes: Array<{ userId: string; nickname: string; until: number }>;
      }>(`/rooms/detail?id=${room.id}`),
    );
    assert.equal(d.room.id, room.id);
    assert.deepEqual(d.audience.users.map((u) => u.id).sort(), [String(alice.id), String(bob.id)].sort());
    assert.equal(d.audience.userCount, 2);
    assert.equal(d.audience.guestCount, 1);
    assert.deepEqual(
      d.blacklist.map((u) => u.id),
      [String(dave.id)],
    );
    const mutes = new Map(d.mutes.map((m) => [m.userId, m]));
    assert.ok((mutes.get("0")?.until ?? 0) >= t0 + 30_000);
    assert.ok((mutes.get(String(carol.id))?.until ?? 0) >= t0 + 60_000);
    assert.equal(mutes.get(String(carol.id))?.nickname, "Carol");
    await data(post("/rooms/mute", { id: room.id, durationMs: 0 }));
    const lifted = await data(get<{ mutes: Array<{ userId: string }> }>(`/rooms/detail?id=${room.id}&limit=0`));
    assert.deepEqual(
      lifted.mutes.map((m) => m.userId),
      [String(carol.id)],
    );

    // deleted: out of every list, its detail 404, cannot be reopened
    await data(post("/rooms/status", { id: other.id, status: "deleted" }));
    assert.equal(
      (await data(get<RoomOut[]>("/rooms"))).some((r) => r.id === other.id),
      false,
    );
    assert.equal((await get(`/rooms/detail?id=${other.id}`)).status, 404);
    assert.equal((await post("/rooms/status", { id: other.id, status: "open" })).status, 404);

    assert.equal((await post("/rooms", { name: "" })).status, 400);
    assert.equal((await post("/rooms/status", { id: room.id, status: "gone" })).status, 400);
    assert.equal((await post("/rooms/mute", { id: room.id, durationMs: -1 })).status, 400);
    assert.equal((await post("/rooms/mute", { id: room.id, userId: 999999, durationMs: 1 })).status, 404);
    assert.equal((await get("/rooms?status=deleted")).status, 400);
  });

  test("chat rooms: bar a user and take it off the blacklist through /admin/api/rooms/blacklist", async () => {
    // (the list shape comes from the admin detail; adding and removing from /admin/api alone)
    const room = await data(post<RoomOut>("/rooms", { name: "Barred room" }));
    const erin = await person("Erin-bl");
    const { c } = await chat33Socket(erin);
    c.ws.send(JSON.stringify({ eventType: 1, msgId: "join-bl", groupId: String(room.id) }));
    await c.next(); // the join answer
    const detail = async () =>
      data(
        get<{ audience: { users: Array<{ id: string }> }; blacklist: Array<{ id: string; nickname: string }> }>(
          `/rooms/detail?id=${room.id}`,
        ),
      );
    assert.deepEqual(
      (await detail()).audience.users.map((u) => u.id),
      [String(erin.id)],
    );

    const barred = await data(post("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: true }));
    assert.deepEqual(barred, { id: room.id, userId: String(erin.id), blacklisted: true, changed: true });
    const d = await detail();
    assert.deepEqual(
      d.blacklist.map((u) => [u.id, u.nickname]),
      [[String(erin.id), "Erin-bl"]],
    );
    // the socket in the room is told and leaves the audience (the room's event, as on every node)
    const told = await c.next<{ groupId?: string; removed?: boolean }>(10_000);
    assert.deepEqual([told.groupId, told.removed], [String(room.id), true], JSON.stringify(told));
    await until(async () => (await detail()).audience.users.length === 0, "removed from the audience");
    await assert.rejects(s.app.chatrooms.join(room.id, { userId: erin.id }), /removed from the room/);
    // the /im view agrees
    assert.equal((await im(`/room/config?action=del&option=blacklist&rid=${room.id}&uid=${erin.id}`)).code, 0);
    await data(post("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: true }));

    const lifted = await data(post("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: false }));
    assert.deepEqual(lifted, { id: room.id, userId: String(erin.id), blacklisted: false, changed: true });
    assert.deepEqual((await detail()).blacklist, []);
    c.ws.send(JSON.stringify({ eventType: 1, msgId: "rejoin", groupId: String(room.id) }));
    await c.next(); // may come back
    await until(async () => (await detail()).audience.users.length === 1, "back in the audience");
    const again = await data(
      post<{ changed: boolean }>("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: false }),
    );
    assert.equal(again.changed, false, "was not on the blacklist");

    // bad input: the admin envelope's errors
    assert.equal((await post("/rooms/blacklist", { id: room.id, userId: erin.id })).status, 400);
    assert.equal((await post("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: "no" })).status, 400);
    assert.equal((await post("/rooms/blacklist", { id: room.id, userId: 0, blacklisted: false })).status, 400);
    assert.equal(
      (await post("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: false, x: 1 })).status,
      400,
    );
    const noUser = await post("/rooms/blacklist", { id: room.id, userId: 999999, blacklisted: true });
    assert.deepEqual([noUser.status, noUser.body.msg], [404, "user does not exist"]);
    const noRoom = await post("/rooms/blacklist", { id: 999999, userId: erin.id, blacklisted: false });
    assert.deepEqual([noRoom.status, noRoom.body.msg], [404, "chat room does not exist"]);
    await data(post("/rooms/status", { id: room.id, status: "deleted" }));
    assert.equal((await post("/rooms/blacklist", { id: room.id, userId: erin.id, blacklisted: true })).status, 404);
  });

  test("reports from chat33 /group/report with the message; recall and delete it, the conversation is told", async () => {
    const erin = await person("Erin");
    const g = await s.app.groups.create(alice, { name: "Moderated", userIds: [erin.id] });
    const sent = await s.app.messages.send("group", alice, g.id, {
      clientMsgId: "bad-1",
      content: contentOrThrow("text", { content: "something bad" }),
    });
    const logId = String(sent.view.logId);
    const { c } = await chat33Socket(erin);

    // erin reports it through chat33 (the deprecated /group/report)
    const { token } = await s.app.accounts.startSession(erin, { device: "android" });
    const rep = await fetch(`${s.base}/group/report`, {
      method: "POST",
      headers: { "content-type": "application/json", "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": token },
      body: JSON.stringify({ id: String(alice.id), msgId: logId }),
    });
    assert.equal(((await rep.json()) as { result: number }).result, 0);

    const reports = await data(
      get<
        Array<{
          reporter: { id: string };
          target: { id: string };
          logId: string;
          roomId: number | null;
          message: MessageOut | null;
        }>
      >("/rooms/reports?limit=10"),
    );
    const r = reports[0];
    assert.ok(r);
    assert.equal(r.reporter.id, String(erin.id));
    assert.equal(r.target.id, String(alice.id));
    assert.equal(r.logId, logId);
    assert.equal(r.message?.conversationKind, "group");
    assert.equal(r.message?.groupId, g.id);
    assert.equal(r.message?.senderId, String(alice.id));
    assert.deepEqual(r.message?.content, { content: "something bad" });

    const recalled = await data(post<MessageOut>("/messages/recall", { logId }));
    assert.ok(recalled.recalledAt);
    assert.equal(recalled.deletedAt, null);
    const frame = await c.next<{ eventType: number; logId: string; operateType: number; userName: string }>(10_000);
    assert.deepEqual(frame, { eventType: 10, logType: 1, logId, operateType: 1, userName: "管理员" });
    assert.equal((await post("/messages/recall", { logId })).status, 404);

    const deleted = await data(post<MessageOut>("/messages/delete", { logId: Number(logId) }));
    assert.ok(deleted.deletedAt);
    const frame2 = await c.next<{ operateType: number }>(10_000);
    assert.equal(frame2.operateType, 2);
    assert.equal((await post("/messages/delete", { logId })).status, 404);
    const shown = await data(get<MessageOut>(`/messages/detail?logId=${logId}`));
    assert.ok(shown.deletedAt && shown.recalledAt);

    // a direct message: both participants listed
    await s.app.friends.request(alice, bob.id, { reason: "hi" });
    await s.app.friends.respond(bob, alice.id, true);
    const dm = await s.app.messages.sendDirect(alice, bob.id, {
      clientMsgId: "dm-1",
      content: contentOrThrow("text", { content: "direct" }),
    });
    const direct = await data(get<MessageOut>(`/messages/detail?logId=${dm.view.logId}`));
    assert.equal(direct.conversationKind, "direct");
    assert.equal(direct.groupId, null);
    assert.deepEqual(direct.participants?.sort(), [String(alice.id), String(bob.id)].sort());

    assert.equal((await get("/messages/detail?logId=99999999")).status, 404);
    assert.equal((await get("/messages/detail?logId=abc")).status, 400);
    assert.equal((await post("/messages/recall", { logId: "0" })).status, 400);
    assert.equal((await post("/messages/recall", { logId: 99999999 })).status, 404);
    const noToken = await fetch(`${s.base}/admin/api/messages/recall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ logId }),
    });
    assert.equal(noToken.status, 401);
  });
});
