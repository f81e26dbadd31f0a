/**
 * Ports of the customer console (seed 004, docs/console.md): customers (on-premise deployments a
 * vendor manages), the telemetry they report, and the statistics a Parley node reports about itself.
 * Self-contained on purpose (its own file, its own tables); implementations live in
 * `src/adapters/sql/customer-repos.ts`.
 */

/** A managed deployment. `code` is text (leading zeros matter). The key is kept as a hash only. */
export interface Customer {
  /** Generated uuid. */
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
  /** Licence expiry, `YYYY-MM-DD`. */
  timeout: string;
  contact: string;
  ctel: string;
  /** The vendor's account manager. */
  server: string;
  /** sha256 hex of the customer's report key, or null when reports need no key. */
  keyHash: string | null;
  createdAt: number;
  updatedAt: number;
}

export type CustomerFields = Omit<Customer, "id" | "createdAt" | "updatedAt">;

/** One server-state report (seed: /api/server/commit). */
export interface ServerReport {
  name: string;
  mac: string;
  ip: string;
  timeout: string;
  count: number;
  updatetimes: number;
}

/** One user row (seed: /api/user/commit). */
export interface UserReport {
  uuid: string;
  nickname: string;
  onlinetime: number;
  andtimes: number;
  pctimes: number;
  iostimes: number;
  fmsgs: number;
  tmsgs: number;
}

/** One group row (seed: /api/group/commit). */
export interface GroupReport {
  gid: string;
  name: string;
  createrid: string;
  creatername: string;
  ucount: number;
  msgcount: number;
  ctime: string;
  fcount: number;
  ncount: number;
}

export type Stamped<T> = T & { reportedAt: number };

/** One point of a customer's history (for charts): a server report, or a summary of a user/group batch. */
export interface HistoryPoint {
  kind: "server" | "users" | "groups";
  reportedAt: number;
  /** server: the report; users/groups: `{rows, ...sums}` of the batch. */
  values: Record<string, number | string>;
}

export interface CustomerRepo {
  /** Throws `conflict("customer_exists")` when the code is taken. */
  create(c: Customer): Promise<void>;
  /** Returns the updated customer, null when the id is unknown; `conflict("customer_exists")` on a taken code. */
  update(id: string, patch: Partial<CustomerFields>, now: number): Promise<Customer | null>;
  /** Removes the customer and every report of it, in one transaction. False when unknown. */
  remove(id: string): Promise<boolean>;
  byId(id: string): Promise<Customer | null>;
  byCode(code: string): Promise<Customer | null>;
  /** Every customer, by code, with its latest server report (null when none yet). */
  list(): Promise<Array<{ customer: Customer; lastReport: Stamped<ServerReport> | null }>>;
}

export interface TelemetryRepo {
  /**
   * Each of these stores one batch in ONE transaction: the latest state (a user or group reported
   * again replaces its row), a history entry, and removes this customer's history older than
   * `historySince` (ms). Either everything of the batch is stored or nothing.
   */
  commitServer(customerId: string, report: ServerReport, at: number, historySince: number): Promise<void>;
  commitUsers(customerId: string, rows: readonly UserReport[], at: number, historySince: number): Promise<void>;
  commitGroups(customerId: string, rows: readonly GroupReport[], at: number, historySince: number): Promise<void>;
  users(customerId: string): Promise<Array<Stamped<UserReport>>>;
  groups(customerId: string): Promise<Array<Stamped<GroupReport>>>;
  /** History points at or after `since`, oldest first, at most `limit`. */
  history(customerId: string, since: number, limit: number): Promise<HistoryPoint[]>;
}

/** What a Parley node knows about its own deployment (for reporting on itself). */
export interface DeploymentStats {
  /** Active (not disabled) users and the directory update count. */
  server(): Promise<{ count: number; updatetimes: number }>;
  /** Per-user statistics, by user id, `limit` rows after `afterId`. */
  users(afterId: number, limit: number, now: number): Promise<Array<UserReport & { id: number }>>;
  /** Per-group statistics (empty while the deployment has no groups). */
  groups(): Promise<GroupReport[]>;
}

/** How a node sends its reports to a console (an HTTP client in production). */
export interface ConsoleClient {
  /** POSTs `params` as JSON to `path` of the console; rejects unless it answers `code 0`. */
  commit(path: string, params: Record<string, unknown>): Promise<void>;
}
