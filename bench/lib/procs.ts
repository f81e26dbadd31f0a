// Child-process bookkeeping for the orchestrator: every process the bench starts is registered
// here and is stopped at the end, on error and on SIGINT/SIGTERM/SIGHUP.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  Histogram,
  type HttpLoadJob,
  type HttpLoadResult,
  type HttpLoadToParent,
  hasType,
  type LoadgenStats,
  type LoadgenToParent,
  type ParentToLoadgen,
  request,
  sleep,
  type TargetKind,
} from "./common.js";

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function track(cp: ChildProcess): ChildProcess {
  children.add(cp);
  cp.once("exit", () => children.delete(cp));
  return cp;
}

function alive(cp: ChildProcess): boolean {
  return cp.exitCode === null && cp.signalCode === null;
}

/** SIGTERM, wait up to graceMs, then SIGKILL. */
export async function stopProcess(cp: ChildProcess, graceMs = 3000): Promise<void> {
  if (!alive(cp)) return;
  const exited = new Promise<void>((resolve) => cp.once("exit", () => resolve()));
  cp.kill("SIGTERM");
  const t = await Promise.race([exited.then(() => "exited" as const), sleep(graceMs).then(() => "timeout" as const)]);
  if (t === "timeout" && alive(cp)) {
    cp.kill("SIGKILL");
    await Promise.race([exited, sleep(2000)]);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((cp) => stopProcess(cp)));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Synchronous last resort (process 'exit' handler). */
function killAllSync(): void {
  for (const cp of children) {
    if (alive(cp)) cp.kill("SIGKILL");
  }
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // ignore
    }
  }
}

