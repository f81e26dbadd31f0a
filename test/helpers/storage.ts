import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { SqlStorage } from "../../src/adapters/sql/sql-storage.ts";
import type { NewUser, Storage, StorageKind } from "../../src/ports/storage.ts";
import { createPgDatabase, DATABASE_URL } from "./backend.ts";

/** Every storage implementation available in this run: SQLite always, PostgreSQL when configured. */
const BACKENDS: Array<{
  kind: StorageKind;
  make: () => Promise<{ storage: SqlStorage; cleanup: () => Promise<void> }>;
}> = [
  {
    kind: "sqlite",
    async make() {
      const dir = mkdtempSync(join(tmpdir(), "parley-store-"));
      const storage = new SqlStorage({ databaseUrl: "", sqliteFile: join(dir, "t.db") });
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (DATABASE_URL) {
  BACKENDS.push({
    kind: "postgres",
    async make() {
      const db = await createPgDatabase(DATABASE_URL);
      return { storage: new SqlStorage({ databaseUrl: db.url, sqliteFile: "" }), cleanup: db.drop };
    },
  });
}

export interface StorageContext {
  /** The storage under test (set before the suite's first test). */
  readonly storage: Storage;
  readonly kind: StorageKind;
}

/**
 * Runs one contract suite against every storage implementation of this run, each on its own fresh
 * database (migrated unless `migrate: false`), closed and removed after the suite.
 */
export function forEachStorage(
  aggregate: string,
  suite: (ctx: StorageContext) => void,
  opts: { migrate?: boolean } = {},
): void {
  for (const backend of BACKENDS) {
    describe(`storage contract (${aggregate}): ${backend.kind}`, () => {
      let made: { storage: SqlStorage; cleanup: () => Promise<void> } | null = null;
      const ctx: StorageContext = {
        get storage() {
          if (!made) throw new Error("storage not ready (used outside a test?)");
          return made.storage;
        },
        kind: backend.kind,
      };
      before(async () => {
        made = await backend.make();
        if (opts.migrate !== false) await made.storage.migrate();
      });
      after(async () => {
        if (!made) return;
        await made.storage.close();
        await made.cleanup();
      });
      suite(ctx);
    });
  }
}

/** A user row with every field set; override what the test cares about. */
export const newUser = (over: Partial<NewUser> = {}): NewUser => ({
  mobile: null,
  username: null,
  passwordHash: "scrypt$10$8$1$c2FsdA==$aGFzaA==",
  nickname: "n",
  avatar: "",
  sex: 0,
  position: "",
  description: "",
  email: "",
  birthday: null,
  sign: null,
  level: 1,
  isAdmin: false,
  verified: false,
  mutedUntil: 0,
  companyId: null,
  deptId: null,
  roleId: null,
  disabled: false,
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});
