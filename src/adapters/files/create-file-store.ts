import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Config } from "../../config/schema.ts";
import type { FileStore } from "../../ports/file-store.ts";
import { modesOf } from "../data-dir.ts";
import type { Database } from "../sql/schema.ts";
import { LocalFileStore } from "./local-file-store.ts";
import { SqlFileStore } from "./sql-file-store.ts";

/**
 * The FileStore `files.store` names: `local` = `<dataDir>/files` on this node's disk (one node, or
 * a shared volume); `database` = chunk rows in the database the nodes share (docs/OPERATIONS.md
 * "File storage").
 */
export function createFileStore(config: Readonly<Config>, storage: { db: Kysely<Database> }): FileStore {
  if (config.files.store === "database") return new SqlFileStore(storage.db, config.files.chunkBytes);
  return new LocalFileStore(join(config.dataDir, "files"), modesOf(config));
}
