import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { ChatroomRepo } from "../src/ports/chatrooms.ts";
import type { Storage } from "../src/ports/storage.ts";
import { forEachStorage } from "./helpers/storage.ts";

/** The chat-room storage port (ports/chatrooms.ts, `Storage.chatrooms`) on every backend of the run. */
forEachStorage("chat rooms", (ctx) => {
  let storage: Storage;
  let rooms: ChatroomRepo;
  before(() => {
    storage = ctx.storage;
    rooms = storage.chatrooms;
  });

  test("create, get, update; status changes stamp their times; a deleted room stays deleted", async () => {
    const r = await rooms.create({ name: "BTY交流一号", avatar: "/a.png", description: "d", createdAt: 1000 });
    assert.ok(r.id > 0);
    assert.deepEqual(await rooms.get(r.id), {
      id: r.id,
      name: "BTY交流一号",
      avatar: "/a.png",
      description: "d",
      status: "open",
      createdAt: 1000,
      openedAt: 1000,
      closedAt: 0,
      shardSize: null,
    });
    assert.equal(await rooms.update(r.id, { name: "二号", shardSize: 50 }), true);
    const closed = await rooms.setStatus(r.id, "closed", 2000);
    assert.equal(closed?.status, "closed");
    assert.equal(closed?.closedAt, 2000);
    assert.equal(closed?.name, "二号");
    assert.equal(closed?.shardSize, 50);
    const opened = await rooms.setStatus(r.id, "open", 3000);
    assert.deepEqual([opened?.status, opened?.openedAt, opened?.closedAt], ["open", 3000, 2000]);
    assert.equal((await rooms.setStatus(r.id, "deleted", 4000))?.status, "deleted");
    assert.equal(await rooms.setStatus(r.id, "open", 5000), null, "deleted stays deleted");
    assert.equal(await rooms.update(r.id, { name: "x" }), false);
    assert.equal(await rooms.update(r.id, {}), false);
    assert.equal(await rooms.get(999_999), null);
  });

  test("list filters by status, literal name substring (case-sensitive) and creation time", async () => {
    const a = await rooms.create({ name: "Alpha 100%", avatar: "", description: "", createdAt: 10_000 });
    const b = await rooms.create({ name: "alpha_b", avatar: "", description: "", createdAt: 20_000 });
    const c = await rooms.create({ name: "Gamma", avatar: "", description: "", createdAt: 30_000 });
    await rooms.setStatus(c.id, "closed", 31_000);
    const ids = async (f: Parameters<ChatroomRepo["list"]>[0]) => (await rooms.list(f)).map((r) => r.id);
    const all = { statuses: ["open", "closed"] as const, limit: 100, createdFrom: 10_000 };
    assert.deepEqual(await ids(all), [a.id, b.id, c.id]);
    assert.deepEqual(await ids({ ...all, statuses: ["closed"] }), [c.id]);
    assert.deepEqual(await ids({ ...all, nameContains: "Alpha" }), [a.id], "case-sensitive on both engines");
    assert.deepEqual(await ids({ ...all, nameContains: "%" }), [a.id], "% is literal");
    assert.deepEqual(await ids({ ...all, nameContains: "_" }), [b.id], "_ is literal");
    assert.deepEqual(await ids({ ...all, createdFrom: 15_000, createdTo: 25_000 }), [b.id]);
    assert.deepEqual(await ids({ ...all, limit: 2 }), [a.id, b.id]);
    assert.deepEqual(await ids({ ...all, statuses: [] }), []);
  });

  test("mutes: one row per (room, user), replaced when set again; room-wide mute is user 0", async () => {
    const r = await rooms.create({ name: "m", avatar: "", description: "", createdAt: 1 });
    assert.deepEqual(await rooms.mutesOf(r.id, 7), { room: null, user: null });
    await rooms.setMute({ roomId: r.id, userId: 7, until: 500, at: 100 });
    await rooms.setMute({ roomId: r.id, userId: 7, until: 900, at: 200 });
    await rooms.setMute({ roomId: r.id, userId: 0, until: 800, at: 150 });
    assert.deepEqual(await rooms.mutesOf(r.id, 7), {
      room: { roomId: r.id, userId: 0, until: 800, at: 150 },
      user: { roomId: r.id, userId: 7, until: 900, at: 200 },
    });
    assert.deepEqual(await rooms.userMutes(7), [{ roomId: r.id, userId: 7, until: 900, at: 200 }]);
  });

  test("blacklist and reports", async () => {
    const r = await rooms.create({ name: "b", avatar: "", description: "", createdAt: 1 });
    assert.equal(await rooms.isBlacklisted(r.id, 5), false);
    await rooms.blacklist(r.id, 5, 10);
    await rooms.blacklist(r.id, 5, 11);
    assert.equal(await rooms.isBlacklisted(r.id, 5), true);
    assert.equal(await rooms.isBlacklisted(r.id, 6), false);
    assert.equal(await rooms.unblacklist(r.id, 5), true);
    assert.equal(await rooms.unblacklist(r.id, 5), false);
    const id1 = await rooms.addReport({ roomId: r.id, reporterId: 1, targetId: 2, logId: "9", createdAt: 5 });
    const id2 = await rooms.addReport({ roomId: null, reporterId: 3, targetId: 2, logId: "10", createdAt: 6 });
    assert.deepEqual(await rooms.reports(10), [
      { id: id2, roomId: null, reporterId: 3, targetId: 2, logId: "10", createdAt: 6 },
      { id: id1, roomId: r.id, reporterId: 1, targetId: 2, logId: "9", createdAt: 5 },
    ]);
  });

  test("pruneMessages deletes by seq and by age, in that conversation only", async () => {
    const conv = await storage.messages.ensureConversation({
      kind: "chatroom",
      key: "c:prune",
      userA: null,
      userB: null,
      createdAt: 1,
    });
    const other = await storage.messages.ensureConversation({
      kind: "chatroom",
      key: "c:other",
      userA: null,
      userB: null,
      createdAt: 1,
    });
    const msg = (conversationId: number, i: number, createdAt: number) => ({
      conversationId,
      senderId: 1,
      clientMsgId: `p-${conversationId}-${i}`,
      kind: "text" as const,
      content: { content: String(i) },
      contentJson: JSON.stringify({ content: String(i) }),
      createdAt,
    });
    await storage.messages.appendBatch([1, 2, 3, 4, 5].map((i) => msg(conv.id, i, i === 5 ? 50 : 1000)));
    await storage.messages.appendBatch([msg(other.id, 1, 1)]);
    // seq ≤ 2 go by count, seq 5 by age
    assert.equal(await rooms.pruneMessages(conv.id, 2, 100), 3);
    assert.deepEqual(
      (await storage.messages.since(conv.id, 0, 10)).map((m) => m.seq),
      [3, 4],
    );
    assert.equal((await storage.messages.since(other.id, 0, 10)).length, 1);
  });
});
