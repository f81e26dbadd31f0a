// Configuration and result types shared by bench/run.ts and bench/lib/report.ts.
import type { LatencySummary, TargetKind } from "./common.js";

export type Scenario = "a" | "b" | "c" | "d";
export const SCENARIOS: readonly Scenario[] = ["a", "b", "c", "d"];

export interface Config {
  quick: boolean;
  targets: TargetKind[];
  /** which scenarios run (`--scenarios=`); only (c) alone runs the targets side by side, interleaved */
  scenarios: Scenario[];
  notices: boolean;
  fanoutSizes: number[];
  memoryConns: number;
  maxSocketsPerLoadgen: number;
  connectBatchPerLoadgen: number;
  bindConcurrencyPerLoadgen: number;
  settleMs: number;
  fanoutDurationMs: number;
  fanoutHttpInFlight: number;
  fanoutMaxLagPushes: number;
  /** wall-clock budget for one bind phase (online-notice storms grow as n^2) */
  bindBudgetMs: number;
  inflightGroupSize: number;
  inflightConcurrency: number;
  inflightDurationMs: number;
  sendToClientConcurrency: number;
  sendToClientDurationMs: number;
  sendToClientProcesses: number;
  /** total offered rate of (c) in requests/s; null = closed loop (as fast as the driver goes) */
  sendToClientRate: number | null;
  /** (d) offered rate in requests/s (`--d-rate`, paced, still at most `inflightConcurrency` in flight); null = closed loop */
  inflightRate: number | null;
  /**
   * `--rounds`: how many times each target is measured; the median round is reported. With
   * `--scenarios=c` alone, (c) rounds alternate between servers that all run at once; otherwise,
   * when > 1 or with a baseline, whole target runs alternate (baseline, parley, raw, baseline, …).
   */
  sendToClientRounds: number;
  /** a checkout of an older Parley to run as an extra target ("Parley (baseline)") before `parley` */
  baselineRoot: string | null;
  /** max wait for a quiet 1 s window before each target (run) starts */
  quietWaitMs: number;
  outDir: string;
}

// ---------------------------------------------------------------------------------------------
// result types
// ---------------------------------------------------------------------------------------------
export interface CpuWindow {
  wallS: number;
  serverCpuS: number;
  serverPct: number;
  loadgenCpuS: number;
  /** sum over load-generator processes, % of one core */
  loadgenPct: number;
  loadgenMaxProcPct: number;
  /** pusher (orchestrator) or HTTP load process(es), % of one core */
  driverPct: number;
  /** the orchestrator itself (= driverPct in fan-out, where it is the pusher) */
  orchestratorPct: number;
  /** whole machine busy, % of one core (max = cores × 100) */
  machineBusyPct: number;
  /** CPU used by anything that is not part of this bench (other people's processes, kernel threads) */
  otherPct: number;
  bottleneck: string;
}

export interface MemoryResult {
  conns: number;
  connectFailed: number;
  connectMs: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  perConnKiB: number;
  loadgenRssKiB: number;
  /** every round (interleaved runs); the other fields are the round with the median KiB/connection */
  rounds?: MemoryRound[];
  medianPerConnKiB?: number;
}

export interface FanoutResult {
  groupSize: number;
  skipped?: string;
  bound: number;
  bindMs: number;
  bindFailed: number;
  noticeFrames: number;
  quietAfterBindMs: number;
  pushes: number;
  pushRejected: number;
  pushErrors: number;
  expected: number;
  delivered: number;
  lost: number;
  deliveriesPerSec: number;
  latency: LatencySummary;
  pushHttp: LatencySummary;
  serverCpuUsPerDelivery: number;
  cpu: CpuWindow;
  disconnects: number;
  malformed: number;
  /** every round, in the order they ran (interleaved runs: `--rounds` > 1 or `--baseline`) */
  rounds?: FanoutRound[];
  /** each measure's own median over the rounds (the other fields are the round with the median CPU µs/delivery) */
  medians?: RoundMedians;
}

/** One round of (a) or (d), as listed in the report. */
export interface FanoutRound {
  deliveriesPerSec: number;
  p99Ms: number;
  serverCpuUsPerDelivery: number;
  lost: number;
  /** (d) only */
  reqPerSec?: number;
  serverPct: number;
  otherPct: number;
  /** 1-minute load average of the machine when the round ended */
  loadAvg1: number;
  at: string;
}

export interface RoundMedians {
  deliveriesPerSec: number;
  p99Ms: number;
  serverCpuUsPerDelivery: number;
  lost: number;
  reqPerSec?: number;
}

/** One round of (b). */
export interface MemoryRound {
  conns: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  perConnKiB: number;
  loadAvg1: number;
  at: string;
}

export interface InflightResult {
  groupSize: number;
  concurrency: number;
  requests: number;
  rejected: number;
  errors: number;
  reqPerSec: number;
  expected: number;
  delivered: number;
  lost: number;
  deliveriesPerSec: number;
  latency: LatencySummary;
  requestLatency: LatencySummary;
  serverCpuUsPerDelivery: number;
  cpu: CpuWindow;
  disconnects: number;
  sampleErrors: string[];
  /**
   * Parley only (its /metrics): push frames the server had written to sockets when the HTTP load
   * ended, and by the end of the drain. `serverWrote` ≥ `expected` with `lost` > 0 means late
   * (still on its way to the clients), not lost.
   */
  serverWroteAtLoadEnd?: number | null;
  serverWrote?: number | null;
  /** KiB the servers had handed to TCP that the clients had not read when the load ended (Linux `ss`). */
  clientKernelQueueKiBAtLoadEnd?: number | null;
  /** From the end of the HTTP load to the last delivery. */
  drainMs?: number;
  /** every round (interleaved runs); the other fields are the round with the median CPU µs/delivery */
  rounds?: FanoutRound[];
  medians?: RoundMedians;
}

export interface SendToClientResult {
  concurrency: number;
  requests: number;
  rejected: number;
  errors: number;
  reqPerSec: number;
  requestLatency: LatencySummary;
  delivered: number;
  deliveryLatency: LatencySummary;
  /** server CPU µs per request; with several rounds, the median of the rounds */
  serverCpuUsPerRequest: number;
  cpu: CpuWindow;
  sampleErrors: string[];
  /** offered rate (req/s, all HTTP load processes together); absent = closed loop */
  offeredRate?: number;
  /** every round, in the order they ran (one entry when --rounds=1) */
  rounds?: SendToClientRound[];
}

export interface SendToClientRound {
  serverCpuUsPerRequest: number;
  reqPerSec: number;
  requests: number;
  serverPct: number;
  otherPct: number;
  /** 1-minute load average of the machine when the round ended */
  loadAvg1: number;
  at: string;
}

export interface TargetResult {
  target: TargetKind;
  /** shown instead of the target's name (`--baseline`: "Parley (baseline)") */
  label?: string;
  status: "ok" | "skipped" | "failed";
  reason?: string;
  serverPid?: number;
  loadgens?: number;
  memory?: MemoryResult;
  fanout: FanoutResult[];
  inflight?: InflightResult;
  sendToClient?: SendToClientResult;
  notes: string[];
  elapsedS?: number;
}

export interface BenchReport {
  meta: {
    startedAt: string;
    finishedAt: string;
    quick: boolean;
    node: string;
    cpus: number;
    cpuModel: string;
    memGiB: number;
    notices: boolean;
    config: Omit<Config, "outDir" | "targets" | "quick">;
  };
  targets: TargetResult[];
}
