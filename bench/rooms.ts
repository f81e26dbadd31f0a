// Chat-room benchmark (issue 12 item 5): `npm run bench:rooms`.
//
//   npm run bench:rooms [-- --targets=parley,raw,socketio,ejabberd --sizes=1000,5000,15000 --seconds=6 --window=16]
//   npm run bench:rooms -- --quick            # 200/1000 members, 2 s windows
//
// One room grows to each size; at each size (i) one message in flight (the next is sent when every
// member has the previous one) and (ii) `--window` messages in flight, each for `--seconds`.
// Deliveries/s, p50/p99 delivery latency, server CPU per delivery, RSS and memory per member,
// event-loop delay (Node targets), and who was the bottleneck. Members run in `--loadgens` child
// processes (bench/rooms-loadgen.ts); the senders (4 connections) are this process. Results:
// bench/results/rooms-latest.{json,md}. See bench/README.md ("Chat rooms").
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  Histogram,
  type HistogramJSON,
  machineCpu,
  procCpuSeconds,
  procRssKiB,
  sleep,
  summarize,
} from "./lib/common.js";
import { benchText, join, type Member, ROOM_TARGETS, type RoomTarget } from "./rooms-clients.js";
import {
  cleanups,
  Loadgen,
  onProgress,
  procWriteSyscalls,
  ROOT,
  request,
  startNode,
  stopEverything,
  waitHttp,
  waitProgress,
} from "./rooms-lib.js";

const ADMIN = "bench-rooms-admin-token";

// ---------------------------------------------------------------------------------------------
// flags
// ---------------------------------------------------------------------------------------------
const flags = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
  const eq = a.indexOf("=");
  flags.set(eq < 0 ? a.slice(2) : a.slice(2, eq), eq < 0 ? "true" : a.slice(eq + 1));
}
const KNOWN = ["targets", "sizes", "seconds", "window", "loadgens", "quick", "out", "ejabberd-max", "client", "help"];
for (const k of flags.keys()) if (!KNOWN.includes(k)) throw new Error(`unknown flag --${k} (see bench/README.md)`);
if (flags.has("help")) {
  process.stdout.write(
    "usage: npm run bench:rooms -- [--targets=parley,raw,socketio,ejabberd] [--sizes=1000,5000,15000]\n" +
      "         [--seconds=6] [--window=16] [--loadgens=4] [--quick] [--out=DIR] [--client=lite|ws]\n",
  );
  process.exit(0);
}
const QUICK = flags.get("quick") === "true";
const TARGETS = (flags.get("targets") ?? ROOM_TARGETS.join(",")).split(",") as RoomTarget[];
for (const t of TARGETS) if (!ROOM_TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
const SIZES = (flags.get("sizes") ?? (QUICK ? "200,1000" : "1000,5000,15000")).split(",").map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 1 || n > 19_000)) throw new Error("--sizes: 1..19000");
const SECONDS = Number(flags.get("seconds") ?? (QUICK ? 2 : 6));
const WINDOW = Number(flags.get("window") ?? 16);
const LOADGENS = Number(flags.get("loadgens") ?? (Math.max(...SIZES) > 8000 ? 4 : 2));
/**
 * ejabberd joins ≈ 30 members/s on a busy box (SASL + bind + MUC join each): the 15 k step adds
 * ≈ 6 min of joins, which the default run takes (the issue's comparison is at 15 k); sizes above
 * `--ejabberd-max` are skipped (e.g. `--ejabberd-max=5000` for a short run).
 */
const EJABBERD_MAX = Number(flags.get("ejabberd-max") ?? 15_000);
/** The members' WebSocket client (bench/rooms-clients.ts `wsClient`); the load generators inherit it. */
const CLIENT = flags.get("client") ?? "lite";
if (CLIENT !== "lite" && CLIENT !== "ws") throw new Error("--client: lite or ws");
process.env.BENCH_WS_CLIENT = CLIENT;
const OUT = path.resolve(flags.get("out") ?? path.join(ROOT, "bench/results"));
if (Math.max(...SIZES) / LOADGENS > 5000) throw new Error("more than 5 000 members per load generator");

// ---------------------------------------------------------------------------------------------
// processes
// ---------------------------------------------------------------------------------------------
/** Sender connections (several: Parley handles one connection's frames in order). */
const SENDERS = 4;

interface Server {
  pid: number;
  port: number;
  /** Parley: the room id; peers: the room name. */
  room: string;
  senderTokens?: string[];
  eldFile: string | null;
  stop(): Promise<void>;
}

