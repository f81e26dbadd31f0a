// Parley benchmark orchestrator (`npm run bench`).
//
//   node --import tsx bench/run.ts                      # full run: parley, raw, socketio
//   node --import tsx bench/run.ts --targets=raw,socketio --quick
//
// For each target it starts the server, forks load-generator processes (<= 5000 sockets each),
// and runs: (b) memory per idle connection, (a) fan-out to one group of 1k/5k/10k clients,
// (d) many send_to_group requests in flight, (c) send_to_client requests/s.
// Results: bench/results/latest.json and bench/results/latest.md. See bench/README.md.

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  benchData,
  errMsg,
  Histogram,
  isTargetKind,
  type LatencySummary,
  type LoadgenStats,
  machineCpu,
  nowMs,
  postJson,
  procCpuSeconds,
  procRssKiB,
  request,
  sleep,
  summarize,
  TARGET_KINDS,
  type TargetKind,
} from "./lib/common.js";
import {
  assertServerAlive,
  installCleanupHandlers,
  Loadgen,
  logTail,
  makeTempDir,
  runHttpLoad,
  runHttpLoadParallel,
  type ServerHandle,
  startServer,
  stopAll,
  stopProcess,
} from "./lib/procs.js";
import { renderMarkdown } from "./lib/report.js";
import type {
  BenchReport,
  Config,
  CpuWindow,
  FanoutResult,
  FanoutRound,
  InflightResult,
  MemoryResult,
  MemoryRound,
  RoundMedians,
  SendToClientResult,
  SendToClientRound,
  TargetResult,
} from "./lib/types.js";
import { SCENARIOS, type Scenario } from "./lib/types.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const SYSTEM_ID = "bench-system";
const FANOUT_GROUP = "bench-fanout";
const INFLIGHT_GROUP = "bench-inflight";
/** hard wall-clock cap for the whole run, whatever happens */
const RUN_DEADLINE_MS = 30 * 60_000;

// ---------------------------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------------------------
function parseArgs(argv: string[]): Config {
  const flags = new Map<string, string>();
  for (const a of argv) {
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    flags.set(eq === -1 ? a.slice(2) : a.slice(2, eq), eq === -1 ? "true" : a.slice(eq + 1));
  }
  const known = new Set([
    "targets",
    "quick",
    "notices",
    "out",
    "bind-budget",
    "sizes",
    "bind-concurrency",
    "scenarios",
    "rate",
    "rounds",
    "c-seconds",
    "baseline",
    "c-concurrency",
    "conns",
    "d-rate",
    "help",
  ]);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k} (see bench/README.md)`);
  if (flags.has("help")) {
    process.stdout.write(
      "usage: node --import tsx bench/run.ts [--targets=parley,raw,socketio] [--quick] [--notices=0|1] [--bind-budget=SECONDS]\n" +
        "         [--sizes=1000,5000,10000] [--bind-concurrency=16] [--out=DIR]\n" +
        "         [--scenarios=a,b,c,d] [--rate=REQ_PER_S] [--rounds=N] [--c-seconds=S] [--c-concurrency=N] [--baseline=DIR]\n" +
        "         [--conns=N] [--d-rate=REQ_PER_S]\n",
    );
    process.exit(0);
  }
  const quick = flags.get("quick") === "true" || flags.get("quick") === "1";
  const targets = (flags.get("targets") ?? TARGET_KINDS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of targets)
    if (!isTargetKind(t)) throw new Error(`unknown target ${t}; expected ${TARGET_KINDS.join("|")}`);
  const scenarios = (flags.get("scenarios") ?? SCENARIOS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const sc of scenarios)
    if (!(SCENARIOS as readonly string[]).includes(sc))
      throw new Error(`unknown scenario ${sc}; expected some of ${SCENARIOS.join(",")}`);
  if (scenarios.length === 0) throw new Error("--scenarios needs at least one of a,b,c,d");
  const rounds = intFlag(flags, "rounds", 1, 1, 50);
  // (c) alone interleaves its rounds between servers that run at once; anything else with a
  // baseline or several rounds interleaves whole target runs (see runInterleaved)
  const interleaved = scenarios.join(",") !== "c" && (flags.has("baseline") || rounds > 1);
  const rate = flags.get("rate");
  const base: BaseConfig = {
    quick,
    targets: targets as TargetKind[],
    scenarios: SCENARIOS.filter((sc) => scenarios.includes(sc)),
    // the peers send no 1001/1002 notices by default: see README ("online notices")
    notices: (flags.get("notices") ?? "0") !== "0",
    maxSocketsPerLoadgen: 5000,
    bindConcurrencyPerLoadgen: intFlag(flags, "bind-concurrency", 16, 1, 256),
    fanoutHttpInFlight: 4,
    fanoutMaxLagPushes: 2,
    sendToClientProcesses: 2,
    inflightConcurrency: 128,
    sendToClientConcurrency: intFlag(flags, "c-concurrency", 64, 1, 1024),
    sendToClientRate: rate === undefined ? null : intFlag(flags, "rate", 0, 10, 200_000),
    inflightRate: flags.has("d-rate") ? intFlag(flags, "d-rate", 0, 1, 100_000) : null,
    sendToClientRounds: rounds,
    baselineRoot: flags.has("baseline") ? path.resolve(flags.get("baseline") ?? "") : null,
    // interleaved runs compare targets measured under the same drift, so they wait less for quiet
    quietWaitMs: quick || interleaved ? 10_000 : 30_000,
    outDir: path.resolve(flags.get("out") ?? path.join(ROOT, "bench/results")),
  };
  const budget = flags.get("bind-budget");
  const bindBudget = budget === undefined ? undefined : Number(budget) * 1000;
  if (bindBudget !== undefined && !(bindBudget > 0 && bindBudget <= 20 * 60_000))
    throw new Error("--bind-budget must be 1..1200 seconds");
  let cfg = quick ? quickConfig(base) : fullConfig(base);
  if (bindBudget !== undefined) cfg = { ...cfg, bindBudgetMs: bindBudget };
  if (flags.has("c-seconds")) cfg = { ...cfg, sendToClientDurationMs: intFlag(flags, "c-seconds", 6, 1, 120) * 1000 };
  const sizes = flags.get("sizes");
  if (sizes !== undefined) {
    const list = sizes.split(",").map(Number);
    if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 50_000))
      throw new Error("--sizes must be integers 1..50000");
    cfg = { ...cfg, fanoutSizes: [...list].sort((a, b) => a - b), memoryConns: Math.max(...list) };
  }
  if (flags.has("conns")) {
    const conns = intFlag(flags, "conns", 0, 1, 50_000);
    if (conns < Math.max(...cfg.fanoutSizes, cfg.inflightGroupSize))
      throw new Error("--conns must be at least the largest --sizes and the (d) group");
    cfg = { ...cfg, memoryConns: conns };
  }
  if (cfg.baselineRoot && !existsSync(path.join(cfg.baselineRoot, "src/cli.ts")))
    throw new Error(`--baseline=${cfg.baselineRoot}: no src/cli.ts there`);
  return cfg;
}

function intFlag(flags: Map<string, string>, name: string, def: number, min: number, max: number): number {
  const v = flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer ${min}..${max}`);
  return n;
}

type BaseConfig = Omit<
  Config,
  | "fanoutSizes"
  | "memoryConns"
  | "connectBatchPerLoadgen"
  | "settleMs"
  | "bindBudgetMs"
  | "fanoutDurationMs"
  | "inflightGroupSize"
  | "inflightDurationMs"
  | "sendToClientDurationMs"
