import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { sql } from "kysely";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import type { RedPacket } from "../src/ports/storage.ts";
import { forEachStorage } from "./helpers/storage.ts";

/**
 * The wallet repository's contract (src/ports/storage/wallet.ts) on both engines: conditional
 * debits under `transaction(…, {isolation: "row-locks"})`, the share state machine (claim, hold,
 * lapse, pend, claim by mark, refund once), the database constraints as final arbiters, and
 * `verify()` catching every kind of tampering (so a clean verify means something).
 */

const packet = (over: Partial<RedPacket> = {}): RedPacket => ({
  id: randomUUID(),
  senderId: 1,
  coin: 1,
  type: 2,
  amount: 100,
  size: 4,
  remark: "r",
  cType: 1,
  toId: 9,
  conversationId: 1,
  messageId: 1,
  createdAt: 1000,
  expiresAt: 10_000,
  settledAt: null,
  ...over,
});

forEachStorage("wallet", (ctx) => {
  const w = () => ctx.storage.wallet;
  const db = () => (ctx.storage as SqlStorage).db;
  const fund = (userId: number, amount: number, coin = 1) =>
    w().deposit({ idempotencyKey: randomUUID(), userId, coin, amount, createdAt: 1 }, randomUUID(), 10 ** 15 - 1);

  test("row-locks transactions: 50 concurrent packets on a balance that covers 10 — exactly 10 go through", async () => {
    await fund(1, 1000);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        ctx.storage.transaction(
          async (tx) => {
            if (!(await tx.wallet.createPacket(packet(), [25, 25, 25, 25], randomUUID()))) throw new Error("short");
          },
          { isolation: "row-locks" },
        ),
      ),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 10);
    assert.equal(await w().balance(1, 1), 0);
    assert.deepEqual(await w().verify(), []);
  });

  test("a refused transaction leaves nothing behind (packet, shares, ledger)", async () => {
    await fund(2, 100);
    const p = packet({ senderId: 2 });
    await assert.rejects(
      ctx.storage.transaction(async (tx) => {
        if (!(await tx.wallet.createPacket(p, [25, 25, 25, 25], randomUUID()))) throw new Error("short");
        throw new Error("later failure");
      }),
    );
    assert.equal(await w().packet(p.id), null);
    assert.deepEqual(await w().shares(p.id), []);
    assert.deepEqual(await w().ledger(`p:${p.id}`), []);
    assert.equal(await w().balance(2, 1), 100);
    assert.deepEqual(await w().verify(), []);
  });

  test("claims: lowest free share, one per user (conflict), none when all are taken or it expired", async () => {
    await fund(3, 100);
    const p = packet({ senderId: 3, amount: 100, size: 3 });
    assert.ok(await w().createPacket(p, [50, 30, 20], randomUUID()));
    const a = await w().claim(p.id, 10, 2000, randomUUID());
    assert.deepEqual([a?.share.idx, a?.share.amount, a?.remain], [0, 50, 2]);
    await assert.rejects(
      w().claim(p.id, 10, 2000, randomUUID()),
      (e: Error & { reason?: string }) => e.reason === "packet_claimed",
    );
    assert.equal(await w().claim(p.id, 11, p.expiresAt, randomUUID()), null, "expired");
    assert.equal((await w().claim(p.id, 11, 2000, randomUUID()))?.share.amount, 30);
    assert.equal((await w().claim(p.id, 12, 2000, randomUUID()))?.share.amount, 20);
    assert.equal(await w().claim(p.id, 13, 2000, randomUUID()), null, "all taken");
    assert.equal(await w().balance(10, 1), 50);
    assert.deepEqual(await w().verify(), []);
  });

  test("holds: a lapsed hold returns to the pool and its mark dies; pend, claim by mark, refund of a pending share", async () => {
    await fund(4, 100);
    const p = packet({ senderId: 4, amount: 100, size: 2, expiresAt: 50_000 });
    assert.ok(await w().createPacket(p, [60, 40], randomUUID()));
    const mark1 = randomUUID();
    const h = await w().hold(p.id, "g1", mark1, 2000, 3000);
    assert.deepEqual([h?.share.idx, h?.remain], [0, 1]);
    assert.equal((await w().holdOf(p.id, "g1", 2500))?.mark, mark1);
    // the hold lapses: the next claimer gets share 0, mark1 names nothing any more
    assert.equal((await w().claim(p.id, 20, 3000, randomUUID()))?.share.idx, 0);
    assert.equal(await w().claimMarked(mark1, 21, null, 3001, randomUUID()), null);
    assert.equal(await w().pend(mark1, "13800000000", 3001, 9000), false);
    // share 1: held, pended for a mobile, then credited to the user who registered it
    const mark2 = randomUUID();
    assert.ok(await w().hold(p.id, "g2", mark2, 4000, 5000));
    assert.equal(await w().pend(mark2, "13800000001", 4001, 60_000), true);
    assert.equal(await w().claimMarked(mark2, 22, "13800000002", 4002, randomUUID()), null, "another mobile");
    assert.equal(await w().refund(p.id, 40_000, randomUUID()), 0, "pending shares wait for their own deadline");
    const got = await w().claimMarked(mark2, 22, "13800000001", 45_000, randomUUID());
    assert.equal(got?.amount, 40);
    assert.equal(await w().refund(p.id, 70_000, randomUUID()), 0);
    assert.ok((await w().packet(p.id))?.settledAt);
    assert.deepEqual(await w().verify(), []);
  });

  test("refund: once, whoever calls it how often; pending shares after their wait", async () => {
    await fund(5, 100);
    const p = packet({ senderId: 5, amount: 100, size: 4, expiresAt: 10_000 });
    assert.ok(await w().createPacket(p, [25, 25, 25, 25], randomUUID()));
    await w().claim(p.id, 30, 2000, randomUUID());
    const mark = randomUUID();
    await w().hold(p.id, "g", mark, 2000, 3000);
    await w().pend(mark, "13800000009", 2500, 20_000);
    assert.deepEqual(await w().dueForRefund(9999, 10), []);
    assert.ok((await w().dueForRefund(10_000, 100)).includes(p.id));
    const once = await Promise.all([1, 2, 3].map(() => w().refund(p.id, 10_000, randomUUID())));
    assert.deepEqual(
      once.sort((a, b) => b - a),
      [50, 0, 0],
    );
    assert.equal(await w().balance(5, 1), 50);
    assert.ok(!(await w().dueForRefund(19_999, 100)).includes(p.id), "next: the pending share's deadline");
    assert.equal(await w().refund(p.id, 20_000, randomUUID()), 25);
    assert.equal(await w().balance(5, 1), 75);
    assert.ok((await w().packet(p.id))?.settledAt);
    assert.equal(await w().claimMarked(mark, 31, "13800000009", 20_001, randomUUID()), null);
    assert.deepEqual(await w().verify(), []);
  });

  test("deposits: a key books once; the balance cap refuses", async () => {
    const key = randomUUID();
    const d = { idempotencyKey: key, userId: 6, coin: 2, amount: 7, createdAt: 1 };
    const [a, b] = await Promise.all([w().deposit(d, randomUUID(), 10 ** 15), w().deposit(d, randomUUID(), 10 ** 15)]);
    assert.deepEqual([a?.replay, b?.replay].sort(), [false, true]);
    assert.equal(await w().balance(6, 2), 7);
    assert.equal(await w().deposit({ ...d, idempotencyKey: randomUUID(), coin: 3 }, randomUUID(), 5), null);
    assert.equal(await w().balance(6, 3), 0);
    assert.deepEqual(await w().verify(), []);
  });

  test("the database refuses what the code must never do: negative balances, a second claim, a booking twice", async () => {
    await assert.rejects(sql`update wallet_balances set balance = -1 where account = 'u:6'`.execute(db()));
    const [share] = (await w().shares((await w().sent(5, 1, 0, 10 ** 15, 1)).list[0].id)).filter(
      (s) => s.state === "claimed",
    );
    await assert.rejects(
      sql`update red_packet_shares set state = 'claimed', claimer_id = ${share.claimerId}, claimed_at = 1
        where packet_id = ${share.packetId} and idx <> ${share.idx}`.execute(db()),
    );
    await assert.rejects(
      sql`insert into wallet_ledger (entry_id, account, coin, amount, reason, ref, created_at)
        values ('x', ${`u:${share.claimerId}`}, 1, 1, 'claim', ${`${share.packetId}:${share.idx}`}, 1)`.execute(db()),
    );
    assert.deepEqual(await w().verify(), []);
  });

  test("verify catches tampering: a balance off its ledger, a one-legged entry, escrow off its shares", async () => {
    await sql`update wallet_balances set balance = balance + 1 where account = 'u:10'`.execute(db());
    let issues = await w().verify();
    assert.ok(
      issues.some((i) => i.check === "balance equals its ledger"),
      JSON.stringify(issues),
    );
    await sql`update wallet_balances set balance = balance - 1 where account = 'u:10'`.execute(db());
    assert.deepEqual(await w().verify(), []);
    await sql`insert into wallet_ledger (entry_id, account, coin, amount, reason, ref, created_at)
      values ('lonely', 'u:10', 1, 5, 'deposit', 'tamper', 1)`.execute(db());
    issues = await w().verify();
    for (const check of [
      "entry balances to zero (two rows)",
      "ledger sums to zero per coin",
      "balance equals its ledger",
    ])
      assert.ok(
        issues.some((i) => i.check === check),
        check,
      );
    await sql`delete from wallet_ledger where entry_id = 'lonely'`.execute(db());
    const open = (await w().sent(5, 1, 0, 10 ** 15, 1)).list[0];
    await sql`update red_packet_shares set state = 'open' where packet_id = ${open.id} and state = 'refunded'`.execute(
      db(),
    );
    issues = await w().verify();
    assert.ok(issues.some((i) => i.check === "escrow equals the unsettled shares"));
    assert.ok(issues.some((i) => i.check === "refunds equal the refunded shares"));
    await sql`update red_packet_shares set state = 'refunded' where packet_id = ${open.id} and state = 'open'`.execute(
      db(),
    );
    assert.deepEqual(await w().verify(), []);
  });
});
