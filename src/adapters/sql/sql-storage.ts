import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type LogEvent,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
} from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import type { ChatroomRepo } from "../../ports/chatrooms.ts";
import type { CustomerRepo, TelemetryRepo } from "../../ports/customers.ts";
import { conflict, unavailable } from "../../ports/errors.ts";
import {
  type FileRepo,
  type FriendRepo,
  type GatewaySystem,
  type GatewaySystemRepo,
  type GroupRepo,
  type MessageRepo,
  type OrgRepo,
  type QrRepo,
  type ReadCursorRepo,
  type Repos,
  type SessionRepo,
  type SettingsRepo,
  type SmsRepo,
  type Storage,
  type StorageKind,
  TRANSACTION_ATTEMPTS,
  type TransactionOptions,
  type UserRepo,
  type WalletRepo,
} from "../../ports/storage.ts";
import { SqlQr, SqlSessions, SqlSms, SqlUsers } from "./accounts-repos.ts";
import { SqlChatrooms } from "./chatroom-repos.ts";
import { SqlCustomers, SqlTelemetry } from "./customer-repos.ts";
import { mapErrors, mapPgTextErrors } from "./errors.ts";
import { SqlFiles } from "./file-repo.ts";
import { SqlFriends } from "./friend-repo.ts";
import { SqlGroups } from "./group-repos.ts";
import { type SqliteFastPath, SqlMessages, sqliteFastPath } from "./message-repos.ts";
import { buildMigrations } from "./migrations.ts";
import { SqlOrg } from "./org-repos.ts";
import { SqlReadCursors } from "./read-cursor-repo.ts";
import type { Database } from "./schema.ts";
import { SqliteCheckpointer } from "./sqlite-checkpointer.ts";
import { withStatementCache } from "./sqlite-statement-cache.ts";
import { SqlWallet } from "./wallet-repo.ts";

export interface SqlStorageOptions {
  /** postgres://… or empty for SQLite. */
  databaseUrl: string;
  /** SQLite file path (ignored for PostgreSQL). */
  sqliteFile: string;
  /** PostgreSQL: most connections the pool opens (config `database.poolSize`; default 10). */
  poolSize?: number;
  /**
   * SQLite: checkpoint the WAL from a worker thread instead of inside commits on the event loop
   * (default true for a file database; see sqlite-checkpointer.ts).
   */
  checkpointThread?: boolean;
  /** Where storage reports trouble it handles itself (e.g. the checkpointer thread failing). */
  log?: Logger;
  /**
   * Called after every query run through Kysely (`op`: select, insert, update, delete or raw) with
   * its duration and whether it failed — for metrics. The SQLite batch message writer runs its
   * prepared statements directly and is not reported.
   */
  onQuery?: (op: string, ms: number, failed: boolean) => void;
}

const QUERY_OPS: Record<string, string> = {
  SelectQueryNode: "select",
  InsertQueryNode: "insert",
  UpdateQueryNode: "update",
  DeleteQueryNode: "delete",
};

/** Kysely's query log as an `onQuery` callback. */
function queryLog(onQuery: NonNullable<SqlStorageOptions["onQuery"]>) {
  return (e: LogEvent) => onQuery(QUERY_OPS[e.query.query.kind] ?? "raw", e.queryDurationMillis, e.level === "error");
}

const INT8_OID = 20;

