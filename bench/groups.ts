// Group benchmark (issue 11 item 8): `npm run bench:groups`.
//
//   npm run bench:groups [-- --backends=sqlite,postgres --seconds=6 --rate=500 --window=16]
//
// Per backend (a fresh database each), with every member online on a real chat33 socket in
// load-generator processes (bench/rooms-loadgen.ts, target `parley-member`):
//  (A) one group of 500 members: one message in flight, then `--window` in flight (4 senders);
//  (B) 1 000 groups of 20 (2 000 users, each in 10 groups): `--rate` messages/s spread over the
//      groups, each sent by its owner.
// Deliveries/s, p50/p99 delivery latency, server CPU per delivery, and storage queries per message
// (from /metrics: `parley_storage_query_duration_seconds_count` by op) — which shows that a hot
// group's membership is not read from storage per message. Results: bench/results/groups-latest.{json,md}.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { Histogram, type HistogramJSON, machineCpu, procCpuSeconds, sleep, summarize } from "./lib/common.js";
import { benchText, join, type Member } from "./rooms-clients.js";
import {
  cleanups,
  Loadgen,
  onProgress,
  ROOT,
  request,
  startNode,
  stopEverything,
  waitHttp,
  waitProgress,
} from "./rooms-lib.js";

const ADMIN = "bench-groups-admin-token";
const flags = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
  const eq = a.indexOf("=");
  flags.set(eq < 0 ? a.slice(2) : a.slice(2, eq), eq < 0 ? "true" : a.slice(eq + 1));
}
const KNOWN = ["backends", "seconds", "rate", "window", "big", "groups", "group-size", "users", "out", "help"];
for (const k of flags.keys()) if (!KNOWN.includes(k)) throw new Error(`unknown flag --${k} (see bench/README.md)`);
if (flags.has("help")) {
  process.stdout.write(
    "usage: npm run bench:groups -- [--backends=sqlite,postgres] [--seconds=6] [--rate=500] [--window=16]\n" +
      "         [--big=500] [--groups=1000] [--group-size=20] [--users=2000] [--out=DIR]\n",
  );
  process.exit(0);
}
const BACKENDS = (flags.get("backends") ?? "sqlite,postgres").split(",");
const SECONDS = Number(flags.get("seconds") ?? 6);
const RATE = Number(flags.get("rate") ?? 500);
const WINDOW = Number(flags.get("window") ?? 16);
const BIG = Number(flags.get("big") ?? 500);
const GROUPS = Number(flags.get("groups") ?? 1000);
const GROUP_SIZE = Number(flags.get("group-size") ?? 20);
const USERS = Number(flags.get("users") ?? 2000);
const PG_BASE = process.env.PARLEY_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const OUT = path.resolve(flags.get("out") ?? path.join(ROOT, "bench/results"));
const LOADGENS = 2;
const SENDERS_A = 4;
if (BIG > USERS || GROUP_SIZE > USERS) throw new Error("--big and --group-size must not exceed --users");

interface Row {
  backend: string;
  scenario: string;
  messages: number;
  deliveries: number;
  lost: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerDelivery: number;
  serverCpuPct: number;
  loadgenCpuPct: number;
  otherCpuPct: number;
  selectsPerMessage: number;
  writesPerMessage: number;
  bottleneck: string;
}

/** Storage queries so far, by op, from the server's /metrics. */
async function queries(port: number): Promise<Record<string, number>> {
  const r = await request(port, "GET", "/metrics");
  const text = String(r.json);
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^parley_storage_query_duration_seconds_count\{op="([a-z]+)"\} (\d+)/gm))
    out[m[1]] = Number(m[2]);
  return out;
}

const total = (lgs: Loadgen[]) => lgs.reduce((a, l) => a + l.recv, 0);

/**
 * Runs one window. `next()` sends one message and returns how many deliveries it should make, or
 * null when it is not time to send yet (`paced`: a steady rate; else: at most `window` in flight).
 */
