import { AppError, invalid, unavailable } from "../../ports/errors.ts";

/** True when `e` is a unique/primary-key violation on SQLite or PostgreSQL. */
export function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const code = (e as { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/** Maps driver errors to core errors at the storage boundary. */
export async function mapErrors<T>(fn: () => Promise<T>, onUnique: () => AppError): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw onUnique();
    throw e;
  }
}

/**
 * PostgreSQL `text` cannot hold NUL (SQLSTATE 22021, and 22P05 for `jsonb`): a NUL in a value that
 * reaches a query is the client's bad input, not a server failure, so it becomes an
 * `invalid_argument` (each surface's bad-parameter answer) instead of a 500. SQLite stores and
 * compares NUL like any other character, so only the PostgreSQL path needs this.
 */
export function isUnstorableText(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const code = (e as { code?: unknown }).code;
  return code === "22021" || code === "22P05";
}

/** Socket-level error codes that mean PostgreSQL could not be reached (not that a query was wrong). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  // SQLSTATE: too many connections, admin/crash shutdown, cannot connect now
  "53300",
  "57P01",
  "57P02",
  "57P03",
]);

/**
 * True when `e` says PostgreSQL is unreachable or went away: a refused or reset socket, no local
 * address or port left to connect from, SQLSTATE class 08 (connection exception), a server
 * shutting down or out of connections, or node-postgres' own "connection terminated" and pool
 * connect-timeout errors (they carry no code).
 */
export function isUnreachable(e: unknown): boolean {
  if (typeof e !== "object" || e === null || e instanceof AppError) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  const message = (e as { message?: unknown }).message;
  return (
    typeof message === "string" &&
    /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(
      message,
    )
  );
}

/** A driver error as the core sees it: NUL in text is bad input, an unreachable server is "unavailable". */
const mapped = (e: unknown): never => {
  if (isUnstorableText(e)) throw invalid("unstorable_text", "text must not contain NUL characters");
  if (isUnreachable(e)) throw unavailable("storage_unreachable", `PostgreSQL: ${(e as Error).message}`);
  throw e;
};

interface QueryClient {
  query(...args: unknown[]): unknown;
}

/**
 * The pool Kysely's PostgresDialect uses, with its errors mapped at the storage boundary: a NUL in
 * text (`isUnstorableText`) becomes `invalid_argument`; a server that cannot be reached or went
 * away mid-query (`isUnreachable`: on `connect` and on every query) becomes `unavailable`
 * (`storage_unreachable`), which every surface answers as its "try again" error, never as a 500.
 */
export function mapPgErrors<P extends { connect(): Promise<QueryClient> }>(pool: P): P {
  const wrap = (client: QueryClient): QueryClient =>
    new Proxy(client, {
      get(target, prop) {
        if (prop === "query")
          return (...args: unknown[]) => {
            const out = target.query(...args);
            return out instanceof Promise ? out.catch(mapped) : out;
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === "connect")
        return async () => {
          try {
            return wrap(await target.connect());
          } catch (e) {
            return mapped(e);
          }
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