/**
 * Kysely's SQLite driver with every transaction starting as `BEGIN IMMEDIATE`: the write lock is
 * taken before the first read, so a transaction never fails to upgrade its read lock to a write
 * lock half-way (SQLITE_BUSY), and two read-modify-write transactions serialise.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly dialectConfig: SqliteDialectConfig) {
    super(dialectConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.dialectConfig);
  }
}

/** Builds the Kysely instance for the configured engine. */
function createDb(opts: SqlStorageOptions): { db: Kysely<Database>; kind: StorageKind; raw: SQLite.Database | null } {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      // bigint columns hold ms timestamps and ids < 2^53: read them as numbers.
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === INT8_OID
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that errors (server restart) must not crash the process.
    pool.on("error", () => {});
    return {
      db: new Kysely<Database>({
        // a NUL reaching PostgreSQL text is bad input, not a 500 (errors.ts)
        dialect: new PostgresDialect({ pool: mapPgTextErrors(pool) }),
        log: opts.onQuery && queryLog(opts.onQuery),
      }),
      kind: "postgres",
      raw: null,
    };
  }
  if (opts.sqliteFile !== ":memory:") mkdirSync(dirname(opts.sqliteFile), { recursive: true });
  const sqlite = new SQLite(opts.sqliteFile);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  // Measured (bench/messages.ts): a 64 MiB page cache helps batched message writes. WAL
  // checkpoints run on a worker thread (sqlite-checkpointer.ts): inside commits on the event loop
  // they cost ~5 µs per message and stalled acks (p99 16–19 ms at 5 k msgs/s, 2–3 ms without).
  sqlite.pragma("cache_size = -65536");
  return {
    db: new Kysely<Database>({
      dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }),
      log: opts.onQuery && queryLog(opts.onQuery),
    }),
    kind: "sqlite",
    raw: sqlite,
  };
}

class SqlSettings implements SettingsRepo {
  constructor(private readonly db: Kysely<Database>) {}
  async get(key: string): Promise<string | null> {
    const row = await this.db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst();
    return row?.value ?? null;
  }
  async getOrInit(key: string, value: string): Promise<string> {
    await this.db
      .insertInto("settings")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    const stored = await this.get(key);
    if (stored === null) throw new Error(`settings.getOrInit: ${key} vanished`);
    return stored;
  }
  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto("settings")
      .values({ key, value })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
      .execute();
  }
}

class SqlGatewaySystems implements GatewaySystemRepo {
  constructor(private readonly db: Kysely<Database>) {}
  async create(s: GatewaySystem): Promise<void> {
    await mapErrors(
      () =>
        this.db
          .insertInto("gateway_systems")
          .values({ system_id: s.systemId, secret_hash: s.secretHash, created_at: s.createdAt })
          .execute(),
      () => conflict("system_exists"),
    );
  }
  async find(systemId: string): Promise<GatewaySystem | null> {
    const row = await this.db
      .selectFrom("gateway_systems")
      .selectAll()
      .where("system_id", "=", systemId)
      .executeTakeFirst();
    return row ? { systemId: row.system_id, secretHash: row.secret_hash, createdAt: Number(row.created_at) } : null;
  }
  async list(): Promise<GatewaySystem[]> {
    const rows = await this.db.selectFrom("gateway_systems").selectAll().orderBy("system_id").execute();
    return rows.map((row) => ({
      systemId: row.system_id,
      secretHash: row.secret_hash,
      createdAt: Number(row.created_at),
    }));
  }
}

/** Every repository on `db` (the storage's Kysely instance, or a transaction's). */
function reposOn(db: Kysely<Database>, kind: StorageKind, sqlite: SqliteFastPath | null): Repos {
  return {
    settings: new SqlSettings(db),
    gatewaySystems: new SqlGatewaySystems(db),
    users: new SqlUsers(db),
    sessions: new SqlSessions(db),
    sms: new SqlSms(db),
    org: new SqlOrg(db, kind),
    qr: new SqlQr(db),
    messages: new SqlMessages(db, sqlite),
    readCursors: new SqlReadCursors(db),
    friends: new SqlFriends(db),
    files: new SqlFiles(db),
    groups: new SqlGroups(db, kind),
    chatrooms: new SqlChatrooms(db),
    customers: new SqlCustomers(db),
    telemetry: new SqlTelemetry(db),
    wallet: new SqlWallet(db, kind),
  };
}

const RETRYABLE = new Set(["40001", "40P01"]);

/** The transaction `fn` runs in (its async context), to reject nested `transaction()` calls. */
interface OpenTransaction {
  open: boolean;
}

