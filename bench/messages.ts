/**
 * Message pipeline benchmark (issue 4): persisted 1:1 messages over real chat33 WebSockets with
 * the ack (success echo) only after commit, on SQLite and on PostgreSQL.
 *
 *   npm run bench:messages [-- --backends=sqlite,postgres --seconds=10 --history=1000000]
 *
 * Scenarios, per backend:
 *  (1) throughput: S senders, each keeping W messages in flight to its own peer; acks/s.
 *  (2) latency at a fixed offered rate (default 5 000/s spread over the senders): p50/p99 ack ms.
 *  (3) history: one conversation pre-filled with H messages (default 1 M) through the storage
 *      layer, then `/friend/chatLog` pages of 20 at random positions: p50/p99 ms.
 * The server runs in its own process; the load runs in this process (one WebSocket per sender),
 * so server CPU per message is reported from /proc to show which side was the bottleneck.
 * Every process started here is stopped at the end.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import WebSocket from "ws";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";

const USAGE = `usage: npm run bench:messages [-- options]

  --backends=sqlite,postgres   which storages to measure (default both; postgres uses PARLEY_BENCH_PG,
                               default postgres://postgres@127.0.0.1:5432/test)
  --seconds=10                 length of each scenario
  --senders=64                 WebSocket senders, each with its own peer
  --window=16                  messages each sender keeps in flight (throughput scenario)
  --rate=5000                  offered messages per second (latency scenario)
  --history=1000000            messages pre-filled for the chatLog paging scenario
  --relation=colleagues        how each sender may message its peer: colleagues (one company) or
                               friends (a friend request accepted over /friend/add + /friend/response)
  --phases=throughput,fixed,history  which scenarios run (default all three)
  --server-dir=DIR             run the server of another checkout (e.g. \`git archive\` of a baseline
                               commit with a node_modules symlink) — the A/B of one sitting
  --help                       this text
`;
const KNOWN = new Set([
  "backends",
  "seconds",
  "senders",
  "window",
  "rate",
  "history",
  "relation",
  "phases",
  "server-dir",
  "help",
]);
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"] as const;
  }),
);
if (args.has("help") || process.argv.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
for (const [i, k] of [...args.keys()].entries())
  if (!KNOWN.has(k) || !process.argv[i + 2].startsWith("--")) {
    process.stderr.write(`bench:messages: unknown argument ${process.argv[i + 2]}\n\n${USAGE}`);
    process.exit(2);
  }
const BACKENDS = (args.get("backends") ?? "sqlite,postgres").split(",");
const SECONDS = Number(args.get("seconds") ?? 10);
const SENDERS = Number(args.get("senders") ?? 64);
const WINDOW = Number(args.get("window") ?? 16);
const RATE = Number(args.get("rate") ?? 5000);
const HISTORY = Number(args.get("history") ?? 1_000_000);
const RELATION = args.get("relation") ?? "colleagues";
if (RELATION !== "colleagues" && RELATION !== "friends") {
  process.stderr.write(`bench:messages: --relation must be colleagues or friends\n`);
  process.exit(2);
}
const PHASES = new Set((args.get("phases") ?? "throughput,fixed,history").split(","));
const SERVER_DIR = args.get("server-dir") ?? join(import.meta.dirname, "..");
const PG_BASE = process.env.PARLEY_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const ADMIN = "bench-admin-token";
const PORT = 18300 + Math.floor(Math.random() * 500);

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
process.on("SIGINT", () => {
  for (const c of children) c.kill("SIGKILL");
  process.exit(130);
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function request(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads ad-hoc JSON answers of several routes
): Promise<{ status: number; json: any }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: PORT,
        path,
        method,
        agent,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null });
          } catch {
            resolve({ status: res.statusCode ?? 0, json: text });
          }
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function cpuTicks(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const f = readFileSync(path, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** Machine-wide CPU ticks: total, idle (idle + iowait) and stolen by the hypervisor. */
function machineTicks(): { total: number; idle: number; steal: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4], steal: f[7] };
}

