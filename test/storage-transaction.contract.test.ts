import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NewMessage, Repos } from "../src/ports/storage.ts";
import { forEachStorage, newUser } from "./helpers/storage.ts";

/**
 * Contract of `Storage.transaction` (the guarantees written on `Transactional` in
 * src/ports/storage/index.ts): atomic, serialisable (also against the message writer), one
 * connection, nesting rejected.
 */
forEachStorage("transaction", (ctx) => {
  const text = (conversationId: number, senderId: number, clientMsgId: string): NewMessage => ({
    conversationId,
    senderId,
    clientMsgId,
    kind: "text",
    content: { content: clientMsgId },
    contentJson: JSON.stringify({ content: clientMsgId }),
    createdAt: 1,
  });
  const counter = async (tx: Repos, key: string) => Number((await tx.settings.get(key)) ?? "0");

  test("commits what fn wrote through the handle and resolves with fn's result", async () => {
    const { storage } = ctx;
    const conv = await storage.messages.ensureConversation({
      kind: "direct",
      key: "d:1:2",
      userA: 1,
      userB: 2,
      createdAt: 1,
    });
    const result = await storage.transaction(async (tx) => {
      const u = await tx.users.create(newUser({ username: "tx-commit" }));
      await tx.settings.set("tx-commit", "yes");
      const [sent] = await tx.messages.appendBatch([text(conv.id, u.id, "tx-commit")]);
      await tx.readCursors.advance(conv.id, u.id, sent.message.seq, 2);
      return { user: u, seq: sent.message.seq };
    });
    assert.equal(result.seq, 1);
    assert.equal((await storage.users.findByUsername("tx-commit"))?.id, result.user.id);
    assert.equal(await storage.settings.get("tx-commit"), "yes");
    assert.equal((await storage.messages.conversation(conv.id))?.lastSeq, 1);
    assert.equal(await storage.readCursors.get(conv.id, result.user.id), 1);
    // the message writer keeps working after a transaction used it
    const [next] = await storage.messages.appendBatch([text(conv.id, result.user.id, "after-commit")]);
    assert.equal(next.message.seq, 2);
  });

  test("a thrown error rolls back everything written in it and rejects with that error", async () => {
    const { storage } = ctx;
    const conv = await storage.messages.ensureConversation({
      kind: "direct",
      key: "d:3:4",
      userA: 3,
      userB: 4,
      createdAt: 1,
    });
    await storage.messages.appendBatch([text(conv.id, 3, "before")]);
    await storage.friends.befriend(3, 4, "", "", 1);
    const boom = new Error("boom");
    await assert.rejects(
      storage.transaction(async (tx) => {
        await tx.users.create(newUser({ username: "tx-rollback" }));
        await tx.settings.set("tx-rollback", "yes");
        await tx.messages.appendBatch([text(conv.id, 3, "rolled-back-1"), text(conv.id, 4, "rolled-back-2")]);
        await tx.readCursors.advance(conv.id, 4, 3, 2);
        await tx.friends.unfriend(3, 4, 2);
        await tx.friends.befriend(5, 6, "", "", 2);
        await tx.sessions.create({
          id: "tx-s",
          userId: 3,
          tokenHash: "tx-h",
          device: "web",
          deviceId: "",
          platform: "",
          createdAt: 1,
          expiresAt: 10,
          revokedAt: null,
          revokeReason: null,
        });
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(await storage.users.findByUsername("tx-rollback"), null);
    assert.equal(await storage.settings.get("tx-rollback"), null);
    assert.equal(await storage.messages.bySenderClientId(3, "rolled-back-1"), null);
    assert.equal(await storage.messages.bySenderClientId(4, "rolled-back-2"), null);
    assert.equal((await storage.messages.conversation(conv.id))?.lastSeq, 1, "the seq bump rolled back too");
    assert.equal(await storage.readCursors.get(conv.id, 4), 0);
    assert.equal((await storage.friends.get(3, 4))?.deletedAt, null);
    assert.equal(await storage.friends.get(5, 6), null);
    assert.equal(await storage.sessions.findById("tx-s"), null);
    // seqs stay gapless after the rollback
    const [next] = await storage.messages.appendBatch([text(conv.id, 3, "after-rollback")]);
    assert.equal(next.message.seq, 2);
  });

  test("a failing statement (a conflict) rolls the transaction back", async () => {
    const { storage } = ctx;
    await storage.users.create(newUser({ username: "tx-taken" }));
    await assert.rejects(
      storage.transaction(async (tx) => {
        await tx.settings.set("tx-conflict", "yes");
        await tx.users.create(newUser({ username: "tx-taken" }));
      }),
      (e: unknown) => (e as { code?: string }).code === "conflict",
    );
    assert.equal(await storage.settings.get("tx-conflict"), null);
  });

  test("concurrent read-modify-writes of the same row lose no update", async () => {
    const { storage } = ctx;
    const n = 6;
    let runs = 0;
    await Promise.all(
      Array.from({ length: n }, () =>
        storage.transaction(async (tx) => {
          runs++;
          const v = await counter(tx, "tx-counter");
          await sleep(5); // widen the window between the read and the write
          await tx.settings.set("tx-counter", String(v + 1));
        }),
      ),
    );
    assert.equal(await storage.settings.get("tx-counter"), String(n));
    assert.ok(runs >= n);
  });

  test("a transaction that began first makes a later one wait for (SQLite) or retry after (PostgreSQL) its commit", async () => {
    const { storage } = ctx;
    await storage.settings.set("tx-order", "0");
    const log: string[] = [];
    let firstRead!: () => void;
    const firstHasRead = new Promise<void>((r) => {
      firstRead = r;
    });
    let secondCommitted!: () => void;
    const secondDone = new Promise<void>((r) => {
      secondCommitted = r;
    });
    let aRuns = 0;
    const a = storage.transaction(async (tx) => {
      aRuns++;
      const v = await counter(tx, "tx-order");
      log.push(`a read ${v}`);
      firstRead();
      // PostgreSQL: b commits meanwhile, so a's write is a serialisation failure and a runs again
      // on b's result. SQLite: b cannot start before a ends, so a only waits a little.
      if (ctx.kind === "postgres" && aRuns === 1) await secondDone;
      else await sleep(20);
      await tx.settings.set("tx-order", String(v + 10));
    });
    await firstHasRead;
    const b = storage
      .transaction(async (tx) => {
        const v = await counter(tx, "tx-order");
        log.push(`b read ${v}`);
        await tx.settings.set("tx-order", String(v + 1));
      })
      .then(() => secondCommitted());
    await Promise.all([a, b]);
    assert.equal(await storage.settings.get("tx-order"), "11", "both updates are kept");
    if (ctx.kind === "sqlite") {
      assert.deepEqual(log, ["a read 0", "b read 10"], "b ran after a committed");
      assert.equal(aRuns, 1);
    } else {
      assert.deepEqual(log, ["a read 0", "b read 0", "a read 1"], "a was retried after b committed");
      assert.equal(aRuns, 2);
    }
  });

  test("serialises with the message writer: no append lands between a transaction's reads; seqs stay gapless", async () => {
    const { storage } = ctx;
    const conv = await storage.messages.ensureConversation({
      kind: "direct",
      key: "d:7:8",
      userA: 7,
      userB: 8,
      createdAt: 1,
    });
    const seen: number[] = [];
    const appends: Array<Promise<unknown>> = [];
    const started = new Set<number>();
    const txs = Array.from({ length: 4 }, (_, i) =>
      storage.transaction(async (tx) => {
        const before = (await tx.messages.conversation(conv.id))?.lastSeq ?? -1;
        // an outside append issued while this transaction is open (once: on PostgreSQL a retried
        // run must not add more contention of its own)
        if (!started.has(i)) {
          started.add(i);
          appends.push(storage.messages.appendBatch([text(conv.id, 7, `out-${i}`)]));
        }
        await sleep(5);
        const after = (await tx.messages.conversation(conv.id))?.lastSeq ?? -1;
        seen.push(after - before);
        await tx.messages.appendBatch([text(conv.id, 8, `in-${i}`)]);
      }),
    );
    await Promise.all(txs);
    await Promise.all(appends);
    assert.ok(
      seen.every((d) => d === 0),
      `a transaction saw appends between its reads: ${seen}`,
    );
    const history = await storage.messages.since(conv.id, 0, 100);
    assert.deepEqual(
      history.map((m) => m.seq),
      Array.from({ length: history.length }, (_, i) => i + 1),
      "gapless",
    );
    for (let i = 0; i < 4; i++) assert.ok(history.some((m) => m.clientMsgId === `in-${i}`));
    assert.ok(history.length >= 8);
  });

  test("nesting is rejected: the handle has no transaction, and calling storage.transaction inside fn throws and rolls back", async () => {
    const { storage } = ctx;
    await assert.rejects(
      storage.transaction(async (tx) => {
        assert.equal("transaction" in tx, false);
        await tx.settings.set("tx-nested", "outer");
        await storage.transaction(async (inner) => inner.settings.set("tx-nested", "inner"));
      }),
      /nested transactions are not supported/,
    );
    assert.equal(await storage.settings.get("tx-nested"), null, "the outer transaction rolled back");
    // work that fn started but that runs once fn is done is outside it: it may open its own
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let later: Promise<void> | null = null;
    await storage.transaction(async (tx) => {
      await tx.settings.set("tx-later", "1");
      later = gate.then(() => storage.transaction(async (t) => t.settings.set("tx-later", "2")));
    });
    release();
    await later;
    assert.equal(await storage.settings.get("tx-later"), "2");
  });
});