>;

function quickConfig(base: BaseConfig): Config {
  return {
    ...base,
    fanoutSizes: [200, 1000],
    memoryConns: 1000,
    connectBatchPerLoadgen: 250,
    settleMs: 1000,
    bindBudgetMs: 30_000,
    fanoutDurationMs: 2000,
    inflightGroupSize: 200,
    inflightDurationMs: 2000,
    sendToClientDurationMs: 2000,
  };
}

function fullConfig(base: BaseConfig): Config {
  return {
    ...base,
    fanoutSizes: [1000, 5000, 10000],
    memoryConns: 10000,
    connectBatchPerLoadgen: 250,
    settleMs: 3000,
    bindBudgetMs: 180_000,
    fanoutDurationMs: 8000,
    inflightGroupSize: 1000,
    inflightDurationMs: 6000,
    sendToClientDurationMs: 6000,
  };
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------
const log = (s: string): void => {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

/** Wakes waiters whenever a load generator reports progress. */
class Signal {
  private waiters = new Set<() => void>();
  notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
  wait(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, maxMs);
      this.waiters.add(done);
    });
  }
}

class Pool {
  readonly lgs: Loadgen[] = [];
  readonly signal = new Signal();
  /** how many local clients of each load generator are bound to each group */
  readonly boundPerLg = new Map<string, number[]>();

  constructor(
    readonly kind: TargetKind,
    readonly port: number,
    n: number,
  ) {
    for (let i = 0; i < n; i++) this.lgs.push(new Loadgen(ROOT, kind, port, () => this.signal.notify()));
  }
  async ready(): Promise<void> {
    await Promise.all(this.lgs.map((l) => l.ready()));
  }
  recv(): number {
    return this.lgs.reduce((a, l) => a + l.recv, 0);
  }
  frames(): number {
    return this.lgs.reduce((a, l) => a + l.frames, 0);
  }
  live(): number {
    return this.lgs.reduce((a, l) => a + l.live, 0);
  }
  cpuSeconds(): number {
    return this.lgs.reduce((a, l) => a + procCpuSeconds(l.pid), 0);
  }
  perProcCpu(): number[] {
    return this.lgs.map((l) => procCpuSeconds(l.pid));
  }
  async reset(): Promise<void> {
    await Promise.all(this.lgs.map((l) => l.reset()));
  }
  async collect(): Promise<{ stats: LoadgenStats[]; hist: Histogram }> {
    const stats = await Promise.all(this.lgs.map((l) => l.collect()));
    const hist = new Histogram();
    for (const s of stats) hist.merge(s.hist);
    return { stats, hist };
  }
  /** Bind the first `total` clients (spread evenly over load generators) to `group`. */
  async bindTo(
    group: string,
    total: number,
    cfg: Config,
    budgetMs: number,
  ): Promise<{ ok: number; failed: number; ms: number; errors: string[]; aborted: boolean }> {
    const n = this.lgs.length;
    const prev = this.boundPerLg.get(group) ?? new Array<number>(n).fill(0);
    const want = prev.map((_, j) => Math.floor(total / n) + (j < total % n ? 1 : 0));
    const t0 = nowMs();
    const deadline = t0 + budgetMs;
    const res = await Promise.all(
      this.lgs.map((l, j) => {
        const from = prev[j] ?? 0;
        const to = want[j] ?? 0;
        if (to <= from) return Promise.resolve({ ok: 0, failed: 0, ms: 0, errors: [] as string[], aborted: false });
        return l.bind(group, from, to, SYSTEM_ID, cfg.bindConcurrencyPerLoadgen, deadline);
      }),
    );
    // requests are issued in index order, so [from, from + ok + failed) were attempted
    this.boundPerLg.set(
      group,
      prev.map((p, j) => p + (res[j]?.ok ?? 0) + (res[j]?.failed ?? 0)),
    );
    return {
      ok: res.reduce((a, r) => a + r.ok, 0),
      failed: res.reduce((a, r) => a + r.failed, 0),
      ms: nowMs() - t0,
      errors: res.flatMap((r) => r.errors).slice(0, 5),
      aborted: res.some((r) => r.aborted),
    };
  }
  bound(group: string): number {
    return (this.boundPerLg.get(group) ?? []).reduce((a, b) => a + b, 0);
  }
  /** Wait until no frame has arrived for `quietMs` (bounded by maxMs). Returns elapsed ms. */
  async waitQuiet(quietMs: number, maxMs: number): Promise<number> {
    const t0 = nowMs();
    let last = this.frames();
    let lastChange = nowMs();
    while (nowMs() - t0 < maxMs) {
      await this.signal.wait(50);
      const f = this.frames();
      if (f !== last) {
        last = f;
        lastChange = nowMs();
      } else if (nowMs() - lastChange >= quietMs) break;
    }
    return nowMs() - t0;
  }
  /** Wait until `expected` bench pushes were received, or no progress for stallMs, or maxMs. */
  async waitDelivered(expected: number, stallMs: number, maxMs: number): Promise<void> {
    const t0 = nowMs();
    let last = this.recv();
    let lastChange = nowMs();
    while (this.recv() < expected && nowMs() - t0 < maxMs) {
      await this.signal.wait(50);
      const r = this.recv();
      if (r !== last) {
        last = r;
        lastChange = nowMs();
      } else if (nowMs() - lastChange >= stallMs) break;
    }
  }
  async exitAll(): Promise<void> {
    await Promise.all(this.lgs.map((l) => l.exit()));
  }
}

interface CpuSnap {
  at: number;
  server: number;
  lgs: number[];
  self: NodeJS.CpuUsage;
  machine: { busy: number; total: number };
}

function snap(server: ServerHandle, pool: Pool): CpuSnap {
  return {
    at: nowMs(),
    server: procCpuSeconds(server.pid),
    lgs: pool.perProcCpu(),
    self: process.cpuUsage(),
    machine: machineCpu(),
  };
}

const CORES = os.cpus().length;

function cpuWindow(a: CpuSnap, b: CpuSnap, driverCpuS?: number): CpuWindow {
  const wallS = (b.at - a.at) / 1000;
  const serverCpuS = b.server - a.server;
  const perProc = b.lgs.map((v, i) => v - (a.lgs[i] ?? 0));
  const loadgenCpuS = perProc.reduce((x, y) => x + y, 0);
  const selfS = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6;
  const driverS = driverCpuS ?? selfS;
  const pct = (s: number): number => Math.round((s / wallS) * 1000) / 10;
  const mt = b.machine.total - a.machine.total;
  const machineBusyPct = mt > 0 ? Math.round(((b.machine.busy - a.machine.busy) / mt) * CORES * 1000) / 10 : Number.NaN;
  const serverPct = pct(serverCpuS);
  const loadgenPct = pct(loadgenCpuS);
  const loadgenMaxProcPct = Math.max(0, ...perProc.map(pct));
  const driverPct = pct(driverS);
  const orchestratorPct = pct(selfS);
  const ours = serverPct + loadgenPct + (driverCpuS === undefined ? orchestratorPct : driverPct + orchestratorPct);
  const otherPct = Math.max(0, Math.round((machineBusyPct - ours) * 10) / 10);
  const clientSidePct = ours - serverPct;
  const NEAR = 85;
  let bottleneck: string;
  const serverHot = serverPct >= NEAR;
  // on a 2-core box the client side (load generators + driver) has the other core(s)
  const clientHot = clientSidePct >= NEAR * Math.max(1, CORES - 1) || loadgenMaxProcPct >= NEAR || driverPct >= NEAR;
  if (serverHot && clientHot) bottleneck = "both (machine saturated)";
  else if (serverHot) bottleneck = "server";
  else if (clientHot) bottleneck = driverPct >= NEAR ? "driver (pusher/http load)" : "client side";
  else if (machineBusyPct >= NEAR * CORES) bottleneck = "machine (cores busy)";
  else bottleneck = "none (pacing/latency bound)";
  if (otherPct >= 20) bottleneck += ` +${Math.round(otherPct)}% foreign CPU`;
  return {
    wallS,
    serverCpuS,
    serverPct,
    loadgenCpuS,
    loadgenPct,
    loadgenMaxProcPct,
    driverPct,
    orchestratorPct,
    machineBusyPct,
    otherPct,
    bottleneck,
  };
}

