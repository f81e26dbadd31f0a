import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Runs `fn` atomically: in a transaction of its own, or — when `db` is already a transaction's
 * (a `Storage.transaction` handle) — directly in that one, so it commits or rolls back with it.
 * The one way a repository groups several statements.
 */
export function atomic<T>(db: Kysely<Database>, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}
