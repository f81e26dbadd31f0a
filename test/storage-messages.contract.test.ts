import assert from "node:assert/strict";
import { test } from "node:test";
import { forEachStorage } from "./helpers/storage.ts";

/** Contract of the conversation/message repository (src/ports/storage/messages.ts) and the read state (read-cursors.ts). */
forEachStorage("messages", (ctx) => {
  test("messages: one batch over several conversations, gapless seq, duplicates return the original", async () => {
    const { storage } = ctx;
    const m = storage.messages;
    const rc = storage.readCursors;
    const c1 = await m.ensureConversation({ kind: "direct", key: "d:1:2", userA: 1, userB: 2, createdAt: 1 });
    assert.equal(
      (await m.ensureConversation({ kind: "direct", key: "d:1:2", userA: 1, userB: 2, createdAt: 9 })).id,
      c1.id,
    );
    const c2 = await m.ensureConversation({ kind: "direct", key: "d:1:3", userA: 1, userB: 3, createdAt: 1 });
    const msg = (conversationId: number, senderId: number, clientMsgId: string, t: number) => ({
      conversationId,
      senderId,
      clientMsgId,
      kind: "text" as const,
      content: { content: clientMsgId },
      contentJson: JSON.stringify({ content: clientMsgId }),
      createdAt: t,
    });
    const r1 = await m.appendBatch([
      msg(c1.id, 1, "a", 10),
      msg(c2.id, 1, "b", 11),
      msg(c1.id, 2, "c", 12),
      msg(c1.id, 1, "a", 13),
    ]);
    assert.deepEqual(
      r1.map((r) => [r.message.conversationId, r.message.seq, r.duplicate]),
      [
        [c1.id, 1, false],
        [c2.id, 1, false],
        [c1.id, 2, false],
        [c1.id, 1, true],
      ],
    );
    assert.equal(r1[3].message.id, r1[0].message.id);
    const r2 = await m.appendBatch([msg(c1.id, 2, "c", 20), msg(c1.id, 2, "d", 21)]);
    assert.deepEqual(
      r2.map((r) => [r.message.seq, r.duplicate]),
      [
        [2, true],
        [3, false],
      ],
    );
    assert.equal((await m.conversation(c1.id))?.lastSeq, 3);
    assert.equal((await m.conversation(c1.id))?.lastMessageAt, 21);
    assert.deepEqual((await m.bySenderClientId(2, "d"))?.content, { content: "d" });
    assert.deepEqual(
      (await m.history(c1.id, null, 10)).map((x) => x.seq),
      [3, 2, 1],
    );
    assert.deepEqual(
      (await m.history(c1.id, r1[2].message.id, 10)).map((x) => x.seq),
      [2, 1],
    );
    // an id that is not one of c1's messages pages from the last c1 message before it
    const c1Ids = [r1[0], r1[2], r2[1]].map((r) => r.message);
    assert.deepEqual(
      (await m.history(c1.id, r1[1].message.id, 10)).map((x) => x.seq),
      c1Ids
        .filter((x) => x.id <= r1[1].message.id)
        .map((x) => x.seq)
        .reverse(),
    );
    assert.deepEqual(await m.history(c1.id, r1[0].message.id - 1, 10), []);
    assert.deepEqual(
      (await m.history(c1.id, r2[1].message.id + 1000, 10)).map((x) => x.seq),
      [3, 2, 1],
    );
    assert.deepEqual(
      (await m.since(c1.id, 1, 10)).map((x) => x.seq),
      [2, 3],
    );
    assert.equal(await m.markDeleted(r1[2].message.id, 30), true);
    assert.equal(await m.markDeleted(r1[2].message.id, 31), false);
    assert.deepEqual((await m.page(c1.id, 0, 10)).total, 2);
    assert.equal(await m.markRecalled(r1[2].message.id, 32), false, "deleted messages cannot be recalled");
    assert.equal(await rc.unreadCount(c1.id, 1), 1, "only the other's undeleted message counts");
    assert.equal(await rc.advance(c1.id, 1, 3, 40), 3);
    assert.equal(await rc.advance(c1.id, 1, 1, 41), 3, "never backwards");
    assert.equal(await rc.unreadCount(c1.id, 1), 0);
    // the batched forms agree with the one-conversation ones
    assert.deepEqual(await rc.unreadCounts([c1.id, c2.id, 999999], 1), new Map());
    assert.deepEqual(
      await rc.unreadCounts([c1.id, c2.id], 2),
      new Map([
        [c1.id, 1],
        [c2.id, 1],
      ]),
    );
    const lasts = await m.lastMessages([c1.id, c2.id, 999999]);
    assert.deepEqual(
      [...lasts].map(([k, v]) => [k, v.clientMsgId]).sort(),
      [
        [c1.id, "d"],
        [c2.id, "b"],
      ].sort(),
    );
    assert.deepEqual(lasts.get(c1.id), await m.lastMessage(c1.id));
    assert.deepEqual(
      (await m.directConversationsOf(1)).map((c) => c.id),
      [c1.id, c2.id],
    );
    await assert.rejects(m.appendBatch([msg(999999, 1, "nope", 1)]));
    assert.equal(await m.bySenderClientId(1, "nope"), null, "a failed batch stores nothing");
  });
});
