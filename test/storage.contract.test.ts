import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { AppError } from "../src/core/errors.ts";
import type { Storage } from "../src/ports/storage.ts";
import { createPgDatabase, DATABASE_URL } from "./helpers/backend.ts";

/**
 * One contract suite for the storage port, run against every implementation available in this run:
 * SQLite always, PostgreSQL when PARLEY_DATABASE_URL is set (CI's second run).
 */
const backends: Array<{ name: string; make: () => Promise<{ storage: Storage; cleanup: () => Promise<void> }> }> = [
  {
    name: "sqlite",
    async make() {
      const dir = mkdtempSync(join(tmpdir(), "parley-store-"));
      const storage = new SqlStorage({ databaseUrl: "", sqliteFile: join(dir, "t.db") });
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (DATABASE_URL) {
  backends.push({
    name: "postgres",
    async make() {
      const db = await createPgDatabase(DATABASE_URL);
      return { storage: new SqlStorage({ databaseUrl: db.url, sqliteFile: "" }), cleanup: db.drop };
    },
  });
}

for (const backend of backends) {
  describe(`storage contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ storage, cleanup } = await backend.make());
      assert.deepEqual(await storage.migrate(), ["0001_foundation", "0002_accounts"]);
    });
    after(async () => {
      await storage.close();
      await cleanup();
    });

    test("migrate is idempotent and ping answers", async () => {
      assert.deepEqual(await storage.migrate(), []);
      assert.equal(await storage.ping(), true);
      assert.equal(storage.kind, backend.name);
    });

    test("settings: get, getOrInit keeps the first value under a race, set overwrites", async () => {
      assert.equal(await storage.settings.get("k"), null);
      const values = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.settings.getOrInit("k", `v${i}`)));
      assert.equal(new Set(values).size, 1, "every racer sees the same winner");
      assert.equal(await storage.settings.get("k"), values[0]);
      await storage.settings.set("k", "other");
      assert.equal(await storage.settings.get("k"), "other");
      assert.equal(await storage.settings.getOrInit("k", "ignored"), "other");
    });

    test("gateway systems: create, find, duplicate is a conflict (not a driver error)", async () => {
      const now = Date.now();
      await storage.gatewaySystems.create({ systemId: "a", secretHash: null, createdAt: now });
      await storage.gatewaySystems.create({ systemId: "b", secretHash: "f".repeat(64), createdAt: now });
      assert.deepEqual(await storage.gatewaySystems.find("a"), { systemId: "a", secretHash: null, createdAt: now });
      assert.equal((await storage.gatewaySystems.find("b"))?.secretHash, "f".repeat(64));
      assert.equal(await storage.gatewaySystems.find("zzz"), null);
      await assert.rejects(
        storage.gatewaySystems.create({ systemId: "a", secretHash: null, createdAt: now }),
        (e: unknown) => e instanceof AppError && e.code === "conflict" && e.reason === "system_exists",
      );
      // a concurrent duplicate: exactly one wins
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          storage.gatewaySystems.create({ systemId: "race", secretHash: null, createdAt: now }),
        ),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    });

    test("ids are stored verbatim (unicode, quotes, long)", async () => {
      const id = `系统'"; DROP TABLE x; --${"z".repeat(100)}`;
      await storage.gatewaySystems.create({ systemId: id, secretHash: null, createdAt: 1 });
      assert.equal((await storage.gatewaySystems.find(id))?.systemId, id);
    });
  });
}
