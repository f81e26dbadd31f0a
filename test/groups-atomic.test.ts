import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
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
});
