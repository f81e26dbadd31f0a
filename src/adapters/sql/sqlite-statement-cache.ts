import type SQLite from "better-sqlite3";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a small
 * statement. Kysely emits the same SQL text (with `?` placeholders) for the same query shape, so
 * caching prepared statements by text makes repeated queries cheap. Bounded LRU: shapes with
 * variable arity (multi-row inserts, IN lists) cannot grow it without limit.
 *
 * Safe because the driver only calls `all`/`run`/`iterate` to completion on one connection at a
 * time (Kysely serialises SQLite access with a mutex).
 */
export function withStatementCache(db: SQLite.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt) {
        // refresh LRU position
        cache.delete(sql);
      } else {
        stmt = db.prepare(sql);
        if (cache.size >= max) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      }
      cache.set(sql, stmt);
      return stmt as unknown as SqliteStatement;
    },
  };
}