// ---------------------------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------------------------
async function registerSystem(port: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const r = await postJson(agent, HOST, port, "/api/register", { systemId: SYSTEM_ID });
    // code -1 = already registered: fine
    if (r.status !== 200 || r.env === undefined || (r.env.code !== 0 && r.env.code !== -1)) {
      throw new Error(`register failed: HTTP ${r.status} ${r.raw.slice(0, 300)}`);
    }
  } finally {
    agent.destroy();
  }
}

async function rssSettled(pid: number, settleMs: number): Promise<number> {
  await sleep(settleMs);
  // average three readings 250 ms apart to smooth GC noise
  const rs: number[] = [];
  for (let i = 0; i < 3; i++) {
    rs.push(procRssKiB(pid));
    await sleep(250);
  }
  return Math.round(rs.reduce((a, b) => a + b, 0) / rs.length);
}

async function scenarioMemoryAndConnect(
  cfg: Config,
  server: ServerHandle,
  pool: Pool,
  totalConns: number,
): Promise<MemoryResult> {
  const rssBeforeKiB = await rssSettled(server.pid, cfg.settleMs);
  const n = pool.lgs.length;
  const t0 = nowMs();
  const res = await Promise.all(
    pool.lgs.map((l, j) =>
      l.connect(
        Math.floor(totalConns / n) + (j < totalConns % n ? 1 : 0),
        SYSTEM_ID,
        cfg.connectBatchPerLoadgen,
        10 * 60_000,
      ),
    ),
  );
  const connectMs = nowMs() - t0;
  const ok = res.reduce((a, r) => a + r.ok, 0);
  const failed = res.reduce((a, r) => a + r.failed, 0);
  if (failed > 0)
    log(
      `  connect: ${failed} failed, e.g. ${res
        .flatMap((r) => r.errors)
        .slice(0, 3)
        .join(" | ")}`,
    );
  if (ok === 0)
    throw new Error(
      `no client could connect: ${res
        .flatMap((r) => r.errors)
        .slice(0, 3)
        .join(" | ")}`,
    );
  const rssAfterKiB = await rssSettled(server.pid, cfg.settleMs);
  const stats = await pool.collect();
  return {
    conns: ok,
    connectFailed: failed,
    connectMs: Math.round(connectMs),
    rssBeforeKiB,
    rssAfterKiB,
    perConnKiB: Math.round(((rssAfterKiB - rssBeforeKiB) / ok) * 100) / 100,
    loadgenRssKiB: stats.stats.reduce((a, s) => a + s.rssKiB, 0),
  };
}

/** What the previous bind phase of the fan-out group cost, to predict the next one. */
interface BindHistory {
  bound: number;
  /** notice frames received per second of bind + quiet time (0 when the server sends none) */
  noticeRate: number;
  bindRate: number;
}

function emptyFanout(groupSize: number, skipped: string): FanoutResult {
  const nan = Number.NaN;
  const lat: LatencySummary = { count: 0, minMs: nan, p50Ms: nan, p90Ms: nan, p99Ms: nan, maxMs: nan, meanMs: nan };
  const cpu: CpuWindow = {
    wallS: nan,
    serverCpuS: nan,
    serverPct: nan,
    loadgenCpuS: nan,
    loadgenPct: nan,
    loadgenMaxProcPct: nan,
    driverPct: nan,
    orchestratorPct: nan,
    machineBusyPct: nan,
    otherPct: nan,
    bottleneck: "–",
  };
  return {
    groupSize,
    skipped,
    bound: 0,
    bindMs: 0,
    bindFailed: 0,
    noticeFrames: 0,
    quietAfterBindMs: 0,
    pushes: 0,
    pushRejected: 0,
    pushErrors: 0,
    expected: 0,
    delivered: 0,
    lost: 0,
    deliveriesPerSec: nan,
    latency: lat,
    pushHttp: lat,
    serverCpuUsPerDelivery: nan,
    cpu,
    disconnects: 0,
    malformed: 0,
  };
}

/** Predicted ms to grow the group from `hist.bound` to `n` members: each bind notifies every member. */
function predictBindMs(hist: BindHistory, n: number): number {
  if (!Number.isFinite(hist.bound)) return Number.POSITIVE_INFINITY; // a previous bind phase already gave up
  const binds = n - hist.bound;
  const notices = (n * (n + 1) - hist.bound * (hist.bound + 1)) / 2;
  if (hist.noticeRate <= 0) return (binds / Math.max(1, hist.bindRate)) * 1000;
  // Deliberately rough: assumes the previous phase's time was all notices. From a small group that
  // overestimates (per-request overhead dominated), from a big one it underestimates (per-notice
  // cost grows with the group: ~1.6x from 5k to 10k on the reference box), hence the factor.
  const factor = hist.bound >= 2000 ? 1.5 : 1;
  return factor * (notices / hist.noticeRate) * 1000;
}

