import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppError } from "../src/core/errors.ts";
import { groupTopic, userTopic } from "../src/core/topics.ts";
import type { User } from "../src/ports/storage.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Review findings M2/M3/L3/L6 (groups): multi-step group writes are atomic, a user has one waiting
 * application per group however many `apply` race, a joiner's own application is answered by the
 * join, and a new member's read cursor starts in the same transaction as the join. Real server on
 * this run's backend (SQLite, or PostgreSQL + Redis with PARLEY_DATABASE_URL / PARLEY_REDIS_URL).
 */

let seq = 0;
const mobile = () => `136${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;

describe("groups: atomic writes, one waiting application, join cursors", () => {
  let s: TestServer;
  const person = (nickname: string): Promise<User> =>
    s.app.accounts.createUser({ mobile: mobile(), password: "atomic-pass-1", nickname });
  /** The applications of `who` to join `groupId`, as `who` sees them. */
  const applicationsOf = async (groupId: number, who: User) =>
    (await s.app.groups.applications(who, null, 100)).list
      .map((x) => x.application)
      .filter((a) => a.groupId === groupId && a.userId === who.id);

  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test("M3: concurrent applications of one user make one waiting application (one count, one approval)", async () => {
    const [owner, a] = [await person("owner"), await person("a")];
    const g = await s.app.groups.create(owner, { name: "race", userIds: [] });
    const answers = await Promise.all(["1", "2", "3", "4"].map((r) => s.app.groups.apply(a, g.id, r)));
    assert.deepEqual(answers, ["pending", "pending", "pending", "pending"]);
    assert.equal(await s.app.groups.pendingCount(owner.id), 1);
    assert.equal((await s.app.groups.pendingApplications(owner, g.id)).list.length, 1);
    await s.app.groups.approve(owner, g.id, a.id, true);
    assert.equal(await s.app.groups.pendingCount(owner.id), 0);
    assert.deepEqual(
      (await applicationsOf(g.id, a)).map((x) => x.status),
      [3],
    );
  });

  test("M3: an applicant invited by an admin joins, and their application is no longer waiting", async () => {
    const [owner, a] = [await person("owner"), await person("a")];
    const g = await s.app.groups.create(owner, { name: "invite", userIds: [] });
    assert.equal(await s.app.groups.apply(a, g.id, "let me in"), "pending");
    assert.equal(await s.app.groups.pendingCount(owner.id), 1);
    assert.deepEqual(await s.app.groups.invite(owner, g.id, [a.id]), { joined: [a.id], pending: [] });
    assert.equal(await s.app.groups.pendingCount(owner.id), 0);
    assert.equal((await s.app.groups.pendingApplications(owner, g.id)).list.length, 0);
    const [app] = await applicationsOf(g.id, a);
    assert.deepEqual([app.status, app.handledBy], [3, null]);
  });
  test("M2: two approvals racing for the last seat: one joins, the other's application still waits (no 'agreed')", async () => {
    const [owner, a, b] = [await person("owner"), await person("a"), await person("b")];
    const g = await s.app.groups.create(owner, { name: "seats", userIds: [] });
    await s.app.groups.setCapacity(owner, g.id, 2);
    assert.equal(await s.app.groups.apply(a, g.id, ""), "pending");
    assert.equal(await s.app.groups.apply(b, g.id, ""), "pending");
    // what each applicant is told, and whether they are a member when they hear "agreed"
    const heard: Array<{ userId: number; status: unknown; memberThen: Promise<boolean> }> = [];
    for (const u of [a, b]) await s.app.hub.subscribe(userTopic(u.id));
    s.app.hub.onMessage((topic, payload) => {
      const p = payload as { type?: string; status?: unknown; groupId?: number };
      if (p.type !== "group.application" || p.groupId !== g.id) return;
      const userId = [a, b].find((u) => userTopic(u.id) === topic)?.id ?? 0;
      heard.push({
        userId,
        status: p.status,
        memberThen: s.app.storage.groups.member(g.id, userId).then((m) => m !== null),
      });
    });
    const results = await Promise.allSettled([
      s.app.groups.approve(owner, g.id, a.id, true),
      s.app.groups.approve(owner, g.id, b.id, true),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    assert.equal((failed.reason as AppError).reason, "group_full");
    const members = (await s.app.storage.groups.members(g.id)).map((m) => m.userId);
    assert.equal(members.length, 2);
    const joined = members.includes(a.id) ? a : b;
    const refused = joined === a ? b : a;
    assert.equal((await s.app.storage.groups.pendingApplication(g.id, refused.id))?.status, 1);
    assert.equal((await s.app.storage.groups.pendingApplication(g.id, joined.id)) ?? null, null);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      heard.filter((h) => h.status === 3).map((h) => h.userId),
      [joined.id],
      "only the one who joined is told 'agreed'",
    );
    // published after the commit: the joiner is a member when the event arrives
    for (const h of heard) assert.equal(await h.memberThen, true);
    // the other one can still be approved once a seat frees
    await s.app.groups.setCapacity(owner, g.id, 3);
    await s.app.groups.approve(owner, g.id, refused.id, true);
    assert.equal(await s.app.groups.pendingCount(owner.id), 0);
    assert.equal((await s.app.storage.groups.members(g.id)).length, 3);
  });

  test("M2: blacklisting a member bars, refuses and removes in one step; setMutedList is whole", async () => {
    const [owner, m, x] = [await person("owner"), await person("m"), await person("x")];
    const g = await s.app.groups.create(owner, { name: "bar", userIds: [m.id] });
    assert.equal(await s.app.groups.apply(x, g.id, ""), "pending");
    await s.app.groups.blacklist(owner, g.id, m.id);
    await s.app.groups.blacklist(owner, g.id, x.id);
    assert.equal(await s.app.storage.groups.member(g.id, m.id), null);
    assert.deepEqual(
      (await s.app.storage.groups.blacklistedAmong(g.id, [m.id, x.id, owner.id])).sort(),
      [m.id, x.id].sort(),
    );
    assert.equal(await s.app.groups.pendingCount(owner.id), 0);
    await assert.rejects(
      s.app.groups.invite(owner, g.id, [m.id]),
      (e: unknown) => (e as AppError).reason === "group_blacklisted",
    );
    // listType 3: only the listed may speak — exemptions and mute-all land together
    const [y, z] = [await person("y"), await person("z")];
    await s.app.groups.invite(owner, g.id, [y.id, z.id]);
    await s.app.groups.setMutedList(owner, g.id, 3, [y.id], 0);
    const after = await s.app.storage.groups.members(g.id);
    assert.equal((await s.app.storage.groups.find(g.id))?.muteAll, true);
    assert.deepEqual(
      after.filter((r) => r.speakExempt).map((r) => r.userId),
      [y.id],
    );
    await s.app.groups.setMutedList(owner, g.id, 1, [], 0);
    assert.equal((await s.app.storage.groups.find(g.id))?.muteAll, false);
    assert.equal((await s.app.storage.groups.members(g.id)).filter((r) => r.speakExempt).length, 0);
  });
  test("M4: joins are O(N) publishes — create with 40 members: 81 event 20s, not 41²; an invite of 20: 40", async () => {
    const owner = await person("owner");
    const users: User[] = [];
    for (let i = 0; i < 40; i++) users.push(await person(`u${i}`));
    const joins: Array<{ topic: string; userId: number }> = [];
    const watched = new Set([owner, ...users].map((u) => userTopic(u.id)));
    for (const t of watched) await s.app.hub.subscribe(t);
    let groupTopicName = "";
    s.app.hub.onMessage((topic, payload) => {
      const p = payload as { type?: string; userId?: number };
      if (p.type === "group.joined" && (watched.has(topic) || topic === groupTopicName))
        joins.push({ topic, userId: Number(p.userId) });
    });
    const g = await s.app.groups.create(owner, { name: "big", userIds: users.slice(0, 40).map((u) => u.id) });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(joins.length, 81);
    // the creator heard of all 41 joins, every other member of its own only
    assert.equal(new Set(joins.filter((j) => j.topic === userTopic(owner.id)).map((j) => j.userId)).size, 41);
    for (const u of users)
      assert.deepEqual(
        joins.filter((j) => j.topic === userTopic(u.id)).map((j) => j.userId),
        [u.id],
      );
    // an invite into the existing group: each join once to the group topic, once to the joiner
    const more: User[] = [];
    for (let i = 0; i < 20; i++) more.push(await person(`v${i}`));
    for (const u of more) {
      watched.add(userTopic(u.id));
      await s.app.hub.subscribe(userTopic(u.id));
    }
    groupTopicName = groupTopic(g.id);
    await s.app.hub.subscribe(groupTopicName);
    joins.length = 0;
    await s.app.groups.setCapacity(owner, g.id, 100);
    const r = await s.app.groups.invite(
      owner,
      g.id,
      more.map((u) => u.id),
    );
    assert.equal(r.joined.length, 20);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(joins.length, 40);
    assert.equal(joins.filter((j) => j.topic === groupTopicName).length, 20);
  });
});

describe("groups: the per-node permission cache expires (M1)", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ "groups.cacheTtlMs": 200 });
  });
  after(() => s.close());

  test("a removal whose invalidation was lost stops granting access after groups.cacheTtlMs", async () => {
    const mk = (n: string) => s.app.accounts.createUser({ mobile: mobile(), password: "atomic-pass-1", nickname: n });
    const [owner, m] = [await mk("owner"), await mk("m")];
    const g = await s.app.groups.create(owner, { name: "ttl", userIds: [m.id] });
    await s.app.groups.history(m, g.id, null, 10); // cached on this node now
    // the change lands in storage without this node hearing of it (a lost groups.changed)
    assert.deepEqual(await s.app.storage.groups.removeMembers(g.id, [m.id]), [m.id]);
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(s.app.groups.history(m, g.id, null, 10), (e: unknown) => (e as AppError).code === "not_found");
    await assert.rejects(s.app.groups.info(m, g.id));
    assert.equal((await s.app.groups.info(owner, g.id)).members.length, 1);
  });
});
