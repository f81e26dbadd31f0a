import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type LogEvent, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import { conflict } from "../../ports/errors.ts";
import type { GroupRepo } from "../../ports/groups.ts";
import type {
  FileRepo,
  FriendRepo,
  GatewaySystem,
  GatewaySystemRepo,
  MessageRepo,
  OrgRepo,
  QrRepo,
  SessionRepo,
  SettingsRepo,
  SmsRepo,
  Storage,
  StorageKind,
  UserRepo,
} from "../../ports/storage.ts";
import { SqlQr, SqlSessions, SqlSms, SqlUsers } from "./accounts-repos.ts";
import { mapErrors } from "./errors.ts";
import { SqlFiles } from "./file-repo.ts";
import { SqlGroups } from "./group-repos.ts";
import { SqlFriends, SqlMessages } from "./message-repos.ts";
import { buildMigrations } from "./migrations.ts";
import { SqlOrg } from "./org-repos.ts";
import type { Database } from "./schema.ts";
import { SqliteCheckpointer } from "./sqlite-checkpointer.ts";
import { withStatementCache } from "./sqlite-statement-cache.ts";

export interface SqlStorageOptions {
  /** postgres://… or empty for SQLite. */
  databaseUrl: string;
  /** SQLite file path (ignored for PostgreSQL). */
  sqliteFile: string;
  /** PostgreSQL pool size. */
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
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: opts.onQuery && queryLog(opts.onQuery) }),
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
      dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
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
  readonly friends: FriendRepo;
  readonly files: FileRepo;
  readonly groups: GroupRepo;
  private readonly checkpointer: SqliteCheckpointer | null;

  constructor(opts: SqlStorageOptions) {
    const { db, kind, raw } = createDb(opts);
    this.db = db;
    this.checkpointer =
      raw && opts.sqliteFile !== ":memory:" && opts.checkpointThread !== false
        ? new SqliteCheckpointer(raw, opts.sqliteFile, opts.log)
        : null;
    this.kind = kind;
    this.settings = new SqlSettings(db);
    this.gatewaySystems = new SqlGatewaySystems(db);
    this.users = new SqlUsers(db);
    this.sessions = new SqlSessions(db);
    this.sms = new SqlSms(db);
    this.org = new SqlOrg(db);
    this.qr = new SqlQr(db);
    this.messages = new SqlMessages(db, raw, () => this.checkpointer?.committed());
    this.friends = new SqlFriends(db);
    this.files = new SqlFiles(db);
    this.groups = new SqlGroups(db, kind);
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