async function scenarioFanout(
  cfg: Config,
  server: ServerHandle,
  pool: Pool,
  groupSize: number,
  prevBind: BindHistory | undefined,
): Promise<{ result: FanoutResult; hist: BindHistory | undefined }> {
  if (prevBind) {
    const predicted = predictBindMs(prevBind, groupSize);
    if (predicted > cfg.bindBudgetMs) {
      const why = `bind phase to ${groupSize} predicted ${Math.round(predicted / 1000)} s (> budget ${cfg.bindBudgetMs / 1000} s): ${prevBind.noticeRate > 0 ? `online notices grow as n²/2: ${((groupSize * (groupSize + 1)) / 2 / 1e6 - (prevBind.bound * (prevBind.bound + 1)) / 2 / 1e6).toFixed(1)}M more frames at ${Math.round(prevBind.noticeRate)}/s` : `${Math.round(prevBind.bindRate)} binds/s`}`;
      log(`  skipped: ${why}`);
      return { result: emptyFanout(groupSize, why), hist: prevBind };
    }
  }
  const framesBefore = pool.frames();
  const bound0 = pool.bound(FANOUT_GROUP);
  const bind = await pool.bindTo(FANOUT_GROUP, groupSize, cfg, cfg.bindBudgetMs);
  if (bind.failed > 0) log(`  bind: ${bind.failed} failed, e.g. ${bind.errors.join(" | ")}`);
  const quietAfterBindMs = await pool.waitQuiet(500, cfg.bindBudgetMs);
  const noticeFrames = pool.frames() - framesBefore;
  const bound = pool.bound(FANOUT_GROUP);
  log(
    `  group ${FANOUT_GROUP}: ${bound} bound in ${Math.round(bind.ms)} ms, ${noticeFrames} notice frames, quiet after ${Math.round(quietAfterBindMs)} ms`,
  );
  const spentS = (bind.ms + quietAfterBindMs) / 1000;
  const newHist: BindHistory = {
    bound,
    noticeRate: noticeFrames > 0 ? noticeFrames / Math.max(1e-3, spentS - 0.5) : 0,
    bindRate: (bound - bound0) / Math.max(1e-3, bind.ms / 1000),
  };
  if (bind.aborted || bound < groupSize) {
    const why = `bind phase exceeded budget ${cfg.bindBudgetMs / 1000} s: ${bound}/${groupSize} bound, ${noticeFrames} notice frames`;
    log(`  skipped: ${why}`);
    return {
      result: { ...emptyFanout(groupSize, why), bound, bindMs: Math.round(bind.ms), noticeFrames },
      hist: { ...newHist, bound: Number.POSITIVE_INFINITY },
    };
  }
  if (bind.failed > 0) {
    const why = `${bind.failed} of ${groupSize} binds failed: ${bind.errors.join(" | ")}`;
    return {
      result: { ...emptyFanout(groupSize, why), bound, bindMs: Math.round(bind.ms), noticeFrames },
      hist: { ...newHist, bound: Number.POSITIVE_INFINITY },
    };
  }

  await pool.reset();
  const disconnectsBefore = (await pool.collect()).stats.reduce((a, s) => a + s.disconnects, 0);
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.fanoutHttpInFlight });
  const pushHist = new Histogram();
  let acked = 0;
  let rejected = 0;
  let errors = 0;
  let inFlight = 0;
  let seq = 0;
  const maxLag = cfg.fanoutMaxLagPushes * bound;
  const maxPushes = 1_000_000;
  const a = snap(server, pool);
  const deadline = a.at + cfg.fanoutDurationMs;

  const worker = async (): Promise<void> => {
    while (nowMs() < deadline && seq < maxPushes) {
      // end-to-end window: never more than maxLag deliveries outstanding (2 s safety valve)
      const gateStart = nowMs();
      while ((acked + inFlight) * bound - pool.recv() >= maxLag && nowMs() - gateStart < 2000 && nowMs() < deadline) {
        await pool.signal.wait(20);
      }
      if (nowMs() >= deadline) break;
      const s = seq++;
      inFlight++;
      const t0 = nowMs();
      try {
        const r = await postJson(
          agent,
          HOST,
          server.port,
          "/api/send_to_group",
          { sendUserId: "bench", groupName: FANOUT_GROUP, code: 0, msg: "bench", data: benchData(s) },
          SYSTEM_ID,
          30_000,
        );
        pushHist.record((nowMs() - t0) * 1000);
        if (r.status === 200 && r.env?.code === 0) acked++;
        else rejected++;
      } catch {
        errors++;
        await sleep(10);
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.fanoutHttpInFlight }, worker));
  agent.destroy();
  const expected = acked * bound;
  await pool.waitDelivered(expected, 2000, 30_000);
  const b = snap(server, pool);
  const { stats, hist } = await pool.collect();
  const delivered = stats.reduce((x, s) => x + s.recv, 0);
  const lastRecv = Math.max(...stats.map((s) => s.lastRecvMs));
  const spanS = Math.max(1e-3, (lastRecv - a.at) / 1000);
  // CPU window ends at the last delivery (idle drain time would dilute the percentages)
  const cpu = cpuWindow(a, { ...b, at: Math.max(lastRecv, a.at + 1) });
  const result: FanoutResult = {
    groupSize,
    bound,
    bindMs: Math.round(bind.ms),
    bindFailed: bind.failed,
    noticeFrames,
    quietAfterBindMs: Math.round(quietAfterBindMs),
    pushes: acked,
    pushRejected: rejected,
    pushErrors: errors,
    expected,
    delivered,
    lost: Math.max(0, expected - delivered),
    deliveriesPerSec: Math.round(delivered / spanS),
    latency: summarize(hist),
    pushHttp: summarize(pushHist),
    serverCpuUsPerDelivery:
      delivered > 0 ? Math.round(((b.server - a.server) / delivered) * 1e6 * 100) / 100 : Number.NaN,
    cpu,
    disconnects: stats.reduce((x, s) => x + s.disconnects, 0) - disconnectsBefore,
    malformed: stats.reduce((x, s) => x + s.malformed, 0),
  };
  return { result, hist: newHist };
}

/**
 * Bytes waiting in the load generators' kernel receive queues (their sockets to `port`), in KiB:
 * what the server has handed to TCP but the clients have not read yet. Linux `ss`; null elsewhere.
 */
function kernelQueues(port: number): number | null {
  let out: string;
  try {
    out = execFileSync("ss", ["-tnH", "state", "established", `( dport = :${port} )`], { encoding: "utf8" });
  } catch {
    return null;
  }
  let bytes = 0;
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 4 && f[3]?.endsWith(`:${port}`)) bytes += Number(f[0]) || 0;
  }
  return Math.round(bytes / 1024);
}

/** Frames the Parley server has written to gateway sockets so far (its /metrics). */
async function serverGatewayFrames(port: number): Promise<number | null> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const r = await request(agent, { host: HOST, port, method: "GET", path: "/metrics" });
    const m = /^parley_ws_frames_out_total\{surface="gateway"\} (\d+)/m.exec(r.body);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  } finally {
    agent.destroy();
  }
}

async function scenarioInflight(cfg: Config, server: ServerHandle, pool: Pool): Promise<InflightResult> {
  const bind = await pool.bindTo(INFLIGHT_GROUP, cfg.inflightGroupSize, cfg, cfg.bindBudgetMs);
  if (bind.failed > 0) log(`  bind: ${bind.failed} failed, e.g. ${bind.errors.join(" | ")}`);
  const quietMs = await pool.waitQuiet(500, cfg.bindBudgetMs);
  const bound = pool.bound(INFLIGHT_GROUP);
  log(`  group ${INFLIGHT_GROUP}: ${bound} bound in ${Math.round(bind.ms)} ms, quiet after ${Math.round(quietMs)} ms`);
  if (bound === 0) throw new Error(`no client could be bound to ${INFLIGHT_GROUP}: ${bind.errors.join(" | ")}`);
  await pool.reset();
  const disconnectsBefore = (await pool.collect()).stats.reduce((a, s) => a + s.disconnects, 0);
  const atStart = server.kind === "parley" ? await serverGatewayFrames(server.port) : null;
  const a = snap(server, pool);
  const r = await runHttpLoad(ROOT, {
    type: "run",
    mode: "group",
    host: HOST,
    port: server.port,
    systemId: SYSTEM_ID,
    target: INFLIGHT_GROUP,
    concurrency: cfg.inflightConcurrency,
    durationMs: cfg.inflightDurationMs,
    ...(cfg.inflightRate !== null ? { rate: cfg.inflightRate } : {}),
  });
  const expected = r.ok * bound;
  const loadEnd = nowMs();
  const atLoadEnd = server.kind === "parley" ? await serverGatewayFrames(server.port) : null;
  const queuedAtLoadEnd = kernelQueues(server.port);
  await pool.waitDelivered(expected, 3000, 60_000);
  const b = snap(server, pool);
  const atEnd = server.kind === "parley" ? await serverGatewayFrames(server.port) : null;
  const { stats, hist } = await pool.collect();
  const delivered = stats.reduce((x, s) => x + s.recv, 0);
  const lastRecv = Math.max(...stats.map((s) => s.lastRecvMs));
  const spanS = Math.max(1e-3, (lastRecv - r.startMs) / 1000);
  const reqHist = new Histogram();
  reqHist.merge(r.hist);
  return {
    groupSize: bound,
    concurrency: cfg.inflightConcurrency,
    requests: r.ok,
    rejected: r.rejected,
    errors: r.errors,
    reqPerSec: Math.round(r.ok / (r.elapsedMs / 1000)),
    expected,
    delivered,
    lost: Math.max(0, expected - delivered),
    deliveriesPerSec: Math.round(delivered / spanS),
    latency: summarize(hist),
    requestLatency: summarize(reqHist),
    serverCpuUsPerDelivery:
      delivered > 0 ? Math.round(((b.server - a.server) / delivered) * 1e6 * 100) / 100 : Number.NaN,
    cpu: cpuWindow(a, { ...b, at: Math.max(lastRecv, a.at + 1) }, r.cpuSeconds),
    disconnects: stats.reduce((x, s) => x + s.disconnects, 0) - disconnectsBefore,
    sampleErrors: r.sampleErrors,
    serverWroteAtLoadEnd: atStart && atLoadEnd ? atLoadEnd - atStart : null,
    serverWrote: atStart && atEnd ? atEnd - atStart : null,
    clientKernelQueueKiBAtLoadEnd: queuedAtLoadEnd,
    drainMs: Math.max(0, Math.round(lastRecv - loadEnd)),
  };
}

