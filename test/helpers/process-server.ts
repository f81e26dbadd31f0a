import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { envName } from "../../src/config/schema.ts";
import type { TestBackend } from "./backend.ts";
import { freePort } from "./ports.ts";

const BIN = join(new URL(".", import.meta.url).pathname, "../../bin/parley.mjs");

/** One pino JSON line of the server's output. */
export type LogLine = { level: number; msg?: string; err?: unknown; [k: string]: unknown };

export interface ProcessServer {
  child: ChildProcess;
  port: number;
  /** The TCP access port (seed 003) when `tcp: true` was asked for, else 0. */
  tcpPort: number;
  base: string;
  ws: string;
  /** The environment the server runs with (the CLI commands of the same data use it too). */
  env: NodeJS.ProcessEnv;
  /** Every JSON log line so far (stdout, parsed), and the lines that were not JSON (stdout + stderr). */
  logs: LogLine[];
  other: string[];
  /** Resolves with the exit code / signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, then wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), then wait for the exit. */
  stop(): Promise<void>;
}

/**
 * The environment of a spawned `parley` process that must not see the developer's own settings:
 * this process's environment without any `PARLEY_*` variable, listening on 127.0.0.1:`port`
 * (tests stay on loopback), its data in `dataDir`, warnings only; `vars` add to or override these.
 */
export function childEnv(port: number, dataDir: string, vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
  return {
    ...env,
    PARLEY_PORT: String(port),
    PARLEY_HOST: "127.0.0.1",
    PARLEY_DATA_DIR: dataDir,
    PARLEY_LOG_LEVEL: "warn",
    ...vars,
  };
}

/** The environment `parley serve` / `parley wallet verify` need for `backend`, plus config keys. */
export function serverEnv(
  backend: TestBackend,
  port: number,
  config: Record<string, string | number | boolean> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PARLEY_PORT: String(port),
    PARLEY_HOST: "127.0.0.1",
    PARLEY_DATA_DIR: backend.dataDir,
    PARLEY_DATABASE_URL: backend.databaseUrl,
    PARLEY_REDIS_URL: backend.redisUrl,
    PARLEY_REDIS_PREFIX: backend.redisPrefix,
    PARLEY_ADMIN_TOKEN: "test-admin-token",
    PARLEY_LOG_LEVEL: "warn",
    PARLEY_LOG_FORMAT: "json",
    PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
    PARLEY_RUN_FROM: "src",
  };
  for (const [k, v] of Object.entries(config)) env[envName(k)] = String(v);
  return env;
}

/**
 * `parley serve` as its own process (so it can be killed with SIGKILL, and a crash is a crash of
 * the server, not of the test), on `backend`'s storage, with its pino JSON output captured.
 * Resolves once `/readyz` answers 200.
 */
export async function spawnServer(
  backend: TestBackend,
  config: Record<string, string | number | boolean> = {},
  opts: { tcp?: boolean; readyMs?: number } = {},
): Promise<ProcessServer> {
  const port = await freePort();
  const tcpPort = opts.tcp ? await freePort() : 0;
  const env = serverEnv(backend, port, { ...(tcpPort ? { tcpPort } : {}), ...config });
  const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: LogLine[] = [];
  const other: string[] = [];
  let rest = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (d: string) => {
    rest += d;
    let i = rest.indexOf("\n");
    while (i >= 0) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        if (line.trim()) other.push(line);
      }
      i = rest.indexOf("\n");
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => other.push(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + (opts.readyMs ?? 120_000);
  for (;;) {
    if (gone) throw new Error(`server exited during start-up: ${other.join("").slice(-2000)}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (Date.now() > end) {
      child.kill("SIGKILL");
      throw new Error(`server did not become ready: ${other.join("").slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port,
    tcpPort,
    base,
    ws: `ws://127.0.0.1:${port}`,
    env,
    logs,
    other,
    exited,
    async kill9() {
      if (!gone) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (!gone) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `parley <args…>` with `env`: exit code and output (stdout + stderr). */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/** Error-level (≥ 50) lines that carry no cause (`err`/`error` with a message or type). */
export function uncausedErrors(logs: readonly LogLine[]): LogLine[] {
  return logs.filter((l) => {
    if (l.level < 50) return false;
    const cause = (l.err ?? l.error) as { message?: unknown; type?: unknown } | undefined;
    return !(cause && typeof cause === "object" && (cause.message || cause.type));
  });
}

/** The resident set size of process `pid` in bytes (Linux /proc), or 0 when unreadable. */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A `parley serve` child started by `spawnServe`, with the data folder it owns. */
export interface ServeChild {
  base: string;
  proc: ChildProcess;
  dataDir: string;
}

/**
 * Starts `parley serve` (bin/parley.mjs) on 127.0.0.1:`port` with exactly `env` (build it with
 * `childEnv`) and resolves once `/readyz` answers 200; throws if the process exits first or is not
 * ready within 60 s. `dataDir` is removed by `stopServe`.
 */
export async function spawnServe(port: number, dataDir: string, env: NodeJS.ProcessEnv): Promise<ServeChild> {
  const proc = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`node exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 600) throw new Error("node did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, proc, dataDir };
}

/** SIGTERM to a `spawnServe` child, waits for its exit, removes its data folder. */
export async function stopServe(n: ServeChild): Promise<void> {
  if (n.proc.exitCode === null) {
    const exited = new Promise((r) => n.proc.once("exit", r));
    n.proc.kill("SIGTERM");
    await exited;
  }
  rmSync(n.dataDir, { recursive: true, force: true });
}
