/**
 * The wallet: balances, the double-entry ledger, admin deposits and red packets (docs/red-packets.md).
 *
 * Amounts are integers of minor units (1 coin = 10^8 units), always JavaScript safe integers.
 * Accounts are strings: `u:<userId>` (a user's balance), `p:<packetId>` (a red packet's escrow)
 * and `sys:deposits` (where admin deposits come from; its ledger sum is minus everything issued).
 * Only user accounts have a balance row; the escrow of a packet is materialised by its unsettled
 * shares (open, held or pending), the deposit account only by the ledger.
 *
 * Guarantees every implementation gives (test/wallet-ledger.test.ts, both backends):
 * - every method that moves money writes exactly two ledger rows of one entry (+x and −x) in the
 *   same statement group as the balance and share changes — on a transaction handle they commit
 *   or roll back with it, outside one they run in a transaction of their own;
 * - a balance never goes below zero (a conditional update, and a CHECK constraint);
 * - `UNIQUE(reason, ref, account)` on the ledger: the same claim, refund or deposit cannot be
 *   booked twice whatever the code does; `UNIQUE(packet, claimer)` on shares: a user claims at
 *   most once per packet; `UNIQUE(mark)`: a guest mark names one share.
 * - share state changes are conditional updates (`WHERE state = …`) whose affected rows are
 *   checked, so under row locks (`transaction(fn, {isolation: "row-locks"})`) two transactions
 *   never both take the same share.
 */

/** Why money moved (the ledger row's `reason`). */
export type LedgerReason = "deposit" | "escrow" | "claim" | "refund";

export interface LedgerRow {
  id: number;
  entryId: string;
  account: string;
  coin: number;
  /** Signed: credit > 0, debit < 0. */
  amount: number;
  reason: LedgerReason;
  ref: string;
  createdAt: number;
}

export interface Deposit {
  idempotencyKey: string;
  userId: number;
  coin: number;
  amount: number;
  /** The user's balance right after this deposit (what a replay of the key answers). */
  balanceAfter: number;
  createdAt: number;
}

/** chat33 numbering: 1 random (拼手气), 2 equal (普通). */
export type PacketType = 1 | 2;
/** chat33's own server numbering of the target: 0 friend, 1 group. */
export type PacketTarget = 0 | 1;

export interface RedPacket {
  id: string;
  senderId: number;
  coin: number;
  type: PacketType;
  amount: number;
  size: number;
  remark: string;
  cType: PacketTarget;
  /** Friend: the friend's user id; group: the group id. */
  toId: number;
  conversationId: number;
  /** The msgType 4 message announcing it (its logId). */
  messageId: number;
  createdAt: number;
  expiresAt: number;
  /** Set once the refund sweep found nothing left to refund (every share claimed or refunded). */
  settledAt: number | null;
}

/**
 * One pre-computed share. open → claimed (a member), open → held (a guest's mark) → claimed (an
 * existing user's mobile) | pending (an unknown mobile) → claimed (after registering), held → open
 * (hold over, lazily: a held share whose `heldUntil` passed counts as open), open/held → refunded
 * (packet expired), pending → refunded (`heldUntil` passed).
 */
export type ShareState = "open" | "held" | "pending" | "claimed" | "refunded";

export interface Share {
  packetId: string;
  idx: number;
  amount: number;
  state: ShareState;
  claimerId: number | null;
  mark: string | null;
  guestId: string | null;
  mobile: string | null;
  heldUntil: number | null;
  claimedAt: number | null;
}

/** A balance change booked as one ledger entry of two rows. */
export interface Transfer {
  entryId: string;
  coin: number;
  amount: number;
  from: string;
  to: string;
  reason: LedgerReason;
  ref: string;
  at: number;
}

export interface Claimed {
  share: Share;
  /** Shares still open or held after this claim (what `remain` reports). */
  remain: number;
}

export interface VerifyIssue {
  check: string;
  detail: string;
}

