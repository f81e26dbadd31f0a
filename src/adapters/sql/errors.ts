import { type AppError, invalid } from "../../ports/errors.ts";

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

const unstorable = (e: unknown): never => {
  if (isUnstorableText(e)) throw invalid("unstorable_text", "text must not contain NUL characters");
  throw e;
};

interface QueryClient {
  query(...args: unknown[]): unknown;
}

/** The pool Kysely's PostgresDialect uses, with every client's query errors mapped by `isUnstorableText`. */
export function mapPgTextErrors<P extends { connect(): Promise<QueryClient> }>(pool: P): P {
  const wrap = (client: QueryClient): QueryClient =>
    new Proxy(client, {
      get(target, prop) {
        if (prop === "query")
          return (...args: unknown[]) => {
            const out = target.query(...args);
            return out instanceof Promise ? out.catch(unstorable) : out;
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === "connect") return async () => wrap(await target.connect());
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
