import assert from "node:assert/strict";
import { test } from "node:test";
import type { MessageKind } from "../src/ports/storage.ts";
import { forEachStorage } from "./helpers/storage.ts";

/**
 * Contract of the storage added for chat33's later clients (migration 0011): burn-after-reading
 * and `ext` on messages, `createdAfter` (event 42), `historyOfKinds` (file/photo history), friend
 * blocks, friend-request rules and the detailed remark. Both backends.
 */
forEachStorage("chat33 compatibility", (ctx) => {
  const msg = (
    conversationId: number,
    senderId: number,
    clientMsgId: string,
    t: number,
    extra: { kind?: MessageKind; snap?: boolean; ext?: { [key: string]: unknown } | null } = {},
  ) => ({
    conversationId,
    senderId,
    clientMsgId,
    kind: extra.kind ?? ("text" as const),
    content: { content: clientMsgId },
    contentJson: JSON.stringify({ content: clientMsgId }),
    createdAt: t,
    snap: extra.snap,
    ext: extra.ext ?? null,
    extJson: extra.ext ? JSON.stringify(extra.ext) : null,
  });

  test("snap and ext are stored and read back; duplicates return them; absent = false / null", async () => {
    const m = ctx.storage.messages;
    const c = await m.ensureConversation({ kind: "direct", key: "d:1:2", userA: 1, userB: 2, createdAt: 1 });
    const ext = { quote: { logId: "7" }, atList: ["2"] };
    const [r1, r2] = await m.appendBatch([msg(c.id, 1, "s", 10, { snap: true, ext }), msg(c.id, 1, "n", 11)]);
    assert.equal(r1.message.snap, true);
    assert.deepEqual(r1.message.ext, ext);
    assert.equal(r2.message.snap, false);
    assert.equal(r2.message.ext, null);
    const back = await m.message(r1.message.id);
    assert.equal(back?.snap, true);
    assert.deepEqual(back?.ext, ext);
    assert.equal((await m.message(r2.message.id))?.snap, false);
    const [dup] = await m.appendBatch([msg(c.id, 1, "s", 12)]);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.message.snap, true);
    assert.deepEqual(dup.message.ext, ext);
  });

  test("createdAfter: several conversations, oldest first, deleted left out, per-conversation lower bounds, limit", async () => {
    const m = ctx.storage.messages;
    const c1 = await m.ensureConversation({ kind: "direct", key: "d:5:6", userA: 5, userB: 6, createdAt: 1 });
    const c2 = await m.ensureConversation({ kind: "group", key: "g:900", userA: null, userB: null, createdAt: 1 });
    const c3 = await m.ensureConversation({ kind: "direct", key: "d:5:7", userA: 5, userB: 7, createdAt: 1 });
    const rows = await m.appendBatch([
      msg(c1.id, 5, "ca-1", 100),
      msg(c2.id, 6, "ca-2", 200),
      msg(c1.id, 6, "ca-3", 300),
      msg(c2.id, 5, "ca-4", 400),
      msg(c3.id, 7, "ca-5", 500),
    ]);
    await m.markDeleted(rows[2].message.id, 350);
    const ids = (list: Array<{ clientMsgId: string }>) => list.map((x) => x.clientMsgId);
    assert.deepEqual(ids(await m.createdAfter([c1.id, c2.id], 100, 10)), ["ca-2", "ca-4"], "after 100, not deleted");
    assert.deepEqual(ids(await m.createdAfter([c1.id, c2.id, c3.id], 0, 10)), ["ca-1", "ca-2", "ca-4", "ca-5"]);
    assert.deepEqual(
      ids(await m.createdAfter([c1.id, c2.id, c3.id], 0, 2)),
      ["ca-1", "ca-2"],
      "the limit keeps the oldest",
    );
    assert.deepEqual(
      ids(await m.createdAfter([c1.id, c2.id], 0, 10, new Map([[c2.id, 300]]))),
      ["ca-1", "ca-4"],
      "a group's messages from the member's join time",
    );
    assert.deepEqual(await m.createdAfter([], 0, 10), []);
  });

  test("historyOfKinds: newest first, only the kinds asked, no deleted or burn-after-reading messages", async () => {
    const m = ctx.storage.messages;
    const c = await m.ensureConversation({ kind: "direct", key: "d:20:21", userA: 20, userB: 21, createdAt: 1 });
    const rows = await m.appendBatch([
      msg(c.id, 20, "h-1", 1, { kind: "file" }),
      msg(c.id, 20, "h-2", 2, { kind: "image" }),
      msg(c.id, 21, "h-3", 3, { kind: "file", snap: true }),
      msg(c.id, 21, "h-4", 4, { kind: "video" }),
      msg(c.id, 20, "h-5", 5, { kind: "file" }),
      msg(c.id, 20, "h-6", 6),
    ]);
    await m.markDeleted(rows[4].message.id, 7);
    const ids = (list: Array<{ clientMsgId: string }>) => list.map((x) => x.clientMsgId);
    assert.deepEqual(ids(await m.historyOfKinds(c.id, ["file"], null, 10)), ["h-1"]);
    assert.deepEqual(ids(await m.historyOfKinds(c.id, ["image", "video"], null, 10)), ["h-4", "h-2"]);
    assert.deepEqual(ids(await m.historyOfKinds(c.id, ["image", "video"], rows[1].message.id, 10)), ["h-2"]);
    assert.deepEqual(ids(await m.historyOfKinds(c.id, ["image", "video"], null, 1)), ["h-4"]);
    assert.deepEqual(await m.historyOfKinds(c.id, [], null, 10), []);
  });

  test("blocks: one direction, idempotent, newest first; unblock lifts", async () => {
    const f = ctx.storage.friends;
    assert.equal(await f.isBlocked(30, 31), false);
    await f.block(30, 31, 100);
    await f.block(30, 31, 150);
    await f.block(30, 32, 200);
    assert.equal(await f.isBlocked(30, 31), true);
    assert.equal(await f.isBlocked(31, 30), false, "one direction");
    assert.deepEqual(await f.blockedBy(30), [
      { blockedId: 32, at: 200 },
      { blockedId: 31, at: 100 },
    ]);
    await f.unblock(30, 31);
    await f.unblock(30, 31);
    assert.equal(await f.isBlocked(30, 31), false);
    assert.deepEqual(await f.blockedBy(30), [{ blockedId: 32, at: 200 }]);
  });

  test("friend rules: defaults, saved and replaced; ext remark on live friendships only", async () => {
    const f = ctx.storage.friends;
    assert.deepEqual(await f.rules(40), { needConfirm: true, needAnswer: false, question: "", answer: "" });
    await f.saveRules(40, { needConfirm: false, needAnswer: true, question: "q?", answer: "a" }, 1);
    assert.deepEqual(await f.rules(40), { needConfirm: false, needAnswer: true, question: "q?", answer: "a" });
    await f.saveRules(40, { needConfirm: true, needAnswer: false, question: "q?", answer: "a" }, 2);
    assert.equal((await f.rules(40)).needConfirm, true);
    assert.equal((await f.rules(41)).needConfirm, true, "per user");
    await f.befriend(40, 41, "", "", 10);
    assert.equal(await f.setExtRemark(40, 41, '{"description":"d"}', 11), true);
    assert.equal((await f.get(40, 41))?.extRemark, '{"description":"d"}');
    assert.equal((await f.get(41, 40))?.extRemark, "", "the other direction is separate");
    await f.unfriend(40, 41, 12);
    assert.equal(await f.setExtRemark(40, 41, "{}", 13), false, "not friends any more");
  });
});