let handlersInstalled = false;
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[bench] ${sig}: stopping all child processes...\n`);
    const hard = setTimeout(() => {
      killAllSync();
      process.exit(130);
    }, 8000);
    stopAll().finally(() => {
      clearTimeout(hard);
      process.exit(130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("exit", killAllSync);
}

export function makeTempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// target servers
// ---------------------------------------------------------------------------------------------
export interface ServerHandle {
  kind: TargetKind;
  port: number;
  cp: ChildProcess;
  pid: number;
  logFile: string;
  /** set when the server process exits on its own or is stopped */
  exited?: { code: number | null; signal: NodeJS.Signals | null; at: number };
}

/** Throws if the server process is gone (crashed, killed) — with its exit status and log tail. */
export function assertServerAlive(h: ServerHandle, when: string): void {
  if (!h.exited) return;
  const { code, signal } = h.exited;
  throw new Error(
    `${h.kind} server died ${when} (exit code ${code}, signal ${signal}); log tail:\n${logTail(h.logFile, 12)}`,
  );
}

export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface ServerOptions {
  /** a command the server runs under, e.g. `["valgrind", "--tool=callgrind", …]` (bench/instr.ts) */
  wrapper?: string[];
  /** extra Node flags before the script, e.g. `--cpu-prof` */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** log file name in the run directory (default `<kind>-server.log`; the baseline Parley gets its own) */
  logName?: string;
}

export async function startServer(
  kind: TargetKind,
  root: string,
  runDir: string,
  notices: boolean,
  opts: ServerOptions = {},
): Promise<ServerHandle> {
  const port = await freePort();
  const logFile = path.join(runDir, opts.logName ?? `${kind}-server.log`);
  const fd = openSync(logFile, "a");
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_PARENT_PID: String(process.pid) };
  let args: string[];
  if (kind === "parley") {
    const dataDir = makeTempDir("parley-bench-data-");
    args = ["--import", "tsx", "src/cli.ts", "serve"];
    env.PARLEY_PORT = String(port);
    env.PARLEY_HOST = "127.0.0.1"; // loopback only, like the peers (the product default is 0.0.0.0)
    env.PARLEY_DATA_DIR = dataDir;
    env.PARLEY_LOG_LEVEL = "warn";
    env.PARLEY_BENCH = "1";
    // same notice behaviour as the peers (see README "Online notices"); an explicit setting wins
    env.PARLEY_GATEWAY_GROUP_NOTICES ??= notices ? "1" : "0";
  } else {
    args = ["--import", "tsx", kind === "raw" ? "bench/peers/raw-ws.ts" : "bench/peers/socketio.ts"];
    env.PORT = String(port);
    env.NOTICES = notices ? "1" : "0";
  }
  args = [...(opts.nodeArgs ?? []), ...args];
  const [command, ...wrapperArgs] = [...(opts.wrapper ?? []), process.execPath];
  const cp = track(
    spawn(command ?? process.execPath, [...wrapperArgs, ...args], { cwd: root, env, stdio: ["ignore", fd, fd] }),
  );
  closeSync(fd);
  if (cp.pid === undefined) throw new Error(`failed to spawn ${kind} server`);
  const handle: ServerHandle = { kind, port, cp, pid: cp.pid, logFile };
  cp.once("exit", (code, signal) => {
    handle.exited = { code, signal, at: Date.now() };
  });
  await waitReady(handle, opts.readyTimeoutMs ?? 60_000);
  return handle;
}

async function waitReady(h: ServerHandle, timeoutMs: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (!alive(h.cp))
        throw new Error(`${h.kind} server exited during startup (code ${h.cp.exitCode}):\n${logTail(h.logFile)}`);
      try {
        const r = await request(agent, {
          host: "127.0.0.1",
          port: h.port,
          method: "GET",
          path: "/readyz",
          timeoutMs: 2000,
        });
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(150);
    }
    throw new Error(`${h.kind} server not ready within ${timeoutMs} ms:\n${logTail(h.logFile)}`);
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// load generators
// ---------------------------------------------------------------------------------------------
type Waiter = { type: string; resolve: (m: LoadgenToParent) => void; reject: (e: Error) => void };

export class Loadgen {
  readonly cp: ChildProcess;
  pid = 0;
  recv = 0;
  frames = 0;
  live = 0;
  private waiters: Waiter[] = [];
  private onProgress: () => void;
  private exitError: Error | undefined;

  constructor(root: string, kind: TargetKind, port: number, onProgress: () => void) {
    this.onProgress = onProgress;
    this.cp = track(
      fork(path.join(root, "bench/loadgen.ts"), [kind, "127.0.0.1", String(port)], {
        cwd: root,
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    this.cp.on("message", (raw: unknown) => {
      if (!hasType(raw)) return;
      const m = raw as LoadgenToParent;
      if (m.type === "progress") {
        this.recv = m.recv;
        this.frames = m.frames;
        this.live = m.live;
        this.onProgress();
        return;
      }
      if (m.type === "resetDone") {
        this.recv = 0;
        this.frames = 0;
      }
      if (m.type === "fatal") {
        this.failAll(new Error(`loadgen ${this.pid}: ${m.error}`));
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i !== -1) {
        const [w] = this.waiters.splice(i, 1);
        w?.resolve(m);
      }
    });
    this.cp.on("exit", (code, sig) => {
      this.exitError = new Error(`loadgen exited (code ${code}, signal ${sig})`);
      this.failAll(this.exitError);
    });
  }

  private failAll(e: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
  }

  private expect<T extends LoadgenToParent["type"]>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<LoadgenToParent, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.exitError) {
        reject(this.exitError);
        return;
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`loadgen ${this.pid}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<LoadgenToParent, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private post(m: ParentToLoadgen): void {
    if (this.cp.connected) this.cp.send(m);
  }

  async ready(): Promise<void> {
    const m = await this.expect("ready", 30_000);
    this.pid = m.pid;
  }

  connect(
    count: number,
    systemId: string,
    batch: number,
    timeoutMs: number,
  ): Promise<Extract<LoadgenToParent, { type: "connected" }>> {
    const p = this.expect("connected", timeoutMs);
    this.post({ type: "connect", count, systemId, batch });
    return p;
  }

  bind(
    group: string,
    from: number,
    to: number,
    systemId: string,
    concurrency: number,
    deadlineMs: number,
  ): Promise<Extract<LoadgenToParent, { type: "bound" }>> {
    const p = this.expect("bound", Math.max(0, deadlineMs - Date.now()) + 60_000);
    this.post({ type: "bind", group, from, to, systemId, concurrency, deadlineMs });
    return p;
  }

  async clientIds(from: number, to: number): Promise<string[]> {
    const p = this.expect("clientIds", 10_000);
    this.post({ type: "clientIds", from, to });
    return (await p).ids;
  }

  async reset(): Promise<void> {
    const p = this.expect("resetDone", 10_000);
    this.post({ type: "reset" });
    await p;
  }

  async collect(): Promise<LoadgenStats> {
    const p = this.expect("stats", 10_000);
    this.post({ type: "collect" });
    return (await p).stats;
  }

  async exit(): Promise<void> {
    if (!alive(this.cp)) return;
    const exited = new Promise<void>((resolve) => this.cp.once("exit", () => resolve()));
    this.post({ type: "exit" });
    await Promise.race([exited, sleep(5000)]);
    await stopProcess(this.cp, 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP load process (one job per process)
// ---------------------------------------------------------------------------------------------
export async function runHttpLoad(root: string, job: HttpLoadJob): Promise<HttpLoadResult> {
  const cp = track(
    fork(path.join(root, "bench/httpload.ts"), [], {
      cwd: root,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  try {
    return await new Promise<HttpLoadResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("httpload: no result in time")), job.durationMs + 90_000);
      cp.on("message", (raw: unknown) => {
        if (!hasType(raw)) return;
        const m = raw as HttpLoadToParent;
        if (m.type === "ready") cp.send(job);
        else if (m.type === "result") {
          clearTimeout(timer);
          resolve(m);
        } else if (m.type === "fatal") {
          clearTimeout(timer);
          reject(new Error(`httpload: ${m.error}`));
        }
      });
      cp.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`httpload exited early (code ${code})`));
      });
    });
  } finally {
    await stopProcess(cp, 2000);
  }
}

/** Split one job's concurrency over `processes` HTTP load processes and merge their results. */
export async function runHttpLoadParallel(root: string, job: HttpLoadJob, processes: number): Promise<HttpLoadResult> {
  const n = Math.max(1, Math.min(processes, job.concurrency));
  const jobs = Array.from(
    { length: n },
    (_, i): HttpLoadJob => ({
      ...job,
      concurrency: Math.floor(job.concurrency / n) + (i < job.concurrency % n ? 1 : 0),
      ...(job.rate !== undefined ? { rate: job.rate / n } : {}),
    }),
  );
  const results = await Promise.all(jobs.map((j) => runHttpLoad(root, j)));
  const hist = new Histogram();
  for (const r of results) hist.merge(r.hist);
  const startMs = Math.min(...results.map((r) => r.startMs));
  const endMs = Math.max(...results.map((r) => r.startMs + r.elapsedMs));
  return {
    type: "result",
    ok: results.reduce((a, r) => a + r.ok, 0),
    rejected: results.reduce((a, r) => a + r.rejected, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    sampleErrors: results.flatMap((r) => r.sampleErrors).slice(0, 5),
    elapsedMs: endMs - startMs,
    startMs,
    hist: hist.toJSON(),
    cpuSeconds: results.reduce((a, r) => a + r.cpuSeconds, 0),
  };
}
