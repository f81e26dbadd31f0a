import { createHash, scryptSync } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { type Config, envName, KEYS } from "../config/schema.ts";

/**
 * A start-up failure an operator can fix by changing one setting: printed as one line naming the
 * setting (no stack trace), exit status 3. See docs/OPERATIONS.md ("Exit status").
 */
export class StartupError extends Error {
  constructor(
    /** The environment variable of the setting to look at, e.g. `PARLEY_DATABASE_URL`. */
    readonly setting: string,
    message: string,
  ) {
    super(`${message} (${setting})`);
  }
}

/** The most useful one-line reason of a network or file-system error. */
function why(e: unknown): string {
  const err = e as { message?: string; code?: string; errors?: unknown[] };
  // connect() to "localhost" fails with an AggregateError (IPv4 + IPv6) whose message is empty.
  if (!err?.message && Array.isArray(err?.errors) && err.errors.length) return why(err.errors[0]);
  return (err?.message || err?.code || String(e)).split("\n")[0];
}

/** `postgres://user:pw@db:5432/x` → `db:5432/x`: where it is, never the credentials. */
export function urlWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * The data directory exists (or can be created, private: 0700) and a file can be written and
 * removed in it.
 */
export function checkDataDir(dir: string, mode = 0o700): void {
  const probe = join(dir, `.parley-write-test-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true, mode });
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
  } catch (e) {
    throw new StartupError("PARLEY_DATA_DIR", `data directory ${resolve(dir)} is not writable: ${why(e)}`);
  }
}

/** One connection and `select 1`, with a bounded wait. */
export async function checkPostgres(url: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } catch (e) {
    throw new StartupError("PARLEY_DATABASE_URL", `cannot reach PostgreSQL at ${urlWhere(url)}: ${why(e)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** One connection and PING, no retries, with a bounded wait. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  let last: unknown = null;
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on("error", (e) => {
    last = e;
  });
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    // ioredis reports "Connection is closed." after the real cause went to the error event.
    throw new StartupError("PARLEY_REDIS_URL", `cannot reach Redis at ${urlWhere(url)}: ${why(last ?? e)}`);
  } finally {
    r.disconnect();
  }
}

/** Maps a failed `listen()` to the setting behind it; other errors are returned unchanged. */
export function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as { code?: string })?.code;
  if (code === "EADDRINUSE") return new StartupError("PARLEY_PORT", `port ${port} on ${host} is already in use`);
  if (code === "EACCES")
    return new StartupError(
      "PARLEY_PORT",
      `no permission to listen on port ${port} of ${host} (ports < 1024 need privileges)`,
    );
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
    return new StartupError("PARLEY_HOST", `cannot listen on ${host}: it is not an address of this machine`);
  return e;
}

// -------------------------------------------------------------------------------------------------
// cluster mode

/**
 * Settings each node may set for itself (addresses, its own files and logs, its database pool and
 * other per-node capacity — the password-hash pool, the write lanes — how it shuts down). Every other key is cluster-wide: nodes that disagree on it would answer the same request
 * differently, so a node refuses to join a cluster whose live nodes run with other values.
 */
export const NODE_LOCAL_SETTINGS: ReadonlySet<string> = new Set([
  "port",
  "host",
  "tcpPort",
  "dataDir",
  "dataDirMode",
  "fileMode",
  "database.poolSize",
  "accounts.hashConcurrency",
  "accounts.hashQueue",
  "messages.writeLanes",
  "redisUrl",
  "redisPrefix",
  "nodeId",
  "logLevel",
  "logFormat",
  "requestLog",
  "metrics.token",
  "http.trustProxy",
  "console.port",
  "im.advertiseHost",
  "shutdown.drainDelayMs",
  "shutdown.graceMs",
  "cluster.allowMixedSettings",
]);

/** Cluster-wide secrets: compared through a slow salted hash, never stored in clear. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(["adminToken", "customerKey"]);

function valueAt(config: Readonly<Config>, path: string): unknown {
  let v: unknown = config;
  for (const part of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[part];
  return v;
}

/**
 * The fingerprint of this node's cluster-wide settings (published in its registry entry): per
 * key a short hash of its value; PostgreSQL by where it is (credentials may differ per node);
 * secrets through scrypt salted with the Redis prefix, so Redis never holds a fast hash of them.
 */
