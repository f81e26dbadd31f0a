import { type Generated, type Kysely, type Selectable, sql } from "kysely";
import type {
  Customer,
  CustomerFields,
  CustomerRepo,
  DeploymentStats,
  GroupReport,
  HistoryPoint,
  ServerReport,
  Stamped,
  TelemetryRepo,
  UserReport,
} from "../../ports/customers.ts";
import { conflict } from "../../ports/errors.ts";
import { mapErrors } from "./errors.ts";
import type { Database } from "./schema.ts";

/** The console's own tables (migration 0007_customers); kept here, apart from schema.ts. */
interface CustomersTable {
  id: string;
  code: string;
  name: string;
  mac: string;
  tcphost: string;
  tcpport: number;
  webhost: string;
  webport: number;
  filehost: string;
  fileport: number;
  timeout: string;
  contact: string;
  ctel: string;
  server: string;
  key_hash: string | null;
  created_at: number;
  updated_at: number;
}

interface ServerReportsTable extends ServerReport {
  id: Generated<number>;
  customer_id: string;
  reported_at: number;
}

interface CustomerUsersTable extends UserReport {
  customer_id: string;
  reported_at: number;
}

interface CustomerGroupsTable extends GroupReport {
  customer_id: string;
  reported_at: number;
}

interface CustomerBatchesTable {
  id: Generated<number>;
  customer_id: string;
  kind: string;
  summary: string;
  reported_at: number;
}

type ConsoleTables = {
  customers: CustomersTable;
  customer_server_reports: ServerReportsTable;
  customer_users: CustomerUsersTable;
  customer_groups: CustomerGroupsTable;
  customer_batches: CustomerBatchesTable;
};

type Db = Kysely<Database & ConsoleTables>;

/** Rows per INSERT (11 columns each: far under both engines' parameter limits). */
const ROWS_PER_INSERT = 200;

const toCustomer = (r: CustomersTable): Customer => ({
  id: r.id,
  code: r.code,
  name: r.name,
  mac: r.mac,
  tcphost: r.tcphost,
  tcpport: Number(r.tcpport),
  webhost: r.webhost,
  webport: Number(r.webport),
  filehost: r.filehost,
  fileport: Number(r.fileport),
  timeout: r.timeout,
  contact: r.contact,
  ctel: r.ctel,
  server: r.server,
  keyHash: r.key_hash,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const FIELD_COLUMNS = [
  "code",
  "name",
  "mac",
  "tcphost",
  "tcpport",
  "webhost",
  "webport",
  "filehost",
  "fileport",
  "timeout",
  "contact",
  "ctel",
  "server",
] as const;

/** The columns of the fields present in `c` (the key as its hash). */
const toRow = (c: Partial<CustomerFields>): Partial<CustomersTable> => {
  const row: Record<string, unknown> = {};
  for (const f of FIELD_COLUMNS) if (c[f] !== undefined) row[f] = c[f];
  if (c.keyHash !== undefined) row.key_hash = c.keyHash;
  return row as Partial<CustomersTable>;
};

const toServerReport = (r: Selectable<ServerReportsTable>): Stamped<ServerReport> => ({
  name: r.name,
  mac: r.mac,
  ip: r.ip,
  timeout: r.timeout,
  count: Number(r.count),
  updatetimes: Number(r.updatetimes),
  reportedAt: Number(r.reported_at),
});

export class SqlCustomers implements CustomerRepo {
  private readonly db: Db;
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<ConsoleTables>();
  }

  async create(c: Customer): Promise<void> {
    await mapErrors(
      () =>
        this.db
          .insertInto("customers")
          .values({ ...(toRow(c) as CustomersTable), id: c.id, created_at: c.createdAt, updated_at: c.updatedAt })
          .execute(),
      () => conflict("customer_exists", "a customer with this code exists"),
    );
  }

  async update(id: string, patch: Partial<CustomerFields>, now: number): Promise<Customer | null> {
    const res = await mapErrors(
      () =>
        this.db
          .updateTable("customers")
          .set({ ...toRow(patch), updated_at: now })
          .where("id", "=", id)
          .executeTakeFirst(),
      () => conflict("customer_exists", "a customer with this code exists"),
    );
    if (Number(res.numUpdatedRows) === 0) return null;
    return this.byId(id);
  }

  async remove(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const res = await tx.deleteFrom("customers").where("id", "=", id).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) return false;
      for (const t of ["customer_server_reports", "customer_users", "customer_groups", "customer_batches"] as const)
        await tx.deleteFrom(t).where("customer_id", "=", id).execute();
      return true;
    });
  }

  async byId(id: string): Promise<Customer | null> {
    const r = await this.db.selectFrom("customers").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toCustomer(r) : null;
  }

  async byCode(code: string): Promise<Customer | null> {
    const r = await this.db.selectFrom("customers").selectAll().where("code", "=", code).executeTakeFirst();
    return r ? toCustomer(r) : null;
  }

  async list(): Promise<Array<{ customer: Customer; lastReport: Stamped<ServerReport> | null }>> {
    const customers = await this.db.selectFrom("customers").selectAll().orderBy("code").execute();
    // The latest report of every customer in one query (the highest id per customer).
    const latest = await this.db
      .selectFrom("customer_server_reports")
      .selectAll()
      .where("id", "in", (eb) =>
        eb
          .selectFrom("customer_server_reports")
          .select((e) => e.fn.max("id").as("id"))
          .groupBy("customer_id"),
      )
      .execute();
    const byCustomer = new Map(latest.map((r) => [r.customer_id, toServerReport(r)]));
    return customers.map((r) => ({ customer: toCustomer(r), lastReport: byCustomer.get(r.id) ?? null }));
  }
}

