import { join } from "node:path";
import type { Logger } from "pino";
import { modesOf, prepareDataDir, sqliteFileOf } from "../adapters/data-dir.ts";
import { SqlStorage, type SqlStorageOptions } from "../adapters/sql/sql-storage.ts";
import type { Config } from "../config/schema.ts";

/**
 * The storage adapter the config chooses (PostgreSQL when `databaseUrl` is set, else SQLite in
 * `<dataDir>/parley.db`), migrated. Closed again when migrating fails. The data dir is prepared
 * first (its mode, and the SQLite file created with the file mode before SQLite opens it).
 * `onQuery` reports every query for the business metrics (the server; see SqlStorageOptions).
 */
export async function openStorage(
  config: Readonly<Config>,
  log?: Logger,
  opts: Pick<SqlStorageOptions, "onQuery"> = {},
): Promise<{ storage: SqlStorage; applied: string[] }> {
  prepareDataDir(config.dataDir, modesOf(config), sqliteFileOf(config));
  const storage = new SqlStorage({
    databaseUrl: config.databaseUrl,
    sqliteFile: join(config.dataDir, "parley.db"),
    poolSize: config.database.poolSize,
    log,
    onQuery: opts.onQuery,
  });
  try {
    return { storage, applied: await storage.migrate() };
  } catch (e) {
    await storage.close();
    throw e;
  }
}
