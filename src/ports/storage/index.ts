/**
 * Storage ports: one repository interface per aggregate, each in its own file here. The
 * implementations (SQLite, PostgreSQL) live in `src/adapters/sql` and pass the same contract
 * suites (`test/storage-*.contract.test.ts`, one per aggregate, over `forEachStorage()`).
 * Database errors never leak: a unique violation surfaces as `AppError("conflict")`.
 *
 * Core services receive only the repositories they use (`Pick<Repos, "users" | "sessions">`), and
 * `transaction` when they must write several of them atomically.
 */
import type { ChatroomRepo } from "../chatrooms.ts";
import type { CustomerRepo, TelemetryRepo } from "../customers.ts";
import type { SessionRepo, SmsRepo, UserRepo } from "./accounts.ts";
import type { FileRepo } from "./files.ts";
import type { FriendRepo } from "./friends.ts";
import type { GatewaySystemRepo } from "./gateway.ts";
import type { GroupRepo } from "./groups.ts";
import type { MessageRepo } from "./messages.ts";
import type { OrgRepo } from "./org.ts";
import type { QrRepo } from "./qr.ts";
import type { ReadCursorRepo } from "./read-cursors.ts";
import type { SettingsRepo } from "./settings.ts";
import type { WalletRepo } from "./wallet.ts";

export type * from "./accounts.ts";
export type * from "./files.ts";
export type * from "./friends.ts";
export type * from "./gateway.ts";
export * from "./groups.ts";
export type * from "./messages.ts";
export type * from "./org.ts";
export type * from "./qr.ts";
export type * from "./read-cursors.ts";
export type * from "./settings.ts";
export type * from "./wallet.ts";

/** Every repository, by aggregate. A transaction handle is one of these, bound to the transaction. */
export interface Repos {
  readonly settings: SettingsRepo;
  readonly gatewaySystems: GatewaySystemRepo;
  readonly users: UserRepo;
  readonly sessions: SessionRepo;
  readonly sms: SmsRepo;
  readonly qr: QrRepo;
  readonly org: OrgRepo;
  readonly messages: MessageRepo;
  readonly readCursors: ReadCursorRepo;
  readonly friends: FriendRepo;
  readonly files: FileRepo;
  readonly groups: GroupRepo;
  /** Chat rooms (src/ports/chatrooms.ts). */
  readonly chatrooms: ChatroomRepo;
  /** The customer console (seed 004, src/ports/customers.ts): customers and their reports. */
  readonly customers: CustomerRepo;
  readonly telemetry: TelemetryRepo;
  readonly wallet: WalletRepo;
}

export type StorageKind = "sqlite" | "postgres";

/**
 * `transaction(fn)` runs `fn` with a handle of repositories that all work inside ONE database
 * transaction, and commits when `fn` resolves.
 *
 * Guarantees (both engines; `test/storage-transaction.contract.test.ts` proves them):
 * - **Atomic**: everything written through the handle commits together; if `fn` throws (or a
 *   statement fails), all of it is rolled back and `transaction` rejects with that error.
 * - **Serialisable**: concurrent transactions behave as if they ran one after the other — a
 *   read-modify-write of the same rows from two transactions loses no update.
 *   - SQLite: the transaction starts with `BEGIN IMMEDIATE` (the write lock is taken up front)
 *     and holds the process's single connection until it ends, so other statements of this
 *     process — the synchronous message writer's batches included — wait for it, and other
 *     processes wait on the lock (`busy_timeout`). Keep `fn` short: every query of the node
 *     waits for it.
 *   - PostgreSQL: the transaction runs at `SERIALIZABLE` on one pooled connection; on a
 *     serialisation failure (40001) or a deadlock (40P01) it is rolled back and `fn` is run again
 *     from the start, up to `TRANSACTION_ATTEMPTS` times in all, then the error is `unavailable`
 *     (reason `storage_contention`). So `fn` may run more than once: it must do nothing but
 *     storage work through the handle (publish events, call other systems after it resolves).
 * - **One connection**: the handle's repositories run on the transaction's connection. Use only
 *   them inside `fn`; the outer repositories run outside the transaction (on SQLite they would
 *   wait for the connection the transaction holds, for ever).
 * - **No nesting**: the handle has no `transaction`; calling `Storage.transaction` again while
 *   inside `fn` rejects with an `Error` (a programming error) before touching the database, and
 *   the outer transaction then rolls back like on any error thrown in `fn`.
 */
export interface Transactional {
  transaction<T>(fn: (tx: Repos) => Promise<T>, opts?: TransactionOptions): Promise<T>;
}

/**
 * How a transaction isolates itself.
 * - `serializable` (default): the guarantees above.
 * - `row-locks`: for short transactions on rows that many writers touch at once (a red packet
 *   into a busy group bumps that conversation's `last_seq`; money moves): PostgreSQL runs it at
 *   READ COMMITTED — no serialisation failures, so no retries of `fn` on a hot row, only
 *   deadlocks (40P01) are retried — and `fn` must make its own reads safe: conditional updates
 *   whose affected rows it checks (`update … where balance >= x`), `SELECT … FOR UPDATE`, unique
 *   constraints. Lock rows in one global order (docs/red-packets.md). SQLite: the same as
 *   `serializable` (`BEGIN IMMEDIATE` already serialises every writer).
 */
export interface TransactionOptions {
  isolation?: "serializable" | "row-locks";
}

/** PostgreSQL: how many times a transaction is tried before a serialisation failure is `unavailable`. */
export const TRANSACTION_ATTEMPTS = 10;

export interface Storage extends Repos, Transactional {
  readonly kind: StorageKind;
  /** Applies pending migrations; returns the names applied. Idempotent. */
  migrate(): Promise<string[]>;
  /** Cheap liveness check for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