export function clusterSettingsFingerprint(config: Readonly<Config>): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const k of KEYS) {
    if (NODE_LOCAL_SETTINGS.has(k.path)) continue;
    let v = valueAt(config, k.path);
    if (k.path === "databaseUrl") v = v ? urlWhere(String(v)) : "";
    const text = JSON.stringify(v ?? null);
    out[k.path] = SECRET_SETTINGS.has(k.path)
      ? scryptSync(text, `parley-cluster-settings:${config.redisPrefix}`, 12, { N: 4096 }).toString("hex")
      : createHash("sha256").update(text).digest("hex").slice(0, 16);
  }
  return out;
}

/**
 * What cluster mode (a Redis URL) needs of this node's own settings: PostgreSQL (an SQLite file
 * is one node's, not the cluster's) and an explicit admin token (a generated one is stored in
 * one node's data directory and would work on that node only).
 */
export function checkClusterMode(config: Readonly<Config>): void {
  if (!config.redisUrl) return;
  if (!config.databaseUrl)
    throw new StartupError(
      "PARLEY_DATABASE_URL",
      "cluster mode (PARLEY_REDIS_URL is set) needs PostgreSQL shared by every node; SQLite is one node's file: set PARLEY_DATABASE_URL=postgres://… or unset PARLEY_REDIS_URL",
    );
  if (!config.adminToken)
    throw new StartupError(
      "PARLEY_ADMIN_TOKEN",
      "cluster mode (PARLEY_REDIS_URL is set) needs the same admin token on every node: set PARLEY_ADMIN_TOKEN",
    );
}

/** What cluster mode allows but probably did not mean: uploads kept on one node's disk. */
export function clusterModeWarnings(config: Readonly<Config>): string[] {
  if (!config.redisUrl || config.files.store !== "local") return [];
  return [
    `cluster mode with files.store=local: uploads stay in ${config.dataDir}/files of the node that took them; set files.store=database (PARLEY_FILES_STORE) unless that directory is shared storage`,
  ];
}

/**
 * Compares this node's cluster-wide settings with the live nodes' registry entries in Redis.
 * Throws a `StartupError` naming the first differing setting (all differing keys in the message)
 * unless `cluster.allowMixedSettings`, in which case the differences are returned as warnings.
 */
export async function checkClusterPeers(config: Readonly<Config>, timeoutMs = 5000): Promise<string[]> {
  if (!config.redisUrl) return [];
  const mine = clusterSettingsFingerprint(config);
  const r = new Redis(config.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on("error", () => {});
  let differing: Array<{ nodeId: string; keys: string[] }> = [];
  try {
    await r.connect();
    const live = await r.zrangebyscore(`${config.redisPrefix}nodes`, Date.now() - config.cluster.nodeTtlMs, "+inf");
    const infos = live.length ? await r.hmget(`${config.redisPrefix}nodeinfo`, ...live) : [];
    differing = live
      .map((nodeId, i) => {
        let theirs: Record<string, unknown> = {};
        try {
          theirs = (JSON.parse(infos[i] ?? "{}") as { settings?: Record<string, unknown> }).settings ?? {};
        } catch {
          // an unreadable entry compares as "no settings" (an older version): skipped below
        }
        // keys a node of another version does not know are not compared
        const keys = Object.keys(mine).filter((k) => k in theirs && theirs[k] !== mine[k]);
        return { nodeId, keys };
      })
      .filter((d) => d.nodeId !== config.nodeId && d.keys.length > 0);
  } catch (e) {
    throw new StartupError(
      "PARLEY_REDIS_URL",
      `cannot read the node registry at ${urlWhere(config.redisUrl)}: ${why(e)}`,
    );
  } finally {
    r.disconnect();
  }
  if (!differing.length) return [];
  const keys = [...new Set(differing.flatMap((d) => d.keys))];
  const text = `mixed settings in the cluster: live node ${differing[0].nodeId} runs with another ${keys.join(", ")}; set ${keys.length > 1 ? "them" : "it"} alike on every node (PARLEY_CLUSTER_ALLOW_MIXED_SETTINGS=1 starts anyway, for a rolling change)`;
  if (config.cluster.allowMixedSettings) return [text];
  throw new StartupError(envName(keys[0]), text);
}
