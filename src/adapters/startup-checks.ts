import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";

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
