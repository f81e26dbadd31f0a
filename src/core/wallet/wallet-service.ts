import { randomUUID } from "node:crypto";
import type { LedgerRow, RedPacket, Repos, Share, User, VerifyIssue, WalletRepo } from "../../ports/storage.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import { MAX_UNITS } from "./amount.ts";

/** A configured coin: chat33's `coin` number and its name. */
export interface Coin {
  id: number;
  name: string;
}

/** `wallet.coins` entries (`1:BTY`) → coins; throws on a malformed entry (a configuration error). */
export function parseCoins(list: readonly string[]): Coin[] {
  const coins = list.map((entry) => {
    const m = /^([1-9][0-9]{0,8}):([A-Za-z0-9_-]{1,16})$/.exec(entry.trim());
    if (!m) throw new Error(`wallet.coins: "${entry}" is not <id>:<name> (e.g. 1:BTY)`);
    return { id: Number(m[1]), name: m[2] };
  });
  if (new Set(coins.map((c) => c.id)).size !== coins.length) throw new Error("wallet.coins: a coin id appears twice");
  if (coins.length === 0) throw new Error("wallet.coins: at least one coin");
  return coins;
}

/** Longest admin idempotency key. */
export const MAX_IDEMPOTENCY_KEY = 128;

export interface DepositResult {
  userId: number;
  coin: number;
  /** Units deposited. */
  amount: number;
  /** The user's balance in units right after this deposit. */
  balance: number;
  /** True when the key had been used before: nothing changed, the first answer is repeated. */
  replay: boolean;
}

/**
 * Balances and the ledger (docs/red-packets.md): balances per user per coin in integer units,
 * every change one ledger entry of two rows, admin deposits with an idempotency key, and
 * `verify` — every invariant recomputed from the stored rows (`parley wallet verify`).
 */
export class WalletService {
  private readonly byId: Map<number, Coin>;

  constructor(
    private readonly storage: Pick<Repos, "wallet" | "users">,
    readonly coins: readonly Coin[],
  ) {
    this.byId = new Map(coins.map((c) => [c.id, c]));
  }

  /** The configured coin `id`, or `bad_coin`. */
  coin(id: number): Coin {
    const c = this.byId.get(id);
    if (!c) throw invalid("bad_coin", `unknown coin ${id} (configured: ${this.coins.map((x) => x.id).join(", ")})`);
    return c;
  }

  /** Every configured coin with the user's balance in units (0 for coins never touched). */
  async balances(user: User): Promise<Array<{ coin: Coin; units: number }>> {
    const stored = await this.storage.wallet.balances(user.id);
    return this.coins.map((coin) => ({ coin, units: stored.get(coin.id) ?? 0 }));
  }

  balance(userId: number, coin: number): Promise<number> {
    return this.storage.wallet.balance(userId, coin);
  }

  /**
   * Credits `units` of `coin` to `userId` (an admin funding an account). The same
   * `idempotencyKey` again changes nothing and returns the first result; the key with other
   * parameters is `idempotency_key_reused`.
   */
  async deposit(userId: number, coin: number, units: number, idempotencyKey: string): Promise<DepositResult> {
    if (idempotencyKey.length < 1 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY || /\p{Cc}/u.test(idempotencyKey))
      throw invalid("bad_idempotency_key", `idempotencyKey must be 1..${MAX_IDEMPOTENCY_KEY} characters of text`);
    this.coin(coin);
    if (!Number.isSafeInteger(units) || units <= 0) throw invalid("bad_amount", "amount must be positive");
    if (!(await this.storage.users.findById(userId))) throw notFound("user_not_found", "user does not exist");
    const done = await this.storage.wallet.deposit(
      { idempotencyKey, userId, coin, amount: units, createdAt: Date.now() },
      randomUUID(),
      MAX_UNITS,
    );
    if (!done) throw invalid("balance_limit", "this deposit would take the coin's total past the largest amount");
    const d = done.deposit;
    if (done.replay && (d.userId !== userId || d.coin !== coin || d.amount !== units))
      throw conflict("idempotency_key_reused", "idempotencyKey was used for another deposit");
    return { userId: d.userId, coin: d.coin, amount: d.amount, balance: d.balanceAfter, replay: done.replay };
  }

  /** Every invariant, recomputed from the stored rows; empty when the books are consistent. */
  verify(): Promise<VerifyIssue[]> {
    return this.storage.wallet.verify();
  }

  /** A user's balance of every configured coin, in units (admin API). */
  async balancesOf(userId: number): Promise<Array<{ coin: Coin; units: number }>> {
    const stored = await this.storage.wallet.balances(userId);
    return this.coins.map((coin) => ({ coin, units: stored.get(coin.id) ?? 0 }));
  }

  /** Ledger rows newest first (admin API): see WalletRepo.ledgerPage. */
  ledgerPage(f: Parameters<WalletRepo["ledgerPage"]>[0]): Promise<LedgerRow[]> {
    if (f.coin !== undefined) this.coin(f.coin);
    return this.storage.wallet.ledgerPage(f);
  }

  /** Red packets newest first with their claimed / refunded counts (admin API). */
  packetsPage(f: Parameters<WalletRepo["packetsPage"]>[0]): ReturnType<WalletRepo["packetsPage"]> {
    if (f.coin !== undefined) this.coin(f.coin);
    return this.storage.wallet.packetsPage(f);
  }

  /** A packet and its shares (admin API); null when there is none. */
  async packetWithShares(id: string): Promise<{ packet: RedPacket; shares: Share[] } | null> {
    const packet = await this.storage.wallet.packet(id);
    return packet ? { packet, shares: await this.storage.wallet.shares(id) } : null;
  }
}
