import assert from "node:assert/strict";
import { test } from "node:test";
import type { FriendRequest } from "../src/ports/storage.ts";
import { forEachStorage } from "./helpers/storage.ts";

/** Contract of the friends repository (src/ports/storage/friends.ts). */
forEachStorage("friends", (ctx) => {
  test("befriend creates both directions with their own remarks; get is per direction", async () => {
    const f = ctx.storage.friends;
    assert.equal(await f.get(1, 2), null);
    await f.befriend(1, 2, "bob", "alice", 100);
    assert.deepEqual(await f.get(1, 2), {
      userId: 1,
      friendId: 2,
      remark: "bob",
      noDisturbing: false,
      stickyOnTop: false,
      commonlyUsed: false,
      addedAt: 100,
      deletedAt: null,
      updatedAt: 100,
      extRemark: "",
    });
    assert.equal((await f.get(2, 1))?.remark, "alice");
    assert.equal(await f.get(1, 3), null);
    await f.befriend(1, 4, "dave", "", 101);
    await f.unfriend(1, 4, 102);
    const many = await f.getMany(1, [2, 3, 4, 2]);
    assert.deepEqual([...many.keys()].sort(), [2, 4], "unknown friends absent, ended ones included");
    assert.deepEqual(many.get(2), await f.get(1, 2));
    assert.equal(many.get(4)?.deletedAt, 102);
    assert.deepEqual(await f.getMany(1, []), new Map());
  });

  test("update patches only the given settings of a live friendship, one direction", async () => {
    const f = ctx.storage.friends;
    await f.befriend(10, 11, "", "", 100);
    assert.equal(await f.update(10, 11, { remark: "r", stickyOnTop: true }, 200), true);
    const mine = await f.get(10, 11);
    assert.equal(mine?.remark, "r");
    assert.equal(mine?.stickyOnTop, true);
    assert.equal(mine?.noDisturbing, false, "untouched");
    assert.equal(mine?.updatedAt, 200);
    assert.equal(mine?.addedAt, 100);
    assert.equal((await f.get(11, 10))?.stickyOnTop, false, "the other direction is separate");
    assert.equal(await f.update(10, 11, { noDisturbing: true, commonlyUsed: true }, 201), true);
    const again = await f.get(10, 11);
    assert.deepEqual([again?.remark, again?.noDisturbing, again?.commonlyUsed], ["r", true, true]);
    assert.equal(await f.update(10, 99, { remark: "x" }, 202), false, "no such friendship");
  });

  test("unfriend ends both directions once; an ended friendship is not updated; befriend revives it", async () => {
    const f = ctx.storage.friends;
    await f.befriend(20, 21, "a", "b", 100);
    await f.update(20, 21, { stickyOnTop: true }, 110);
    await f.unfriend(21, 20, 300);
    for (const [u, v] of [
      [20, 21],
      [21, 20],
    ]) {
      const row = await f.get(u, v);
      assert.equal(row?.deletedAt, 300, "ended rows are kept, with deletedAt");
      assert.equal(row?.updatedAt, 300);
    }
    await f.unfriend(20, 21, 400);
    assert.equal((await f.get(20, 21))?.deletedAt, 300, "ending twice keeps the first end");
    assert.equal(await f.update(20, 21, { remark: "x" }, 410), false);
    await f.befriend(20, 21, "again", "back", 500);
    const revived = await f.get(20, 21);
    assert.equal(revived?.deletedAt, null);
    assert.equal(revived?.remark, "again");
    assert.equal(revived?.addedAt, 500);
    assert.equal((await f.get(21, 20))?.remark, "back");
  });

  test("list: live friendships newest first; since gives every change after it, ended ones included", async () => {
    const f = ctx.storage.friends;
    await f.befriend(30, 31, "", "", 100);
    await f.befriend(30, 32, "", "", 200);
    await f.befriend(30, 33, "", "", 300);
    await f.unfriend(30, 31, 400);
    assert.deepEqual(
      (await f.list(30, null)).map((x) => x.friendId),
      [33, 32],
    );
    const changed = await f.list(30, 250);
    assert.deepEqual(changed.map((x) => [x.friendId, x.deletedAt]).sort(), [
      [31, 400],
      [33, null],
    ]);
    assert.deepEqual(await f.list(30, 400), [], "strictly after since");
    assert.deepEqual(await f.list(39, null), []);
  });

  const req = (fromId: number, toId: number, at: number, over: Partial<FriendRequest> = {}) => ({
    fromId,
    toId,
    reason: `hi from ${fromId}`,
    remark: "",
    roomId: null,
    status: 1 as const,
    createdAt: at,
    updatedAt: at,
    ...over,
  });

  test("requests: create, get, newest pending/latest between two users (directional), resolve once", async () => {
    const f = ctx.storage.friends;
    const first = await f.createRequest(req(40, 41, 100, { remark: "r", roomId: "room-1" }));
    assert.ok(first.id > 0);
    assert.deepEqual(await f.request(first.id), {
      ...req(40, 41, 100, { remark: "r", roomId: "room-1" }),
      id: first.id,
    });
    assert.equal(await f.request(999999), null);
    const second = await f.createRequest(req(40, 41, 200));
    assert.equal((await f.pendingBetween(40, 41))?.id, second.id, "the newest waiting one");
    assert.equal(await f.pendingBetween(41, 40), null, "direction matters");
    const racers = await Promise.all([f.resolveRequest(second.id, 3, 300), f.resolveRequest(second.id, 2, 301)]);
    assert.deepEqual(racers.sort(), [false, true], "exactly one answer wins");
    const resolved = await f.request(second.id);
    assert.ok(resolved?.status === 2 || resolved?.status === 3);
    assert.equal(await f.resolveRequest(second.id, 2, 400), false, "handled already");
    assert.equal((await f.pendingBetween(40, 41))?.id, first.id, "the older one still waits");
    await f.resolveRequest(first.id, 2, 500);
    assert.equal(await f.pendingBetween(40, 41), null);
    assert.equal((await f.latestBetween(40, 41))?.id, second.id, "latest whatever the status");
    assert.equal(await f.latestBetween(41, 40), null);
  });

  test("requestsOf pages sent and received requests newest first with the total; pendingCountFor counts received waiting ones", async () => {
    const f = ctx.storage.friends;
    const ids: number[] = [];
    ids.push((await f.createRequest(req(50, 51, 1))).id); // sent by 50
    ids.push((await f.createRequest(req(52, 50, 2))).id); // received by 50
    ids.push((await f.createRequest(req(53, 50, 3))).id); // received by 50
    ids.push((await f.createRequest(req(54, 55, 4))).id); // unrelated
    const all = await f.requestsOf(50, null, 10);
    assert.equal(all.total, 3);
    assert.deepEqual(
      all.list.map((r) => r.id),
      [ids[2], ids[1], ids[0]],
    );
    const page1 = await f.requestsOf(50, null, 2);
    assert.equal(page1.total, 3);
    assert.deepEqual(
      page1.list.map((r) => r.id),
      [ids[2], ids[1]],
    );
    const page2 = await f.requestsOf(50, page1.list[1].id, 2);
    assert.deepEqual(
      page2.list.map((r) => r.id),
      [ids[0]],
    );
    assert.equal(page2.total, 3, "the total counts every request, not the page");
    assert.equal(await f.pendingCountFor(50), 2, "received and waiting only");
    await f.resolveRequest(ids[1], 3, 10);
    assert.equal(await f.pendingCountFor(50), 1);
    assert.equal(await f.pendingCountFor(51), 1);
    assert.equal(await f.pendingCountFor(56), 0);
    assert.deepEqual(await f.requestsOf(56, null, 10), { total: 0, list: [] });
  });
});
