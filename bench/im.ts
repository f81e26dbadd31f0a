// Cluster-admin (seed 003) push benchmark: `dim=broadcast` and `dim=room` pushes to N access
// connections (half WebSocket /im/ws, half length-prefixed TCP), against a raw `ws` server doing
// the same broadcast in the same run. Clients live in child processes (≤ 2500 sockets each).
//
//   node --import tsx bench/im.ts                 # 10 000 connections, 40 pushes per scenario
//   node --import tsx bench/im.ts --conns=2000 --pushes=20
//
// Only 127.0.0.1 is contacted. Every child is stopped at the end, on error and on signals.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import http from "node:http";
import { connect } from "node:net";
import path from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { Histogram, type HistogramJSON, machineCpu, procCpuSeconds, sleep, summarize } from "./lib/common.ts";
import { freePort, installCleanupHandlers, logTail, makeTempDir, stopAll, track } from "./lib/procs.ts";

const ROOT = path.join(import.meta.dirname, "..");
const ADMIN_TOKEN = "bench-admin-token-im-0123456789";
const PER_CHILD = 2500;
const now = () => performance.timeOrigin + performance.now();

type Conn = { kind: "ws" | "tcp" | "raw"; addr: string; uid?: number; sid?: number; token?: string };
type ToChild = { type: "connect"; conns: Conn[]; rid: number | null } | { type: "reset" } | { type: "stats" };
type FromChild =
  | { type: "ready"; ok: number; failed: number; error?: string }
  | { type: "stats"; received: number; hist: HistogramJSON; lastAt: number };