async function scenarioSendToClient(cfg: Config, server: ServerHandle, pool: Pool): Promise<SendToClientResult> {
  const first = pool.lgs[0];
  if (!first) throw new Error("no load generator");
  const [clientId] = await first.clientIds(0, 1);
  if (!clientId) throw new Error("no connected client for send_to_client");
  await pool.waitQuiet(300, 60_000);
  await pool.reset();
  const a = snap(server, pool);
  const r = await runHttpLoadParallel(
    ROOT,
    {
      type: "run",
      mode: "client",
      host: HOST,
      port: server.port,
      systemId: SYSTEM_ID,
      target: clientId,
      concurrency: cfg.sendToClientConcurrency,
      durationMs: cfg.sendToClientDurationMs,
      ...(cfg.sendToClientRate !== null ? { rate: cfg.sendToClientRate } : {}),
    },
    cfg.sendToClientProcesses,
  );
  const b = snap(server, pool);
  await pool.waitDelivered(r.ok, 2000, 20_000);
  const { stats, hist } = await pool.collect();
  const reqHist = new Histogram();
  reqHist.merge(r.hist);
  return {
    concurrency: cfg.sendToClientConcurrency,
    requests: r.ok,
    rejected: r.rejected,
    errors: r.errors,
    reqPerSec: Math.round(r.ok / (r.elapsedMs / 1000)),
    requestLatency: summarize(reqHist),
    delivered: stats.reduce((x, s) => x + s.recv, 0),
    deliveryLatency: summarize(hist),
    serverCpuUsPerRequest: r.ok > 0 ? Math.round(((b.server - a.server) / r.ok) * 1e6 * 100) / 100 : Number.NaN,
    cpu: cpuWindow(a, b, r.cpuSeconds),
    sampleErrors: r.sampleErrors,
    ...(cfg.sendToClientRate !== null ? { offeredRate: cfg.sendToClientRate } : {}),
  };
}

function roundOf(c: SendToClientResult): SendToClientRound {
  return {
    serverCpuUsPerRequest: c.serverCpuUsPerRequest,
    reqPerSec: c.reqPerSec,
    requests: c.requests,
    serverPct: c.cpu.serverPct,
    otherPct: c.cpu.otherPct,
    loadAvg1: Math.round(os.loadavg()[0] * 100) / 100,
    at: new Date().toISOString().slice(11, 19),
  };
}

/** Several rounds of (c) as one result: the round with the median server CPU per request, plus all rounds. */
function combineRounds(results: SendToClientResult[]): SendToClientResult {
  const rounds = results.map((r) => r.rounds?.[0] ?? roundOf(r));
  const sorted = [...results].sort((x, y) => x.serverCpuUsPerRequest - y.serverCpuUsPerRequest);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error("no (c) round ran");
  return { ...median, rounds };
}

/** A short (c) run whose numbers are thrown away: the first requests of a route pay for the JIT. */
async function sendToClientWarmUp(cfg: Config, server: ServerHandle, pool: Pool): Promise<void> {
  await scenarioSendToClient(
    { ...cfg, sendToClientDurationMs: Math.min(2000, cfg.sendToClientDurationMs) },
    server,
    pool,
  );
}

async function sendToClientRound(cfg: Config, server: ServerHandle, pool: Pool): Promise<SendToClientResult> {
  const c = await scenarioSendToClient(cfg, server, pool);
  return { ...c, rounds: [roundOf(c)] };
}

const logRound = (kind: string, i: number, c: SendToClientResult): void =>
  log(
    `      ${kind} round ${i + 1}: ${c.reqPerSec} req/s, server CPU ${c.serverCpuUsPerRequest} µs/req (${c.cpu.serverPct}% of a core), p50 ${c.requestLatency.p50Ms} ms, other CPU ${c.cpu.otherPct}%, load ${os.loadavg()[0].toFixed(1)}`,
  );

// ---------------------------------------------------------------------------------------------
// per target
// ---------------------------------------------------------------------------------------------
/**
 * Other people's processes on the box distort every number here. Before a target starts (no bench
 * process but this one is running), sample machine CPU in 1 s windows and wait, up to maxMs, for
 * one in which the rest of the machine uses < 25 % of a core. Returns the last foreign load seen.
 */
async function waitForQuietMachine(maxMs: number): Promise<{ foreignPct: number; waitedMs: number }> {
  const t0 = nowMs();
  let foreignPct = Number.NaN;
  while (nowMs() - t0 < maxMs) {
    const a = machineCpu();
    const selfA = process.cpuUsage();
    await sleep(1000);
    const b = machineCpu();
    const self = process.cpuUsage(selfA);
    const total = b.total - a.total;
    if (!(total > 0)) break;
    const busyPct = ((b.busy - a.busy) / total) * CORES * 100;
    foreignPct = Math.max(0, Math.round(busyPct - ((self.user + self.system) / 1e6) * 100));
    if (foreignPct < 25) break;
  }
  return { foreignPct, waitedMs: Math.round(nowMs() - t0) };
}

interface TargetOptions {
  /** checkout the server runs from (the baseline's); load generators always run from this one */
  root?: string;
  label?: string;
}