async function startParley(runDir: string): Promise<Server> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "parley-rooms-bench-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const s = await startNode(
    ["src/cli.ts", "serve"],
    {
      PARLEY_DATA_DIR: dataDir,
      PARLEY_HOST: "127.0.0.1",
      PARLEY_LOG_LEVEL: "warn",
      PARLEY_ADMIN_TOKEN: ADMIN,
      PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
      PARLEY_CHAT33_MSG_RATE_PER_CONNECTION: "1000000",
      PARLEY_CHAT33_MSG_RATE_PER_USER: "1000000",
      PARLEY_BENCH: "1",
    },
    runDir,
    "parley",
  );
  await waitHttp(s.port, "/readyz", 60_000, s.cp);
  const auth = { authorization: `Bearer ${ADMIN}` };
  const co = await request(s.port, "POST", "/admin/api/org/companies", { text: "Bench" }, auth);
  const senderTokens: string[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const mobile = `130000000${String(i + 1).padStart(2, "0")}`;
    const u = await request(
      s.port,
      "POST",
      "/admin/api/users",
      { mobile, password: "bench-pass", companyId: co.json?.data?.id },
      auth,
    );
    if (u.json?.code !== 0) throw new Error(`user: ${JSON.stringify(u.json)}`);
    const login = await request(
      s.port,
      "POST",
      "/user/pwdLogin",
      { mobile, password: "bench-pass" },
      { "FZM-DEVICE": "Android" },
    );
    if (login.json?.result !== 0) throw new Error(`login: ${JSON.stringify(login.json)}`);
    senderTokens.push(login.json.data.token);
  }
  const room = await request(s.port, "POST", "/group/addGroup", { groupName: "bench room", avatar: "" }, auth);
  if (room.json?.result !== 0) throw new Error(`addGroup: ${JSON.stringify(room.json)}`);
  return {
    pid: s.cp.pid as number,
    port: s.port,
    room: String(room.json.data.groupId),
    senderTokens,
    eldFile: s.eldFile,
    stop: s.stop,
  };
}

async function startPeer(kind: "raw" | "socketio", runDir: string): Promise<Server> {
  const s = await startNode([`bench/peers/rooms-${kind === "raw" ? "raw" : "socketio"}.ts`], {}, runDir, kind);
  await waitHttp(s.port, "/readyz", 30_000, s.cp);
  return { pid: s.cp.pid as number, port: s.port, room: "bench", eldFile: s.eldFile, stop: s.stop };
}