async function startServer(env: Record<string, string>): Promise<ChildProcess> {
  // PARLEY_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
  const nodeArgs = (process.env.PARLEY_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/cli.ts", "serve"], {
    cwd: SERVER_DIR,
    env: { ...process.env, ...env, PARLEY_PORT: String(PORT), PARLEY_HOST: "127.0.0.1", PARLEY_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  // up to 120 s: on a loaded machine tsx alone can take longer than 20 s to start the server
  for (let i = 0; i < 1200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode !== null) break;
    try {
      if ((await request("GET", "/readyz", undefined)).status === 200) return child;
    } catch {
      // not up yet
    }
  }
  throw new Error("server did not become ready");
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  child.kill("SIGKILL");
}

interface Pair {
  token: string;
  peerId: string;
}

async function setupUsers(
  n: number,
): Promise<{ pairs: Pair[]; historyPair: { token: string; peerId: string }; historyIds: [number, number] }> {
  const auth = { authorization: `Bearer ${ADMIN}` };
  let companyId: number | undefined;
  if (RELATION === "colleagues") {
    const co = await request("POST", "/admin/api/org/companies", { text: "Bench Co" }, auth);
    if (co.json?.code !== 0) throw new Error(`company: ${JSON.stringify(co.json)}`);
    companyId = co.json.data.id;
  }
  const login = async (mobile: string): Promise<string> => {
    const r = await request("POST", "/user/pwdLogin", { mobile, password: "bench-pass" }, { "FZM-DEVICE": "Web" });
    if (r.json?.result !== 0) throw new Error(`login: ${JSON.stringify(r.json)}`);
    return r.json.data.token as string;
  };
  const pairs: Pair[] = [];
  let historyIds: [number, number] = [0, 0];
  for (let i = 0; i < n; i++) {
    const ids: string[] = [];
    const mobiles: string[] = [];
    for (const side of ["s", "r"]) {
      const mobile = `1${String(3000000000 + i * 2 + (side === "r" ? 1 : 0)).padStart(10, "0")}`;
      const u = await request("POST", "/admin/api/users", { mobile, password: "bench-pass", companyId }, auth);
      if (u.json?.code !== 0) throw new Error(`user: ${JSON.stringify(u.json)}`);
      ids.push(u.json.data.id);
      mobiles.push(mobile);
    }
    const token = await login(mobiles[0]);
    if (RELATION === "friends") {
      // sender asks, peer accepts: a friendship in both directions, as real chat33 users have
      const hdr = (t: string) => ({ "FZM-AUTH-TOKEN": t, "FZM-DEVICE": "Web" });
      const add = await request("POST", "/friend/add", { id: ids[1], reason: "bench" }, hdr(token));
      if (add.json?.result !== 0) throw new Error(`friend/add: ${JSON.stringify(add.json)}`);
      if (add.json.data?.state !== 3) {
        const peerToken = await login(mobiles[1]);
        const ok = await request("POST", "/friend/response", { id: ids[0], agree: 1 }, hdr(peerToken));
        if (ok.json?.result !== 0) throw new Error(`friend/response: ${JSON.stringify(ok.json)}`);
      }
    }
    pairs.push({ token, peerId: ids[1] });
    if (i === 0) historyIds = [Number(ids[0]), Number(ids[1])];
  }
  return { pairs, historyPair: pairs[0], historyIds };
}

/** PostgreSQL backend processes serving `db` (the server's pool), for CPU per message. */
async function pgBackendPids(db: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: PG_BASE });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend'",
      [db],
    );
    return r.rows.map((x) => Number(x.pid));
  } finally {
    await c.end();
  }
}

/** CPU ticks of each pid still alive (a backend that exited in between is left out of both sums). */
function ticksOf(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of pids) {
    try {
      out.set(p, cpuTicks(p));
    } catch {
      // gone
    }
  }
  return out;
}

function ticksDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  // a backend that appeared during the run (a pool connection opened under load) counts whole
  for (const [p, t] of after) sum += t - (before.get(p) ?? 0);
  return sum;
}

interface Sender {
  ws: WebSocket;
  peerId: string;
  pending: Map<string, number>;
}