async function runTarget(
  cfg: Config,
  kind: TargetKind,
  runDir: string,
  { root = ROOT, label }: TargetOptions = {},
): Promise<TargetResult> {
  const result: TargetResult = { target: kind, ...(label ? { label } : {}), status: "ok", fanout: [], notes: [] };
  const name = label ?? kind;
  const fileTag = label ? "parley-baseline" : kind;
  if (kind === "parley" && !existsSync(path.join(root, "src/cli.ts"))) {
    return { ...result, status: "skipped", reason: "src/cli.ts does not exist (Parley server not available yet)" };
  }
  const quiet = await waitForQuietMachine(cfg.quietWaitMs);
  if (quiet.foreignPct >= 25) {
    const note = `machine was busy before the run: other processes used ${quiet.foreignPct}% of a core (waited ${Math.round(quiet.waitedMs / 1000)} s)`;
    result.notes.push(note);
    log(`  warning: ${note}`);
  }
  const t0 = nowMs();
  let server: ServerHandle | undefined;
  let pool: Pool | undefined;
  try {
    log(`== ${name}: starting server`);
    // 3 min to start: on a saturated box tsx alone has taken over 60 s (one round of an interleaved run lost)
    server = await startServer(kind, root, runDir, cfg.notices, {
      logName: `${fileTag}-server.log`,
      readyTimeoutMs: 180_000,
    });
    result.serverPid = server.pid;
    log(`  ${kind} server pid ${server.pid} on port ${server.port}`);
    await registerSystem(server.port);

    const has = (sc: Scenario): boolean => cfg.scenarios.includes(sc);
    // (c) needs one connected client; (b) measures memory with all of them
    const totalConns = Math.max(
      2,
      has("b") ? cfg.memoryConns : 0,
      ...(has("a") ? cfg.fanoutSizes : []),
      has("d") ? cfg.inflightGroupSize : 0,
    );
    const nLg = Math.max(2, Math.ceil(totalConns / cfg.maxSocketsPerLoadgen));
    pool = new Pool(kind, server.port, nLg);
    await pool.ready();
    result.loadgens = nLg;

    log(`  ${has("b") ? "(b) memory: " : ""}connecting ${totalConns} idle clients over ${nLg} load generators`);
    const m = await scenarioMemoryAndConnect(cfg, server, pool, totalConns);
    assertServerAlive(server, "while connecting (b)");
    if (has("b")) {
      result.memory = { ...m, rounds: [memoryRoundOf(m)] };
      log(
        `      ${m.conns} conns in ${m.connectMs} ms; RSS ${m.rssBeforeKiB} -> ${m.rssAfterKiB} KiB = ${m.perConnKiB} KiB/conn`,
      );
    }

    let bindHist: BindHistory | undefined;
    for (const size of has("a") ? cfg.fanoutSizes : []) {
      if (size > m.conns) {
        result.fanout.push(emptyFanout(size, `only ${m.conns} clients connected`));
        continue;
      }
      log(`  (a) fan-out to ${size} clients`);
      const fr = await scenarioFanout(cfg, server, pool, size, bindHist);
      if (server.exited) {
        result.fanout.push({
          ...emptyFanout(size, "server died during this scenario"),
          bindMs: fr.result.bindMs,
          noticeFrames: fr.result.noticeFrames,
        });
        assertServerAlive(server, `during fan-out to ${size}`);
      }
      bindHist = fr.hist;
      const f = fr.result;
      result.fanout.push(f.skipped ? f : { ...f, rounds: [fanoutRoundOf(f)] });
      if (f.skipped) {
        result.notes.push(`fan-out ${size}: ${f.skipped}`);
        continue;
      }
      log(
        `      ${f.pushes} pushes, ${f.delivered}/${f.expected} delivered, ${f.deliveriesPerSec} deliveries/s, p50 ${f.latency.p50Ms} ms p99 ${f.latency.p99Ms} ms, server ${f.cpu.serverPct}% loadgens ${f.cpu.loadgenPct}% -> ${f.cpu.bottleneck}`,
      );
    }

    if (has("d")) {
      log(
        `  (d) ${cfg.inflightConcurrency} send_to_group requests in flight to ${cfg.inflightGroupSize} clients${cfg.inflightRate !== null ? `, at most ${cfg.inflightRate} req/s offered` : ""}`,
      );
      const inflight = await scenarioInflight(cfg, server, pool);
      assertServerAlive(server, "during (d)");
      result.inflight = { ...inflight, rounds: [inflightRoundOf(inflight)] };
      const d = inflight;
      log(
        `      ${d.requests} req (${d.reqPerSec}/s), ${d.delivered}/${d.expected} delivered, ${d.deliveriesPerSec} deliveries/s, p99 ${d.latency.p99Ms} ms -> ${d.cpu.bottleneck}` +
          (d.serverWrote !== null
            ? `; server wrote ${d.serverWroteAtLoadEnd} by the end of the load, ${d.serverWrote} in all`
            : "") +
          `; drain ${d.drainMs} ms, ${d.clientKernelQueueKiBAtLoadEnd ?? "?"} KiB unread in the clients' kernel queues at the end of the load`,
      );
    }

    if (has("c")) {
      log(`  (c) send_to_client, ${cfg.sendToClientConcurrency} concurrent requests${rateNote(cfg)}`);
      const rounds: SendToClientResult[] = [];
      await sendToClientWarmUp(cfg, server, pool);
      for (let i = 0; i < cfg.sendToClientRounds; i++) {
        const stc = await sendToClientRound(cfg, server, pool);
        assertServerAlive(server, "during (c)");
        rounds.push(stc);
        logRound(kind, i, stc);
      }
      result.sendToClient = combineRounds(rounds);
      const c = result.sendToClient;
      log(
        `      ${c.reqPerSec} req/s, p50 ${c.requestLatency.p50Ms} ms p99 ${c.requestLatency.p99Ms} ms, server CPU ${c.serverCpuUsPerRequest} µs/req -> ${c.cpu.bottleneck}`,
      );
    }
  } catch (e) {
    result.status = "failed";
    result.reason = errMsg(e);
    log(`  ${name} FAILED: ${result.reason}`);
    if (server) {
      result.notes.push(`server log tail:\n${logTail(server.logFile, 15)}`);
      try {
        mkdirSync(cfg.outDir, { recursive: true });
        const keep = path.join(cfg.outDir, `${fileTag}-server.log`);
        copyFileSync(server.logFile, keep);
        result.notes.push(`full server log: ${path.relative(ROOT, keep)}`);
      } catch {
        // best effort
      }
    }
  } finally {
    // stop the server first: clients closing against a live server would trigger offline-notice storms
    if (server) await stopProcess(server.cp, 5000);
    if (pool) await pool.exitAll();
    result.elapsedS = Math.round((nowMs() - t0) / 100) / 10;
    log(`== ${name}: done in ${result.elapsedS} s`);
  }
  return result;
}

const rateNote = (cfg: Config): string =>
  cfg.sendToClientRate !== null ? ` at ${cfg.sendToClientRate} req/s offered` : " (closed loop)";

/**
 * (c) alone (`--scenarios=c`): every target's server runs at the same time with one connected
 * client, and the rounds alternate between targets (parley, raw, parley, raw, …), so a change in
 * the machine's load hits every target alike.
 */