export interface WalletRepo {
  /** A user's balance per coin (coins never touched are absent). */
  balances(userId: number): Promise<Map<number, number>>;
  balance(userId: number, coin: number): Promise<number>;
  /**
   * Credits `userId` from `sys:deposits` under `idempotencyKey`. The first call books it and
   * returns `{deposit, replay: false}`; any later call with the key changes nothing and returns
   * the stored deposit with `replay: true` (the caller compares its fields). Refuses (returns
   * null) when the balance would exceed `maxBalance`.
   */
  deposit(
    d: Omit<Deposit, "balanceAfter">,
    entryId: string,
    maxBalance: number,
  ): Promise<{ deposit: Deposit; replay: boolean } | null>;
  /**
   * Creates the packet with its shares and moves `amount` from the sender into its escrow.
   * False (nothing written) when the sender's balance is short.
   */
  createPacket(p: RedPacket, shares: number[], entryId: string): Promise<boolean>;
  packet(id: string): Promise<RedPacket | null>;
  shares(packetId: string): Promise<Share[]>;
  shareByMark(mark: string): Promise<Share | null>;
  /** The share `userId` claimed in `packetId`, or null. */
  claimOf(packetId: string, userId: number): Promise<Share | null>;
  /**
   * Takes the lowest open share (or a held one whose hold passed) for `userId` and credits it, if
   * the packet has not expired at `now`. null: no share free. Throws `conflict` when the user
   * claimed this packet already (the unique constraint).
   */
  claim(packetId: string, userId: number, now: number, entryId: string): Promise<Claimed | null>;
  /** Reserves a free share for a guest under `mark` until `heldUntil` (same rules as `claim`). */
  hold(packetId: string, guestId: string, mark: string, now: number, heldUntil: number): Promise<Claimed | null>;
  /** The live hold `guestId` has on `packetId`, or null. */
  holdOf(packetId: string, guestId: string, now: number): Promise<Share | null>;
  /**
   * Credits the share reserved under `mark` (held and not lapsed, or pending for `mobile`) to
   * `userId`. null when the mark no longer names such a share. Throws `conflict` when the user
   * claimed this packet already.
   */
  claimMarked(mark: string, userId: number, mobile: string | null, now: number, entryId: string): Promise<Share | null>;
  /** A held, unlapsed share becomes pending for `mobile` until `pendingUntil`. False when the mark lapsed. */
  pend(mark: string, mobile: string, now: number, pendingUntil: number): Promise<boolean>;
  /**
   * Refunds to the sender, exactly once each: every open or held share of an expired packet and
   * every pending share whose `heldUntil` passed. Returns the amount refunded (0: nothing left)
   * and marks the packet settled when no share is left that could still be refunded.
   */
  refund(packetId: string, now: number, entryId: string): Promise<number>;
  /** Packets due a refund sweep at `now` (expired, not settled), oldest first. */
  dueForRefund(now: number, limit: number): Promise<string[]>;
  /**
   * Shares of `coin` that `userId` claimed with `claimedAt` in [from, to): their number and sum,
   * and the newest `limit` of them with their packets.
   */
  received(
    userId: number,
    coin: number,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ total: number; amount: number; list: Array<{ share: Share; packet: RedPacket }> }>;
  /** Packets of `coin` that `userId` sent in [from, to): number, sum, the newest `limit`. */
  sent(
    userId: number,
    coin: number,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ total: number; amount: number; list: RedPacket[] }>;
  /** The ledger rows of an account (tests, audits), oldest first. */
  ledger(account: string): Promise<LedgerRow[]>;
  /**
   * Ledger rows newest first (admin API): optionally of one account, coin or reason, and with
   * `id < beforeId` (the next page); at most `limit`.
   */
  ledgerPage(f: {
    account?: string;
    coin?: number;
    reason?: LedgerReason;
    beforeId?: number;
    limit: number;
  }): Promise<LedgerRow[]>;
  /**
   * Red packets newest first (admin API), optionally of one sender or coin, with their shares
   * counted by state and the claimed and refunded sums; `offset`/`limit` page, `total` counts all.
   */
  packetsPage(f: { senderId?: number; coin?: number; offset: number; limit: number }): Promise<{
    total: number;
    list: Array<{
      packet: RedPacket;
      claimed: number;
      claimedAmount: number;
      refunded: number;
      refundedAmount: number;
    }>;
  }>;
  /** Recomputes every invariant from the stored rows; empty when all hold. */
  verify(): Promise<VerifyIssue[]>;
}
