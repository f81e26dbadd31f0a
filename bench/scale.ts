// How cost grows with work (issue 19 item 7), on PostgreSQL + Redis with several Parley node
// processes on this machine: `npm run bench:scale`.
//
//   npm run bench:scale -- --idle=10k,20k --audience=1k,5k                      # smoke (~5 min)
//   npm run bench:scale -- --idle=10k,20k,50k,100k,150k,200k --audience=1k,5k,10k,25k,50k,100k
//                                                                               # the full curves (quiet machine)
//
// (1) idle: gateway WebSockets (seed 000 `/ws?systemId=`) grow step by step, spread evenly over
//     the nodes; at each step: memory per connection (the nodes' RSS over their RSS with no
//     connection), CPU per ping sweep (the nodes' CPU over `--sweeps` sweeps of `--ping-ms`, less
//     what they burn idle with no connection), the presence entries and their bytes in Redis
//     (`MEMORY USAGE` of the run's keys), and that presence counts every connection exactly.
// (2) audience: one chat room's guests grow step by step, spread over the nodes; at each step
//     `--messages` messages one at a time from a logged-in sender on node 0 (the next when every
//     member has the previous): time until the whole audience has a message, delivery latency,
//     server CPU per delivery; then `--window` in flight for as many messages: deliveries/s.
// Nodes: enough that each holds at most `--per-node` sockets (default 18 000, under the 20 000
// descriptors each process may open), at least 2. Clients: processes of at most `--per-client`
// sockets, each bound to its own source address 127.10.x.y (its own ephemeral ports).
// Results: bench/results/scale-latest.{json,md} and scale-latest.png (the curves).
import { writeFileSync } from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import {
  benchFlags,
  ClientProc,
  clientAddress,
  cpuSeconds,
  createCompany,
  createRoom,
  createUser,
  f0,
  f1,
  ints,
  loadAvg,
  log,
  MAX_SOCKETS_PER_CLIENT,
  machine,
  machineTicks,
  nextProgress,
  onCleanup,
  openFds,
  type ParleyNode,
  poke,
  redisFootprint,
  registerSystem,
  rssKiB,
  runMain,
  serviceUsage,
  sleep,
  startBenchCluster,
  sum,
} from "./cluster-lib.ts";
import { Histogram, summarize } from "./lib/common.ts";
import { benchText } from "./rooms-clients.ts";
import { renderCharts } from "./scale-chart.ts";

const USAGE = `usage: npm run bench:scale -- [options]

  --idle=10k,20k,50k,100k,150k,200k   idle-connection steps ("" = skip)     (default 10k,20k)
  --audience=1k,5k,10k,25k,50k,100k   chat-room audience steps ("" = skip)  (default 1k,5k)
  --nodes=N            Parley node processes (default: enough for --per-node, at least 2)
  --per-node=18000     most sockets per node process
  --per-client=18000   most sockets per client process
  --ping-ms=5000       the nodes' ws.pingIntervalMs (one sweep each)
  --sweeps=3           sweeps measured per idle step
  --messages=20        chat-room messages one at a time per audience step (and as many with --window)
  --window=8           chat-room messages in flight in the throughput part
  --address-base=0     client process i binds 127.10.x.y number base + i (give two runs at once different bases)
${serviceUsage("scale-latest.{json,md,png}")}`;
const {
  flags,
  pg: PG_BASE,
  redis: REDIS,
  out: OUT,
  clientNice: CLIENT_NICE,
} = benchFlags(
  "bench:scale",
  ["idle", "audience", "nodes", "per-node", "per-client", "ping-ms", "sweeps", "messages", "window", "address-base"],
  USAGE,
);
const IDLE = ints(flags.get("idle") ?? "10k,20k");
const AUDIENCE = ints(flags.get("audience") ?? "1k,5k");
const PER_NODE = Number(flags.get("per-node") ?? 18_000);
const PER_CLIENT = Math.min(MAX_SOCKETS_PER_CLIENT, Number(flags.get("per-client") ?? MAX_SOCKETS_PER_CLIENT));
const PING_MS = Number(flags.get("ping-ms") ?? 5000);
const SWEEPS = Number(flags.get("sweeps") ?? 3);
const MESSAGES = Number(flags.get("messages") ?? 20);
const WINDOW = Number(flags.get("window") ?? 8);
const MAX = Math.max(0, ...IDLE, ...AUDIENCE);
const NODES = Number(flags.get("nodes") ?? Math.max(2, Math.ceil(MAX / PER_NODE)));
if (Math.ceil(MAX / NODES) > PER_NODE) throw new Error(`--nodes=${NODES}: more than ${PER_NODE} sockets per node`);
const CLIENTS = Math.max(1, Math.ceil(MAX / PER_CLIENT));
const SYSTEM = "bench-scale";
const ADDRESS_BASE = Number(flags.get("address-base") ?? 0);
if (!Number.isInteger(ADDRESS_BASE) || ADDRESS_BASE < 0 || ADDRESS_BASE > 60_000)
  throw new Error("--address-base: 0..60000");

