import assert from "node:assert/strict";
import { test } from "node:test";
import { forEachStorage } from "./helpers/storage.ts";

/** Contract of the read state repository (src/ports/storage/read-cursors.ts). */
forEachStorage("read cursors", (ctx) => {
  test("cursors start at 0, only move forward, per user and conversation; unread follows them", async () => {
    const { storage } = ctx;
    const rc = storage.readCursors;
    const c = await storage.messages.ensureConversation({
      kind: "direct",
      key: "d:7:8",
      userA: 7,
      userB: 8,
      createdAt: 1,
    });
    const other = await storage.messages.ensureConversation({
      kind: "direct",
      key: "d:7:9",
      userA: 7,
      userB: 9,
      createdAt: 1,
    });
    const msg = (senderId: number, id: string) => ({
      conversationId: c.id,
      senderId,
      clientMsgId: id,
      kind: "text" as const,
      content: { content: id },
      contentJson: JSON.stringify({ content: id }),
      createdAt: 5,
    });
    await storage.messages.appendBatch([msg(7, "r1"), msg(7, "r2"), msg(8, "r3"), msg(7, "r4")]);
    assert.equal(await rc.get(c.id, 8), 0, "no cursor yet");
    assert.equal(await rc.unreadCount(c.id, 8), 3, "others' messages only");
    assert.equal(await rc.unreadCount(c.id, 7), 1);
    assert.equal(await rc.advance(c.id, 8, 2, 10), 2);
    assert.equal(await rc.get(c.id, 8), 2);
    assert.equal(await rc.get(c.id, 7), 0, "one user's cursor is not another's");
    assert.equal(await rc.get(other.id, 8), 0, "nor another conversation's");
    assert.equal(await rc.unreadCount(c.id, 8), 1);
    assert.equal(await rc.advance(c.id, 8, 1, 11), 2, "never backwards");
    assert.equal(await rc.advance(c.id, 8, 2, 12), 2, "same seq: unchanged");
    // concurrent advances: the highest wins whatever the order
    const results = await Promise.all([3, 4, 1, 2].map((seq, i) => rc.advance(c.id, 8, seq, 20 + i)));
    assert.ok(results.every((r) => r >= 2));
    assert.equal(await rc.get(c.id, 8), 4);
    assert.equal(await rc.unreadCount(c.id, 8), 0);
    assert.deepEqual(await rc.unreadCounts([c.id, other.id], 8), new Map(), "zero counts are absent");
    assert.deepEqual(await rc.unreadCounts([c.id, other.id, 999999], 7), new Map([[c.id, 1]]));
    assert.deepEqual(await rc.unreadCounts([], 7), new Map());
    // the batched lookup agrees with get: conversation → user → seq, users without a cursor absent
    await rc.advance(other.id, 9, 0, 30);
    const many = await rc.getMany([c.id, other.id, 999999], [7, 8, 9, 8]);
    assert.deepEqual(
      [...many].map(([conv, users]) => [conv, [...users].sort()]).sort(),
      [
        [c.id, [[8, 4]]],
        [other.id, [[9, 0]]],
      ].sort(),
    );
    assert.deepEqual(await rc.getMany([c.id], []), new Map());
    assert.deepEqual(await rc.getMany([], [8]), new Map());
  });
});