/** ejabberd (Debian package) as the ejabberd user, loopback only: bench/peers/ejabberd/. */
async function startEjabberd(runDir: string): Promise<Server> {
  if (!existsSync("/usr/sbin/ejabberdctl"))
    throw new Error("ejabberd is not installed (apt-get install -y --no-install-recommends ejabberd)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "ejabberd-bench-"));
  cpSync(path.join(ROOT, "bench/peers/ejabberd/ejabberd.yml"), path.join(dir, "ejabberd.yml"));
  writeFileSync(
    path.join(dir, "ctl.cfg"),
    readFileSync(path.join(ROOT, "bench/peers/ejabberd/ctl.cfg"), "utf8").replaceAll("@EJABBERD_DIR@", dir),
  );
  mkdirSync(path.join(dir, "logs"));
  mkdirSync(path.join(dir, "spool"));
  execFileSync("chown", ["-R", "ejabberd:ejabberd", dir]);
  const ctl = `ejabberdctl --ctl-config ${dir}/ctl.cfg --config ${dir}/ejabberd.yml --logs ${dir}/logs --spool ${dir}/spool`;
  const su = (cmd: string) =>
    execFileSync("su", ["-s", "/bin/sh", "ejabberd", "-c", cmd], { stdio: "pipe", timeout: 60_000 });
  const beams = () => {
    try {
      return execFileSync("pgrep", ["-u", "ejabberd", "beam.smp"])
        .toString()
        .trim()
        .split("\n")
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  if (beams().length) throw new Error(`an ejabberd beam is already running (${beams().join(",")}): stop it first`);
  const stop = async () => {
    try {
      su(`${ctl} stop`);
    } catch {
      // may be down already
    }
    for (let i = 0; i < 50 && beams().length; i++) await sleep(200);
    for (const pid of beams()) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(() => {
    for (const pid of beams()) process.kill(pid, "SIGKILL");
  });
  su(`ulimit -n 20000 && ${ctl} start`);
  await waitHttp(5280, "/api/status", 60_000).catch(async (e) => {
    await stop();
    throw e;
  });
  const pid = beams()[0];
  if (!pid) throw new Error("ejabberd started but no beam.smp process found");
  writeFileSync(path.join(runDir, "ejabberd.dir"), dir);
  return { pid, port: 5280, room: "bench", eldFile: null, stop };
}

// ---------------------------------------------------------------------------------------------
// load generators
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------------------------
interface Row {
  target: RoomTarget;
  size: number;
  scenario: "one in flight" | "many in flight";
  messages: number;
  deliveries: number;
  lost: number;
  deliveriesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerDelivery: number;
  serverCpuPct: number;
  loadgenCpuPct: number;
  senderCpuPct: number;
  otherCpuPct: number;
  rssMiB: number;
  /** (RSS after this scenario − RSS before any member) ÷ members: includes the run's heap growth. */
  kibPerMember: number;
  /** (RSS once the room reached this size and settled 2 s, before any message − RSS before any member) ÷ members. */
  kibPerMemberJoined: number;
  eld: { max: number; p99: number; mean: number; elu: number | null } | null;
  /** Deliveries per write system call of the server (/proc/<pid>/io `syscw`; NaN if unreadable). */
  framesPerWrite: number;
  bottleneck: string;
}

const cpuOf = (pids: number[]) => pids.reduce((a, p) => a + procCpuSeconds(p), 0);
const total = (lgs: Loadgen[]) => lgs.reduce((a, l) => a + l.recv, 0);

async function scenario(
  target: RoomTarget,
  server: Server,
  senders: Member[],
  lgs: Loadgen[],
  size: number,
  window: number,
  baseRss: number,
  /** KiB per member once the room reached `size`, before any message (`Row.kibPerMemberJoined`). */
  joinedKiB: number,
): Promise<Row> {
  await Promise.all(lgs.map((l) => l.ask({ type: "reset" }, "resetDone")));
  for (const l of lgs) l.recv = 0;
  if (server.eldFile) process.kill(server.pid, "SIGUSR2");
  await sleep(150);
  const lgPids = lgs.map((l) => l.pid());
  const s0 = procCpuSeconds(server.pid);
  const w0 = procWriteSyscalls(server.pid);
  const g0 = cpuOf(lgPids);
  const me0 = process.cpuUsage();
  const m0 = machineCpu();
  const t0 = performance.now();
  let sent = 0;
  let lastTotal = 0;
  let lastChange = performance.now();
  const until = t0 + SECONDS * 1000;
  while (performance.now() < until) {
    const got = total(lgs);
    if (got !== lastTotal) {
      lastTotal = got;
      lastChange = performance.now();
    }
    if (performance.now() - lastChange > 3000 && sent * size > got) break; // stalled (lost deliveries)
    while (sent * size - total(lgs) <= (window - 1) * size) senders[sent % senders.length].say?.(benchText(++sent));
    await waitProgress(5);
  }
  // drain: every member has every message, or nothing moved for 3 s
  let lastAt = performance.now();
  while (total(lgs) < sent * size) {
    const before = total(lgs);
    await waitProgress(100);
    if (total(lgs) !== before) lastAt = performance.now();
    else if (performance.now() - lastAt > 3000) break;
  }
  const elapsed = (lastAt > lastChange ? lastAt : lastChange) - t0;
  const wall = Math.max(elapsed, 1) / 1000;
  const stats = await Promise.all(
    lgs.map((l) => l.ask<{ recv: number; hist: HistogramJSON }>({ type: "collect" }, "stats")),
  );
  const s1 = procCpuSeconds(server.pid);
  const w1 = procWriteSyscalls(server.pid);
  const g1 = cpuOf(lgPids);
  const me = process.cpuUsage(me0);
  const m1 = machineCpu();
  const hist = new Histogram();
  for (const s of stats) hist.merge(s.hist);
  const deliveries = stats.reduce((a, s) => a + s.recv, 0);
  const lat = summarize(hist);
  const serverCpu = s1 - s0;
  const genCpu = g1 - g0;
  const meCpu = (me.user + me.system) / 1e6;
  const ticksPerSec = 100;
  const machineBusy = (m1.busy - m0.busy) / ticksPerSec;
  const other = Math.max(0, machineBusy - serverCpu - genCpu - meCpu);
  const windowS = (performance.now() - t0) / 1000;
  const pct = (cpu: number) => Math.round((cpu / windowS) * 100);
  let eld: Row["eld"] = null;
  // the probe writes the window's figures when signalled (after the CPU reading above)
  if (server.eldFile) {
    rmSync(server.eldFile, { force: true });
    process.kill(server.pid, "SIGUSR2");
  }
  for (let i = 0; i < 100 && server.eldFile && !eld; i++) {
    try {
      const e = JSON.parse(readFileSync(server.eldFile, "utf8")) as {
        max: number;
        p99: number;
        mean: number;
        elu?: number;
      };
      eld = { max: e.max, p99: e.p99, mean: e.mean, elu: e.elu ?? null };
    } catch {
      await sleep(20); // not written yet, or half-written
    }
  }
  const rss = procRssKiB(server.pid);
  const serverPct = pct(serverCpu);
  const clientPct = pct(genCpu + meCpu);
  const cores = os.cpus().length;
  const bottleneck =
    serverPct >= 85 && clientPct >= 85 * (cores - 1)
      ? "both"
      : serverPct >= 85
        ? "server"
        : clientPct >= 85 * (cores - 1)
          ? "load generators"
          : pct(machineBusy) >= 85 * cores
            ? "machine (shared)"
            : "none";
  return {
    target,
    size,
    scenario: window === 1 ? "one in flight" : "many in flight",
    messages: sent,
    deliveries,
    lost: sent * size - deliveries,
    deliveriesPerSec: Math.round(deliveries / wall),
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    serverCpuUsPerDelivery: deliveries ? Math.round(((serverCpu * 1e6) / deliveries) * 100) / 100 : Number.NaN,
    serverCpuPct: serverPct,
    loadgenCpuPct: pct(genCpu),
    senderCpuPct: pct(meCpu),
    otherCpuPct: pct(other),
    rssMiB: Math.round(rss / 102.4) / 10,
    kibPerMember: Math.round(((rss - baseRss) / size) * 10) / 10,
    kibPerMemberJoined: joinedKiB,
    eld,
    framesPerWrite: w1 > w0 ? Math.round((deliveries / (w1 - w0)) * 100) / 100 : Number.NaN,
    bottleneck,
  };
}

async function runTarget(
  target: RoomTarget,
  runDir: string,
): Promise<{ rows: Row[]; error?: string; baseRssMiB?: number }> {
  const rows: Row[] = [];
  let server: Server | null = null;
  const lgs: Loadgen[] = [];
  const senders: Member[] = [];
  try {
    server =
      target === "parley"
        ? await startParley(runDir)
        : target === "ejabberd"
          ? await startEjabberd(runDir)
          : await startPeer(target as "raw" | "socketio", runDir);
    process.stderr.write(`[rooms] ${target}: server pid ${server.pid} on ${server.port}\n`);
    // the first sender creates the room (ejabberd: the instant-room form), then the others join
    for (let i = 0; i < SENDERS; i++)
      senders.push(
        await join(target, {
          port: server.port,
          room: server.room,
          id: `sender${i}`,
          token: server.senderTokens?.[i],
          onMessage: () => {},
          creator: i === 0,
        }),
      );
    for (let i = 0; i < LOADGENS; i++) lgs.push(new Loadgen(target, onProgress));
    await sleep(2000);
    const baseRss = procRssKiB(server.pid);
    let have = 0;
    for (const size of SIZES) {
      if (target === "ejabberd" && size > EJABBERD_MAX) {
        process.stderr.write(`[rooms] ejabberd: ${size} members skipped (--ejabberd-max=${EJABBERD_MAX})\n`);
        continue;
      }
      // grow the room to `size`, spread over the load generators
      const t0 = Date.now();
      await Promise.all(
        lgs.map((l, i) => {
          const add = size - have;
          const from = have + Math.floor((add * i) / LOADGENS);
          const to = have + Math.floor((add * (i + 1)) / LOADGENS);
          // slow joiners (ejabberd: ≈ 30/s, fewer on a loaded box) get ≥ 125 ms per member of their share
          return l.ask(
            { type: "connect", from, to, room: server?.room, port: server?.port, prefix: "m" },
            "connected",
            Math.max(600_000, (to - from) * 125),
          );
        }),
      );
      process.stderr.write(`[rooms] ${target}: ${size} members in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      have = size;
      await sleep(2000);
      const joinedKiB = Math.round(((procRssKiB(server.pid) - baseRss) / size) * 10) / 10;
      for (const w of [1, WINDOW]) {
        const row = await scenario(target, server, senders, lgs, size, w, baseRss, joinedKiB);
        rows.push(row);
        process.stderr.write(
          `[rooms] ${target} ${size} ${row.scenario}: ${row.deliveriesPerSec}/s p50 ${row.p50Ms} p99 ${row.p99Ms} ms, ${row.serverCpuUsPerDelivery} µs/delivery (server ${row.serverCpuPct} %, other ${row.otherCpuPct} %, ${row.framesPerWrite} deliveries/write, ELU ${row.eld?.elu ?? "n/a"}), lost ${row.lost}, load ${os.loadavg()[0].toFixed(1)}\n`,
        );
      }
    }
    return { rows, baseRssMiB: Math.round(baseRss / 102.4) / 10 };
  } catch (e) {
    return { rows, error: String((e as Error)?.message ?? e) };
  } finally {
    for (const x of senders) x.close();
    await Promise.all(lgs.map((l) => l.ask({ type: "exit" }, "never", 3000).catch(() => {})));
    for (const l of lgs) if (l.cp.exitCode === null) l.cp.kill("SIGKILL");
    await server?.stop();
  }
}

function markdown(
  results: Array<{ target: RoomTarget; rows: Row[]; error?: string }>,
  meta: Record<string, unknown>,
): string {
  const lines = [
    `# bench:rooms — ${meta.date}`,
    "",
    `Machine: ${meta.cpus} × ${meta.cpuModel}, ${meta.memGiB} GiB, Node ${process.version}; load average before ${meta.loadBefore}, after ${meta.loadAfter}; the "other CPU %" column is what other processes used during each window.`,
    `Command: \`${meta.command}\`; ${LOADGENS} load generators; ${SECONDS} s per scenario; many in flight = ${WINDOW} messages; members' WebSocket client: ${CLIENT}.`,
    "",
    "| target | members | scenario | deliveries/s | p50 ms | p99 ms | server CPU µs/delivery | server CPU % | loadgen CPU % | other CPU % | RSS MiB | KiB/member joined | KiB/member after | event-loop delay max / p99 ms | event-loop utilisation | deliveries per server write | lost | bottleneck |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
  ];
  for (const r of results) {
    if (r.error) lines.push(`| ${r.target} | — | failed: ${r.error.replaceAll("|", "/").slice(0, 200)} |`);
    for (const x of r.rows)
      lines.push(
        `| ${x.target} | ${x.size} | ${x.scenario} | ${x.deliveriesPerSec} | ${x.p50Ms} | ${x.p99Ms} | ${x.serverCpuUsPerDelivery} | ${x.serverCpuPct} | ${x.loadgenCpuPct + x.senderCpuPct} | ${x.otherCpuPct} | ${x.rssMiB} | ${x.kibPerMemberJoined} | ${x.kibPerMember} | ${x.eld ? `${x.eld.max} / ${x.eld.p99}` : "n/a"} | ${x.eld?.elu ?? "n/a"} | ${Number.isNaN(x.framesPerWrite) ? "n/a" : x.framesPerWrite} | ${x.lost} | ${x.bottleneck} |`,
      );
  }
  // ratios against the peers, same size and scenario
  const parley = results.find((r) => r.target === "parley")?.rows ?? [];
  if (parley.length) {
    lines.push(
      "",
      "Parley against the peers (same size and scenario, same run): deliveries/s ratio; server CPU per delivery ratio (peer ÷ Parley, > 1 = Parley cheaper).",
      "",
    );
    lines.push(
      "| members | scenario | peer | deliveries/s ratio | CPU/delivery ratio | Parley deliveries per server CPU-second |",
      "|---:|---|---|---:|---:|---:|",
    );
    for (const p of parley)
      for (const r of results)
        if (r.target !== "parley")
          for (const q of r.rows)
            if (q.size === p.size && q.scenario === p.scenario)
              lines.push(
                `| ${p.size} | ${p.scenario} | ${q.target} | ${(p.deliveriesPerSec / q.deliveriesPerSec).toFixed(2)} | ${(q.serverCpuUsPerDelivery / p.serverCpuUsPerDelivery).toFixed(1)} | ${Math.round(1e6 / p.serverCpuUsPerDelivery)} |`,
              );
  }
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), "parley-rooms-run-"));
  cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
  const loadBefore = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
  const results: Array<{ target: RoomTarget; rows: Row[]; error?: string }> = [];
  for (const t of TARGETS) {
    const r = await runTarget(t, runDir);
    if (r.error) process.stderr.write(`[rooms] ${t} failed: ${r.error}\n`);
    results.push({ target: t, ...r });
  }
  const meta = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadBefore,
    loadAfter: os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" "),
    command: `npm run bench:rooms -- ${process.argv.slice(2).join(" ")}`.trim(),
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, "rooms-latest.json"), JSON.stringify({ meta, results }, null, 2));
  const md = markdown(results, meta);
  writeFileSync(path.join(OUT, "rooms-latest.md"), md);
  process.stdout.write(md);
  stopEverything();
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:rooms: ${String((e as Error)?.stack ?? e)}\n`);
  stopEverything();
  process.exit(1);
});
