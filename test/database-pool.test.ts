import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { sql } from "kysely";
import pg from "pg";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { clusterSettingsFingerprint } from "../src/adapters/startup-checks.ts";
import { openStorage } from "../src/compose/storage.ts";
import { ConfigError, loadConfig } from "../src/config/load.ts";
import { createBackend, DATABASE_URL, type TestBackend, testConfig } from "./helpers/backend.ts";

/**
 * `database.poolSize`: the most PostgreSQL connections one node's pool opens. Loaded like every
 * key, node-local in cluster mode (nodes may differ), and used: on PostgreSQL the test's own
 * database shows, in `pg_stat_activity`, as many backends as the configured pool while more
 * queries than that are waiting for a connection.
 */

describe("database.poolSize: the setting", () => {
  test("default 10; PARLEY_DATABASE_POOL_SIZE and --database-pool-size set it; below 1 is refused", () => {
    assert.equal(loadConfig({ env: {} }).config.database.poolSize, 10);
    assert.equal(loadConfig({ env: { PARLEY_DATABASE_POOL_SIZE: "3" } }).config.database.poolSize, 3);
    assert.equal(loadConfig({ env: {}, argv: ["--database-pool-size=4"] }).config.database.poolSize, 4);
    assert.throws(() => loadConfig({ env: { PARLEY_DATABASE_POOL_SIZE: "0" } }), ConfigError);
    assert.throws(() => loadConfig({ env: { PARLEY_DATABASE_POOL_SIZE: "many" } }), ConfigError);
  });

  test("node-local: two nodes with different pool sizes publish the same cluster settings", () => {
    const a = loadConfig({ env: { PARLEY_DATABASE_POOL_SIZE: "4" } }).config;
    const b = loadConfig({ env: { PARLEY_DATABASE_POOL_SIZE: "40" } }).config;
    assert.deepEqual(clusterSettingsFingerprint(a), clusterSettingsFingerprint(b));
    assert.ok(!("database.poolSize" in clusterSettingsFingerprint(a)));
    // while a cluster-wide key still differs
    const c = loadConfig({ env: { PARLEY_IM_TOKEN_TTL_MS: "60000" } }).config;
    assert.notDeepEqual(clusterSettingsFingerprint(a), clusterSettingsFingerprint(c));
  });

  test("node-local too: the password-hash pool and the write lanes, a node's own capacity", () => {
    const small = loadConfig({ env: {} }).config;
    const big = loadConfig({
      env: {
        PARLEY_ACCOUNTS_HASH_CONCURRENCY: "8",
        PARLEY_ACCOUNTS_HASH_QUEUE: "500",
        PARLEY_MESSAGES_WRITE_LANES: "4",
      },
    }).config;
    assert.equal(big.accounts.hashConcurrency, 8);
    assert.equal(big.accounts.hashQueue, 500);
    assert.equal(big.messages.writeLanes, 4);
    // two batch transactions in flight by default (PostgreSQL; SQLite always runs one)
    assert.equal(small.messages.writeLanes, 2);
    assert.deepEqual(clusterSettingsFingerprint(small), clusterSettingsFingerprint(big));
  });
});

describe("database.poolSize: the PostgreSQL pool", () => {
  // an unreachable configured PostgreSQL fails in helpers/backend.ts under PARLEY_REQUIRE_SERVICES=1;
  // the SQLite runs (CI sets PARLEY_REQUIRE_SERVICES=1 there too) have none to test
  const skip = DATABASE_URL ? false : "needs PostgreSQL (PARLEY_DATABASE_URL)";
  const open: Array<{ storage: SqlStorage; backend: TestBackend }> = [];
  after(async () => {
    for (const o of open) {
      await o.storage.close();
      await o.backend.cleanup();
    }
  });

  /** The most backends of the storage's own database seen while `queries` sleeps wait for the pool. */
  async function peakBackends(poolSize: number | null, queries: number): Promise<number> {
    assert.ok(DATABASE_URL, "PARLEY_DATABASE_URL is unset");
    const backend = await createBackend();
    const { storage } = await openStorage(
      testConfig(backend, { redisUrl: "", ...(poolSize === null ? {} : { "database.poolSize": poolSize }) }),
    );
    open.push({ storage, backend });
    const dbName = new URL(backend.databaseUrl).pathname.slice(1);
    const observer = new pg.Client({ connectionString: DATABASE_URL });
    await observer.connect();
    try {
      // the pool keeps idle connections for a while: count only the ones running our sleep
      const running = Array.from({ length: queries }, () => sql`select pg_sleep(0.4)`.execute(storage.db));
      let peak = 0;
      let done = false;
      const all = Promise.all(running).then(() => {
        done = true;
      });
      while (!done) {
        const r = await observer.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = $1 and query like 'select pg_sleep%' and state = 'active'",
          [dbName],
        );
        peak = Math.max(peak, Number(r.rows[0].n));
        await new Promise((r) => setTimeout(r, 20));
      }
      await all;
      const total = await observer.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where datname = $1",
        [dbName],
      );
      assert.ok(Number(total.rows[0].n) <= (poolSize ?? 10), `${total.rows[0].n} backends on the database`);
      return peak;
    } finally {
      await observer.end();
    }
  }

  test("a pool of 2: 8 queries at once run on 2 connections", { skip }, async () => {
    assert.equal(await peakBackends(2, 8), 2);
  });

  test("the default pool: 14 queries at once run on 10 connections", { skip }, async () => {
    assert.equal(await peakBackends(null, 14), 10);
  });
});
