// Shared pieces of bench/cluster.ts and bench/scale.ts: a PostgreSQL database and a Redis key
// prefix of the run's own (dropped at the end), N Parley nodes sharing them, client processes
// (bench/cluster-clients.ts) that each bind their own 127.x.y.z source address, /proc sampling and
// the Redis footprint of the run's keys. Only loopback addresses are ever contacted. Every process
// started here is stopped at the end, on error and on SIGINT/SIGTERM/SIGHUP.
import { type ChildProcess, fork, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import type { HistogramJSON } from "./lib/common.ts";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const ADMIN = "bench-cluster-admin-token-0123456789";
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// flags
// ---------------------------------------------------------------------------------------------
export function parseFlags(name: string, known: string[], usage: string): Map<string, string> {
  const flags = new Map<string, string>();
  for (const a of process.argv.slice(2)) {
    if (a === "-h" || a === "--help") {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (!a.startsWith("--")) throw new Error(`${name}: unexpected argument ${a}\n\n${usage}`);
    const eq = a.indexOf("=");
    const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!known.includes(k)) {
      process.stderr.write(`${name}: unknown flag --${k}\n\n${usage}`);
      process.exit(2);
    }
    flags.set(k, eq < 0 ? "true" : a.slice(eq + 1));
  }
  return flags;
}

export const DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/test";
export const DEFAULT_REDIS = "redis://127.0.0.1:6379";

/** The usage lines of the flags every cluster bench takes (see `benchFlags`). */
export function serviceUsage(outFiles: string): string {
  return `  --pg=URL             PostgreSQL server (default PARLEY_BENCH_PG or ${DEFAULT_PG}); a database of the run's own is created and dropped
  --redis=URL          Redis (default PARLEY_BENCH_REDIS or ${DEFAULT_REDIS}); a key prefix of the run's own, deleted at the end
  --client-nice=N      niceness of the client processes (default 0; e.g. 5 on a shared machine)
  --out=DIR            where ${outFiles} go (default bench/results)
`;
}

export interface BenchFlags {
  flags: Map<string, string>;
  pg: string;
  redis: string;
  out: string;
  clientNice: number;
}

/**
 * `parseFlags` plus the flags every cluster bench takes (`--pg`, `--redis`, `--client-nice`,
 * `--out`), with the check that both services are on loopback.
 */
export function benchFlags(name: string, known: string[], usage: string): BenchFlags {
  const flags = parseFlags(name, [...known, "pg", "redis", "client-nice", "out"], usage);
  const pg = flags.get("pg") ?? process.env.PARLEY_BENCH_PG ?? DEFAULT_PG;
  const redis = flags.get("redis") ?? process.env.PARLEY_BENCH_REDIS ?? DEFAULT_REDIS;
  for (const u of [pg, redis])
    if (!/^[a-z]+:\/\/([^@/]*@)?(127\.\d+\.\d+\.\d+|localhost)(:\d+)?(\/|$)/.test(u))
      throw new Error(`${name}: only loopback services (${u.replace(/\/\/[^@]*@/, "//")})`);
  const clientNice = Number(flags.get("client-nice") ?? 0);
  if (!Number.isInteger(clientNice) || clientNice < 0 || clientNice > 19) throw new Error("--client-nice: 0..19");
  setClientNice(clientNice);
  return { flags, pg, redis, out: path.resolve(flags.get("out") ?? path.join(ROOT, "bench/results")), clientNice };
}

export const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");

/** Runs a bench's main: prints the failure, stops every process and cleans up, then exits. */
export function runMain(name: string, main: () => Promise<void>): void {
  main()
    .catch((e) => {
      process.stderr.write(`${name} failed: ${(e as Error).stack}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await stopEverything();
      process.exit();
    });
}

export const ints = (s: string) =>
  s
    .split(",")
    .filter(Boolean)
    .map((x) => {
      const n = Number(x.replace(/k$/i, "000"));
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a count: ${x}`);
      return n;
    });

// ---------------------------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------------------------
const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];
let stopping = false;

export function onCleanup(f: () => Promise<void> | void): void {
  cleanups.push(f);
}

/** Kills every child and runs the cleanups (database, Redis keys, temp dirs), newest first. */
export async function stopEverything(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const f of cleanups.splice(0).reverse()) {
    try {
      await f();
    } catch (e) {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`);
    }
  }
}
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(sig, () => {
    void stopEverything().finally(() => process.exit(130));
  });

function track(cp: ChildProcess): ChildProcess {
  children.add(cp);
  cp.once("exit", () => children.delete(cp));
  return cp;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
onCleanup(() => agent.destroy());

export function request(
  port: number,
  method: string,
  p: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: ad-hoc JSON answers of several routes
): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: p,
        method,
        agent,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`timeout: ${method} ${p}`)));
    req.on("error", reject);
    req.end(data);
  });
}

// ---------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------
/** CPU seconds (user + system) of a process, all its threads. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

/** Open descriptors of a process (its sockets among them). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export function machineTicks(): { total: number; idle: number; steal: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4], steal: f[7] };
}

export const loadAvg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** What a result file says about the machine it came from. */
export function machine(): Record<string, string | number> {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  return {
    cpus: os.cpus().length,
    cpu,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    nofile: Number(spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout.trim()) || 0,
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL and Redis of the run's own
// ---------------------------------------------------------------------------------------------
export async function createDatabase(base: string): Promise<string> {
  const name = `parley_bench_${randomBytes(5).toString("hex")}`;
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  onCleanup(async () => {
    const d = new pg.Client({ connectionString: base });
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await d.end();
  });
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export function redisPrefix(): string {
  return `parley-bench-${randomBytes(5).toString("hex")}:`;
}

async function withRedis<T>(url: string, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  r.on("error", () => {});
  await r.connect();
  try {
    return await f(r);
  } finally {
    r.disconnect();
  }
}

export async function dropRedisPrefix(url: string, prefix: string): Promise<number> {
  return withRedis(url, async (r) => {
    let cursor = "0";
    let n = 0;
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== "0");
    return n;
  });
}

export interface RedisFootprint {
  keys: number;
  bytes: number;
  /** Presence sets (`p:<node>:<set>`) and the per-node lists of them (`pk:<node>`). */
  presenceKeys: number;
  presenceMembers: number;
  presenceBytes: number;
}

/** Keys under `prefix` and their `MEMORY USAGE` (every element counted: SAMPLES 0). */
export async function redisFootprint(url: string, prefix: string): Promise<RedisFootprint> {
  return withRedis(url, async (r) => {
    const out: RedisFootprint = { keys: 0, bytes: 0, presenceKeys: 0, presenceMembers: 0, presenceBytes: 0 };
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (!keys.length) continue;
      const p = r.pipeline();
      for (const k of keys) p.memory("USAGE", k, "SAMPLES", 0);
      const sizes = (await p.exec()) ?? [];
      const q = r.pipeline();
      const presence = keys.filter((k) => k.startsWith(`${prefix}p:`));
      for (const k of presence) q.scard(k);
      const cards = presence.length ? ((await q.exec()) ?? []) : [];
      keys.forEach((k, i) => {
        const b = Number(sizes[i]?.[1] ?? 0);
        out.keys++;
        out.bytes += b;
        if (k.startsWith(`${prefix}p:`) || k.startsWith(`${prefix}pk:`)) {
          out.presenceKeys++;
          out.presenceBytes += b;
        }
      });
      for (const c of cards) out.presenceMembers += Number(c?.[1] ?? 0);
    } while (cursor !== "0");
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Parley nodes
// ---------------------------------------------------------------------------------------------
export interface ParleyNode {
  index: number;
  nodeId: string;
  port: number;
  pid: number;
  cp: ChildProcess;
  log: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  runDir: string;
  env?: Record<string, string>;
}

async function waitReady(node: ParleyNode, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (node.cp.exitCode !== null || node.cp.signalCode !== null)
      throw new Error(`node ${node.index} exited (${node.cp.exitCode ?? node.cp.signalCode}); log: ${node.log}`);
    try {
      if ((await request(node.port, "GET", "/readyz")).status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`node ${node.index} not ready within ${ms} ms; log: ${node.log}`);
}

async function spawnNode(index: number, o: ClusterOptions, nodes: number): Promise<ParleyNode> {
  const port = await freePort();
  const nodeId = randomBytes(8).toString("hex");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `parley-bench-node${index}-`));
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const log = path.join(o.runDir, `node${index}.log`);
  const fd = openSync(log, "a");
  const cp = track(
    spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
      cwd: ROOT,
      env: {
        ...process.env,
        PARLEY_PORT: String(port),
        PARLEY_HOST: "127.0.0.1",
        PARLEY_DATA_DIR: dataDir,
        PARLEY_DATABASE_URL: o.databaseUrl,
        PARLEY_REDIS_URL: o.redisUrl,
        PARLEY_REDIS_PREFIX: o.redisPrefix,
        PARLEY_NODE_ID: nodeId,
        PARLEY_ADMIN_TOKEN: ADMIN,
        PARLEY_LOG_LEVEL: "warn",
        PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
        // the bench measures the pipeline, not the abuse limits
        PARLEY_CHAT33_MSG_RATE_PER_CONNECTION: "1000000",
        PARLEY_CHAT33_MSG_RATE_PER_USER: "1000000",
        PARLEY_ACCOUNTS_MULTI_LOGIN: "multi",
        PARLEY_BENCH: "1",
        // PostgreSQL's max_connections is 100 here: 12 nodes with the default pool of 10 ran out
        // of connections (53300 "too many clients") when the 200 k idle sockets closed at once
        PARLEY_DATABASE_POOL_SIZE: String(Math.max(2, Math.min(10, Math.floor(80 / nodes)))),
        ...o.env,
      },
      stdio: ["ignore", fd, fd],
    }),
  );
  closeSync(fd);
  const node: ParleyNode = {
    index,
    nodeId,
    port,
    pid: cp.pid as number,
    cp,
    log,
    async stop() {
      if (cp.exitCode !== null || cp.signalCode !== null) return;
      const exited = new Promise((r) => cp.once("exit", r));
      cp.kill("SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (cp.exitCode === null && cp.signalCode === null) cp.kill("SIGKILL");
    },
  };
  return node;
}

/**
 * A database, a Redis prefix and a run directory of the run's own (all removed at the end), and `n`
 * nodes on them.
 */
export async function startBenchCluster(
  name: string,
  n: number,
  o: { pg: string; redis: string; env?: Record<string, string> },
): Promise<{ nodes: ParleyNode[]; databaseUrl: string; prefix: string }> {
  const dir = runDir(name);
  const databaseUrl = await createDatabase(o.pg);
  const prefix = redisPrefix();
  onCleanup(async () => {
    await dropRedisPrefix(o.redis, prefix);
  });
  const nodes = await startCluster(n, { databaseUrl, redisUrl: o.redis, redisPrefix: prefix, runDir: dir, env: o.env });
  return { nodes, databaseUrl, prefix };
}

/** Nodes starting at once after the first: eleven at once on a busy 2-core box missed a 180 s readiness limit. */
const STARTS_AT_ONCE = 4;

/**
 * Starts `n` nodes on one database and one Redis prefix: the first alone (it migrates), then the
 * rest, `STARTS_AT_ONCE` at a time (each waits `readyMs` for its `/readyz`).
 */
export async function startCluster(n: number, o: ClusterOptions, readyMs = 300_000): Promise<ParleyNode[]> {
  const first = await spawnNode(0, o, n);
  await waitReady(first, readyMs);
  const nodes = [first];
  for (let i = 1; i < n; i += STARTS_AT_ONCE) {
    const group = await Promise.all(
      Array.from({ length: Math.min(STARTS_AT_ONCE, n - i) }, (_, k) => spawnNode(i + k, o, n)),
    );
    await Promise.all(group.map((x) => waitReady(x, readyMs)));
    nodes.push(...group);
  }
  return nodes;
}

// ---------------------------------------------------------------------------------------------
// Parley setup through its HTTP API
// ---------------------------------------------------------------------------------------------
const auth = { authorization: `Bearer ${ADMIN}` };

export async function createCompany(port: number): Promise<number> {
  const co = await request(port, "POST", "/admin/api/org/companies", { text: "Bench Co" }, auth);
  if (co.json?.code !== 0) throw new Error(`company: ${JSON.stringify(co.json)}`);
  return co.json.data.id;
}

/** A colleague of the company (colleagues may talk directly), logged in on `device`. */
export async function createUser(
  port: number,
  companyId: number,
  mobile: string,
  device = "Web",
): Promise<{ id: string; token: string }> {
  const u = await request(port, "POST", "/admin/api/users", { mobile, password: "bench-pass", companyId }, auth);
  if (u.json?.code !== 0) throw new Error(`user: ${JSON.stringify(u.json)}`);
  const login = await request(
    port,
    "POST",
    "/user/pwdLogin",
    { mobile, password: "bench-pass" },
    { "FZM-DEVICE": device },
  );
  if (login.json?.result !== 0) throw new Error(`login: ${JSON.stringify(login.json)}`);
  return { id: String(u.json.data.id), token: login.json.data.token };
}

export async function createRoom(port: number): Promise<string> {
  const room = await request(port, "POST", "/group/addGroup", { groupName: "bench room", avatar: "" }, auth);
  if (room.json?.result !== 0) throw new Error(`addGroup: ${JSON.stringify(room.json)}`);
  return String(room.json.data.groupId);
}

export async function registerSystem(port: number, systemId: string): Promise<void> {
  const r = await request(port, "POST", "/api/register", { systemId });
  if (r.status >= 500) throw new Error(`register: HTTP ${r.status} ${JSON.stringify(r.json)}`);
}

// ---------------------------------------------------------------------------------------------
// client processes (bench/cluster-clients.ts)
// ---------------------------------------------------------------------------------------------
export type ClientKind = "gateway" | "guest" | "user";

export interface OpenJob {
  kind: ClientKind;
  /** Where the sockets go: `count` sockets to each port, in order. */
  targets: Array<{ port: number; count: number }>;
  /** gateway: the system id. */
  systemId?: string;
  /** guest/user: the chat room to join (guest) or nothing (user: hears its direct messages). */
  room?: string;
  /** user: one token per socket, in target order. */
  tokens?: string[];
  /** A prefix for guest uuids (unique per process). */
  idPrefix?: string;
  /** Sockets opened at once. */
  batch?: number;
}

export interface ClientStats {
  open: number;
  closed: number;
  recv: number;
  hist: HistogramJSON;
  cpuSeconds: number;
  rssKiB: number;
  lastRecvAt: number;
}

/** A client process: up to `MAX_SOCKETS_PER_CLIENT` sockets, all from its own source address. */
export class ClientProc {
  readonly cp: ChildProcess;
  recv = 0;
  private waiters = new Map<string, { resolve: (m: never) => void; reject: (e: Error) => void }>();
  private onProgress: () => void = () => {};

  constructor(
    readonly index: number,
    readonly localAddress: string,
  ) {
    this.cp = track(
      fork(path.join(ROOT, "bench/cluster-clients.ts"), [localAddress], {
        cwd: ROOT,
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    if (clientNice && this.cp.pid) os.setPriority(this.cp.pid, clientNice);
    this.cp.on("message", (m: { type: string } & Record<string, unknown>) => {
      if (m.type === "p") {
        this.recv = Number(m.recv);
        this.onProgress();
        return;
      }
      if (m.type === "fatal") {
        const err = new Error(`client ${index} (${localAddress}): ${m.error}`);
        for (const w of this.waiters.values()) w.reject(err);
        this.waiters.clear();
        return;
      }
      const w = this.waiters.get(m.type);
      if (!w) return;
      this.waiters.delete(m.type);
      w.resolve(m as never);
    });
    this.cp.once("exit", (code, sig) => {
      for (const w of this.waiters.values()) w.reject(new Error(`client ${index} exited (${code ?? sig})`));
      this.waiters.clear();
    });
  }

  progress(f: () => void): void {
    this.onProgress = f;
  }

  ask<T>(msg: Record<string, unknown>, answer: string, ms = 1_800_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(answer);
        reject(new Error(`client ${this.index}: no ${answer} within ${ms} ms`));
      }, ms);
      this.waiters.set(answer, {
        resolve: (m: never) => {
          clearTimeout(t);
          resolve(m as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.cp.send(msg);
    });
  }

  ready(): Promise<void> {
    return this.ask({ type: "hello" }, "hello", 60_000);
  }
  /** `retried`: handshakes that timed out and were tried again (cumulative for the process). */
  open(job: OpenJob): Promise<{ ok: number; failed: number; ms: number; firstError: string | null; retried?: number }> {
    return this.ask({ type: "open", job }, "opened");
  }
  stats(): Promise<ClientStats> {
    return this.ask({ type: "stats" }, "stats", 60_000);
  }
  reset(): Promise<void> {
    return this.ask({ type: "reset" }, "resetDone", 60_000);
  }
  /** Sends `text` from socket `i` of the process (a logged-in user's socket): chat-room or direct. */
  say(i: number, frame: string): void {
    this.cp.send({ type: "say", i, frame });
  }
  async close(): Promise<void> {
    await this.ask({ type: "close" }, "closed", 120_000).catch(() => {});
  }
}

let clientNice = 0;
/** Niceness given to every client process started from now on (`--client-nice`). */
export function setClientNice(n: number): void {
  clientNice = n;
}

/** Most sockets one client process holds (each process is under the 20 000-descriptor limit). */
export const MAX_SOCKETS_PER_CLIENT = 18_000;

/** The source address of client process `i`: 127.10.<hi>.<lo>, never 127.0.0.1 (the nodes' own). */
export const clientAddress = (i: number) => `127.10.${Math.floor(i / 250)}.${(i % 250) + 1}`;

let wake: (() => void) | null = null;
export const poke = () => wake?.();
/** Resolves at the next progress report of any client, or after `ms`. */
export const nextProgress = (ms: number) =>
  new Promise<void>((r) => {
    const t = setTimeout(() => {
      wake = null;
      r();
    }, ms);
    wake = () => {
      clearTimeout(t);
      wake = null;
      r();
    };
  });

export function runDir(name: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `parley-bench-${name}-`));
  onCleanup(() => {
    if (!process.env.PARLEY_BENCH_KEEP_LOGS) rmSync(d, { recursive: true, force: true });
  });
  return d;
}