async function measure(
  backend: string,
  scenario: string,
  pid: number,
  port: number,
  lgs: Loadgen[],
  send: (seq: number) => number,
  pace: { window: number; perMessage: number } | { rate: number },
): Promise<Row> {
  await Promise.all(lgs.map((l) => l.ask({ type: "reset" }, "resetDone")));
  for (const l of lgs) l.recv = 0;
  const q0 = await queries(port);
  const lgPids = lgs.map((l) => l.cp.pid as number);
  const cpu = () => procCpuSeconds(pid);
  const gen = () => lgPids.reduce((a, p) => a + procCpuSeconds(p), 0);
  const s0 = cpu();
  const g0 = gen();
  const m0 = machineCpu();
  const me0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  let expected = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    if ("window" in pace) {
      while (expected - total(lgs) <= (pace.window - 1) * pace.perMessage) expected += send(++sent);
      await waitProgress(5);
    } else {
      const due = Math.floor(((performance.now() - t0) / 1000) * pace.rate);
      while (sent < due) expected += send(++sent);
      await sleep(2);
    }
  }
  let lastAt = performance.now();
  while (total(lgs) < expected) {
    const before = total(lgs);
    await waitProgress(100);
    if (total(lgs) !== before) lastAt = performance.now();
    else if (performance.now() - lastAt > 3000) break;
  }
  const wall = (lastAt - t0) / 1000;
  const stats = await Promise.all(
    lgs.map((l) => l.ask<{ recv: number; hist: HistogramJSON }>({ type: "collect" }, "stats")),
  );
  const serverCpu = cpu() - s0;
  const genCpu = gen() - g0;
  const me = process.cpuUsage(me0);
  const meCpu = (me.user + me.system) / 1e6;
  const machineBusy = (machineCpu().busy - m0.busy) / 100;
  const q1 = await queries(port);
  const hist = new Histogram();
  for (const s of stats) hist.merge(s.hist);
  const deliveries = stats.reduce((a, s) => a + s.recv, 0);
  const lat = summarize(hist);
  const windowS = (performance.now() - t0) / 1000;
  const pct = (c: number) => Math.round((c / windowS) * 100);
  const d = (op: string) => (q1[op] ?? 0) - (q0[op] ?? 0);
  const serverPct = pct(serverCpu);
  const clientPct = pct(genCpu + meCpu);
  const cores = os.cpus().length;
  return {
    backend,
    scenario,
    messages: sent,
    deliveries,
    lost: expected - deliveries,
    deliveriesPerSec: Math.round(deliveries / Math.max(wall, 0.001)),
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    serverCpuUsPerDelivery: deliveries ? Math.round(((serverCpu * 1e6) / deliveries) * 100) / 100 : Number.NaN,
    serverCpuPct: serverPct,
    loadgenCpuPct: clientPct,
    otherCpuPct: pct(Math.max(0, machineBusy - serverCpu - genCpu - meCpu)),
    // the metrics scrapes themselves are GETs without storage queries
    selectsPerMessage: Math.round((d("select") / Math.max(sent, 1)) * 100) / 100,
    writesPerMessage: Math.round(((d("insert") + d("update") + d("delete")) / Math.max(sent, 1)) * 100) / 100,
    bottleneck:
      serverPct >= 85
        ? "server"
        : clientPct >= 85 * (cores - 1)
          ? "load generators"
          : pct(machineBusy) >= 85 * cores
            ? "machine (shared)"
            : "none",
  };
}