const sums = (rows: ReadonlyArray<Record<string, unknown>>, fields: readonly string[]) => {
  const out: Record<string, number> = { rows: rows.length };
  for (const f of fields) out[f] = rows.reduce((s, r) => s + Number(r[f] ?? 0), 0);
  return out;
};

/** A user or group row table: its key, its other columns (in order) and the counts among them. */
interface RowKind {
  table: "customer_users" | "customer_groups";
  key: "uuid" | "gid";
  kind: "users" | "groups";
  columns: readonly string[];
  /** Numbers, summed into the batch's history point. */
  counts: readonly string[];
}

const USER_COUNTS = ["onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs"];
const USERS: RowKind = {
  table: "customer_users",
  key: "uuid",
  kind: "users",
  columns: ["nickname", ...USER_COUNTS],
  counts: USER_COUNTS,
};
const GROUPS: RowKind = {
  table: "customer_groups",
  key: "gid",
  kind: "groups",
  columns: ["name", "createrid", "creatername", "ucount", "msgcount", "ctime", "fcount", "ncount"],
  counts: ["ucount", "msgcount", "fcount", "ncount"],
};

/** The two row tables as one shape, for the code they share (commitRows, latestRows). */
type LooseDb = Kysely<Record<RowKind["table"], Record<string, unknown>>>;

export class SqlTelemetry implements TelemetryRepo {
  private readonly db: Db;
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<ConsoleTables>();
  }

  /** Retention: this customer's history before `since` goes, inside the batch's transaction. */
  private async prune(tx: Db, customerId: string, since: number): Promise<void> {
    if (since <= 0) return;
    await tx
      .deleteFrom("customer_server_reports")
      .where("customer_id", "=", customerId)
      .where("reported_at", "<", since)
      .execute();
    await tx
      .deleteFrom("customer_batches")
      .where("customer_id", "=", customerId)
      .where("reported_at", "<", since)
      .execute();
  }

  async commitServer(customerId: string, report: ServerReport, at: number, historySince: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("customer_server_reports")
        .values({ ...report, customer_id: customerId, reported_at: at })
        .execute();
      await this.prune(tx, customerId, historySince);
    });
  }

  async commitUsers(customerId: string, rows: readonly UserReport[], at: number, historySince: number): Promise<void> {
    await this.commitRows(USERS, customerId, rows, at, historySince);
  }

  async commitGroups(
    customerId: string,
    rows: readonly GroupReport[],
    at: number,
    historySince: number,
  ): Promise<void> {
    await this.commitRows(GROUPS, customerId, rows, at, historySince);
  }

  async users(customerId: string): Promise<Array<Stamped<UserReport>>> {
    return this.latestRows<UserReport>(USERS, customerId);
  }

  async groups(customerId: string): Promise<Array<Stamped<GroupReport>>> {
    return this.latestRows<GroupReport>(GROUPS, customerId);
  }

  /**
   * One user/group batch in ONE transaction: the rows upserted (a row reported again replaces its
   * latest state, by `kind.key`), one history point with the sums of the counts, and retention.
   */
  private async commitRows(
    kind: RowKind,
    customerId: string,
    rows: ReadonlyArray<object>,
    at: number,
    historySince: number,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const loose = tx as unknown as LooseDb;
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await loose
          .insertInto(kind.table)
          .values(rows.slice(i, i + ROWS_PER_INSERT).map((r) => ({ ...r, customer_id: customerId, reported_at: at })))
          .onConflict((oc) =>
            oc
              .columns(["customer_id", kind.key])
              .doUpdateSet((eb) =>
                Object.fromEntries([...kind.columns, "reported_at"].map((c) => [c, eb.ref(`excluded.${c}`)])),
              ),
          )
          .execute();
      }
      await tx
        .insertInto("customer_batches")
        .values({
          customer_id: customerId,
          kind: kind.kind,
          summary: JSON.stringify(sums(rows as never, kind.counts)),
          reported_at: at,
        })
        .execute();
      await this.prune(tx, customerId, historySince);
    });
  }

  /** The latest row of each user/group of a customer, by key; counts as numbers. */
  private async latestRows<T>(kind: RowKind, customerId: string): Promise<Array<Stamped<T>>> {
    const rows = await (this.db as unknown as LooseDb)
      .selectFrom(kind.table)
      .selectAll()
      .where("customer_id", "=", customerId)
      .orderBy(kind.key)
      .execute();
    return rows.map((r) => {
      const out: Record<string, unknown> = { [kind.key]: r[kind.key] };
      for (const c of kind.columns) out[c] = kind.counts.includes(c) ? Number(r[c]) : r[c];
      out.reportedAt = Number(r.reported_at);
      return out as Stamped<T>;
    });
  }

  async history(customerId: string, since: number, limit: number): Promise<HistoryPoint[]> {
    const servers = await this.db
      .selectFrom("customer_server_reports")
      .selectAll()
      .where("customer_id", "=", customerId)
      .where("reported_at", ">=", since)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    const batches = await this.db
      .selectFrom("customer_batches")
      .selectAll()
      .where("customer_id", "=", customerId)
      .where("reported_at", ">=", since)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    const points: HistoryPoint[] = [
      ...servers.map((r): HistoryPoint => {
        const { reportedAt, ...values } = toServerReport(r);
        return { kind: "server", reportedAt, values };
      }),
      ...batches.map(
        (r): HistoryPoint => ({
          kind: r.kind === "groups" ? "groups" : "users",
          reportedAt: Number(r.reported_at),
          values: JSON.parse(r.summary) as Record<string, number>,
        }),
      ),
    ];
    points.sort((a, b) => a.reportedAt - b.reportedAt);
    return points.slice(-limit);
  }
}