// ---------------------------------------------------------------------------------------------
// child: load generator
// ---------------------------------------------------------------------------------------------
async function child(): Promise<void> {
  const hist = new Histogram();
  let received = 0;
  let lastAt = 0;
  const sockets: Array<{ close(): void }> = [];
  const onBody = (b: Buffer) => {
    // every pushed body is {"t":<send time ms>,...}; acks are {"cmd":...}
    if (b[2] !== 0x74) return;
    const t = Number(b.toString("latin1", 5, b.indexOf(0x2c)));
    const at = now();
    hist.record((at - t) * 1000);
    received++;
    lastAt = at;
  };
  const open = (c: Conn, rid: number | null): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connect timeout")), 30_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const online = JSON.stringify({
        cmd: "online",
        seq: 1,
        data: { uid: c.uid, sid: c.sid, token: c.token, app: "bench", version: "1" },
      });
      const join = JSON.stringify({ cmd: "room-join", seq: 2, data: { rid } });
      if (c.kind === "tcp") {
        const [host, port] = [
          c.addr.slice(0, c.addr.lastIndexOf(":")),
          Number(c.addr.slice(c.addr.lastIndexOf(":") + 1)),
        ];
        const s = connect(port, host);
        sockets.push({ close: () => s.destroy() });
        let buf: Buffer = Buffer.alloc(0);
        let phase = 0;
        const frame = (text: string) => {
          const body = Buffer.from(text);
          const h = Buffer.allocUnsafe(4);
          h.writeUInt32BE(body.length, 0);
          s.write(Buffer.concat([h, body]));
        };
        s.on("connect", () => frame(online));
        pingers.push(() => frame('{"cmd":"ping","seq":0}'));
        s.on("error", (e) => reject(e));
        s.on("data", (d: Buffer) => {
          buf = buf.length ? Buffer.concat([buf, d]) : d;
          while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
            const len = buf.readUInt32BE(0);
            const body = buf.subarray(4, 4 + len);
            buf = buf.subarray(4 + len);
            if (phase === 2) onBody(body);
            else if (phase === 0) {
              phase = rid === null ? 2 : 1;
              if (rid === null) done();
              else frame(join);
            } else {
              phase = 2;
              done();
            }
          }
        });
        return;
      }
      const ws = new WebSocket(c.kind === "raw" ? `ws://${c.addr}/` : `ws://${c.addr}/im/ws`, {
        perMessageDeflate: false,
      });
      sockets.push({ close: () => ws.terminate() });
      let phase = c.kind === "raw" ? 2 : 0;
      ws.on("open", () => {
        if (c.kind === "raw") done();
        else {
          ws.send(online);
          pingers.push(() => ws.send('{"cmd":"ping","seq":0}'));
        }
      });
      ws.on("error", (e) => reject(e));
      ws.on("message", (data: Buffer) => {
        if (phase === 2) return onBody(data);
        if (phase === 0) {
          phase = rid === null ? 2 : 1;
          if (rid === null) done();
          else ws.send(join);
        } else {
          phase = 2;
          done();
        }
      });
    });
  // access clients ping (the server closes a connection silent for ws.idleTimeoutMs; TCP has no transport pings)
  const pingers: Array<() => void> = [];
  setInterval(() => {
    for (const p of pingers) p();
  }, 20_000).unref();
  process.on("message", async (m: ToChild) => {
    if (m.type === "connect") {
      let ok = 0;
      let failed = 0;
      let error: string | undefined;
      for (let i = 0; i < m.conns.length; i += 100) {
        const batch = m.conns.slice(i, i + 100).map((c) => open(c, m.rid));
        for (const r of await Promise.allSettled(batch)) {
          if (r.status === "fulfilled") ok++;
          else {
            failed++;
            error ??= String(r.reason);
          }
        }
      }
      process.send?.({ type: "ready", ok, failed, error } satisfies FromChild);
    } else if (m.type === "reset") {
      hist.reset();
      received = 0;
      lastAt = 0;
    } else if (m.type === "stats") {
      process.send?.({ type: "stats", received, hist: hist.toJSON(), lastAt } satisfies FromChild);
    }
  });
  process.on("disconnect", () => {
    for (const s of sockets) s.close();
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// raw ws peer: one http server, POST /push → ws.send(body) to every socket
// ---------------------------------------------------------------------------------------------
function rawPeer(): void {
  const port = Number(process.env.PORT);
  const server = http.createServer((req, res) => {
    if (req.url === "/readyz") return void res.end("ok");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      for (const ws of wss.clients) ws.send(body);
      res.end('{"code":0,"errmsg":"Ok"}');
    });
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  server.listen(port, "127.0.0.1");
  const parent = Number(process.env.BENCH_PARENT_PID);
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}

// ---------------------------------------------------------------------------------------------
// orchestrator
// ---------------------------------------------------------------------------------------------
class Child {
  readonly cp: ChildProcess;
  private waiting: Array<{ type: string; resolve: (m: FromChild) => void }> = [];
  constructor() {
    this.cp = track(fork(path.join(ROOT, "bench/im.ts"), ["--child"], { execArgv: ["--import", "tsx"], cwd: ROOT }));
    this.cp.on("message", (m: FromChild) => {
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m);
    });
  }
  ask<T extends FromChild>(msg: ToChild, reply: T["type"], timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`child did not answer ${msg.type}`)), timeoutMs);
      this.waiting.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as T);
        },
      });
      this.cp.send(msg);
    });
  }
  send(msg: ToChild): void {
    this.cp.send(msg);
  }
}

async function http1(
  port: number,
  method: string,
  p: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method,
    body,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
  });
  return (await res.json()) as Record<string, unknown>;
}

