import { type Kysely, type RawBuilder, sql } from "kysely";
import { conflict } from "../../ports/errors.ts";
import type {
  Claimed,
  Deposit,
  LedgerReason,
  LedgerRow,
  PacketTarget,
  PacketType,
  RedPacket,
  Share,
  ShareState,
  StorageKind,
  Transfer,
  VerifyIssue,
  WalletRepo,
} from "../../ports/storage.ts";
import { isUniqueViolation } from "./errors.ts";
import type { Database } from "./schema.ts";

/** The account names of src/ports/storage/wallet.ts. */
export const DEPOSITS = "sys:deposits";
const userAccount = (id: number) => `u:${id}`;
const escrowAccount = (packetId: string) => `p:${packetId}`;

type Row = Record<string, unknown>;
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toShare(r: Row): Share {
  return {
    packetId: String(r.packet_id),
    idx: num(r.idx),
    amount: num(r.amount),
    state: r.state as ShareState,
    claimerId: numOrNull(r.claimer_id),
    mark: strOrNull(r.mark),
    guestId: strOrNull(r.guest_id),
    mobile: strOrNull(r.mobile),
    heldUntil: numOrNull(r.held_until),
    claimedAt: numOrNull(r.claimed_at),
  };
}

function toPacket(r: Row): RedPacket {
  return {
    id: String(r.id),
    senderId: num(r.sender_id),
    coin: num(r.coin),
    type: num(r.type) as PacketType,
    amount: num(r.amount),
    size: num(r.size),
    remark: String(r.remark),
    cType: num(r.c_type) as PacketTarget,
    toId: num(r.to_id),
    conversationId: num(r.conversation_id),
    messageId: num(r.message_id),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    settledAt: numOrNull(r.settled_at),
  };
}

function toLedgerRow(r: Row): LedgerRow {
  return {
    id: num(r.id),
    entryId: String(r.entry_id),
    account: String(r.account),
    coin: num(r.coin),
    amount: num(r.amount),
    reason: r.reason as LedgerReason,
    ref: String(r.ref),
    createdAt: num(r.created_at),
  };
}

const PACKET_COLS = sql.raw(
  "p.id, p.sender_id, p.coin, p.type, p.amount, p.size, p.remark, p.c_type, p.to_id, p.conversation_id, p.message_id, p.created_at, p.expires_at, p.settled_at",
);

/** PostgreSQL: deadlocks (40P01) between two money transactions are retried this many times. */
const DEADLOCK_ATTEMPTS = 5;

/**
 * The wallet repository (src/ports/storage/wallet.ts) in SQL for both engines. Every method that
 * moves money runs in ONE transaction: the caller's (a `Storage.transaction` handle) or its own —
 * on PostgreSQL at READ COMMITTED with row locks and conditional updates (never SERIALIZABLE:
 * a hot packet's claims would collide and retry), on SQLite under `BEGIN IMMEDIATE`.
 *
 * A claim locks, in this order: one share row (`FOR UPDATE SKIP LOCKED`, so concurrent claimers
 * of one packet take different shares instead of queueing on one), then the claimer's balance
 * row. Nothing else is locked: a packet's escrow has no balance row (its balance is its unsettled
 * shares), so a hot packet has no hot row. A refund locks the packet's unsettled shares, then the
 * sender's balance row — the same order, so claims and refunds cannot deadlock each other.
 */