/** Platforms of a session (its `platform`, else its `device`) → the seed's three columns. */
const PLATFORM_COLUMN: Record<string, "andtimes" | "pctimes" | "iostimes"> = {
  android: "andtimes",
  ios: "iostimes",
  iphone: "iostimes",
  ipad: "iostimes",
  pc: "pctimes",
  web: "pctimes",
  windows: "pctimes",
  mac: "pctimes",
  linux: "pctimes",
  desktop: "pctimes",
};

/**
 * What this Parley knows about itself, read from its own tables (docs/console.md, "What Parley
 * reports"). Times are minutes of signed-in session time (creation to revocation, expiry or now).
 */
export class SqlDeploymentStats implements DeploymentStats {
  constructor(private readonly db: Kysely<Database>) {}

  async server(): Promise<{ count: number; updatetimes: number }> {
    const users = await this.db
      .selectFrom("users")
      .select([
        (eb) => eb.fn.countAll<number>().as("all"),
        sql<number>`sum(case when disabled = 0 then 1 else 0 end)`.as("active"),
        sql<number>`sum(case when updated_at > created_at then 1 else 0 end)`.as("edited"),
      ])
      .executeTakeFirstOrThrow();
    const depts = await this.db
      .selectFrom("departments")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return {
      count: Number(users.active ?? 0),
      updatetimes: Number(users.all) + Number(users.edited ?? 0) + Number(depts.n),
    };
  }