async function connect(pairs: Pair[]): Promise<Sender[]> {
  return Promise.all(
    pairs.map(
      (p) =>
        new Promise<Sender>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${PORT}/ws?token=${encodeURIComponent(p.token)}&device=Web`, {
            perMessageDeflate: false,
          });
          ws.once("open", () => resolve({ ws, peerId: p.peerId, pending: new Map() }));
          ws.once("error", reject);
        }),
    ),
  );
}

/** Runs senders for `seconds`; `next(i)` decides when sender i may send again. */
async function drive(
  senders: Sender[],
  seconds: number,
  mode: { kind: "window"; window: number } | { kind: "rate"; perSecond: number },
): Promise<{ acks: number; failures: number; latencies: number[]; elapsed: number }> {
  const latencies: number[] = [];
  let acks = 0;
  let failures = 0;
  let seq = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const send = (s: Sender) => {
    const msgId = `b${randomBytes(6).toString("hex")}${seq++}`;
    s.pending.set(msgId, performance.now());
    s.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId,
        channelType: 3,
        targetId: s.peerId,
        msgType: 1,
        msg: { content: `m${seq}` },
      }),
    );
  };
  await new Promise<void>((done) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    for (const s of senders) {
      s.ws.removeAllListeners("message");
      s.ws.on("message", (raw) => {
        const f = JSON.parse(String(raw)) as { eventType: number; msgId?: string; code?: number; logId?: string };
        if (f.eventType !== 0 || !f.msgId) return;
        const t0 = s.pending.get(f.msgId);
        if (t0 === undefined) return;
        s.pending.delete(f.msgId);
        if (f.code !== undefined && f.logId === undefined) failures++;
        else {
          acks++;
          latencies.push(performance.now() - t0);
        }
        if (mode.kind === "window" && performance.now() < deadline) send(s);
      });
    }
    if (mode.kind === "window") for (const s of senders) for (let i = 0; i < mode.window; i++) send(s);
    else {
      // paced: a 1 ms tick sends the messages due since the last tick, round-robin over senders
      let due = 0;
      let i = 0;
      let last = performance.now();
      const tick = setInterval(() => {
        const now = performance.now();
        if (now >= deadline) {
          clearInterval(tick);
          return;
        }
        due += ((now - last) / 1000) * mode.perSecond;
        last = now;
        while (due >= 1) {
          send(senders[i++ % senders.length]);
          due--;
        }
      }, 1);
    }
    const check = setInterval(() => {
      const now = performance.now();
      const inflight = senders.reduce((n, s) => n + s.pending.size, 0);
      if ((now >= deadline && inflight === 0) || now >= deadline + 30_000) {
        clearInterval(check);
        finish();
      }
    }, 20);
  });
  return { acks, failures, latencies: latencies.sort((a, b) => a - b), elapsed: (performance.now() - started) / 1000 };
}

/** Pre-fills one direct conversation with `n` messages through the storage layer (no server running). */
async function prefill(
  databaseUrl: string,
  sqliteFile: string,
  userA: number,
  userB: number,
  n: number,
): Promise<void> {
  const storage = new SqlStorage({ databaseUrl, sqliteFile });
  try {
    const conv = await storage.messages.ensureConversation({
      kind: "direct",
      key: `d:${Math.min(userA, userB)}:${Math.max(userA, userB)}`,
      userA: Math.min(userA, userB),
      userB: Math.max(userA, userB),
      createdAt: Date.now(),
    });
    const batch = 2000;
    for (let i = 0; i < n; i += batch) {
      const now = Date.now();
      await storage.messages.appendBatch(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) => ({
          conversationId: conv.id,
          senderId: (i + j) % 2 ? userA : userB,
          clientMsgId: `h${i + j}`,
          kind: "text" as const,
          content: { content: `history message ${i + j}` },
          contentJson: JSON.stringify({ content: `history message ${i + j}` }),
          createdAt: now,
        })),
      );
    }
    // A bulk load outruns autovacuum: refresh planner statistics as a DBA would after one.
    if (databaseUrl) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query("ANALYZE");
      await c.end();
    }
  } finally {
    await storage.close();
  }
}

interface Result {
  backend: string;
  throughput: {
    senders: number;
    window: number;
    perSec: number;
    p50: number;
    p99: number;
    failures: number;
    relation: string;
    serverCpuUsPerMsg: number;
    /** PostgreSQL's backends of the bench database (its pool), NaN on SQLite. */
    pgCpuUsPerMsg: number;
    serverCpuPct: number;
    pgCpuPct: number;
    /** 1-minute load average at the start and the end of the throughput scenario. */
    loadAvg: [number, number];
    /** The server's main thread (the event loop) alone; the rest is SQLite's checkpointer and libuv. */
    eventLoopCpuPct: number;
    loadCpuPct: number;
    /** Of the whole machine (100 % = every core busy). */
    machineBusyPct: number;
    stealPct: number;
  };
  fixed: { offered: number; achieved: number; p50: number; p99: number; failures: number };
  history: { messages: number; pages: number; p50: number; p99: number; prefillSeconds: number } | null;
}

async function runBackend(backend: string): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-bench-msg-"));
  let databaseUrl = "";
  let dbName = "";
  if (backend === "postgres") {
    const name = `parley_bench_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: PG_BASE });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(PG_BASE);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dbName = name;
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    });
  }
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PARLEY_DATA_DIR: dataDir,
    PARLEY_DATABASE_URL: databaseUrl,
    PARLEY_ADMIN_TOKEN: ADMIN,
    PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
    // the bench measures the pipeline, not the abuse limits
    PARLEY_CHAT33_MSG_RATE_PER_CONNECTION: "1000000",
    PARLEY_CHAT33_MSG_RATE_PER_USER: "1000000",
    PARLEY_ACCOUNTS_MULTI_LOGIN: "multi",
  };
  let server = await startServer(env);
  const { pairs, historyPair, historyIds } = await setupUsers(SENDERS);
  const senders = await connect(pairs);
  // warm-up
  await drive(senders, 2, { kind: "window", window: 4 });
  const pid = server.pid as number;
  const pg0 = dbName ? ticksOf(await pgBackendPids(dbName)) : new Map<number, number>();
  const load0 = loadavg()[0];
  const t0 = cpuTicks(pid);
  const m0 = cpuTicks(pid, pid);
  const s0 = machineTicks();
  const c0 = process.cpuUsage();
  const tp = PHASES.has("throughput")
    ? await drive(senders, SECONDS, { kind: "window", window: WINDOW })
    : { acks: 0, failures: 0, latencies: [], elapsed: 1 };
  const serverTicks = cpuTicks(pid) - t0;
  const mainTicks = cpuTicks(pid, pid) - m0;
  const s1 = machineTicks();
  const loadCpu = process.cpuUsage(c0);
  const pgTicks = dbName
    ? ticksDelta(pg0, ticksOf([...new Set([...pg0.keys(), ...(await pgBackendPids(dbName))])]))
    : 0;
  const load1 = loadavg()[0];
  const fixed = PHASES.has("fixed")
    ? await drive(senders, SECONDS, { kind: "rate", perSecond: RATE })
    : { acks: 0, failures: 0, latencies: [], elapsed: 1 };
  for (const s of senders) s.ws.terminate();
  if (!PHASES.has("history")) {
    await stopServer(server);
    return result(backend, { tp, serverTicks, mainTicks, s0, s1, loadCpu, pgTicks, load: [load0, load1], fixed }, null);
  }

  // history: stop the server, pre-fill through storage, restart, page
  await stopServer(server);
  const p0 = performance.now();
  await prefill(databaseUrl, join(dataDir, "parley.db"), historyIds[0], historyIds[1], HISTORY);
  const prefillSeconds = (performance.now() - p0) / 1000;
  server = await startServer(env);
  const login = await request(
    "POST",
    "/user/pwdLogin",
    { mobile: "13000000000", password: "bench-pass" },
    { "FZM-DEVICE": "Web" },
  );
  const token = login.json.data.token as string;
  const hdr = { "FZM-AUTH-TOKEN": token, "FZM-DEVICE": "Web" };
  const first = await request("POST", "/friend/chatLog", { id: historyPair.peerId, number: 20 }, hdr);
  const top = Number(first.json?.data?.logs?.[0]?.logId ?? 0);
  const lat: number[] = [];
  const pages = 2000;
  for (let i = 0; i < pages; i++) {
    const startId = String(Math.max(1, Math.floor(Math.random() * top)));
    const t = performance.now();
    const r = await request("POST", "/friend/chatLog", { id: historyPair.peerId, startId, number: 20 }, hdr);
    lat.push(performance.now() - t);
    if (r.json?.result !== 0) throw new Error(`chatLog failed: ${JSON.stringify(r.json).slice(0, 200)}`);
  }
  lat.sort((a, b) => a - b);
  await stopServer(server);
  return result(
    backend,
    { tp, serverTicks, mainTicks, s0, s1, loadCpu, pgTicks, load: [load0, load1], fixed },
    { messages: HISTORY, pages, p50: pct(lat, 50), p99: pct(lat, 99), prefillSeconds },
  );
}

