// Shared pieces of bench/rooms.ts and bench/groups.ts: child-process bookkeeping (everything
// started is stopped at the end, on error and on signals), a tiny HTTP client, Node servers with
// the event-loop probe, and the load-generator handle (bench/rooms-loadgen.ts).
import { type ChildProcess, fork, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { sleep } from "./lib/common.js";
import type { RoomTarget } from "./rooms-clients.js";

export const ROOT = path.resolve(import.meta.dirname, "..");
const HARD_STOP_MS = 40 * 60_000;

export const children = new Set<ChildProcess>();
export const cleanups: Array<() => void> = [];
export function stopEverything(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const f of cleanups.splice(0)) {
    try {
      f();
    } catch {
      // best effort
    }
  }
}
process.on("exit", stopEverything);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(sig, () => {
    stopEverything();
    process.exit(130);
  });
setTimeout(() => {
  process.stderr.write("bench:rooms: hard stop\n");
  process.exit(3);
}, HARD_STOP_MS).unref();

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

export function request(
  port: number,
  method: string,
  p: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: ad-hoc JSON answers
): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: p, method, headers: { "content-type": "application/json", ...headers } },
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
    req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

export async function waitHttp(port: number, p: string, ms: number, cp?: ChildProcess): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cp && cp.exitCode !== null) throw new Error(`server exited (code ${cp.exitCode})`);
    try {
      if ((await request(port, "GET", p)).status < 500) return;
    } catch {
      // not up yet
    }
    await sleep(150);
  }
  throw new Error(`no answer on 127.0.0.1:${port}${p} within ${ms} ms`);
}

export async function startNode(script: string[], env: Record<string, string>, runDir: string, name: string) {
  const port = await freePort();
  const eldFile = path.join(runDir, `${name}-eld.json`);
  const log = openSync(path.join(runDir, `${name}.log`), "a");
  // BENCH_CPU_PROF_DIR=<dir>: the servers write a V8 CPU profile there on exit (open in DevTools)
  const prof = process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const cp = spawn(
    process.execPath,
    [...prof, "--import", "tsx", "--import", "./bench/peers/eld-probe.ts", ...script],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        PARLEY_PORT: String(port),
        BENCH_ELD_FILE: eldFile,
        BENCH_PARENT_PID: String(process.pid),
      },
      stdio: ["ignore", log, log],
    },
  );
  closeSync(log);
  children.add(cp);
  const stop = async () => {
    if (cp.exitCode !== null) return;
    const exited = new Promise((r) => cp.once("exit", r));
    cp.kill("SIGTERM");
    await Promise.race([exited, sleep(8000)]);
    if (cp.exitCode === null) cp.kill("SIGKILL");
  };
  return { cp, port, eldFile, stop };
}

export class Loadgen {
  readonly cp: ChildProcess;
  recv = 0;
  private waiters = new Map<string, (m: Record<string, unknown>) => void>();
  private failed: Error | null = null;
  constructor(target: RoomTarget, onProgress: () => void) {
    this.cp = fork(path.join(ROOT, "bench/rooms-loadgen.ts"), [target], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.add(this.cp);
    this.cp.on("message", (m: Record<string, unknown> & { type: string }) => {
      if (m.type === "p") {
        this.recv = Number(m.recv);
        onProgress();
      } else if (m.type === "fatal") {
        this.failed = new Error(`loadgen: ${m.error}`);
        for (const w of this.waiters.values()) w(m);
      } else this.waiters.get(m.type)?.(m);
    });
  }
  ask<T = Record<string, unknown>>(msg: Record<string, unknown>, answer: string, ms = 600_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`loadgen: no ${answer} within ${ms} ms`)), ms);
      this.waiters.set(answer, (m) => {
        clearTimeout(t);
        this.waiters.delete(answer);
        if (this.failed) reject(this.failed);
        else resolve(m as T);
      });
      this.cp.send(msg);
    });
  }
  pid(): number {
    return this.cp.pid as number;
  }
}

let wake: (() => void) | null = null;
export const onProgress = () => wake?.();
export const waitProgress = (ms: number) =>
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

/**
 * Write-type system calls a process (all its threads) has made: `syscw` of /proc/<pid>/io
 * (write, writev, pwrite…: the socket writes of a server, plus its few file writes). NaN when
 * unreadable. Deliveries ÷ the change over a window = frames per write syscall.
 */
export function procWriteSyscalls(pid: number): number {
  try {
    const m = /^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m?.[1] ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
