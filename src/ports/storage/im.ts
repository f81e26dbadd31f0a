/**
 * Storage port of the cluster-admin surface (seed 003, core `src/core/im/`): access sessions
 * (`/im/register`), the online-user statistics (precisions and their sampled buckets), the
 * advertised node addresses (`listend` / `frwder` `add`), and the group rankings of
 * `/im/group/query` (read from the core group tables). Implemented by `src/adapters/sql/im-repo.ts`
 * for SQLite and PostgreSQL (migration `0010_im`).
 *
 * Guarantees (test/im-storage.test.ts, both engines):
 * - sids are positive integers, never reused;
 * - a precision is one row; adding it again replaces its `num`;
 * - a sample is one row per (precision, bucket): recording it again replaces the count, so
 *   several nodes writing the same bucket cannot duplicate it;
 * - an advertised address is one row per (kind, nid, type, ipaddr, port).
 */

export interface ImSession {
  sid: number;
  uid: number;
  nation: number;
  city: number;
  town: number;
  createdAt: number;
}

export interface ImPrecision {
  /** Bucket width in seconds. */
  prec: number;
  /** Buckets kept. */
  num: number;
}

export interface ImSample {
  /** Bucket start, seconds since epoch. */
  time: number;
  num: number;
}

export type ImNodeKind = "listend" | "frwder";

export interface ImAddress {
  kind: ImNodeKind;
  nid: number;
  /** Listener type: 1 TCP, 2 WS (frwder rows: 0). */
  type: number;
  ipaddr: string;
  port: number;
  createdAt: number;
}

export interface ImRepo {
  createSession(s: Omit<ImSession, "sid">): Promise<ImSession>;
  session(sid: number): Promise<ImSession | null>;

  precisions(): Promise<ImPrecision[]>;
  /** Adds or replaces a precision. */
  setPrecision(p: ImPrecision): Promise<void>;
  /** Removes a precision and its samples; false when there was none. */
  deletePrecision(prec: number): Promise<boolean>;
  /** Records (or replaces) one bucket's count and drops the buckets beyond the newest `keep`. */
  recordSample(prec: number, time: number, num: number, keep: number): Promise<void>;
  /** The newest `limit` buckets of a precision, newest first. */
  samples(prec: number, limit: number): Promise<ImSample[]>;

  addresses(kind: ImNodeKind): Promise<ImAddress[]>;
  addAddress(a: ImAddress): Promise<void>;
  /** Removes the rows matching (kind, nid, ipaddr, port); how many were removed. */
  deleteAddress(kind: ImNodeKind, nid: number, ipaddr: string, port: number): Promise<number>;

  /** Live groups with the most members, most first (ties: lower id first). */
  topGroupsByMembers(limit: number): Promise<Array<{ gid: number; total: number }>>;
  /** Live groups with the most messages (their conversation's last seq), most first. */
  topGroupsByMessages(limit: number): Promise<Array<{ gid: number; total: number }>>;
}