export class SqlStorage implements Storage {
  readonly kind: StorageKind;
  readonly db: Kysely<Database>;
  readonly settings: SettingsRepo;
  readonly gatewaySystems: GatewaySystemRepo;
  readonly users: UserRepo;
  readonly sessions: SessionRepo;
  readonly sms: SmsRepo;
  readonly org: OrgRepo;
  readonly qr: QrRepo;
  readonly messages: MessageRepo;
  readonly readCursors: ReadCursorRepo;
  readonly friends: FriendRepo;
  readonly files: FileRepo;
  readonly groups: GroupRepo;
  readonly chatrooms: ChatroomRepo;
  readonly customers: CustomerRepo;
  readonly telemetry: TelemetryRepo;
  readonly wallet: WalletRepo;
  private readonly checkpointer: SqliteCheckpointer | null;
  private readonly sqlite: SqliteFastPath | null;
  /**
   * Tracks the transaction a call comes from. Enabled only while a transaction is open (async
   * context tracking costs every promise a little), so the message path pays nothing otherwise.
   */
  private readonly current = new AsyncLocalStorage<OpenTransaction>();
  private openTransactions = 0;

  constructor(opts: SqlStorageOptions) {
    const { db, kind, raw } = createDb(opts);
    this.db = db;
    this.checkpointer =
      raw && opts.sqliteFile !== ":memory:" && opts.checkpointThread !== false
        ? new SqliteCheckpointer(raw, opts.sqliteFile, opts.log)
        : null;
    this.kind = kind;
    this.sqlite = raw ? sqliteFastPath(raw, () => this.checkpointer?.committed()) : null;
    const repos = reposOn(db, this.kind, this.sqlite);
    this.settings = repos.settings;
    this.gatewaySystems = repos.gatewaySystems;
    this.users = repos.users;
    this.sessions = repos.sessions;
    this.sms = repos.sms;
    this.org = repos.org;
    this.qr = repos.qr;
    this.messages = repos.messages;
    this.readCursors = repos.readCursors;
    this.friends = repos.friends;
    this.files = repos.files;
    this.groups = repos.groups;
    this.chatrooms = repos.chatrooms;
    this.customers = repos.customers;
    this.telemetry = repos.telemetry;
    this.wallet = repos.wallet;
  }

  /** See `Transactional` in src/ports/storage/index.ts for the guarantees. */
  async transaction<T>(fn: (tx: Repos) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    if (this.current.getStore()?.open)
      throw new Error("storage.transaction: nested transactions are not supported (use the handle you were given)");
    if (this.kind === "sqlite") {
      const out = await this.attempt(this.db.transaction(), fn);
      this.sqlite?.committed();
      return out;
    }
    const level = opts.isolation === "row-locks" ? "read committed" : "serializable";
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(this.db.transaction().setIsolationLevel(level), fn);
      } catch (e) {
        if (!RETRYABLE.has((e as { code?: string })?.code ?? "")) throw e;
        if (attempt >= TRANSACTION_ATTEMPTS)
          throw unavailable("storage_contention", `transaction failed ${attempt} times on concurrent updates`);
        // jittered backoff (a random wait up to 2, 4, 8 … ms, at most 50), so colliding retries spread out
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  /** One run of `fn` in a transaction of `builder`, with its async context marked as inside it. */
  private async attempt<T>(
    builder: { execute<R>(f: (trx: Kysely<Database>) => Promise<R>): Promise<R> },
    fn: (tx: Repos) => Promise<T>,
  ): Promise<T> {
    const marker: OpenTransaction = { open: true };
    this.openTransactions++;
    try {
      return await builder.execute((trx) =>
        this.current.run(marker, async () => {
          try {
            return await fn(reposOn(trx, this.kind, this.sqlite));
          } finally {
            // from here on, work that fn started (timers, promise chains) is outside it
            marker.open = false;
          }
        }),
      );
    } finally {
      if (--this.openTransactions === 0) this.current.disable();
    }
  }

  async migrate(): Promise<string[]> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => buildMigrations(this.kind) },
      migrationTableName: "parley_migrations",
      migrationLockTableName: "parley_migrations_lock",
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
  }

  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // The checkpointer's connection closes first, so the last one to close (ours) checkpoints the
    // WAL completely and removes it.
    await this.checkpointer?.close();
    await this.db.destroy();
  }
}
