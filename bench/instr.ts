// Repeatable per-request cost of bench (c) `send_to_client`, for a machine too busy for timings.
//
//   node --import tsx bench/instr.ts                                   # callgrind, parley and raw
//   node --import tsx bench/instr.ts --tool=cpu-prof --targets=parley  # V8 CPU profile of Parley
//
// tool=callgrind: each server runs under `valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes`; after a
// warm-up, instrumentation is switched on (`callgrind_control -i on`), `--requests` requests are
// sent, the counters are dumped, and the report is the number of instructions per request of the
// main thread (the event loop: everything a request runs) and of all threads together (plus V8's
// optimising compiler and concurrent GC on helper threads). Instruction counts do not depend on
// what else runs on the machine (kernel time is not counted: valgrind sees user space only).
// The requests go one at a time by default (`--concurrency=1`), so no target gets cheaper by
// batching more requests into one event-loop turn because it is slower under valgrind.
//
// tool=cpu-prof: the server runs with `node --cpu-prof`; after the warm-up `--requests` requests
// are sent at `--concurrency`, the server is stopped and the profile (a .cpuprofile that Chrome
// DevTools opens) is left in --out.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { benchData, errMsg, isTargetKind, nowMs, postJson, sleep, type TargetKind } from "./lib/common.js";
import {
  installCleanupHandlers,
  makeTempDir,
  type ServerHandle,
  startServer,
  stopAll,
  stopProcess,
} from "./lib/procs.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const SYSTEM_ID = "bench-system";

interface Options {
  tool: "callgrind" | "cpu-prof";
  targets: TargetKind[];
  requests: number;
  warmup: number;
  concurrency: number;
  out: string;
  /** an older checkout measured first as "parley-baseline" (`--baseline=DIR`) */
  baseline: string | null;
}

function parseArgs(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m?.[1]) throw new Error(`unexpected argument ${a}`);
    flags.set(m[1], m[2] ?? "true");
  }
  const known = new Set(["tool", "targets", "requests", "warmup", "concurrency", "out", "baseline"]);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k}`);
  const tool = flags.get("tool") ?? "callgrind";
  if (tool !== "callgrind" && tool !== "cpu-prof") throw new Error("--tool must be callgrind or cpu-prof");
  const targets = (flags.get("targets") ?? "parley,raw").split(",").filter(Boolean);
  for (const t of targets) if (!isTargetKind(t)) throw new Error(`unknown target ${t}`);
  const int = (name: string, def: number, max: number): number => {
    const n = Number(flags.get(name) ?? def);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer 1..${max}`);
    return n;
  };
  return {
    tool,
    targets: targets as TargetKind[],
    requests: int("requests", tool === "callgrind" ? 3000 : 100_000, 1_000_000),
    warmup: int("warmup", tool === "callgrind" ? 3000 : 20_000, 1_000_000),
    concurrency: int("concurrency", tool === "callgrind" ? 1 : 32, 256),
    out: path.resolve(flags.get("out") ?? path.join(ROOT, "bench/results/instr")),
    baseline: flags.has("baseline") ? path.resolve(flags.get("baseline") ?? "") : null,
  };
}

const log = (s: string): void => {
  process.stdout.write(`[instr ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

/** One connected recipient; resolves with its client id and a counter of the pushes it got. */
async function connectRecipient(port: number): Promise<{ ws: WebSocket; clientId: string; received: () => number }> {
  const ws = new WebSocket(`ws://${HOST}:${port}/ws?systemId=${SYSTEM_ID}`, { perMessageDeflate: false });
  let received = 0;
  const clientId = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no first frame within 60 s")), 60_000);
    ws.once("error", reject);
    ws.once("message", (raw) => {
      clearTimeout(t);
      const id = (JSON.parse(String(raw)) as { data?: { clientId?: string } }).data?.clientId;
      if (id) resolve(id);
      else reject(new Error(`unexpected first frame ${String(raw).slice(0, 200)}`));
      ws.on("message", () => {
        received++;
      });
    });
  });
  return { ws, clientId, received: () => received };
}

