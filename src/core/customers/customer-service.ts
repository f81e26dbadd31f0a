import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type {
  Customer,
  CustomerFields,
  CustomerRepo,
  GroupReport,
  HistoryPoint,
  ServerReport,
  Stamped,
  TelemetryRepo,
  UserReport,
} from "../../ports/customers.ts";
import { AppError, forbidden, invalid, notFound } from "../errors.ts";
import { code, count, date, host, mac, type Params, phone, port, rowsOf, text } from "./validation.ts";

export interface CustomerOptions {
  /** History older than this many days is removed when a customer reports (0 = keep forever). */
  retentionDays: number;
  /** Largest number of rows in one user/group batch. */
  maxRows: number;
  now?: () => number;
}

/** A customer as the console shows it: every field but the key, which only shows as `hasKey`. */
export type CustomerView = Omit<Customer, "keyHash"> & { hasKey: boolean };

/** What a client app gets from /api/customer/info: addresses and the licence state, never the key. */
export interface CustomerInfo {
  code: string;
  name: string;
  tcphost: string;
  tcpport: number;
  webhost: string;
  webport: number;
  filehost: string;
  fileport: number;
  timeout: string;
  expired: boolean;
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

export const view = (c: Customer): CustomerView => {
  const { keyHash, ...rest } = c;
  return { ...rest, hasKey: keyHash !== null };
};

/** `YYYY-MM-DD` of `now` in UTC. */
const today = (now: number) => new Date(now).toISOString().slice(0, 10);

/** A licence expiring on day D is valid through D (UTC) and expired from D+1. */
export const isExpired = (timeout: string, now: number) => timeout !== "" && timeout < today(now);

/**
 * The customer console's core (seed 004): customers, the client lookup, and telemetry commits.
 * Validation of every field happens here (validation.ts), so both mounts of the surface and any
 * other caller get the same rules.
 */
export class CustomerService {
  private readonly now: () => number;