// ---------------------------------------------------------------------------------------------
// placement: socket k of a step goes to client k % C and node ⌊k / C⌋ % N (both stay balanced)
// ---------------------------------------------------------------------------------------------
function placement(from: number, to: number, nodes: ParleyNode[]) {
  const per = Array.from({ length: CLIENTS }, () => new Map<number, number>());
  for (let k = from; k < to; k++) {
    const c = k % CLIENTS;
    const port = nodes[Math.floor(k / CLIENTS) % nodes.length].port;
    per[c].set(port, (per[c].get(port) ?? 0) + 1);
  }
  return per.map((m) => [...m].map(([port, count]) => ({ port, count })));
}

interface NodeSample {
  cpu: number;
  rss: number;
  fds: number;
}
const sample = (nodes: ParleyNode[]): NodeSample[] =>
  nodes.map((n) => ({ cpu: cpuSeconds(n.pid), rss: rssKiB(n.pid), fds: openFds(n.pid) }));

async function openOnClients(
  clients: ClientProc[],
  from: number,
  to: number,
  nodes: ParleyNode[],
  job: { kind: "gateway" | "guest"; room?: string },
) {
  const plan = placement(from, to, nodes);
  const t0 = performance.now();
  const res = await Promise.all(
    clients.map((c, i) =>
      plan[i].length
        ? c.open({ ...job, targets: plan[i], systemId: SYSTEM, idPrefix: `c${i}-${from}-`, batch: 50 })
        : Promise.resolve({ ok: 0, failed: 0, ms: 0, firstError: null, retried: 0 }),
    ),
  );
  const failed = sum(res.map((r) => r.failed));
  if (failed) throw new Error(`${failed} of ${to - from} sockets failed: ${res.find((r) => r.firstError)?.firstError}`);
  const retried = sum(res.map((r) => r.retried ?? 0));
  if (retried) log(`${retried} handshakes timed out and were retried (cumulative)`);
  return { seconds: (performance.now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// (1) idle connections
// ---------------------------------------------------------------------------------------------
interface IdleStep {
  connections: number;
  nodes: number;
  connectPerSec: number;
  rssMiB: number;
  memPerConnKiB: number;
  /** The nodes' RSS growth from the previous step, per connection added (no start-up heap noise). */
  memPerConnStepKiB: number;
  /** The client processes' RSS per connection (the other end of each socket). */
  clientKiBPerConn: number;
  cpuPerSweepMs: number;
  cpuPerSweepUsPerConn: number;
  presenceMembers: number;
  presenceKeys: number;
  presenceBytes: number;
  presenceBytesPerConn: number;
  redisKeys: number;
  maxFdsPerNode: number;
  clientsClosed: number;
  load: string;
}

async function idle(
  nodes: ParleyNode[],
  clients: ClientProc[],
  out: { baseline?: object; steps: IdleStep[] },
  save: () => void,
): Promise<void> {
  await registerSystem(nodes[0].port, SYSTEM);
  const window = SWEEPS * PING_MS;
  await sleep(PING_MS);
  const b0 = sample(nodes);
  await sleep(window);
  const b1 = sample(nodes);
  const idleCpuPerSec = (sum(b1.map((s) => s.cpu)) - sum(b0.map((s) => s.cpu))) / (window / 1000);
  const baseRss = sum(b1.map((s) => s.rss));
  log(
    `idle: baseline ${nodes.length} nodes RSS ${(baseRss / 1024).toFixed(0)} MiB, idle CPU ${(idleCpuPerSec * 1000).toFixed(1)} ms/s`,
  );
  out.baseline = { rssMiB: baseRss / 1024, idleCpuMsPerSec: idleCpuPerSec * 1000 };
  const steps = out.steps;
  let have = 0;
  let prevRss = baseRss;
  for (const step of IDLE) {
    if (step <= have) continue;
    const { seconds } = await openOnClients(clients, have, step, nodes, { kind: "gateway" });
    const connectPerSec = (step - have) / seconds;
    const added = step - have;
    have = step;
    // presence must count every connection (it is written asynchronously after the upgrade)
    let fp = await redisFootprint(REDIS, PREFIX);
    for (let i = 0; i < 120 && fp.presenceMembers < step; i++) {
      await sleep(500);
      fp = await redisFootprint(REDIS, PREFIX);
    }
    if (fp.presenceMembers !== step) log(`idle ${step}: presence holds ${fp.presenceMembers} members, not ${step}`);
    await sleep(PING_MS); // one sweep after the last connection, so every socket has been pinged once
    const s0 = sample(nodes);
    await sleep(window);
    const s1 = sample(nodes);
    const cpu = sum(s1.map((s) => s.cpu)) - sum(s0.map((s) => s.cpu)) - idleCpuPerSec * (window / 1000);
    const rss = sum(s1.map((s) => s.rss));
    const cstats = await Promise.all(clients.map((c) => c.stats()));
    const closed = sum(cstats.map((s) => s.closed));
    const row: IdleStep = {
      connections: step,
      nodes: nodes.length,
      connectPerSec,
      rssMiB: rss / 1024,
      memPerConnKiB: (rss - baseRss) / step,
      memPerConnStepKiB: (rss - prevRss) / added,
      clientKiBPerConn: sum(cstats.map((s) => s.rssKiB)) / step,
      cpuPerSweepMs: (cpu / SWEEPS) * 1000,
      cpuPerSweepUsPerConn: ((cpu / SWEEPS) * 1e6) / step,
      presenceMembers: fp.presenceMembers,
      presenceKeys: fp.presenceKeys,
      presenceBytes: fp.presenceBytes,
      presenceBytesPerConn: fp.presenceBytes / step,
      redisKeys: fp.keys,
      maxFdsPerNode: Math.max(...s1.map((s) => s.fds)),
      clientsClosed: closed,
      load: loadAvg(),
    };
    prevRss = rss;
    steps.push(row);
    save();
    log(
      `idle ${step}: ${row.memPerConnKiB.toFixed(1)} KiB/conn (step ${row.memPerConnStepKiB.toFixed(1)}, clients ${row.clientKiBPerConn.toFixed(1)}), sweep ${row.cpuPerSweepMs.toFixed(0)} ms (${row.cpuPerSweepUsPerConn.toFixed(1)} µs/conn), presence ${(row.presenceBytes / 1024).toFixed(0)} KiB, closed ${closed}, load ${row.load}`,
    );
  }
  await Promise.all(clients.map((c) => c.close()));
}

// ---------------------------------------------------------------------------------------------
// (2) one chat room's audience
// ---------------------------------------------------------------------------------------------
interface AudienceStep {
  audience: number;
  nodes: number;
  joinPerSec: number;
  /** One message at a time: from the send to the last member's delivery. */
  fullFanoutMs: { p50: number; p99: number; max: number };
  deliveryMs: { p50: number; p99: number };
  cpuUsPerDelivery: number;
  /** `--window` in flight. */
  deliveriesPerSec: number;
  windowDeliveryMs: { p50: number; p99: number };
  windowCpuUsPerDelivery: number;
  machineBusyPct: number;
  /** Window phase, % of one core: all nodes, the busiest node, the client processes, this process, the rest of the machine. */
  cpuPct: { nodes: number; busiestNode: number; clients: number; sender: number; others: number };
  /** Which side limited the window phase (see `bottleneck`). */
  bottleneck: string;
  lost: number;
  load: string;
}

/**
 * Who limited a phase on this machine: a node at ≥ 85 % of its one thread, the client processes
 * holding ≥ 85 % of one core, or the whole machine ≥ 85 % busy (other people's processes included).
 */
function bottleneck(c: AudienceStep["cpuPct"], machineBusyPct: number, cores: number): string {
  const parts: string[] = [];
  if (c.busiestNode >= 85) parts.push("a node (one thread)");
  if (c.clients >= 85) parts.push("client side");
  if (!parts.length && machineBusyPct >= 85) parts.push("machine");
  if (!parts.length) parts.push("none");
  if (c.others >= 20 * cores) parts.push(`+${Math.round(c.others)} % foreign CPU`);
  return parts.join(", ");
}

async function audience(
  nodes: ParleyNode[],
  clients: ClientProc[],
  steps: AudienceStep[],
  save: () => void,
): Promise<void> {
  const companyId = await createCompany(nodes[0].port);
  const sender = await createUser(nodes[0].port, companyId, "13900000001", "Android");
  const room = await createRoom(nodes[0].port);
  const ws = new WebSocket(`ws://127.0.0.1:${nodes[0].port}/ws`, {
    perMessageDeflate: false,
    headers: { "FZM-AUTH-TOKEN": sender.token, "FZM-DEVICE": "Android" },
  });
  onCleanup(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => ws.send(JSON.stringify({ eventType: 1, msgId: "join", groupId: room })));
    ws.on("message", (d: Buffer) => {
      const f = JSON.parse(d.toString()) as { eventType?: number; msgId?: string; code?: number };
      if (f.eventType === 1 && f.msgId === "join") {
        if (f.code === 0) resolve();
        else reject(new Error(`sender join refused: ${d.toString()}`));
      }
    });
  });
  let seq = 0;
  const say = () =>
    ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: `s${++seq}`,
        channelType: 1,
        targetId: room,
        msgType: 1,
        msg: { content: benchText(seq) },
      }),
    );
  for (const c of clients) c.progress(poke);
  const received = () => sum(clients.map((c) => c.recv));
  const waitFor = async (n: number, ms: number) => {
    const end = performance.now() + ms;
    while (received() < n && performance.now() < end) await nextProgress(50);
    return received() >= n;
  };
  let have = 0;
  for (const size of AUDIENCE) {
    if (size <= have) continue;
    const { seconds } = await openOnClients(clients, have, size, nodes, { kind: "guest", room });
    const joinPerSec = (size - have) / seconds;
    have = size;
    await sleep(1000);
    // (i) one at a time
    await Promise.all(clients.map((c) => c.reset()));
    for (const c of clients) c.recv = 0;
    const full: number[] = [];
    let lost = 0;
    const c0 = sum(nodes.map((n) => cpuSeconds(n.pid)));
    for (let i = 1; i <= MESSAGES; i++) {
      const t = performance.now();
      say();
      if (!(await waitFor(size * i, 60_000))) {
        lost = size * i - received();
        log(`audience ${size}: message ${i} reached ${received() - size * (i - 1)} of ${size} within 60 s`);
        break;
      }
      full.push(performance.now() - t);
    }
    const c1 = sum(nodes.map((n) => cpuSeconds(n.pid)));
    const stats1 = await Promise.all(clients.map((c) => c.stats()));
    const h1 = new Histogram();
    for (const s of stats1) h1.merge(s.hist);
    const l1 = summarize(h1);
    const delivered1 = sum(stats1.map((s) => s.recv));
    full.sort((a, b) => a - b);
    // (ii) --window in flight, as many messages
    await Promise.all(clients.map((c) => c.reset()));
    for (const c of clients) c.recv = 0;
    const m0 = machineTicks();
    const perNode0 = nodes.map((n) => cpuSeconds(n.pid));
    const w0 = sum(perNode0);
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    let sent = 0;
    const total = MESSAGES;
    while (sent < Math.min(WINDOW, total)) {
      say();
      sent++;
    }
    while (received() < size * total) {
      const end = performance.now() + 60_000;
      const before = received();
      while (received() === before && performance.now() < end) await nextProgress(50);
      if (received() === before) {
        lost += size * total - received();
        log(`audience ${size}: window phase stalled at ${received()} of ${size * total}`);
        break;
      }
      // keep WINDOW messages in flight: a message is done when the whole audience has it
      while (sent < total && sent - Math.floor(received() / size) < WINDOW) {
        say();
        sent++;
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    const perNode1 = nodes.map((n) => cpuSeconds(n.pid));
    const w1 = sum(perNode1);
    const self1 = process.cpuUsage(self0);
    const m1 = machineTicks();
    const stats2 = await Promise.all(clients.map((c) => c.stats()));
    const h2 = new Histogram();
    for (const s of stats2) h2.merge(s.hist);
    const l2 = summarize(h2);
    const delivered2 = sum(stats2.map((s) => s.recv));
    const busy = (1 - (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total)) * 100;
    const cores = machine().cpus as number;
    const pctOf = (sec: number) => (sec / elapsed) * 100;
    const cpuPct = {
      nodes: pctOf(w1 - w0),
      busiestNode: Math.max(...perNode1.map((v, i) => pctOf(v - perNode0[i]))),
      clients: pctOf(sum(stats2.map((s) => s.cpuSeconds)) - sum(stats1.map((s) => s.cpuSeconds))),
      sender: pctOf((self1.user + self1.system) / 1e6),
      others: 0,
    };
    cpuPct.others = Math.max(0, busy * cores - cpuPct.nodes - cpuPct.clients - cpuPct.sender);
    const row: AudienceStep = {
      audience: size,
      nodes: nodes.length,
      joinPerSec,
      fullFanoutMs: {
        p50: full[Math.floor(full.length / 2)] ?? Number.NaN,
        p99: full[Math.min(full.length - 1, Math.floor(full.length * 0.99))] ?? Number.NaN,
        max: full[full.length - 1] ?? Number.NaN,
      },
      deliveryMs: { p50: l1.p50Ms, p99: l1.p99Ms },
      cpuUsPerDelivery: ((c1 - c0) * 1e6) / Math.max(1, delivered1),
      deliveriesPerSec: delivered2 / elapsed,
      windowDeliveryMs: { p50: l2.p50Ms, p99: l2.p99Ms },
      windowCpuUsPerDelivery: ((w1 - w0) * 1e6) / Math.max(1, delivered2),
      machineBusyPct: busy,
      cpuPct,
      bottleneck: bottleneck(cpuPct, busy, cores),
      lost,
      load: loadAvg(),
    };
    steps.push(row);
    save();
    log(
      `audience ${size}: whole room p50 ${row.fullFanoutMs.p50.toFixed(0)} ms, ${row.cpuUsPerDelivery.toFixed(1)} µs/delivery, window ${Math.round(row.deliveriesPerSec)} deliveries/s (${row.windowCpuUsPerDelivery.toFixed(1)} µs/delivery, CPU % nodes ${f0(cpuPct.nodes)} / busiest ${f0(cpuPct.busiestNode)} / clients ${f0(cpuPct.clients)} / others ${f0(cpuPct.others)}: ${row.bottleneck}), lost ${lost}, load ${row.load}`,
    );
  }
  ws.terminate();
  await Promise.all(clients.map((c) => c.close()));
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------
let PREFIX = "";

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = loadAvg();
  log(
    `bench:scale: ${NODES} nodes, ${CLIENTS} client processes, idle ${IDLE.join(",")}, audience ${AUDIENCE.join(",")}, load ${loadBefore}`,
  );
  const cluster = await startBenchCluster("scale", NODES, {
    pg: PG_BASE,
    redis: REDIS,
    env: {
      PARLEY_WS_PING_INTERVAL_MS: String(PING_MS),
      PARLEY_WS_IDLE_TIMEOUT_MS: String(Math.max(60_000, PING_MS * 4)),
    },
  });
  const { nodes } = cluster;
  PREFIX = cluster.prefix;
  log(`nodes up: ${nodes.map((n) => n.port).join(", ")}`);
  const clients = Array.from({ length: CLIENTS }, (_, i) => new ClientProc(i, clientAddress(ADDRESS_BASE + i)));
  await Promise.all(clients.map((c) => c.ready()));
  const result: Record<string, unknown> = {
    started: started.toISOString(),
    command: `npm run bench:scale -- ${process.argv.slice(2).join(" ")}`,
    machine: machine(),
    loadBefore,
    nodes: NODES,
    clientProcesses: CLIENTS,
    clientNice: CLIENT_NICE,
    pingMs: PING_MS,
    sweeps: SWEEPS,
  };
  // every finished step is written at once, so a run that fails or is stopped keeps what it measured
  const save = () => {
    result.loadAfter = loadAvg();
    writeFileSync(path.join(OUT, "scale-latest.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(OUT, "scale-latest.md"), markdown(result));
  };
  try {
    if (IDLE.length) {
      const idleOut: { baseline?: object; steps: IdleStep[] } = { steps: [] };
      result.idle = idleOut;
      await idle(nodes, clients, idleOut, save);
      for (const c of clients) c.cp.kill("SIGKILL"); // their memory back before the audience part
    }
    if (AUDIENCE.length) {
      // fresh client processes: the idle ones' sockets are gone but their ports linger in TIME_WAIT
      const fresh = Array.from(
        { length: CLIENTS },
        (_, i) => new ClientProc(i, clientAddress(ADDRESS_BASE + CLIENTS + i)),
      );
      await Promise.all(fresh.map((c) => c.ready()));
      const steps: AudienceStep[] = [];
      result.audience = steps;
      await audience(nodes, fresh, steps, save);
    }
    result.finished = new Date().toISOString();
  } finally {
    save();
    process.stdout.write(markdown(result));
    const png = await renderCharts(result, path.join(OUT, "scale-latest.png"));
    log(`curves: ${png}`);
  }
}

function markdown(r: Record<string, unknown>): string {
  const idleR = r.idle as { baseline: { rssMiB: number; idleCpuMsPerSec: number }; steps: IdleStep[] } | undefined;
  const aud = r.audience as AudienceStep[] | undefined;
  const m = r.machine as Record<string, unknown>;
  const lines = [
    `## Scale — ${r.started}`,
    "",
    `Command: \`${r.command}\`; ${r.nodes} Parley nodes (PostgreSQL + Redis), ${r.clientProcesses} client processes (nice ${r.clientNice ?? 0}); machine ${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}; load average before ${r.loadBefore}, after ${r.loadAfter}.`,
    "",
  ];
  if (idleR) {
    lines.push(
      `### Idle connections (ping every ${r.pingMs} ms, ${r.sweeps} sweeps measured per step; baseline ${f0(idleR.baseline.rssMiB)} MiB RSS for all nodes, ${f1(idleR.baseline.idleCpuMsPerSec)} ms CPU/s idle)`,
      "",
      "| connections | nodes | connects/s | nodes' RSS MiB | KiB per connection (over the baseline) | KiB per connection (this step's growth) | client KiB per connection | CPU per sweep ms | µs per connection per sweep | presence members | presence keys | presence KiB | presence B/conn | most fds on a node | closed | load |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...idleR.steps.map(
        (s) =>
          `| ${f0(s.connections)} | ${s.nodes} | ${f0(s.connectPerSec)} | ${f0(s.rssMiB)} | ${f1(s.memPerConnKiB)} | ${f1(s.memPerConnStepKiB ?? Number.NaN)} | ${f1(s.clientKiBPerConn ?? Number.NaN)} | ${f0(s.cpuPerSweepMs)} | ${f1(s.cpuPerSweepUsPerConn)} | ${f0(s.presenceMembers)} | ${s.presenceKeys} | ${f0(s.presenceBytes / 1024)} | ${f1(s.presenceBytesPerConn)} | ${f0(s.maxFdsPerNode)} | ${s.clientsClosed} | ${s.load} |`,
      ),
      "",
    );
  }
  if (aud) {
    lines.push(
      "### One chat room's audience (guests spread over the nodes, sender on node 0)",
      "",
      "| audience | nodes | joins/s | whole room p50 / p99 ms (1 in flight) | delivery p50 / p99 ms | server CPU µs/delivery | deliveries/s (window) | window delivery p50 / p99 ms | window CPU µs/delivery | machine busy % | CPU % (window): nodes / busiest node / clients / others | bottleneck | lost | load |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...aud.map(
        (s) =>
          `| ${f0(s.audience)} | ${s.nodes} | ${f0(s.joinPerSec)} | ${f0(s.fullFanoutMs.p50)} / ${f0(s.fullFanoutMs.p99)} | ${f1(s.deliveryMs.p50)} / ${f1(s.deliveryMs.p99)} | ${f1(s.cpuUsPerDelivery)} | ${f0(s.deliveriesPerSec)} | ${f1(s.windowDeliveryMs.p50)} / ${f1(s.windowDeliveryMs.p99)} | ${f1(s.windowCpuUsPerDelivery)} | ${f0(s.machineBusyPct)} | ${s.cpuPct ? `${f0(s.cpuPct.nodes)} / ${f0(s.cpuPct.busiestNode)} / ${f0(s.cpuPct.clients)} / ${f0(s.cpuPct.others)}` : "–"} | ${s.bottleneck ?? "–"} | ${s.lost} | ${s.load} |`,
      ),
      "",
    );
  }
  return `${lines.join("\n")}\n`;
}

runMain("bench:scale", main);