/** `count` send_to_client requests, `concurrency` at a time; throws on the first failure. */
async function sendRequests(port: number, clientId: string, count: number, concurrency: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const s = next++;
      const body = { clientId, sendUserId: "bench", code: 0, msg: "bench", data: benchData(s) };
      const r = await postJson(agent, HOST, port, "/api/send_to_client", body, SYSTEM_ID, 120_000);
      if (r.status !== 200 || r.env?.code !== 0) throw new Error(`send_to_client failed: HTTP ${r.status} ${r.raw}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    agent.destroy();
  }
}

async function waitFor(cond: () => boolean, maxMs: number): Promise<void> {
  const t0 = nowMs();
  while (!cond() && nowMs() - t0 < maxMs) await sleep(20);
}

/** Total instructions (Ir) of a callgrind output file ("summary:" or "totals:" line). */
function callgrindTotal(file: string): number {
  const text = readFileSync(file, "utf8");
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(text);
  if (!m?.[1]) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

async function measure(
  opts: Options,
  kind: TargetKind,
  runDir: string,
  root = ROOT,
  label: string = kind,
): Promise<string> {
  const valgrindPid = (h: ServerHandle): string => String(h.pid);
  const outDir = path.join(opts.out, label);
  mkdirSync(outDir, { recursive: true });
  const server = await startServer(
    kind,
    root,
    runDir,
    false,
    opts.tool === "callgrind"
      ? {
          wrapper: [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            // one dump per thread: V8 optimises and marks on helper threads while the main
            // thread serves requests; the main thread is the number that compares servers
            "--separate-threads=yes",
            `--callgrind-out-file=${path.join(outDir, "callgrind.out.%p")}`,
          ],
          readyTimeoutMs: 10 * 60_000,
        }
      : { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${outDir}`] },
  );
  try {
    log(`${label}: server pid ${server.pid} ready on port ${server.port}`);
    const reg = await postJson(new http.Agent(), HOST, server.port, "/api/register", { systemId: SYSTEM_ID });
    if (reg.env?.code !== 0) throw new Error(`register failed: ${reg.raw}`);
    const rcpt = await connectRecipient(server.port);
    const t0 = nowMs();
    await sendRequests(server.port, rcpt.clientId, opts.warmup, opts.concurrency);
    await waitFor(() => rcpt.received() >= opts.warmup, 60_000);
    log(`${label}: ${opts.warmup} warm-up requests in ${Math.round(nowMs() - t0)} ms`);
    if (opts.tool === "callgrind") {
      execFileSync("callgrind_control", ["-z", valgrindPid(server)], { stdio: "ignore" });
      execFileSync("callgrind_control", ["-i", "on", valgrindPid(server)], { stdio: "ignore" });
    }
    const t1 = nowMs();
    await sendRequests(server.port, rcpt.clientId, opts.requests, opts.concurrency);
    await waitFor(() => rcpt.received() >= opts.warmup + opts.requests, 60_000);
    const ms = nowMs() - t1;
    if (rcpt.received() < opts.warmup + opts.requests)
      throw new Error(`only ${rcpt.received()} of ${opts.warmup + opts.requests} pushes arrived`);
    if (opts.tool === "callgrind") {
      execFileSync("callgrind_control", ["-d", valgrindPid(server)], { stdio: "ignore" });
      execFileSync("callgrind_control", ["-i", "off", valgrindPid(server)], { stdio: "ignore" });
      const dumps = readdirSync(outDir)
        .filter((f) => f.startsWith(`callgrind.out.${server.pid}.`))
        .map((f) => path.join(outDir, f));
      if (dumps.length === 0) throw new Error("callgrind wrote no dump");
      const ir = dumps.reduce((a, f) => a + callgrindTotal(f), 0);
      // thread 1 is the main thread (the event loop); callgrind names its dump "…-01"
      const main = dumps.filter((f) => f.endsWith("-01")).reduce((a, f) => a + callgrindTotal(f), 0);
      rcpt.ws.close();
      const per = (n: number): string => Math.round(n / opts.requests).toLocaleString("en-US");
      return `${label}: ${per(main)} instructions/request on the main thread, ${per(ir)} in all threads (${opts.requests} requests, ${opts.concurrency} at a time, ${Math.round(ms)} ms under valgrind; dumps in ${path.relative(ROOT, outDir)})`;
    }
    rcpt.ws.close();
    return `${label}: ${opts.requests} requests in ${Math.round(ms)} ms; profile in ${path.relative(ROOT, outDir)}`;
  } finally {
    await stopProcess(server.cp, 15_000);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  installCleanupHandlers();
  const runDir = makeTempDir("parley-instr-");
  const lines: string[] = [];
  if (opts.baseline) {
    try {
      lines.push(await measure(opts, "parley", runDir, opts.baseline, "parley-baseline"));
    } catch (e) {
      lines.push(`parley-baseline: FAILED ${errMsg(e)}`);
    }
    log(lines[lines.length - 1] ?? "");
  }
  for (const kind of opts.targets) {
    try {
      lines.push(await measure(opts, kind, runDir));
    } catch (e) {
      lines.push(`${kind}: FAILED ${errMsg(e)}`);
    }
    log(lines[lines.length - 1] ?? "");
  }
  process.stdout.write(`\n${lines.join("\n")}\n`);
  await stopAll();
}

main().catch((e: unknown) => {
  process.stderr.write(`[instr] fatal: ${errMsg(e)}\n`);
  void stopAll().finally(() => process.exit(1));
});