async function runBackend(backend: string, runDir: string): Promise<{ rows: Row[]; error?: string }> {
  const rows: Row[] = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "parley-groups-bench-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  let databaseUrl = "";
  let dropDb: (() => Promise<void>) | null = null;
  if (backend === "postgres") {
    const name = `parley_groups_bench_${process.pid}`;
    const c = new pg.Client({ connectionString: PG_BASE });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    const u = new URL(PG_BASE);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDb = async () => {
      const d = new pg.Client({ connectionString: PG_BASE });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    };
  }
  const server = await startNode(
    ["src/cli.ts", "serve"],
    {
      PARLEY_DATA_DIR: dataDir,
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_HOST: "127.0.0.1",
      PARLEY_LOG_LEVEL: "warn",
      PARLEY_ADMIN_TOKEN: ADMIN,
      PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
      PARLEY_ACCOUNTS_MULTI_LOGIN: "multi",
      PARLEY_CHAT33_MSG_RATE_PER_CONNECTION: "1000000",
      PARLEY_CHAT33_MSG_RATE_PER_USER: "1000000",
      PARLEY_BENCH: "1",
    },
    runDir,
    `parley-${backend}`,
  );
  const lgs: Loadgen[] = [];
  const senders: Member[] = [];
  try {
    await waitHttp(server.port, "/readyz", 60_000, server.cp);
    const port = server.port;
    const pid = server.cp.pid as number;
    const auth = { authorization: `Bearer ${ADMIN}` };
    const co = await request(port, "POST", "/admin/api/org/companies", { text: "Bench" }, auth);
    // users and their tokens (a second login per owner: the sender's own device)
    const t0 = Date.now();
    const ids: string[] = [];
    const tokens: string[] = [];
    const mobile = (i: number) => `1${String(5000000000 + i).padStart(10, "0")}`;
    const login = async (i: number) => {
      const r = await request(
        port,
        "POST",
        "/user/pwdLogin",
        { mobile: mobile(i), password: "bench-pass" },
        { "FZM-DEVICE": "Android" },
      );
      if (r.json?.result !== 0) throw new Error(`login: ${JSON.stringify(r.json)}`);
      return r.json.data.token as string;
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < USERS) {
          const i = next++;
          const u = await request(
            port,
            "POST",
            "/admin/api/users",
            { mobile: mobile(i), password: "bench-pass", companyId: co.json?.data?.id },
            auth,
          );
          if (u.json?.code !== 0) throw new Error(`user: ${JSON.stringify(u.json)}`);
          ids[i] = String(u.json.data.id);
          tokens[i] = await login(i);
        }
      }),
    );
    const hdr = (i: number) => ({ "FZM-AUTH-TOKEN": tokens[i], "FZM-DEVICE": "Android" });
    const create = async (owner: number, members: number[]) => {
      const r = await request(
        port,
        "POST",
        "/room/create",
        { roomName: `g${owner}`, users: members.slice(0, 199).map((m) => ids[m]) },
        hdr(owner),
      );
      if (r.json?.result !== 0) throw new Error(`create: ${JSON.stringify(r.json)}`);
      const roomId = String(r.json.data.roomId);
      for (let k = 199; k < members.length; k += 100) {
        const inv = await request(
          port,
          "POST",
          "/room/joinRoomInvite",
          { roomId, users: members.slice(k, k + 100).map((m) => ids[m]) },
          hdr(owner),
        );
        if (inv.json?.result !== 0) throw new Error(`invite: ${JSON.stringify(inv.json)}`);
      }
      return roomId;
    };
    // (A) one big group: owner 0, members 1..BIG-1
    const big = await create(
      0,
      Array.from({ length: BIG - 1 }, (_, k) => k + 1),
    );
    // (B) GROUPS groups of GROUP_SIZE: group g = users (g·GROUP_SIZE + k) mod USERS; owner k = 0
    const small: Array<{ id: string; owner: number }> = [];
    let ng = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (ng < GROUPS) {
          const g = ng++;
          const members = Array.from({ length: GROUP_SIZE }, (_, k) => (g * GROUP_SIZE + k) % USERS);
          const owner = members[0];
          small[g] = { id: await create(owner, members.slice(1)), owner };
        }
      }),
    );
    process.stderr.write(
      `[groups] ${backend}: ${USERS} users, ${GROUPS + 1} groups in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
    );

    // every user online: one socket each, in the load generators
    for (let i = 0; i < LOADGENS; i++) lgs.push(new Loadgen("parley-member", onProgress));
    await Promise.all(
      lgs.map((l, i) => {
        const from = Math.floor((USERS * i) / LOADGENS);
        const to = Math.floor((USERS * (i + 1)) / LOADGENS);
        return l.ask(
          { type: "connect", from, to, room: big, port, prefix: "u", tokens: tokens.slice(from, to) },
          "connected",
        );
      }),
    );
    // senders: own devices of the big group's first members and of the small groups' owners
    const owners = [...new Set(small.map((s) => s.owner))];
    const senderOf = new Map<number, Member>();
    for (const u of new Set([...Array.from({ length: SENDERS_A }, (_, k) => k), ...owners])) {
      const m = await join("parley-member", {
        port,
        room: big,
        id: `s${u}`,
        token: await login(u),
        onMessage: () => {},
      });
      senders.push(m);
      senderOf.set(u, m);
    }
    await sleep(3000);

    // (A) the 500-member group; every message reaches BIG sockets (the sender's own device not counted)
    const bigSenders = Array.from({ length: SENDERS_A }, (_, k) => senderOf.get(k) as Member);
    for (const w of [1, WINDOW]) {
      const row = await measure(
        backend,
        `1 group × ${BIG}, ${w === 1 ? "one in flight" : `${w} in flight`}`,
        pid,
        port,
        lgs,
        (seq) => {
          bigSenders[seq % bigSenders.length].say?.(benchText(seq), big);
          return BIG;
        },
        { window: w, perMessage: BIG },
      );
      rows.push(row);
      process.stderr.write(
        `[groups] ${backend} ${row.scenario}: ${row.deliveriesPerSec}/s p50 ${row.p50Ms} p99 ${row.p99Ms} ms, ${row.serverCpuUsPerDelivery} µs/delivery, ${row.selectsPerMessage} selects/msg\n`,
      );
    }
    // (B) many small groups at a steady rate: first with cold per-node group caches (each group's
    // first message loads it), then warm — the steady state
    for (const phase of ["cold caches", "warm"]) {
      const row = await measure(
        backend,
        `${GROUPS} groups × ${GROUP_SIZE}, ${RATE} msg/s, ${phase}`,
        pid,
        port,
        lgs,
        (seq) => {
          const g = small[(seq * 7919) % GROUPS];
          senderOf.get(g.owner)?.say?.(benchText(seq), g.id);
          return GROUP_SIZE;
        },
        { rate: RATE },
      );
      rows.push(row);
      process.stderr.write(
        `[groups] ${backend} ${row.scenario}: ${row.deliveriesPerSec}/s p50 ${row.p50Ms} p99 ${row.p99Ms} ms, ${row.serverCpuUsPerDelivery} µs/delivery, ${row.selectsPerMessage} selects/msg\n`,
      );
    }
    return { rows };
  } catch (e) {
    return { rows, error: String((e as Error)?.message ?? e) };
  } finally {
    for (const s of senders) s.close();
    await Promise.all(lgs.map((l) => l.ask({ type: "exit" }, "never", 3000).catch(() => {})));
    for (const l of lgs) if (l.cp.exitCode === null) l.cp.kill("SIGKILL");
    await server.stop();
    await dropDb?.().catch(() => {});
  }
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), "parley-groups-run-"));
  cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
  const loadBefore = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
  const results: Array<{ backend: string; rows: Row[]; error?: string }> = [];
  for (const b of BACKENDS) {
    const r = await runBackend(b, runDir);
    if (r.error) process.stderr.write(`[groups] ${b} failed: ${r.error}\n`);
    results.push({ backend: b, ...r });
  }
  const meta = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    loadBefore,
    loadAfter: os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" "),
    command: `npm run bench:groups -- ${process.argv.slice(2).join(" ")}`.trim(),
  };
  const lines = [
    `# bench:groups — ${meta.date}`,
    "",
    `Machine: ${meta.machine}; load average before ${meta.loadBefore}, after ${meta.loadAfter} (shared with other agents).`,
    `Command: \`${meta.command}\`; ${USERS} users online (one chat33 socket each, ${LOADGENS} load generators); ${SECONDS} s per scenario.`,
    "",
    "| backend | scenario | messages | deliveries/s | p50 ms | p99 ms | server CPU µs/delivery | server CPU % | clients CPU % | other CPU % | storage selects/msg | writes/msg | lost | bottleneck |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of results) {
    if (r.error) lines.push(`| ${r.backend} | failed: ${r.error.replaceAll("|", "/").slice(0, 200)} |`);
    for (const x of r.rows)
      lines.push(
        `| ${x.backend} | ${x.scenario} | ${x.messages} | ${x.deliveriesPerSec} | ${x.p50Ms} | ${x.p99Ms} | ${x.serverCpuUsPerDelivery} | ${x.serverCpuPct} | ${x.loadgenCpuPct} | ${x.otherCpuPct} | ${x.selectsPerMessage} | ${x.writesPerMessage} | ${x.lost} | ${x.bottleneck} |`,
      );
  }
  const md = `${lines.join("\n")}\n`;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, "groups-latest.json"), JSON.stringify({ meta, results }, null, 2));
  writeFileSync(path.join(OUT, "groups-latest.md"), md);
  process.stdout.write(md);
  stopEverything();
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:groups: ${String((e as Error)?.stack ?? e)}\n`);
  stopEverything();
  process.exit(1);
});
