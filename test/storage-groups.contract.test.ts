import assert from "node:assert/strict";
import { before, test } from "node:test";
import { Migrator } from "kysely";
import { buildMigrations } from "../src/adapters/sql/migrations.ts";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { AppError } from "../src/core/errors.ts";
import type { NewGroup } from "../src/ports/storage/groups.ts";
import type { Storage } from "../src/ports/storage.ts";
import { forEachStorage } from "./helpers/storage.ts";

const group = (ownerId: number, over: Partial<NewGroup> = {}): NewGroup => ({
  name: "g",
  avatar: "",
  ownerId,
  canAddFriend: true,
  joinPermission: 1,
  capacity: 10,
  muteAll: false,
  createdAt: 1000,
  ...over,
});

const isReason = (reason: string) => (e: unknown) => e instanceof AppError && e.reason === reason;

/** The GroupRepo contract (src/ports/storage/groups.ts), over every storage of this run (forEachStorage). */
forEachStorage("groups", (ctx) => {
  let storage: Storage;
  before(() => {
    storage = ctx.storage;
  });

  test("create assigns id, a markId no uid can equal, its conversation and the first members", async () => {
    const g = await storage.groups.create(group(1), [
      { userId: 1, role: 3 },
      { userId: 2, role: 1 },
      { userId: 2, role: 1 },
    ]);
    assert.ok(g.id > 0);
    assert.match(g.markId, /^0[1-9][0-9]*$/);
    assert.equal((await storage.groups.findByMarkId(g.markId))?.id, g.id);
    const conv = await storage.messages.conversation(g.conversationId);
    assert.equal(conv?.kind, "group");
    assert.equal(conv?.key, `g:${g.id}`);
    const members = await storage.groups.members(g.id);
    assert.deepEqual(
      members.map((m) => [m.userId, m.role]),
      [
        [1, 3],
        [2, 1],
      ],
    );
    assert.equal(await storage.groups.countMembers(g.id), 2);
    const g2 = await storage.groups.create(group(1), [{ userId: 1, role: 3 }]);
    assert.notEqual(g2.markId, g.markId);
    assert.notEqual(g2.conversationId, g.conversationId);
  });

  test("create refuses more initial members than the capacity", async () => {
    await assert.rejects(
      storage.groups.create(group(1, { capacity: 2 }), [
        { userId: 1, role: 3 },
        { userId: 2, role: 1 },
        { userId: 3, role: 1 },
      ]),
      isReason("group_full"),
    );
  });

  test("addMembers skips existing members, is all-or-nothing at capacity, and holds under a race", async () => {
    const g = await storage.groups.create(group(1, { capacity: 4 }), [{ userId: 1, role: 3 }]);
    assert.deepEqual(await storage.groups.addMembers(g.id, [2, 1], 1, 2000), [2]);
    await assert.rejects(storage.groups.addMembers(g.id, [3, 4, 5], 1, 2000), isReason("group_full"));
    assert.equal(await storage.groups.countMembers(g.id), 2);
    // ten concurrent single joins for two free places: exactly two succeed
    const results = await Promise.allSettled(
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((u) => storage.groups.addMembers(g.id, [u], 1, 3000)),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
    assert.equal(await storage.groups.countMembers(g.id), 4);
  });

  test("member settings, removal (never the owner) and groupsOf", async () => {
    const g = await storage.groups.create(group(5), [
      { userId: 5, role: 3 },
      { userId: 6, role: 1 },
    ]);
    assert.equal(
      await storage.groups.updateMember(g.id, 6, { nickname: "six", noDisturbing: true, mutedUntil: 99 }),
      true,
    );
    const m = await storage.groups.member(g.id, 6);
    assert.deepEqual([m?.nickname, m?.noDisturbing, m?.stickyOnTop, m?.mutedUntil], ["six", true, false, 99]);
    assert.equal(await storage.groups.updateMember(g.id, 77, { nickname: "x" }), false);
    assert.equal(await storage.groups.updateAllMembers(g.id, { speakExempt: true }), 2);
    assert.equal((await storage.groups.member(g.id, 5))?.speakExempt, true);
    assert.deepEqual(
      (await storage.groups.groupsOf(6)).map((r) => [r.group.id, r.member.nickname]),
      [[g.id, "six"]],
    );
    assert.deepEqual(await storage.groups.removeMembers(g.id, [5, 6, 7]), [6]);
    assert.equal(await storage.groups.member(g.id, 6), null);
    assert.deepEqual(await storage.groups.groupsOf(6), []);
    assert.deepEqual(
      (await storage.groups.membersAmong(g.id, [5, 6])).map((x) => x.userId),
      [5],
    );
  });

  test("transferOwnership swaps owner and admin in one step; refuses a non-member or a non-owner", async () => {
    const g = await storage.groups.create(group(1), [
      { userId: 1, role: 3 },
      { userId: 2, role: 1 },
    ]);
    assert.equal(await storage.groups.transferOwnership(g.id, 2, 1, 5), false);
    assert.equal(await storage.groups.transferOwnership(g.id, 1, 9, 5), false);
    assert.equal(await storage.groups.transferOwnership(g.id, 1, 2, 5), true);
    assert.equal((await storage.groups.find(g.id))?.ownerId, 2);
    assert.equal((await storage.groups.member(g.id, 2))?.role, 3);
    assert.equal((await storage.groups.member(g.id, 1))?.role, 2);
  });

  test("update patches a live group; dissolve empties it once and refuses waiting applications", async () => {
    const g = await storage.groups.create(group(1), [
      { userId: 1, role: 3 },
      { userId: 2, role: 1 },
    ]);
    const u = await storage.groups.update(g.id, { name: "new", joinPermission: 3, muteAll: true, capacity: 50 }, 7);
    assert.deepEqual([u?.name, u?.joinPermission, u?.muteAll, u?.capacity, u?.updatedAt], ["new", 3, true, 50, 7]);
    const { application: app } = await storage.groups.createApplication({
      groupId: g.id,
      userId: 3,
      inviterId: null,
      reason: "",
      status: 1,
      handledBy: null,
      createdAt: 1,
      updatedAt: 1,
    });
    await storage.groups.blacklist(g.id, 4, 1);
    assert.equal(await storage.groups.dissolve(g.id, 8), true);
    assert.equal(await storage.groups.dissolve(g.id, 9), false);
    assert.equal((await storage.groups.find(g.id))?.dissolvedAt, 8);
    assert.equal(await storage.groups.countMembers(g.id), 0);
    assert.equal(await storage.groups.isBlacklisted(g.id, 4), false);
    assert.equal((await storage.groups.application(app.id))?.status, 2);
    assert.equal(await storage.groups.update(g.id, { name: "x" }, 10), null);
    await assert.rejects(storage.groups.addMembers(g.id, [5], 1, 10), isReason("group_not_found"));
  });

  test("applications: pending lookup, resolve once, listings for managers and applicants, counts", async () => {
    const g = await storage.groups.create(group(20), [
      { userId: 20, role: 3 },
      { userId: 21, role: 2 },
      { userId: 22, role: 1 },
    ]);
    const mk = async (userId: number, inviterId: number | null) =>
      (
        await storage.groups.createApplication({
          groupId: g.id,
          userId,
          inviterId,
          reason: "hi",
          status: 1,
          handledBy: null,
          createdAt: 5,
          updatedAt: 5,
        })
      ).application;
    const a = await mk(30, null);
    const b = await mk(31, 22);
    assert.equal((await storage.groups.pendingApplication(g.id, 30))?.id, a.id);
    assert.equal(await storage.groups.pendingCountFor(20), 2);
    assert.equal(await storage.groups.pendingCountFor(21), 2);
    assert.equal(await storage.groups.pendingCountFor(22), 0);
    assert.deepEqual(
      (await storage.groups.pendingOf(g.id, 10)).map((x) => x.id),
      [b.id, a.id],
    );
    assert.equal(await storage.groups.resolveApplication(a.id, 3, 21, 6), true);
    assert.equal(await storage.groups.resolveApplication(a.id, 2, 20, 7), false);
    const resolved = await storage.groups.application(a.id);
    assert.deepEqual([resolved?.status, resolved?.handledBy, resolved?.updatedAt], [3, 21, 6]);
    assert.equal(await storage.groups.pendingApplication(g.id, 30), null);
    const forOwner = await storage.groups.applicationsFor(20, null, 10);
    assert.deepEqual([forOwner.total, forOwner.list.map((x) => x.id)], [2, [b.id, a.id]]);
    const page = await storage.groups.applicationsFor(20, b.id, 10);
    assert.deepEqual(
      page.list.map((x) => x.id),
      [a.id],
    );
    assert.deepEqual(
      (await storage.groups.applicationsFor(30, null, 10)).list.map((x) => x.id),
      [a.id],
    );
    assert.deepEqual(
      (await storage.groups.applicationsFor(22, null, 10)).list.map((x) => x.id),
      [b.id],
    );
    assert.equal((await storage.groups.applicationsFor(99, null, 10)).total, 0);
  });

  test("blacklist add (idempotent), check, list, remove", async () => {
    const g = await storage.groups.create(group(1), [{ userId: 1, role: 3 }]);
    await storage.groups.blacklist(g.id, 8, 1);
    await storage.groups.blacklist(g.id, 8, 2);
    await storage.groups.blacklist(g.id, 9, 3);
    assert.equal(await storage.groups.isBlacklisted(g.id, 8), true);
    assert.deepEqual(await storage.groups.blacklisted(g.id), [8, 9]);
    assert.equal(await storage.groups.unblacklist(g.id, 8), true);
    assert.equal(await storage.groups.unblacklist(g.id, 8), false);
    assert.equal(await storage.groups.isBlacklisted(g.id, 8), false);
  });

  test("readersOf counts members (not the sender, not ex-members) whose cursor reached the seq", async () => {
    const g = await storage.groups.create(group(1), [
      { userId: 1, role: 3 },
      { userId: 2, role: 1 },
      { userId: 3, role: 1 },
      { userId: 4, role: 1 },
    ]);
    const c = g.conversationId;
    await storage.readCursors.advance(c, 1, 5, 1);
    await storage.readCursors.advance(c, 2, 3, 1);
    await storage.readCursors.advance(c, 3, 2, 1);
    await storage.readCursors.advance(c, 9, 9, 1); // not a member
    assert.deepEqual(await storage.groups.readersOf(g.id, c, 3, 1), [2]);
    assert.deepEqual(await storage.groups.readersOf(g.id, c, 2, 4), [1, 2, 3]);
    await storage.groups.removeMembers(g.id, [2]);
    assert.deepEqual(await storage.groups.readersOf(g.id, c, 2, 4), [1, 3]);
  });
  test("one waiting application per (group, user): concurrent createApplication stores one", async () => {
    const g = await storage.groups.create(group(40), [{ userId: 40, role: 3 }]);
    const app = (userId: number, reason: string) => ({
      groupId: g.id,
      userId,
      inviterId: null,
      reason,
      status: 1 as const,
      handledBy: null,
      createdAt: 5,
      updatedAt: 5,
    });
    const made = await Promise.all(["a", "b", "c", "d"].map((r) => storage.groups.createApplication(app(41, r))));
    assert.equal(made.filter((m) => m.created).length, 1);
    assert.equal(new Set(made.map((m) => m.application.id)).size, 1);
    assert.equal(await storage.groups.pendingCountFor(40), 1);
    assert.equal((await storage.groups.pendingOf(g.id, 10)).length, 1);
    // once answered, the user may apply again
    assert.equal(await storage.groups.resolveApplication(made[0].application.id, 2, 40, 6), true);
    const again = await storage.groups.createApplication(app(41, "e"));
    assert.equal(again.created, true);
    assert.notEqual(again.application.id, made[0].application.id);
  });

  test("addMembers: one transaction that refuses the blacklisted, accepts the joiners' applications and starts their cursors", async () => {
    const g = await storage.groups.create(group(50), [{ userId: 50, role: 3 }]);
    const { application } = await storage.groups.createApplication({
      groupId: g.id,
      userId: 51,
      inviterId: null,
      reason: "",
      status: 1,
      handledBy: null,
      createdAt: 5,
      updatedAt: 5,
    });
    // two messages before anyone joins
    const conv = (await storage.messages.conversation(g.conversationId)) as NonNullable<
      Awaited<ReturnType<typeof storage.messages.conversation>>
    >;
    await storage.messages.appendBatch(
      [1, 2].map((i) => ({
        conversationId: conv.id,
        senderId: 50,
        clientMsgId: `c${i}`,
        kind: "text" as const,
        content: { text: "x" },
        contentJson: '{"text":"x"}',
        createdAt: 10 + i,
      })),
    );
    // a blacklisted user among the invitees: nobody is added, the application still waits
    await storage.groups.blacklist(g.id, 53, 1);
    await assert.rejects(storage.groups.addMembers(g.id, [51, 52, 53], 1, 20, 50), isReason("group_blacklisted"));
    assert.equal(await storage.groups.countMembers(g.id), 1);
    assert.equal((await storage.groups.application(application.id))?.status, 1);
    // without them: both join, 51's application is accepted by 50, both cursors are at seq 2
    assert.deepEqual((await storage.groups.addMembers(g.id, [51, 52], 1, 21, 50)).sort(), [51, 52]);
    const after = await storage.groups.application(application.id);
    assert.deepEqual([after?.status, after?.handledBy], [3, 50]);
    assert.equal(await storage.groups.pendingCountFor(50), 0);
    assert.equal(await storage.readCursors.get(conv.id, 51), 2);
    assert.equal(await storage.readCursors.get(conv.id, 52), 2);
    assert.equal(await storage.readCursors.unreadCount(conv.id, 52), 0);
    // a full group rolls everything back: the application of 54 keeps waiting, no cursor
    await storage.groups.update(g.id, { capacity: 3 }, 22);
    await storage.groups.createApplication({ ...application, userId: 54 });
    await assert.rejects(storage.groups.addMembers(g.id, [54], 1, 23), isReason("group_full"));
    assert.equal((await storage.groups.pendingApplication(g.id, 54))?.status, 1);
    assert.equal(await storage.readCursors.get(conv.id, 54), 0);
  });
});

/** Migration 0012 on a database that already holds duplicate waiting applications. */
forEachStorage(
  "groups migration 0012 (one waiting application)",
  (ctx) => {
    test("older duplicates are refused, a member's waiting ones accepted, the newest kept; then the index holds", async () => {
      const storage = ctx.storage as SqlStorage;
      const all = buildMigrations(ctx.kind);
      const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < "0012"));
      const migrator = new Migrator({
        db: storage.db,
        provider: { getMigrations: async () => before },
        migrationTableName: "parley_migrations",
        migrationLockTableName: "parley_migrations_lock",
      });
      const { error } = await migrator.migrateToLatest();
      assert.equal(error, undefined);
      const g = await storage.groups.create(group(1), [
        { userId: 1, role: 3 },
        { userId: 2, role: 1 },
      ]);
      const row = (userId: number, at: number) => ({
        group_id: g.id,
        user_id: userId,
        inviter_id: null,
        reason: "",
        status: 1,
        handled_by: null,
        created_at: at,
        updated_at: at,
      });
      // user 3: three waiting; user 2 (a member already): two waiting; user 4: one
      await storage.db
        .insertInto("group_applications")
        .values([row(3, 1), row(3, 2), row(3, 3), row(2, 4), row(2, 5), row(4, 6)])
        .execute();
      assert.ok((await storage.migrate()).includes("0012_group_applications_one_waiting"));
      const rows = await storage.db
        .selectFrom("group_applications")
        .select(["user_id", "status", "created_at"])
        .orderBy("id")
        .execute();
      assert.deepEqual(
        rows.map((r) => [Number(r.user_id), Number(r.status), Number(r.created_at)]),
        [
          [3, 2, 1],
          [3, 2, 2],
          [3, 1, 3],
          [2, 3, 4],
          [2, 3, 5],
          [4, 1, 6],
        ],
      );
      await assert.rejects(storage.db.insertInto("group_applications").values(row(3, 7)).execute());
      const again = await storage.groups.createApplication({
        groupId: g.id,
        userId: 4,
        inviterId: null,
        reason: "",
        status: 1,
        handledBy: null,
        createdAt: 8,
        updatedAt: 8,
      });
      assert.deepEqual([again.created, again.application.createdAt], [false, 6]);
    });
  },
  { migrate: false },
);