async function runSendToClientOnly(cfg: Config, runDir: string): Promise<TargetResult[]> {
  interface Live {
    root: string;
    result: TargetResult;
    server?: ServerHandle;
    pool?: Pool;
    rounds: SendToClientResult[];
    t0: number;
  }
  const live: Live[] = [];
  const fail = (l: Live, e: unknown): void => {
    l.result.status = "failed";
    l.result.reason = errMsg(e);
    log(`  ${l.result.target} FAILED: ${l.result.reason}`);
    if (l.server) l.result.notes.push(`server log tail:\n${logTail(l.server.logFile, 15)}`);
  };
  try {
    const entries: Array<{ kind: TargetKind; root: string; label?: string }> = cfg.targets.map((kind) => ({
      kind,
      root: ROOT,
    }));
    if (cfg.baselineRoot) entries.unshift({ kind: "parley", root: cfg.baselineRoot, label: "Parley (baseline)" });
    for (const { kind, root, label } of entries) {
      const l: Live = {
        root,
        result: { target: kind, ...(label ? { label } : {}), status: "ok", fanout: [], notes: [] },
        rounds: [],
        t0: nowMs(),
      };
      live.push(l);
      if (kind === "parley" && !existsSync(path.join(root, "src/cli.ts"))) {
        l.result = { ...l.result, status: "skipped", reason: "src/cli.ts does not exist" };
        continue;
      }
      try {
        log(`== ${label ?? kind}: starting server`);
        l.server = await startServer(kind, root, runDir, cfg.notices, {
          logName: `${label ? "parley-baseline" : kind}-server.log`,
        });
        l.result.serverPid = l.server.pid;
        log(`  ${kind} server pid ${l.server.pid} on port ${l.server.port}`);
        await registerSystem(l.server.port);
        l.pool = new Pool(kind, l.server.port, 1);
        await l.pool.ready();
        l.result.loadgens = 1;
        const [first] = l.pool.lgs;
        const conn = first ? await first.connect(1, SYSTEM_ID, 1, 60_000) : { ok: 0, errors: ["no load generator"] };
        if (conn.ok !== 1) throw new Error(`the recipient could not connect: ${conn.errors.join(" | ")}`);
        await sendToClientWarmUp(cfg, l.server, l.pool);
      } catch (e) {
        fail(l, e);
      }
    }
    log(
      `  (c) send_to_client, ${cfg.sendToClientConcurrency} concurrent requests${rateNote(cfg)}, ${cfg.sendToClientRounds} round(s) per target, interleaved`,
    );
    for (let i = 0; i < cfg.sendToClientRounds; i++) {
      for (const l of live) {
        if (l.result.status !== "ok" || !l.server || !l.pool) continue;
        try {
          const c = await sendToClientRound(cfg, l.server, l.pool);
          assertServerAlive(l.server, "during (c)");
          l.rounds.push(c);
          logRound(l.result.label ?? l.result.target, i, c);
        } catch (e) {
          fail(l, e);
        }
      }
    }
    for (const l of live) if (l.rounds.length > 0) l.result.sendToClient = combineRounds(l.rounds);
  } finally {
    for (const l of live) if (l.server) await stopProcess(l.server.cp, 5000);
    for (const l of live) {
      if (l.pool) await l.pool.exitAll();
      l.result.elapsedS = Math.round((nowMs() - l.t0) / 100) / 10;
    }
  }
  return live.map((l) => l.result);
}

/** One line per target with (c)'s server CPU per request, and each target ÷ raw. */
function logSendToClientSummary(cfg: Config, targets: TargetResult[]): void {
  const withC = targets.filter((t) => t.sendToClient);
  if (withC.length === 0) return;
  const raw = targets.find((t) => t.target === "raw")?.sendToClient?.serverCpuUsPerRequest;
  log(`(c) server CPU µs/request${rateNote(cfg)}, median of ${cfg.sendToClientRounds} round(s):`);
  for (const t of withC) {
    const c = t.sendToClient;
    if (!c) continue;
    const all = (c.rounds ?? []).map((r) => r.serverCpuUsPerRequest.toFixed(1)).join(", ");
    const vs = raw !== undefined && t.target !== "raw" ? `, ${(c.serverCpuUsPerRequest / raw).toFixed(2)}× raw` : "";
    log(`  ${t.label ?? t.target}: ${c.serverCpuUsPerRequest.toFixed(1)} µs/req (rounds: ${all})${vs}`);
  }
}

// ---------------------------------------------------------------------------------------------
// interleaved runs of (a), (b), (d): `--baseline` and/or `--rounds` > 1
// ---------------------------------------------------------------------------------------------
const loadAvg1 = (): number => Math.round(os.loadavg()[0] * 100) / 100;
const clock = (): string => new Date().toISOString().slice(11, 19);

function memoryRoundOf(m: MemoryResult): MemoryRound {
  const { conns, rssBeforeKiB, rssAfterKiB, perConnKiB } = m;
  return { conns, rssBeforeKiB, rssAfterKiB, perConnKiB, loadAvg1: loadAvg1(), at: clock() };
}

function fanoutRoundOf(f: FanoutResult): FanoutRound {
  return {
    deliveriesPerSec: f.deliveriesPerSec,
    p99Ms: f.latency.p99Ms,
    serverCpuUsPerDelivery: f.serverCpuUsPerDelivery,
    lost: f.lost,
    serverPct: f.cpu.serverPct,
    otherPct: f.cpu.otherPct,
    loadAvg1: loadAvg1(),
    at: clock(),
  };
}

function inflightRoundOf(d: InflightResult): FanoutRound {
  return {
    deliveriesPerSec: d.deliveriesPerSec,
    p99Ms: d.latency.p99Ms,
    serverCpuUsPerDelivery: d.serverCpuUsPerDelivery,
    lost: d.lost,
    reqPerSec: d.reqPerSec,
    serverPct: d.cpu.serverPct,
    otherPct: d.cpu.otherPct,
    loadAvg1: loadAvg1(),
    at: clock(),
  };
}

/** The median of the values (the lower one of the middle two for an even count, as for (c)); NaN-free. */
function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length === 0 ? Number.NaN : (v[Math.floor((v.length - 1) / 2)] as number);
}