  async users(afterId: number, limit: number, now: number): Promise<Array<UserReport & { id: number }>> {
    const users = await this.db
      .selectFrom("users")
      .select(["id", "uid", "nickname", "username", "mobile"])
      .where("id", ">", afterId)
      .orderBy("id")
      .limit(limit)
      .execute();
    if (!users.length) return [];
    const ids = users.map((u) => Number(u.id));
    const sessions = await this.db
      .selectFrom("sessions")
      .select(["user_id", "platform", "device", "created_at", "expires_at", "revoked_at"])
      .where("user_id", "in", ids)
      .execute();
    const sent = await this.db
      .selectFrom("messages")
      .select(["sender_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("sender_id", "in", ids)
      .where("deleted_at", "is", null)
      .groupBy("sender_id")
      .execute();
    // Received: messages of others in the user's direct conversations.
    const received = await this.db
      .selectFrom("messages as m")
      .innerJoin("conversations as c", "c.id", "m.conversation_id")
      .select([
        sql<number>`case when c.user_a = m.sender_id then c.user_b else c.user_a end`.as("user_id"),
        (eb) => eb.fn.countAll<number>().as("n"),
      ])
      .where("c.kind", "=", "direct")
      .where("m.deleted_at", "is", null)
      .where((eb) => eb.or([eb("c.user_a", "in", ids), eb("c.user_b", "in", ids)]))
      .groupBy(sql`case when c.user_a = m.sender_id then c.user_b else c.user_a end`)
      .execute();
    const sentBy = new Map(sent.map((r) => [Number(r.sender_id), Number(r.n)]));
    const receivedBy = new Map(received.map((r) => [Number(r.user_id), Number(r.n)]));
    const times = new Map<number, { andtimes: number; pctimes: number; iostimes: number; other: number }>();
    for (const s of sessions) {
      const end = Math.min(Number(s.revoked_at ?? s.expires_at), Number(s.expires_at), now);
      const minutes = Math.max(0, Math.floor((end - Number(s.created_at)) / 60_000));
      const t = times.get(Number(s.user_id)) ?? { andtimes: 0, pctimes: 0, iostimes: 0, other: 0 };
      const column = PLATFORM_COLUMN[(s.platform || s.device).toLowerCase()] ?? "other";
      t[column] += minutes;
      times.set(Number(s.user_id), t);
    }
    return users.map((u) => {
      const id = Number(u.id);
      const t = times.get(id) ?? { andtimes: 0, pctimes: 0, iostimes: 0, other: 0 };
      return {
        id,
        uuid: u.uid,
        nickname: (u.nickname || u.username || u.mobile || "").slice(0, 128),
        onlinetime: t.andtimes + t.pctimes + t.iostimes + t.other,
        andtimes: t.andtimes,
        pctimes: t.pctimes,
        iostimes: t.iostimes,
        fmsgs: sentBy.get(id) ?? 0,
        tmsgs: receivedBy.get(id) ?? 0,
      };
    });
  }

  /**
   * Every live (not dissolved) group: members, stored messages (recalled and deleted ones not
   * counted), file messages and notices (announcements and other system notices), creator.
   */
  async groups(): Promise<GroupReport[]> {
    const rows = await this.db
      .selectFrom("groups as g")
      .leftJoin("users as u", "u.id", "g.owner_id")
      .select([
        "g.id",
        "g.mark_id",
        "g.name",
        "g.created_at",
        "u.uid",
        "u.nickname",
        "u.username",
        "u.mobile",
        (eb) =>
          eb
            .selectFrom("group_members as m")
            .select((e) => e.fn.countAll<number>().as("n"))
            .whereRef("m.group_id", "=", "g.id")
            .as("ucount"),
        (eb) =>
          eb
            .selectFrom("messages as x")
            .select([sql<number>`count(*)`.as("n")])
            .whereRef("x.conversation_id", "=", "g.conversation_id")
            .where("x.recalled_at", "is", null)
            .where("x.deleted_at", "is", null)
            .as("msgcount"),
        (eb) =>
          eb
            .selectFrom("messages as x")
            .select([sql<number>`count(*)`.as("n")])
            .whereRef("x.conversation_id", "=", "g.conversation_id")
            .where("x.kind", "=", "file")
            .where("x.recalled_at", "is", null)
            .where("x.deleted_at", "is", null)
            .as("fcount"),
        (eb) =>
          eb
            .selectFrom("messages as x")
            .select([sql<number>`count(*)`.as("n")])
            .whereRef("x.conversation_id", "=", "g.conversation_id")
            .where("x.kind", "in", ["notice", "system"])
            .where("x.recalled_at", "is", null)
            .where("x.deleted_at", "is", null)
            .as("ncount"),
      ])
      .where("g.dissolved_at", "is", null)
      .orderBy("g.id")
      .execute();
    return rows.map((r) => ({
      gid: r.mark_id,
      name: r.name.slice(0, 128),
      createrid: r.uid ?? "",
      creatername: (r.nickname || r.username || r.mobile || "").slice(0, 128),
      ucount: Number(r.ucount ?? 0),
      msgcount: Number(r.msgcount ?? 0),
      ctime: new Date(Number(r.created_at)).toISOString().slice(0, 19).replace("T", " "),
      fcount: Number(r.fcount ?? 0),
      ncount: Number(r.ncount ?? 0),
    }));
  }
}

/** The console's repositories over an existing Kysely instance (SQLite or PostgreSQL). */
export function createCustomerStore(db: Kysely<Database>): {
  customers: SqlCustomers;
  telemetry: SqlTelemetry;
  stats: SqlDeploymentStats;
} {
  return { customers: new SqlCustomers(db), telemetry: new SqlTelemetry(db), stats: new SqlDeploymentStats(db) };
}