async function waitReady(port: number, cp: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (cp.exitCode !== null) throw new Error(`server exited:\n${logTail(log)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`server not ready:\n${logTail(log)}`);
}

async function pool<T>(n: number, items: T[], fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++] as T);
    }),
  );
}

interface Result {
  target: string;
  scenario: string;
  conns: string;
  pushes: number;
  deliveries: number;
  expected: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  serverCpuUsPerDelivery: number;
  serverCpuPct: number;
  clientsCpuPct: number;
  machineBusyPct: number;
}

async function measure(
  target: string,
  scenario: string,
  conns: string,
  kids: Child[],
  serverPid: number,
  expectedPerPush: number,
  pushes: number,
  pushOnce: (n: number) => Promise<void>,
): Promise<Result> {
  for (const k of kids) k.send({ type: "reset" });
  await sleep(200);
  const cpu0 = procCpuSeconds(serverPid);
  const kidCpu0 = kids.reduce((a, k) => a + procCpuSeconds(k.cp.pid ?? 0), 0);
  const m0 = machineCpu();
  const t0 = now();
  for (let n = 0; n < pushes; n++) {
    await pushOnce(n);
    await sleep(25);
  }
  const expected = expectedPerPush * pushes;
  let total = 0;
  let last = t0;
  const hist = new Histogram();
  for (let i = 0; i < 600; i++) {
    const stats = await Promise.all(
      kids.map((k) => k.ask<Extract<FromChild, { type: "stats" }>>({ type: "stats" }, "stats")),
    );
    total = stats.reduce((a, s) => a + s.received, 0);
    if (total >= expected || i === 599) {
      hist.reset();
      for (const s of stats) hist.merge(s.hist);
      last = Math.max(...stats.map((s) => s.lastAt));
      break;
    }
    await sleep(100);
  }
  const cpu = procCpuSeconds(serverPid) - cpu0;
  const kidCpu = kids.reduce((a, k) => a + procCpuSeconds(k.cp.pid ?? 0), 0) - kidCpu0;
  const m1 = machineCpu();
  const seconds = (last - t0) / 1000;
  const sum = summarize(hist);
  return {
    target,
    scenario,
    conns,
    pushes,
    deliveries: total,
    expected,
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round(total / seconds),
    p50: sum.p50Ms,
    p99: sum.p99Ms,
    serverCpuUsPerDelivery: Math.round(((cpu * 1e6) / Math.max(1, total)) * 100) / 100,
    serverCpuPct: Math.round((cpu / seconds) * 100),
    clientsCpuPct: Math.round((kidCpu / seconds) * 100),
    machineBusyPct: Math.round(((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100),
  };
}

async function orchestrate(): Promise<void> {
  installCleanupHandlers();
  const arg = (name: string, def: number) =>
    Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? def);
  const N = arg("conns", 10_000);
  const PUSHES = arg("pushes", 40);
  const USERS = Math.min(100, N);
  const results: Result[] = [];
  const body = (n: number) => `{"t":${now().toFixed(3)},"n":${n},"pad":"parley-bench-payload-0123456789ab"}`;
  const runDir = makeTempDir("parley-im-bench-");

  // --- Parley ------------------------------------------------------------------------------
  {
    const port = await freePort();
    const tcpPort = await freePort();
    const log = path.join(runDir, "parley.log");
    const fd = openSync(log, "a");
    const cp = track(
      spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
        cwd: ROOT,
        stdio: ["ignore", fd, fd],
        env: {
          ...process.env,
          PARLEY_PORT: String(port),
          PARLEY_HOST: "127.0.0.1",
          PARLEY_TCP_PORT: String(tcpPort),
          PARLEY_DATA_DIR: makeTempDir("parley-im-bench-data-"),
          PARLEY_ADMIN_TOKEN: ADMIN_TOKEN,
          PARLEY_LOG_LEVEL: "warn",
          PARLEY_BENCH: "1",
          PARLEY_IM_TOKEN_TTL_MS: "3600000",
          PARLEY_WS_MAX_BUFFERED_BYTES: "4194304",
        },
      }),
    );
    closeSync(fd);
    await waitReady(port, cp, log);
    const pid = cp.pid ?? 0;
    // users, one chat room, N sessions with tokens
    const uids: number[] = [];
    for (let i = 0; i < USERS; i++) {
      const r = await http1(
        port,
        "POST",
        "/admin/api/users",
        JSON.stringify({ mobile: `139${String(i).padStart(8, "0")}`, password: "bench-pass-1" }),
        { "content-type": "application/json" },
      );
      uids.push(Number((r.data as { id: string }).id));
    }
    const room = await http1(port, "POST", "/group/addGroup", JSON.stringify({ groupName: "bench" }), {
      "content-type": "application/json",
      "FZM-DEVICE": "PC",
    });
    const rid = Number((room.data as { groupId: string }).groupId);
    const conns: Conn[] = [];
    const jobs = Array.from({ length: N }, (_, i) => i);
    await pool(32, jobs, async (i) => {
      const uid = uids[i % USERS] as number;
      const kind = i % 2 === 0 ? "ws" : "tcp";
      const reg = await http1(port, "GET", `/im/register?uid=${uid}&nation=1&city=1&town=1`);
      const sid = reg.sid as number;
      const ip = await http1(
        port,
        "GET",
        `/im/iplist?type=${kind === "tcp" ? 1 : 2}&uid=${uid}&sid=${sid}&clientip=127.0.0.1`,
      );
      conns[i] = { kind, addr: (ip.iplist as string[])[0] as string, uid, sid, token: ip.token as string };
    });
    const kids = Array.from({ length: Math.ceil(N / PER_CHILD) }, () => new Child());
    const ready = await Promise.all(
      kids.map((k, i) =>
        k.ask<Extract<FromChild, { type: "ready" }>>(
          { type: "connect", conns: conns.slice(i * PER_CHILD, (i + 1) * PER_CHILD), rid },
          "ready",
          300_000,
        ),
      ),
    );
    const ok = ready.reduce((a, r) => a + r.ok, 0);
    if (ok !== N) throw new Error(`parley: ${ok}/${N} connections online (${ready.map((r) => r.error).join("; ")})`);
    const push = (q: string) => async (n: number) => {
      const r = await http1(port, "POST", `/im/push?${q}`, body(n));
      if (r.code !== 0) throw new Error(`push failed: ${JSON.stringify(r)}`);
    };
    const label = `${N / 2} WS + ${N / 2} TCP`;
    results.push(await measure("parley", "broadcast", label, kids, pid, N, PUSHES, push("dim=broadcast")));
    results.push(await measure("parley", "room", label, kids, pid, N, PUSHES, push(`dim=room&rid=${rid}&expire=60`)));
    for (const k of kids) k.cp.disconnect();
    await sleep(500);
    cp.kill("SIGTERM");
    await sleep(1500);
  }

  // --- raw ws --------------------------------------------------------------------------------
  {
    const port = await freePort();
    const log = path.join(runDir, "raw.log");
    const fd = openSync(log, "a");
    const cp = track(
      spawn(process.execPath, ["--import", "tsx", "bench/im.ts", "--raw-peer"], {
        cwd: ROOT,
        stdio: ["ignore", fd, fd],
        env: { ...process.env, PORT: String(port), BENCH_PARENT_PID: String(process.pid) },
      }),
    );
    closeSync(fd);
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
      } catch {
        // starting
      }
      await sleep(100);
    }
    const conns: Conn[] = Array.from({ length: N }, () => ({ kind: "raw" as const, addr: `127.0.0.1:${port}` }));
    const kids = Array.from({ length: Math.ceil(N / PER_CHILD) }, () => new Child());
    const ready = await Promise.all(
      kids.map((k, i) =>
        k.ask<Extract<FromChild, { type: "ready" }>>(
          { type: "connect", conns: conns.slice(i * PER_CHILD, (i + 1) * PER_CHILD), rid: null },
          "ready",
          300_000,
        ),
      ),
    );
    const ok = ready.reduce((a, r) => a + r.ok, 0);
    if (ok !== N) throw new Error(`raw: ${ok}/${N} connected`);
    const push = async (n: number) => {
      await http1(port, "POST", "/push", body(n));
    };
    results.push(await measure("raw ws", "broadcast", `${N} WS`, kids, cp.pid ?? 0, N, PUSHES, push));
    for (const k of kids) k.cp.disconnect();
  }

  const lines = [
    `| target | scenario | connections | pushes | delivered / expected | deliveries/s | p50 ms | p99 ms | server CPU µs/delivery | server CPU % | clients CPU % | machine busy % |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.scenario} | ${r.conns} | ${r.pushes} | ${r.deliveries} / ${r.expected} | ${r.perSecond} | ${r.p50} | ${r.p99} | ${r.serverCpuUsPerDelivery} | ${r.serverCpuPct} | ${r.clientsCpuPct} | ${r.machineBusyPct} |`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  process.stdout.write(`${JSON.stringify(results)}\n`);
  await stopAll();
}

if (process.argv.includes("--child")) void child();
else if (process.argv.includes("--raw-peer")) rawPeer();
else
  orchestrate().then(
    () => process.exit(0),
    async (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      await stopAll();
      process.exit(1);
    },
  );