/** The element whose key is the median key. */
function medianBy<T>(items: T[], key: (t: T) => number): T | undefined {
  const sorted = [...items].sort((x, y) => key(x) - key(y));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function mediansOf(rounds: FanoutRound[]): RoundMedians {
  const reqs = rounds.flatMap((r) => (r.reqPerSec === undefined ? [] : [r.reqPerSec]));
  return {
    deliveriesPerSec: median(rounds.map((r) => r.deliveriesPerSec)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    serverCpuUsPerDelivery: median(rounds.map((r) => r.serverCpuUsPerDelivery)),
    lost: median(rounds.map((r) => r.lost)),
    ...(reqs.length > 0 ? { reqPerSec: median(reqs) } : {}),
  };
}

/** One target's rounds as one result: per scenario the round with the median server CPU, every round, and each measure's median. */
function combineTargetRounds(results: TargetResult[]): TargetResult {
  const [first] = results;
  if (!first) throw new Error("no round ran");
  const failed = results.flatMap((r, i) => (r.status === "failed" ? [`round ${i + 1}: ${r.reason ?? "failed"}`] : []));
  const out: TargetResult = {
    target: first.target,
    ...(first.label ? { label: first.label } : {}),
    status: results.every((r) => r.status === "skipped") ? "skipped" : failed.length > 0 ? "failed" : "ok",
    ...(failed.length > 0 ? { reason: failed.join("; ") } : first.reason ? { reason: first.reason } : {}),
    fanout: [],
    notes: results.flatMap((r, i) => r.notes.map((n) => (results.length > 1 ? `round ${i + 1}: ${n}` : n))),
    elapsedS: Math.round(results.reduce((a, r) => a + (r.elapsedS ?? 0), 0) * 10) / 10,
    ...(first.loadgens !== undefined ? { loadgens: first.loadgens } : {}),
  };
  const mems = results.flatMap((r) => (r.memory ? [r.memory] : []));
  const mem = medianBy(mems, (m) => m.perConnKiB);
  if (mem) {
    const rounds = mems.flatMap((m) => m.rounds ?? []);
    out.memory = { ...mem, rounds, medianPerConnKiB: median(rounds.map((r) => r.perConnKiB)) };
  }
  const sizes = [...new Set(results.flatMap((r) => r.fanout.map((f) => f.groupSize)))].sort((a, b) => a - b);
  for (const size of sizes) {
    const all = results.flatMap((r) => r.fanout.filter((f) => f.groupSize === size));
    const measured = all.filter((f) => !f.skipped);
    const pick = medianBy(measured, (f) => f.serverCpuUsPerDelivery);
    if (!pick) {
      if (all[0]) out.fanout.push(all[0]);
      continue;
    }
    const rounds = measured.flatMap((f) => f.rounds ?? []);
    out.fanout.push({ ...pick, rounds, medians: mediansOf(rounds) });
  }
  const ds = results.flatMap((r) => (r.inflight ? [r.inflight] : []));
  const d = medianBy(ds, (x) => x.serverCpuUsPerDelivery);
  if (d) {
    const rounds = ds.flatMap((x) => x.rounds ?? []);
    out.inflight = { ...d, rounds, medians: mediansOf(rounds) };
  }
  const cs = results.flatMap((r) => (r.sendToClient ? [r.sendToClient] : []));
  if (cs.length > 0) out.sendToClient = combineRounds(cs);
  return out;
}

/**
 * `--baseline` and/or `--rounds=N` with scenarios other than (c) alone: every target runs its
 * whole sequence (fresh server, (b), (a), (d), (c)) once per round, and the targets alternate
 * round by round (baseline, parley, raw, baseline, parley, raw, …), so a change in the machine's
 * load during the run hits every target alike. (c) runs one round per target run.
 */
async function runInterleaved(cfg: Config, runDir: string): Promise<TargetResult[]> {
  const entries: Array<{ kind: TargetKind; opts: TargetOptions }> = cfg.targets.map((kind) => ({ kind, opts: {} }));
  if (cfg.baselineRoot)
    entries.unshift({ kind: "parley", opts: { root: cfg.baselineRoot, label: "Parley (baseline)" } });
  const perEntry: TargetResult[][] = entries.map(() => []);
  const oneRound: Config = { ...cfg, sendToClientRounds: 1 };
  for (let i = 0; i < cfg.sendToClientRounds; i++) {
    log(`==== round ${i + 1} of ${cfg.sendToClientRounds} (load ${os.loadavg()[0].toFixed(1)})`);
    for (const [j, { kind, opts }] of entries.entries()) {
      const r = await runTarget(oneRound, kind, runDir, opts);
      perEntry[j]?.push(r);
    }
  }
  return perEntry.map(combineTargetRounds);
}

/** Per scenario and target: the medians over the rounds, every round's value, and the ratio to the baseline. */
function logRoundsSummary(targets: TargetResult[]): void {
  const multi = targets.some(
    (t) =>
      (t.memory?.rounds?.length ?? 0) > 1 ||
      (t.inflight?.rounds?.length ?? 0) > 1 ||
      t.fanout.some((f) => (f.rounds?.length ?? 0) > 1) ||
      t.label !== undefined,
  );
  if (!multi) return;
  const base = targets.find((t) => t.label !== undefined);
  const vs = (v: number, b: number | undefined, t: TargetResult): string =>
    b !== undefined && Number.isFinite(b) && b !== 0 && t !== base && t.target === "parley"
      ? `, ${(v / b).toFixed(2)}× baseline`
      : "";
  const list = (rs: FanoutRound[], f: (r: FanoutRound) => number, digits: number): string =>
    rs.map((r) => f(r).toFixed(digits)).join(", ");
  const line = (name: string, m: RoundMedians, rs: FanoutRound[], b: RoundMedians | undefined, t: TargetResult): void =>
    log(
      `  ${name}: ${m.serverCpuUsPerDelivery.toFixed(2)} µs/delivery (${list(rs, (r) => r.serverCpuUsPerDelivery, 2)})${vs(m.serverCpuUsPerDelivery, b?.serverCpuUsPerDelivery, t)}; ` +
        `${Math.round(m.deliveriesPerSec)} deliveries/s (${list(rs, (r) => r.deliveriesPerSec, 0)}); p99 ${m.p99Ms.toFixed(1)} ms (${list(rs, (r) => r.p99Ms, 1)}); lost ${m.lost} (${list(rs, (r) => r.lost, 0)})` +
        (m.reqPerSec !== undefined
          ? `; ${Math.round(m.reqPerSec)} req/s (${list(rs, (r) => r.reqPerSec ?? Number.NaN, 0)})`
          : ""),
    );
  const sizes = [...new Set(targets.flatMap((t) => t.fanout.map((f) => f.groupSize)))].sort((a, b) => a - b);
  for (const size of sizes) {
    log(`(a) fan-out to ${size}, medians over the rounds (each round in brackets):`);
    const b = base?.fanout.find((f) => f.groupSize === size)?.medians;
    for (const t of targets) {
      const f = t.fanout.find((x) => x.groupSize === size);
      if (f?.medians && f.rounds) line(t.label ?? t.target, f.medians, f.rounds, b, t);
    }
  }
  if (targets.some((t) => t.memory?.rounds)) {
    log("(b) KiB per idle connection, median over the rounds:");
    for (const t of targets) {
      const m = t.memory;
      if (!m?.rounds || m.medianPerConnKiB === undefined) continue;
      log(
        `  ${t.label ?? t.target}: ${m.medianPerConnKiB.toFixed(2)} KiB (${m.rounds.map((r) => r.perConnKiB.toFixed(2)).join(", ")}), ${m.conns} connections${vs(m.medianPerConnKiB, base?.memory?.medianPerConnKiB, t)}`,
      );
    }
  }
  if (targets.some((t) => t.inflight?.medians)) {
    log("(d) many in flight, medians over the rounds:");
    for (const t of targets) {
      const d = t.inflight;
      if (d?.medians && d.rounds) line(t.label ?? t.target, d.medians, d.rounds, base?.inflight?.medians, t);
    }
  }
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  installCleanupHandlers();
  // an interleaved run is several full runs: 30 minutes per round
  const interleaved =
    !(cfg.scenarios.length === 1 && cfg.scenarios[0] === "c") && (cfg.baselineRoot || cfg.sendToClientRounds > 1);
  const hardStop = setTimeout(
    () => {
      process.stderr.write("[bench] run deadline exceeded, aborting\n");
      void stopAll().finally(() => process.exit(2));
    },
    RUN_DEADLINE_MS * (interleaved ? cfg.sendToClientRounds : 1),
  );
  hardStop.unref();

  const runDir = makeTempDir("parley-bench-");
  const startedAt = new Date().toISOString();
  log(
    `targets=${cfg.targets.join(",")} scenarios=${cfg.scenarios.join(",")} quick=${cfg.quick} notices=${cfg.notices} logs in ${runDir}`,
  );
  const targets: TargetResult[] = [];
  if (cfg.scenarios.length === 1 && cfg.scenarios[0] === "c") targets.push(...(await runSendToClientOnly(cfg, runDir)));
  else if (cfg.baselineRoot || cfg.sendToClientRounds > 1) targets.push(...(await runInterleaved(cfg, runDir)));
  else for (const t of cfg.targets) targets.push(await runTarget(cfg, t, runDir));

  const { outDir, targets: _t, quick: _q, ...rest } = cfg;
  const report: BenchReport = {
    meta: {
      startedAt,
      finishedAt: new Date().toISOString(),
      quick: cfg.quick,
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      notices: cfg.notices,
      config: rest,
    },
    targets,
  };
  mkdirSync(outDir, { recursive: true });
  const md = renderMarkdown(report);
  writeFileSync(path.join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, "latest.md"), md);
  process.stdout.write(`\n${md}\n`);
  logRoundsSummary(targets);
  logSendToClientSummary(cfg, targets);
  log(`wrote ${path.join(outDir, "latest.json")} and latest.md`);
  await stopAll();
  process.exitCode = targets.some((t) => t.status === "failed") ? 1 : 0;
}

process.on("unhandledRejection", (e) => {
  process.stderr.write(`[bench] unhandled rejection: ${errMsg(e)}\n`);
  void stopAll().finally(() => process.exit(1));
});

main().catch((e: unknown) => {
  process.stderr.write(`[bench] fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  void stopAll().finally(() => process.exit(1));
});