  constructor(
    private readonly customers: CustomerRepo,
    private readonly telemetry: TelemetryRepo,
    private readonly options: CustomerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Every field of an add (all of them) or an update (only those present). */
  private fields(p: Params, partial: boolean): Partial<CustomerFields> {
    const has = (f: string) => !partial || (p[f] !== undefined && p[f] !== null);
    const out: Partial<CustomerFields> = {};
    if (has("code")) out.code = code(p);
    if (has("name")) out.name = text(p, "name", 128, true);
    if (has("mac")) out.mac = mac(p, "mac", false);
    for (const [h, pt] of [
      ["tcphost", "tcpport"],
      ["webhost", "webport"],
      ["filehost", "fileport"],
    ] as const) {
      if (has(h)) out[h] = host(p, h, true);
      if (has(pt)) out[pt] = port(p, pt, true);
    }
    if (has("timeout")) out.timeout = date(p, "timeout", true);
    if (has("contact")) out.contact = text(p, "contact", 64);
    if (has("ctel")) out.ctel = phone(p, "ctel");
    if (has("server")) out.server = text(p, "server", 64);
    if (has("key")) {
      const key = text(p, "key", 128);
      out.keyHash = key === "" ? null : sha256(key);
    }
    return out;
  }

  async add(p: Params): Promise<CustomerView> {
    const now = this.now();
    const c: Customer = {
      ...(this.fields(p, false) as CustomerFields),
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
    };
    await this.customers.create(c);
    return view(c);
  }

  async update(p: Params): Promise<CustomerView> {
    const id = text(p, "id", 64, true);
    const patch = this.fields(p, true);
    const c = await this.customers.update(id, patch, this.now());
    if (!c) throw notFound("customer_not_found", "customer not found");
    return view(c);
  }

  async remove(p: Params): Promise<void> {
    const id = text(p, "id", 64, true);
    if (!(await this.customers.remove(id))) throw notFound("customer_not_found", "customer not found");
  }

  async list(): Promise<Array<CustomerView & { lastReport: Stamped<ServerReport> | null }>> {
    const rows = await this.customers.list();
    return rows.map(({ customer, lastReport }) => ({ ...view(customer), lastReport }));
  }

  private async byCode(p: Params): Promise<Customer> {
    const c = await this.customers.byCode(code(p));
    if (!c) throw notFound("customer_not_found", "unknown customer code");
    return c;
  }

  /** The client lookup: no token, never the key. */
  async info(p: Params): Promise<CustomerInfo> {
    const c = await this.byCode(p);
    return {
      code: c.code,
      name: c.name,
      tcphost: c.tcphost,
      tcpport: c.tcpport,
      webhost: c.webhost,
      webport: c.webport,
      filehost: c.filehost,
      fileport: c.fileport,
      timeout: c.timeout,
      expired: isExpired(c.timeout, this.now()),
    };
  }

  /** A customer with a key accepts reports carrying it (`key` parameter); others any report. */
  private checkKey(c: Customer, p: Params): void {
    if (c.keyHash === null) return;
    const given = typeof p.key === "string" ? p.key : typeof p.key === "number" ? String(p.key) : "";
    if (given === "") throw forbidden("key_required", "this customer's reports must carry its key");
    const ok = timingSafeEqual(Buffer.from(sha256(given), "hex"), Buffer.from(c.keyHash, "hex"));
    if (!ok) throw forbidden("bad_key", "wrong key");
  }

  private historySince(now: number): number {
    return this.options.retentionDays > 0 ? now - this.options.retentionDays * 86_400_000 : 0;
  }

  async commitServer(p: Params): Promise<void> {
    const c = await this.byCode(p);
    this.checkKey(c, p);
    const report: ServerReport = {
      name: text(p, "name", 128),
      mac: mac(p, "mac", false),
      ip: host(p, "ip", false),
      timeout: date(p, "timeout", false),
      count: count(p, "count"),
      updatetimes: count(p, "updatetimes"),
    };
    const now = this.now();
    await this.telemetry.commitServer(c.id, report, now, this.historySince(now));
  }

  /**
   * Rows of one batch: every row carries `code`, all the same customer (one `key` beside `data`
   * answers for the batch). Any bad row refuses the whole batch before anything is stored.
   */
  private async batch<T>(p: Params, row: (r: Params) => T): Promise<{ customer: Customer | null; rows: T[] }> {
    const raw = rowsOf(p, this.options.maxRows);
    if (raw.length === 0) return { customer: null, rows: [] };
    let first: string | null = null;
    const rows = raw.map((r, i) => {
      try {
        const c = code(r);
        if (first === null) first = c;
        else if (c !== first) throw invalid("mixed_codes", "code: every row of one batch must carry the same code");
        return row(r);
      } catch (e) {
        if (e instanceof AppError) throw new AppError(e.code, e.reason, `data[${i}]: ${e.message}`);
        throw e;
      }
    });
    const customer = await this.byCode({ code: first });
    this.checkKey(customer, p);
    return { customer, rows };
  }

  async commitUsers(p: Params): Promise<number> {
    const { customer, rows } = await this.batch<UserReport>(p, (r) => ({
      uuid: text(r, "uuid", 64, true),
      nickname: text(r, "nickname", 128),
      onlinetime: count(r, "onlinetime"),
      andtimes: count(r, "andtimes"),
      pctimes: count(r, "pctimes"),
      iostimes: count(r, "iostimes"),
      fmsgs: count(r, "fmsgs"),
      tmsgs: count(r, "tmsgs"),
    }));
    if (!customer) return 0;
    const now = this.now();
    await this.telemetry.commitUsers(
      customer.id,
      dedupe(rows, (r) => r.uuid),
      now,
      this.historySince(now),
    );
    return rows.length;
  }

  async commitGroups(p: Params): Promise<number> {
    const { customer, rows } = await this.batch<GroupReport>(p, (r) => ({
      gid: text(r, "gid", 64, true),
      name: text(r, "name", 128),
      createrid: text(r, "createrid", 64),
      creatername: text(r, "creatername", 128),
      ucount: count(r, "ucount"),
      msgcount: count(r, "msgcount"),
      ctime: text(r, "ctime", 32),
      fcount: count(r, "fcount"),
      ncount: count(r, "ncount"),
    }));
    if (!customer) return 0;
    const now = this.now();
    await this.telemetry.commitGroups(
      customer.id,
      dedupe(rows, (r) => r.gid),
      now,
      this.historySince(now),
    );
    return rows.length;
  }

  async users(p: Params): Promise<Array<Stamped<UserReport>>> {
    return this.telemetry.users((await this.byCode(p)).id);
  }

  async groups(p: Params): Promise<Array<Stamped<GroupReport>>> {
    return this.telemetry.groups((await this.byCode(p)).id);
  }

  /** Extension: a customer's report history for charts, `days` back (default 30), oldest first. */
  async history(p: Params): Promise<HistoryPoint[]> {
    const c = await this.byCode(p);
    const days = count(p, "days", 30, 3660);
    const limit = count(p, "limit", 1000, 10_000);
    return this.telemetry.history(c.id, days === 0 ? 0 : this.now() - days * 86_400_000, limit);
  }
}

/** A row reported twice in one batch: the later one wins (as a later batch would). */
function dedupe<T>(rows: T[], key: (r: T) => string): T[] {
  const m = new Map<string, T>();
  for (const r of rows) m.set(key(r), r);
  return [...m.values()];
}