type Drive = Awaited<ReturnType<typeof drive>>;

function result(
  backend: string,
  m: {
    tp: Drive;
    serverTicks: number;
    mainTicks: number;
    s0: ReturnType<typeof machineTicks>;
    s1: ReturnType<typeof machineTicks>;
    loadCpu: NodeJS.CpuUsage;
    pgTicks: number;
    load: [number, number];
    fixed: Drive;
  },
  history: Result["history"] | null,
): Result {
  const { tp, serverTicks, mainTicks, s0, s1, loadCpu, pgTicks, fixed } = m;
  return {
    backend,
    throughput: {
      senders: SENDERS,
      window: WINDOW,
      relation: RELATION,
      perSec: tp.acks / tp.elapsed,
      p50: pct(tp.latencies, 50),
      p99: pct(tp.latencies, 99),
      failures: tp.failures,
      serverCpuUsPerMsg: (serverTicks * 10_000) / Math.max(1, tp.acks),
      pgCpuUsPerMsg: backend === "postgres" ? (pgTicks * 10_000) / Math.max(1, tp.acks) : Number.NaN,
      serverCpuPct: (serverTicks / 100 / tp.elapsed) * 100,
      eventLoopCpuPct: (mainTicks / 100 / tp.elapsed) * 100,
      pgCpuPct: backend === "postgres" ? (pgTicks / 100 / tp.elapsed) * 100 : Number.NaN,
      machineBusyPct: (1 - (s1.idle - s0.idle) / Math.max(1, s1.total - s0.total)) * 100,
      stealPct: ((s1.steal - s0.steal) / Math.max(1, s1.total - s0.total)) * 100,
      loadCpuPct: ((loadCpu.user + loadCpu.system) / 1e6 / tp.elapsed) * 100,
      loadAvg: m.load,
    },
    fixed: {
      offered: RATE,
      achieved: fixed.acks / SECONDS,
      p50: pct(fixed.latencies, 50),
      p99: pct(fixed.latencies, 99),
      failures: fixed.failures,
    },
    history,
  };
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
const int = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const results: Result[] = [];
  try {
    for (const b of BACKENDS) {
      process.stderr.write(`bench:messages ${b}…\n`);
      results.push(await runBackend(b));
    }
  } finally {
    for (const c of children) c.kill("SIGKILL");
    for (const c of cleanups) await c().catch(() => {});
    agent.destroy();
  }
  const md = [
    `## Messages (issue 4) — ${new Date().toISOString()}`,
    "",
    `Command: \`npm run bench:messages -- ${process.argv.slice(2).join(" ")}\`; senders ${SENDERS}, window ${WINDOW}, ${SECONDS} s per scenario.`,
    "",
    `Senders may message their peers as ${RELATION}; server: ${SERVER_DIR}; PARLEY_MESSAGES_WRITE_LANES=${process.env.PARLEY_MESSAGES_WRITE_LANES ?? "(default)"}.`,
    "",
    "| backend | msgs/s (ack after commit) | p50 ms | p99 ms | server CPU µs/msg | PostgreSQL backends CPU µs/msg | server CPU % | event loop CPU % | PostgreSQL CPU % | load CPU % | machine busy % | steal % | load avg (start, end) | failures |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.backend} | ${int(r.throughput.perSec)} | ${f2(r.throughput.p50)} | ${f2(r.throughput.p99)} | ${f1(r.throughput.serverCpuUsPerMsg)} | ${f1(r.throughput.pgCpuUsPerMsg)} | ${int(r.throughput.serverCpuPct)} | ${int(r.throughput.eventLoopCpuPct)} | ${int(r.throughput.pgCpuPct)} | ${int(r.throughput.loadCpuPct)} | ${int(r.throughput.machineBusyPct)} | ${f1(r.throughput.stealPct)} | ${r.throughput.loadAvg.map((x) => x.toFixed(1)).join(", ")} | ${r.throughput.failures} |`,
    ),
    "",
    ...(PHASES.has("fixed")
      ? [
          "| backend | offered msgs/s | achieved | p50 ack ms | p99 ack ms | failures |",
          "|---|---|---|---|---|---|",
          ...results.map(
            (r) =>
              `| ${r.backend} | ${int(r.fixed.offered)} | ${int(r.fixed.achieved)} | ${f2(r.fixed.p50)} | ${f2(r.fixed.p99)} | ${r.fixed.failures} |`,
          ),
          "",
        ]
      : []),
    "| backend | messages in conversation | pages (20 each) | p50 ms | p99 ms | prefill s |",
    "|---|---|---|---|---|---|",
    ...results.flatMap((r) =>
      r.history
        ? [
            `| ${r.backend} | ${int(r.history.messages)} | ${r.history.pages} | ${f2(r.history.p50)} | ${f2(r.history.p99)} | ${f1(r.history.prefillSeconds)} |`,
          ]
        : [],
    ),
    "",
  ].join("\n");
  process.stdout.write(`${md}\n`);
  writeFileSync(join(import.meta.dirname, "results", "messages-latest.md"), md);
  writeFileSync(join(import.meta.dirname, "results", "messages-latest.json"), JSON.stringify(results, null, 2));
}

main().catch((e) => {
  for (const c of children) c.kill("SIGKILL");
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
