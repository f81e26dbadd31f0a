// Shared helpers for the benchmark harness: clock, latency histogram, /proc readers,
// a tiny JSON-over-HTTP client, and the IPC message types spoken between processes.
import { readFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";

/** Wall-clock-ish high resolution time in ms (float). Same clock in every process on the box. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type TargetKind = "parley" | "raw" | "socketio";
export const TARGET_KINDS: readonly TargetKind[] = ["parley", "raw", "socketio"];
export function isTargetKind(s: string): s is TargetKind {
  return (TARGET_KINDS as readonly string[]).includes(s);
}

/** Marker key put into `data` of every bench push; server notices never contain it unescaped. */
export const BENCH_MARKER = "pbm";
/** 32 bytes of filler so a push looks like a small chat message (~150-byte frame). */
export const PAD = "parley-bench-payload-0123456789ab";

export interface BenchData {
  pbm: 1;
  /** send time, ms since epoch (performance.timeOrigin + performance.now()) */
  t: number;
  /** sequence number within the sender */
  s: number;
  pad: string;
}

export function benchData(seq: number): BenchData {
  return { pbm: 1, t: nowMs(), s: seq, pad: PAD };
}

// ---------------------------------------------------------------------------------------------
// Log-linear latency histogram (HDR-style, 64 sub-buckets per power of two => <1.6 % error).
// Values are recorded in microseconds.
// ---------------------------------------------------------------------------------------------
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64
const MAX_SHIFT = 30; // up to ~2^36 us, way beyond anything we time
const N_BUCKETS = (MAX_SHIFT + 2) * SUB;

export interface HistogramJSON {
  /** sparse [bucketIndex, count] pairs */
  b: Array<[number, number]>;
  count: number;
  sum: number;
  min: number;
  max: number;
}

export class Histogram {
  private readonly counts = new Float64Array(N_BUCKETS);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  static indexOf(us: number): number {
    let v = Math.floor(us);
    if (!(v > 0)) v = 0;
    if (v > 2 ** 31 - 1) v = 2 ** 31 - 1;
    if (v < 2 * SUB) return v;
    const shift = Math.min(31 - Math.clz32(v) - SUB_BITS, MAX_SHIFT);
    const idx = (shift + 1) * SUB + ((v / 2 ** shift) | 0) - SUB;
    return Math.min(idx, N_BUCKETS - 1);
  }

  /** Representative (mid-point) value of a bucket, in us. */
  static valueOf(idx: number): number {
    if (idx < 2 * SUB) return idx;
    const shift = Math.floor(idx / SUB) - 1;
    const base = ((idx % SUB) + SUB) * 2 ** shift;
    return base + 2 ** shift / 2;
  }

  record(us: number): void {
    const v = us < 0 ? 0 : us;
    const i = Histogram.indexOf(v);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  merge(h: HistogramJSON): void {
    for (const [i, c] of h.b) this.counts[i] = (this.counts[i] ?? 0) + c;
    this.count += h.count;
    this.sum += h.sum;
    if (h.count > 0) {
      if (h.min < this.min) this.min = h.min;
      if (h.max > this.max) this.max = h.max;
    }
  }

  toJSON(): HistogramJSON {
    const b: Array<[number, number]> = [];
    for (let i = 0; i < N_BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) b.push([i, c]);
    }
    return { b, count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max };
  }

  /** Percentile in us (p in 0..100). */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < N_BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(Math.max(Histogram.valueOf(i), this.min), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : Number.NaN;
  }
}

export interface LatencySummary {
  count: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summarize(h: Histogram): LatencySummary {
  const r = (us: number): number => Math.round(us) / 1000;
  return {
    count: h.count,
    minMs: h.count ? r(h.min) : Number.NaN,
    p50Ms: r(h.percentile(50)),
    p90Ms: r(h.percentile(90)),
    p99Ms: r(h.percentile(99)),
    maxMs: r(h.max),
    meanMs: r(h.mean()),
  };
}

// ---------------------------------------------------------------------------------------------
// /proc readers
// ---------------------------------------------------------------------------------------------
export const CLK_TCK = 100;

/** utime+stime of a process (all its threads) in seconds, or NaN if it is gone. */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces/parens: fields start after the last ')'
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state); utime is field 14, stime field 15
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of a process in KiB, or NaN. */
export function procRssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Machine-wide busy and total jiffies from /proc/stat (for "how busy was the box"). */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP JSON client
// ---------------------------------------------------------------------------------------------
export interface HttpResult {
  status: number;
  body: string;
}

export function request(
  agent: http.Agent,
  opts: {
    host: string;
    port: number;
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number | undefined;
  },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(opts.body);
    }
    const req = http.request(
      { host: opts.host, port: opts.port, method: opts.method, path: opts.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout ${opts.method} ${opts.path}`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

export function parseEnvelope(body: string): Envelope | undefined {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v === "object" && v !== null && "code" in v && typeof v.code === "number") {
      const msg = "msg" in v && typeof v.msg === "string" ? v.msg : "";
      const data = "data" in v ? v.data : undefined;
      return { code: v.code, msg, data };
    }
  } catch {
    // fall through
  }
  return undefined;
}

export async function postJson(
  agent: http.Agent,
  host: string,
  port: number,
  path: string,
  body: unknown,
  systemId?: string,
  timeoutMs?: number,
): Promise<{ status: number; env: Envelope | undefined; raw: string }> {
  const headers: Record<string, string> = {};
  if (systemId !== undefined) headers.SystemId = systemId;
  const res = await request(agent, {
    host,
    port,
    method: "POST",
    path,
    headers,
    body: JSON.stringify(body),
    timeoutMs,
  });
  return { status: res.status, env: parseEnvelope(res.body), raw: res.body };
}

// ---------------------------------------------------------------------------------------------
// IPC protocol
// ---------------------------------------------------------------------------------------------
export interface LoadgenStats {
  /** bench pushes received since last reset */
  recv: number;
  /** all frames received since last reset (bench pushes + notices + anything else) */
  frames: number;
  /** latency histogram of bench pushes (us) */
  hist: HistogramJSON;
  firstRecvMs: number;
  lastRecvMs: number;
  /** frames that carried the marker but did not have the documented shape */
  malformed: number;
  /** sockets currently open */
  live: number;
  /** sockets closed by the server / errored since start */
  disconnects: number;
  cpuSeconds: number;
  rssKiB: number;
}

export type ParentToLoadgen =
  | { type: "connect"; count: number; systemId: string; batch: number }
  | { type: "bind"; group: string; from: number; to: number; systemId: string; concurrency: number; deadlineMs: number }
  | { type: "clientIds"; from: number; to: number }
  | { type: "reset" }
  | { type: "collect" }
  | { type: "exit" };

export type LoadgenToParent =
  | { type: "ready"; pid: number }
  | { type: "connected"; ok: number; failed: number; ms: number; errors: string[] }
  | { type: "bound"; ok: number; failed: number; ms: number; errors: string[]; aborted: boolean }
  | { type: "clientIds"; ids: string[] }
  | { type: "resetDone" }
  | { type: "progress"; recv: number; frames: number; live: number }
  | { type: "stats"; stats: LoadgenStats }
  | { type: "fatal"; error: string };

export type HttpLoadMode = "client" | "group";

export interface HttpLoadJob {
  type: "run";
  mode: HttpLoadMode;
  host: string;
  port: number;
  systemId: string;
  /** clientId for mode=client, groupName for mode=group */
  target: string;
  concurrency: number;
  durationMs: number;
  /** offered rate of this process in requests/s (paced); absent = closed loop, as fast as it goes */
  rate?: number;
}

export interface HttpLoadResult {
  type: "result";
  ok: number;
  /** HTTP 2xx with envelope code != 0 */
  rejected: number;
  /** transport errors / non-2xx */
  errors: number;
  sampleErrors: string[];
  elapsedMs: number;
  startMs: number;
  hist: HistogramJSON;
  cpuSeconds: number;
}

export type HttpLoadToParent = { type: "ready"; pid: number } | HttpLoadResult | { type: "fatal"; error: string };

/** Narrow an unknown IPC message to an object with a string `type`. */
export function hasType(m: unknown): m is { type: string } {
  return typeof m === "object" && m !== null && "type" in m && typeof m.type === "string";
}

export function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
