import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";

/**
 * Test backends. By default tests run on SQLite + the in-process hub. With PARLEY_DATABASE_URL /
 * PARLEY_REDIS_URL set (as in CI's second run), every test gets its own PostgreSQL database and
 * Redis key prefix, created here and dropped afterwards. With PARLEY_REQUIRE_SERVICES=1 an
 * unreachable configured service fails the test instead of being skipped.
 */
export const REQUIRE_SERVICES = process.env.PARLEY_REQUIRE_SERVICES === "1";

async function reachable(kind: string, url: string, probe: () => Promise<void>): Promise<string> {
  if (!url) return "";
  try {
    await probe();
    return url;
  } catch (e) {
    const why = `${kind} at ${url.replace(/\/\/[^@]*@/, "//")} is unreachable: ${(e as Error).message}`;
    if (REQUIRE_SERVICES) throw new Error(`PARLEY_REQUIRE_SERVICES=1 and ${why}`);
    process.stderr.write(`# WARNING: ${why}; falling back to the embedded default for this run\n`);
    return "";
  }
}

/** PostgreSQL URL for this run, or "" (not configured, or unreachable without REQUIRE_SERVICES). */
export const DATABASE_URL = await reachable("PostgreSQL", process.env.PARLEY_DATABASE_URL ?? "", async () => {
  const c = new pg.Client({ connectionString: process.env.PARLEY_DATABASE_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  await c.end();
});

/** Redis URL for this run, or "" (as above). */
export const REDIS_URL = await reachable("Redis", process.env.PARLEY_REDIS_URL ?? "", async () => {
  const r = new Redis(process.env.PARLEY_REDIS_URL ?? "", {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
});

export interface TestBackend {
  dataDir: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  cleanup(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh PostgreSQL database on the server of `baseUrl`; dropped by the returned function. */
export async function createPgDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `parley_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(baseUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Deletes every Redis key under `prefix`. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}

export async function createBackend(): Promise<TestBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-test-"));
  let databaseUrl = "";
  let drop: (() => Promise<void>) | null = null;
  if (DATABASE_URL) {
    const db = await createPgDatabase(DATABASE_URL);
    databaseUrl = db.url;
    drop = db.drop;
  }
  const redisPrefix = `parley-t-${randomBytes(6).toString("hex")}:`;
  return {
    dataDir,
    databaseUrl,
    redisUrl: REDIS_URL,
    redisPrefix,
    async cleanup() {
      if (drop) await drop();
      if (REDIS_URL) await dropRedisPrefix(REDIS_URL, redisPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A validated config for tests: port 0, quiet logs, the backend's storage and hub. */
export function testConfig(backend: TestBackend, overrides: Record<string, unknown> = {}): Readonly<Config> {
  return loadConfig({
    env: {},
    overrides: {
      port: 0,
      host: "127.0.0.1",
      logLevel: "silent",
      dataDir: backend.dataDir,
      databaseUrl: backend.databaseUrl,
      redisUrl: backend.redisUrl,
      redisPrefix: backend.redisPrefix,
      adminToken: "test-admin-token",
      "accounts.scryptLogN": 10,
      ...overrides,
    },
  }).config;
}
