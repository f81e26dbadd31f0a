import type { Kysely, Migration } from "kysely";

/**
 * Migrations in order. Names sort lexically; never edit one that has shipped — add a new one.
 * Written with Kysely's schema builder so the same code runs on SQLite and PostgreSQL.
 */
export const migrations: Record<string, Migration> = {
  "0001_foundation": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("settings")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("gateway_systems")
        .addColumn("system_id", "text", (c) => c.primaryKey())
        .addColumn("secret_hash", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable("gateway_systems").execute();
      await db.schema.dropTable("settings").execute();
    },
  },
};