export class SqlWallet implements WalletRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: StorageKind,
  ) {}

  /** Runs `fn` in one transaction (the handle's, or a new one; PostgreSQL deadlocks retried). */
  private async txn<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this.db);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        const code = (e as { code?: string })?.code;
        if (this.kind !== "postgres" || code !== "40P01" || attempt >= DEADLOCK_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  private async rows(q: RawBuilder<unknown>, db: Kysely<Database> = this.db): Promise<Row[]> {
    return (await q.execute(db)).rows as Row[];
  }

  /** Books one entry: two ledger rows (−amount from, +amount to). */
  private async book(db: Kysely<Database>, t: Transfer): Promise<void> {
    await sql`insert into wallet_ledger (entry_id, account, coin, amount, reason, ref, created_at) values
      (${t.entryId}, ${t.from}, ${t.coin}, ${-t.amount}, ${t.reason}, ${t.ref}, ${t.at}),
      (${t.entryId}, ${t.to}, ${t.coin}, ${t.amount}, ${t.reason}, ${t.ref}, ${t.at})`.execute(db);
  }

  /** Adds `amount` (> 0) to a balance row, creating it. */
  private async credit(db: Kysely<Database>, account: string, coin: number, amount: number): Promise<number> {
    const r = await this.rows(
      sql`insert into wallet_balances (account, coin, balance) values (${account}, ${coin}, ${amount})
        on conflict (account, coin) do update set balance = wallet_balances.balance + excluded.balance
        returning balance`,
      db,
    );
    return num(r[0]?.balance);
  }

  /** Takes `amount` from a balance row when it holds at least that much (floor: 0, or `floor`). */
  private async debit(
    db: Kysely<Database>,
    account: string,
    coin: number,
    amount: number,
    floor = 0,
  ): Promise<boolean> {
    if (floor < 0) {
      // the deposit account: created on first use, may go down to `floor`
      await sql`insert into wallet_balances (account, coin, balance) values (${account}, ${coin}, 0)
        on conflict (account, coin) do nothing`.execute(db);
    }
    const r = await this.rows(
      sql`update wallet_balances set balance = balance - ${amount}
        where account = ${account} and coin = ${coin} and balance - ${amount} >= ${floor} returning balance`,
      db,
    );
    return r.length === 1;
  }

  async balances(userId: number): Promise<Map<number, number>> {
    const r = await this.rows(
      sql`select coin, balance from wallet_balances where account = ${userAccount(userId)} order by coin`,
    );
    return new Map(r.map((x) => [num(x.coin), num(x.balance)]));
  }

  async balance(userId: number, coin: number): Promise<number> {
    const r = await this.rows(
      sql`select balance from wallet_balances where account = ${userAccount(userId)} and coin = ${coin}`,
    );
    return num(r[0]?.balance);
  }

  private async storedDeposit(db: Kysely<Database>, key: string): Promise<Deposit | null> {
    const r = await this.rows(sql`select * from wallet_deposits where idempotency_key = ${key}`, db);
    if (!r[0]) return null;
    return {
      idempotencyKey: String(r[0].idempotency_key),
      userId: num(r[0].user_id),
      coin: num(r[0].coin),
      amount: num(r[0].amount),
      balanceAfter: num(r[0].balance_after),
      createdAt: num(r[0].created_at),
    };
  }

  async deposit(
    d: Omit<Deposit, "balanceAfter">,
    entryId: string,
    maxBalance: number,
  ): Promise<{ deposit: Deposit; replay: boolean } | null> {
    return this.txn(async (db) => {
      // The key is claimed first: a concurrent deposit with the same key waits here (its row
      // lock), then finds it taken and answers with the stored result.
      const claimed = await this.rows(
        sql`insert into wallet_deposits (idempotency_key, user_id, coin, amount, balance_after, created_at)
          values (${d.idempotencyKey}, ${d.userId}, ${d.coin}, ${d.amount}, 0, ${d.createdAt})
          on conflict (idempotency_key) do nothing returning idempotency_key`,
        db,
      );
      if (claimed.length === 0) {
        const stored = await this.storedDeposit(db, d.idempotencyKey);
        if (!stored) throw new Error("wallet.deposit: idempotency key vanished");
        return { deposit: stored, replay: true };
      }
      // Everything ever issued (minus the deposit account) stays a safe integer, so every sum does too.
      if (!(await this.debit(db, DEPOSITS, d.coin, d.amount, -maxBalance))) throw new RefusedDeposit();
      const balanceAfter = await this.credit(db, userAccount(d.userId), d.coin, d.amount);
      await this.book(db, {
        entryId,
        coin: d.coin,
        amount: d.amount,
        from: DEPOSITS,
        to: userAccount(d.userId),
        reason: "deposit",
        ref: d.idempotencyKey,
        at: d.createdAt,
      });
      await sql`update wallet_deposits set balance_after = ${balanceAfter} where idempotency_key = ${d.idempotencyKey}`.execute(
        db,
      );
      return { deposit: { ...d, balanceAfter }, replay: false };
    }).catch((e) => {
      if (e instanceof RefusedDeposit) return null;
      throw e;
    });
  }

  async createPacket(p: RedPacket, shares: number[], entryId: string): Promise<boolean> {
    return this.txn(async (db) => {
      if (!(await this.debit(db, userAccount(p.senderId), p.coin, p.amount))) return false;
      await sql`insert into red_packets (id, sender_id, coin, type, amount, size, remark, c_type, to_id,
          conversation_id, message_id, created_at, expires_at, next_refund_at, settled_at)
        values (${p.id}, ${p.senderId}, ${p.coin}, ${p.type}, ${p.amount}, ${p.size}, ${p.remark}, ${p.cType},
          ${p.toId}, ${p.conversationId}, ${p.messageId}, ${p.createdAt}, ${p.expiresAt}, ${p.expiresAt}, null)`.execute(
        db,
      );
      // shares in chunks (bound-parameter limits)
      for (let i = 0; i < shares.length; i += 200) {
        const chunk = shares.slice(i, i + 200);
        const values = sql.join(chunk.map((amount, j) => sql`(${p.id}, ${i + j}, ${amount}, 'open')`));
        await sql`insert into red_packet_shares (packet_id, idx, amount, state) values ${values}`.execute(db);
      }
      await this.book(db, {
        entryId,
        coin: p.coin,
        amount: p.amount,
        from: userAccount(p.senderId),
        to: escrowAccount(p.id),
        reason: "escrow",
        ref: p.id,
        at: p.createdAt,
      });
      return true;
    });
  }

  async packet(id: string): Promise<RedPacket | null> {
    const r = await this.rows(sql`select ${PACKET_COLS} from red_packets p where p.id = ${id}`);
    return r[0] ? toPacket(r[0]) : null;
  }

  async shares(packetId: string): Promise<Share[]> {
    return (await this.rows(sql`select * from red_packet_shares where packet_id = ${packetId} order by idx`)).map(
      toShare,
    );
  }

  async shareByMark(mark: string): Promise<Share | null> {
    const r = await this.rows(sql`select * from red_packet_shares where mark = ${mark}`);
    return r[0] ? toShare(r[0]) : null;
  }

  async claimOf(packetId: string, userId: number): Promise<Share | null> {
    const r = await this.rows(
      sql`select * from red_packet_shares where packet_id = ${packetId} and claimer_id = ${userId}`,
    );
    return r[0] ? toShare(r[0]) : null;
  }

  /** `state = open`, or held with its hold over. */
  private free(now: number) {
    return sql`(state = 'open' or (state = 'held' and held_until <= ${now}))`;
  }

  private async remain(db: Kysely<Database>, packetId: string, now: number): Promise<number> {
    const r = await this.rows(
      sql`select count(*) as n from red_packet_shares where packet_id = ${packetId} and ${this.free(now)}`,
      db,
    );
    return num(r[0]?.n);
  }

  /**
   * Locks one free share of a live packet and returns its index, or null when none is free.
   * PostgreSQL: `SKIP LOCKED` first (concurrent claimers spread over the shares); when every free
   * share is locked by someone else's claim in flight, it waits for one of them (plain `FOR
   * UPDATE`) and looks again — that claim either took the share or rolled back and left it free,
   * so "no share" is only ever answered when none is free. SQLite: the transaction holds the
   * write lock, a plain read is enough.
   */
  private async pick(db: Kysely<Database>, packetId: string, now: number): Promise<number | null> {
    const live = sql`exists (select 1 from red_packets p where p.id = ${packetId} and p.expires_at > ${now})`;
    const base = sql`select idx from red_packet_shares where packet_id = ${packetId} and ${this.free(now)} and ${live}
      order by idx limit 1`;
    if (this.kind !== "postgres") {
      const r = await this.rows(base, db);
      return r[0] ? num(r[0].idx) : null;
    }
    for (let round = 0; round < 10_000; round++) {
      const skip = await this.rows(sql`${base} for update skip locked`, db);
      if (skip[0]) return num(skip[0].idx);
      const wait = await this.rows(sql`${base} for update`, db);
      if (wait[0]) {
        // locked after the wait: re-read under the lock (READ COMMITTED re-checked the row)
        const again = await this.rows(
          sql`select idx from red_packet_shares where packet_id = ${packetId} and idx = ${num(wait[0].idx)} and ${this.free(now)}`,
          db,
        );
        if (again[0]) return num(again[0].idx);
        continue;
      }
      return null;
    }
    return null;
  }

  async claim(packetId: string, userId: number, now: number, entryId: string): Promise<Claimed | null> {
    return this.txn(async (db) => {
      // (a second claim by the same user: the caller looked first; UNIQUE(packet, claimer) decides)
      const idx = await this.pick(db, packetId, now);
      if (idx === null) return null;
      const share = await this.take(db, packetId, idx, userId, now, entryId);
      return { share, remain: await this.remain(db, packetId, now) };
    });
  }

  private async claimOfOn(db: Kysely<Database>, packetId: string, userId: number): Promise<boolean> {
    const r = await this.rows(
      sql`select 1 as x from red_packet_shares where packet_id = ${packetId} and claimer_id = ${userId}`,
      db,
    );
    return r.length > 0;
  }

  /** Marks the locked share `idx` claimed by `userId` and credits it (one ledger entry). */
  private async take(
    db: Kysely<Database>,
    packetId: string,
    idx: number,
    userId: number,
    now: number,
    entryId: string,
    where: RawBuilder<unknown> = sql`true`,
  ): Promise<Share> {
    let r: Row[];
    try {
      r = await this.rows(
        sql`update red_packet_shares set state = 'claimed', claimer_id = ${userId}, claimed_at = ${now},
            mark = null, guest_id = null, held_until = null
          where packet_id = ${packetId} and idx = ${idx} and ${where} returning *`,
        db,
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict("packet_claimed", "already claimed");
      throw e;
    }
    if (!r[0]) throw new Error("wallet: the locked share changed under its lock");
    const share = toShare(r[0]);
    const coin = this.coins.get(packetId) ?? (await this.coinOf(db, packetId));
    await this.credit(db, userAccount(userId), coin, share.amount);
    await this.book(db, {
      entryId,
      coin,
      amount: share.amount,
      from: escrowAccount(packetId),
      to: userAccount(userId),
      reason: "claim",
      ref: `${packetId}:${idx}`,
      at: now,
    });
    return share;
  }

  /** A packet's coin never changes: remembered per packet (bounded). */
  private readonly coins = new Map<string, number>();
  private async coinOf(db: Kysely<Database>, packetId: string): Promise<number> {
    const r = await this.rows(sql`select coin from red_packets where id = ${packetId}`, db);
    const coin = num(r[0]?.coin);
    if (this.coins.size >= 10_000) this.coins.clear();
    this.coins.set(packetId, coin);
    return coin;
  }

  async hold(packetId: string, guestId: string, mark: string, now: number, heldUntil: number): Promise<Claimed | null> {
    return this.txn(async (db) => {
      const idx = await this.pick(db, packetId, now);
      if (idx === null) return null;
      const r = await this.rows(
        sql`update red_packet_shares set state = 'held', mark = ${mark}, guest_id = ${guestId}, held_until = ${heldUntil},
            mobile = null
          where packet_id = ${packetId} and idx = ${idx} returning *`,
        db,
      );
      return { share: toShare(r[0]), remain: await this.remain(db, packetId, now) };
    });
  }

  async holdOf(packetId: string, guestId: string, now: number): Promise<Share | null> {
    const r = await this.rows(
      sql`select * from red_packet_shares where packet_id = ${packetId} and guest_id = ${guestId}
        and state = 'held' and held_until > ${now} order by idx limit 1`,
    );
    return r[0] ? toShare(r[0]) : null;
  }

  async claimMarked(
    mark: string,
    userId: number,
    mobile: string | null,
    now: number,
    entryId: string,
  ): Promise<Share | null> {
    return this.txn(async (db) => {
      const lock = this.kind === "postgres" ? sql`for update` : sql``;
      const found = await this.rows(sql`select packet_id, idx from red_packet_shares where mark = ${mark} ${lock}`, db);
      if (!found[0]) return null;
      const packetId = String(found[0].packet_id);
      const idx = num(found[0].idx);
      const live = sql`exists (select 1 from red_packets p where p.id = ${packetId} and p.expires_at > ${now})`;
      const still = await this.rows(
        sql`select 1 as x from red_packet_shares where packet_id = ${packetId} and idx = ${idx} and mark = ${mark}
          and ((state = 'held' and held_until > ${now} and ${live}) or (state = 'pending' and mobile = ${mobile}))`,
        db,
      );
      if (!still[0]) return null;
      if (await this.claimOfOn(db, packetId, userId)) throw conflict("packet_claimed", "already claimed");
      return this.take(db, packetId, idx, userId, now, entryId, sql`mark = ${mark}`);
    });
  }

  async pend(mark: string, mobile: string, now: number, pendingUntil: number): Promise<boolean> {
    try {
      const r = await this.rows(
        sql`update red_packet_shares set state = 'pending', mobile = ${mobile}, held_until = ${pendingUntil}
          where mark = ${mark} and state = 'held' and held_until > ${now}
            and exists (select 1 from red_packets p where p.id = red_packet_shares.packet_id and p.expires_at > ${now})
          returning idx`,
      );
      return r.length === 1;
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict("packet_mobile_pending", "this mobile already waits for a share of this packet");
      throw e;
    }
  }

  async refund(packetId: string, now: number, entryId: string): Promise<number> {
    return this.txn(async (db) => {
      const pr = await this.rows(sql`select ${PACKET_COLS} from red_packets p where p.id = ${packetId}`, db);
      if (!pr[0]) return 0;
      const p = toPacket(pr[0]);
      const due =
        now >= p.expiresAt
          ? sql`(state in ('open', 'held') or (state = 'pending' and held_until <= ${now}))`
          : sql`(state = 'pending' and held_until <= ${now})`;
      const taken = await this.rows(
        sql`update red_packet_shares set state = 'refunded', claimed_at = null, mark = null, guest_id = null
          where packet_id = ${packetId} and ${due} returning idx, amount`,
        db,
      );
      const total = taken.reduce((s, r) => s + num(r.amount), 0);
      if (total > 0) {
        await this.credit(db, userAccount(p.senderId), p.coin, total);
        await this.book(db, {
          entryId,
          coin: p.coin,
          amount: total,
          from: escrowAccount(packetId),
          to: userAccount(p.senderId),
          reason: "refund",
          ref: `${packetId}:${Math.min(...taken.map((r) => num(r.idx)))}`,
          at: now,
        });
      }
      // what is still waiting: pending shares (their own deadline) or, before expiry, everything
      const left = await this.rows(
        sql`select min(case when state = 'pending' then held_until else ${p.expiresAt} end) as next, count(*) as n
          from red_packet_shares where packet_id = ${packetId} and state in ('open', 'held', 'pending')`,
        db,
      );
      const n = num(left[0]?.n);
      if (n === 0) await sql`update red_packets set settled_at = ${now} where id = ${packetId}`.execute(db);
      else
        await sql`update red_packets set next_refund_at = ${Math.max(num(left[0]?.next), p.expiresAt)} where id = ${packetId}`.execute(
          db,
        );
      return total;
    });
  }

  async dueForRefund(now: number, limit: number): Promise<string[]> {
    const r = await this.rows(
      sql`select id from red_packets where settled_at is null and next_refund_at <= ${now}
        order by next_refund_at limit ${limit}`,
    );
    return r.map((x) => String(x.id));
  }

  async received(userId: number, coin: number, from: number, to: number, limit: number) {
    const where = sql`s.claimer_id = ${userId} and s.state = 'claimed' and p.coin = ${coin}
      and s.claimed_at >= ${from} and s.claimed_at < ${to}`;
    const [agg, list] = await Promise.all([
      this.rows(
        sql`select count(*) as n, coalesce(sum(s.amount), 0) as total from red_packet_shares s
          join red_packets p on p.id = s.packet_id where ${where}`,
      ),
      this.rows(
        sql`select s.*, ${PACKET_COLS} from red_packet_shares s join red_packets p on p.id = s.packet_id
          where ${where} order by s.claimed_at desc limit ${limit}`,
      ),
    ]);
    return {
      total: num(agg[0]?.n),
      amount: num(agg[0]?.total),
      list: list.map((r) => ({ share: toShare(r), packet: toPacket(r) })),
    };
  }

  async sent(userId: number, coin: number, from: number, to: number, limit: number) {
    const where = sql`p.sender_id = ${userId} and p.coin = ${coin} and p.created_at >= ${from} and p.created_at < ${to}`;
    const [agg, list] = await Promise.all([
      this.rows(sql`select count(*) as n, coalesce(sum(p.amount), 0) as total from red_packets p where ${where}`),
      this.rows(sql`select ${PACKET_COLS} from red_packets p where ${where} order by p.created_at desc limit ${limit}`),
    ]);
    return { total: num(agg[0]?.n), amount: num(agg[0]?.total), list: list.map(toPacket) };
  }

  async ledger(account: string): Promise<LedgerRow[]> {
    const r = await this.rows(sql`select * from wallet_ledger where account = ${account} order by id`);
    return r.map(toLedgerRow);
  }

  async ledgerPage(f: {
    account?: string;
    coin?: number;
    reason?: LedgerReason;
    beforeId?: number;
    limit: number;
  }): Promise<LedgerRow[]> {
    const where = [sql`1 = 1`];
    if (f.account !== undefined) where.push(sql`account = ${f.account}`);
    if (f.coin !== undefined) where.push(sql`coin = ${f.coin}`);
    if (f.reason !== undefined) where.push(sql`reason = ${f.reason}`);
    if (f.beforeId !== undefined) where.push(sql`id < ${f.beforeId}`);
    const r = await this.rows(
      sql`select * from wallet_ledger where ${sql.join(where, sql` and `)} order by id desc limit ${f.limit}`,
    );
    return r.map(toLedgerRow);
  }

  async packetsPage(f: { senderId?: number; coin?: number; offset: number; limit: number }): Promise<{
    total: number;
    list: Array<{
      packet: RedPacket;
      claimed: number;
      claimedAmount: number;
      refunded: number;
      refundedAmount: number;
    }>;
  }> {
    const where = [sql`1 = 1`];
    if (f.senderId !== undefined) where.push(sql`p.sender_id = ${f.senderId}`);
    if (f.coin !== undefined) where.push(sql`p.coin = ${f.coin}`);
    const cond = sql.join(where, sql` and `);
    const [count, rows] = await Promise.all([
      this.rows(sql`select count(*) as n from red_packets p where ${cond}`),
      this.rows(sql`select ${PACKET_COLS} from red_packets p where ${cond}
        order by p.created_at desc, p.id desc limit ${f.limit} offset ${f.offset}`),
    ]);
    const packets = rows.map(toPacket);
    const stats = new Map<
      string,
      { claimed: number; claimedAmount: number; refunded: number; refundedAmount: number }
    >();
    if (packets.length) {
      const ids = packets.map((p) => p.id);
      const agg = await this.rows(
        sql`select packet_id, state, count(*) as n, ${sql.raw(
          this.kind === "postgres" ? "cast(sum(amount) as bigint)" : "sum(amount)",
        )} as s from red_packet_shares where packet_id in (${sql.join(ids)}) group by packet_id, state`,
      );
      for (const a of agg) {
        const id = String(a.packet_id);
        const st = stats.get(id) ?? { claimed: 0, claimedAmount: 0, refunded: 0, refundedAmount: 0 };
        if (a.state === "claimed") {
          st.claimed = num(a.n);
          st.claimedAmount = num(a.s);
        } else if (a.state === "refunded") {
          st.refunded = num(a.n);
          st.refundedAmount = num(a.s);
        }
        stats.set(id, st);
      }
    }
    return {
      total: num(count[0]?.n ?? 0),
      list: packets.map((packet) => ({
        packet,
        ...(stats.get(packet.id) ?? { claimed: 0, claimedAmount: 0, refunded: 0, refundedAmount: 0 }),
      })),
    };
  }

  async verify(): Promise<VerifyIssue[]> {
    const issues: VerifyIssue[] = [];
    const check = async (name: string, q: RawBuilder<unknown>, show: (r: Row) => string) => {
      for (const r of await this.rows(q)) issues.push({ check: name, detail: show(r) });
    };
    const sum = (e: string) => sql.raw(this.kind === "postgres" ? `cast(sum(${e}) as bigint)` : `sum(${e})`);
    await check(
      "entry balances to zero (two rows)",
      sql`select entry_id, ${sum("amount")} as s, count(*) as n from wallet_ledger group by entry_id
        having sum(amount) <> 0 or count(*) <> 2`,
      (r) => `entry ${r.entry_id}: sum ${r.s}, ${r.n} rows`,
    );
    await check(
      "ledger sums to zero per coin",
      sql`select coin, ${sum("amount")} as s from wallet_ledger group by coin having sum(amount) <> 0`,
      (r) => `coin ${r.coin}: ${r.s}`,
    );
    await check(
      "balance equals its ledger",
      sql`select b.account, b.coin, b.balance, coalesce(l.s, 0) as s from wallet_balances b
        left join (select account, coin, ${sum("amount")} as s from wallet_ledger where account not like 'p:%'
          group by account, coin) l on l.account = b.account and l.coin = b.coin
        where b.balance <> coalesce(l.s, 0)`,
      (r) => `${r.account} coin ${r.coin}: balance ${r.balance}, ledger ${r.s}`,
    );
    await check(
      "every ledger account has its balance",
      sql`select l.account, l.coin, l.s from (select account, coin, ${sum("amount")} as s from wallet_ledger
          where account not like 'p:%' group by account, coin) l
        left join wallet_balances b on b.account = l.account and b.coin = l.coin
        where b.account is null and l.s <> 0`,
      (r) => `${r.account} coin ${r.coin}: ledger ${r.s}, no balance row`,
    );
    await check(
      "no balance below zero",
      sql`select account, coin, balance from wallet_balances where balance < 0 and account <> ${DEPOSITS}`,
      (r) => `${r.account} coin ${r.coin}: ${r.balance}`,
    );
    await check(
      "a packet's shares add up to its amount",
      sql`select p.id, p.amount, p.size, coalesce(x.s, 0) as s, coalesce(x.n, 0) as n from red_packets p
        left join (select packet_id, ${sum("amount")} as s, count(*) as n from red_packet_shares group by packet_id) x
          on x.packet_id = p.id
        where coalesce(x.s, 0) <> p.amount or coalesce(x.n, 0) <> p.size`,
      (r) => `packet ${r.id}: amount ${r.amount} size ${r.size}, shares ${r.s} in ${r.n}`,
    );
    await check(
      "the sender paid the packet into escrow once",
      sql`select p.id from red_packets p where (select count(*) from wallet_ledger l where l.reason = 'escrow'
          and l.ref = p.id and l.account = ${sql.raw("'u:' || p.sender_id")} and l.amount = -p.amount) <> 1`,
      (r) => `packet ${r.id}`,
    );
    await check(
      "escrow equals the unsettled shares",
      sql`select p.id, coalesce(l.s, 0) as l, coalesce(u.s, 0) as u from red_packets p
        left join (select account, ${sum("amount")} as s from wallet_ledger where account like 'p:%' group by account) l
          on l.account = 'p:' || p.id
        left join (select packet_id, ${sum("amount")} as s from red_packet_shares
          where state in ('open', 'held', 'pending') group by packet_id) u on u.packet_id = p.id
        where coalesce(l.s, 0) <> coalesce(u.s, 0)`,
      (r) => `packet ${r.id}: escrow ledger ${r.l}, unsettled shares ${r.u}`,
    );
    await check(
      "every claimed share was credited to its claimer once",
      sql`select s.packet_id, s.idx from red_packet_shares s where s.state = 'claimed' and (select count(*)
          from wallet_ledger l where l.reason = 'claim' and l.ref = s.packet_id || ':' || s.idx
          and l.account = 'u:' || s.claimer_id and l.amount = s.amount) <> 1`,
      (r) => `share ${r.packet_id}:${r.idx}`,
    );
    await check(
      "every claim credit is a claimed share",
      sql`select count(*) as n from wallet_ledger where reason = 'claim' and amount > 0
        having count(*) <> (select count(*) from red_packet_shares where state = 'claimed')`,
      (r) => `${r.n} claim credits`,
    );
    await check(
      "refunds equal the refunded shares",
      sql`select p.id from red_packets p where (select coalesce(sum(amount), 0) from red_packet_shares
          where packet_id = p.id and state = 'refunded') <> (select coalesce(sum(amount), 0) from wallet_ledger
          where reason = 'refund' and account = 'u:' || p.sender_id and ref like p.id || ':%')`,
      (r) => `packet ${r.id}`,
    );
    await check(
      "a user claims a packet at most once",
      sql`select packet_id, claimer_id, count(*) as n from red_packet_shares where claimer_id is not null
        group by packet_id, claimer_id having count(*) > 1`,
      (r) => `packet ${r.packet_id}: user ${r.claimer_id} ${r.n} times`,
    );
    return issues;
  }
}

class RefusedDeposit extends Error {}
