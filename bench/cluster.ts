// One node vs two nodes on this machine (issue 19 item 7), on PostgreSQL + Redis:
// `npm run bench:cluster`.
//
//   npm run bench:cluster                                   # 1 and 2 nodes, defaults below (~4 min)
//   npm run bench:cluster -- --nodes=1,2,3 --seconds=15 --members=15000
//
// For each node count (a fresh database and Redis prefix each time, every node in cluster mode on
// the same PostgreSQL and Redis, even the single one, so the comparison is of the same code path):
//  (1) 1:1 throughput: `--senders` chat33 senders, each keeping `--window` messages in flight to
//      its own peer (colleagues); sender i on node i mod N, its peer on node (i+1) mod N — with two
//      nodes every message crosses Redis to reach its receiver. Acks (after commit) per second, ack
//      and delivery latency, the nodes' CPU per message.
//  (2) chat-room fan-out: one room of `--members` guests spread evenly over the nodes, 4 sender
//      connections on different nodes, `--room-window` messages in flight (a message is done when
//      every member has it) for `--seconds`: deliveries/s, delivery latency, CPU per delivery.
// The senders run in this process; receivers and members in client processes
// (bench/cluster-clients.ts) bound to their own 127.10.x.y source addresses.
// Results: bench/results/cluster-latest.{json,md}.
import { randomBytes } from "node:crypto";
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
  type ParleyNode,
  poke,
  runMain,
  serviceUsage,
  sleep,
  startBenchCluster,
  sum,
} from "./cluster-lib.ts";
import { Histogram, summarize } from "./lib/common.ts";
import { benchText } from "./rooms-clients.ts";

const USAGE = `usage: npm run bench:cluster -- [options]

  --nodes=1,2          node counts to compare (default 1,2)
  --seconds=8          length of each measured part
  --senders=64         1:1 senders (each with its own receiver)
  --window=16          1:1 messages in flight per sender
  --members=5000       chat-room audience
  --room-window=16     chat-room messages in flight
${serviceUsage("cluster-latest.{json,md}")}`;
const {
  flags,
  pg: PG_BASE,
  redis: REDIS,
  out: OUT,
  clientNice: CLIENT_NICE,
} = benchFlags("bench:cluster", ["nodes", "seconds", "senders", "window", "members", "room-window"], USAGE);
const NODE_COUNTS = ints(flags.get("nodes") ?? "1,2");
const SECONDS = Number(flags.get("seconds") ?? 8);
const SENDERS = Number(flags.get("senders") ?? 64);
const WINDOW = Number(flags.get("window") ?? 16);
const MEMBERS = Number(flags.get("members") ?? 5000);
const ROOM_WINDOW = Number(flags.get("room-window") ?? 16);
if (NODE_COUNTS.some((n) => n < 1 || n > 8)) throw new Error("--nodes: 1..8 each");
const ROOM_SENDERS = 4;

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : Number.NaN;

interface Sock {
  ws: WebSocket;
  pending: Map<string, number>;
}

function openSender(port: number, token: string, room?: string): Promise<Sock> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(token)}&device=Android`, {
      perMessageDeflate: false,
    });
    onCleanup(() => ws.terminate());
    const sock = { ws, pending: new Map<string, number>() };
    ws.once("error", reject);
    ws.once("open", () => {
      if (!room) return resolve(sock);
      ws.send(JSON.stringify({ eventType: 1, msgId: "join", groupId: room }));
      const onJoin = (d: Buffer) => {
        const f = JSON.parse(d.toString()) as { eventType?: number; msgId?: string; code?: number };
        if (f.eventType !== 1 || f.msgId !== "join") return;
        ws.off("message", onJoin);
        if (f.code === 0) resolve(sock);
        else reject(new Error(`join refused: ${d.toString()}`));
      };
      ws.on("message", onJoin);
    });
  });
}

const nodeCpu = (nodes: ParleyNode[]) => nodes.map((n) => cpuSeconds(n.pid));

interface Direct {
  perSec: number;
  ackP50: number;
  ackP99: number;
  delivered: number;
  deliveryP50: number;
  deliveryP99: number;
  failures: number;
  cpuUsPerMsg: number;
  nodeCpuPct: number[];
  machineBusyPct: number;
  stealPct: number;
}

async function direct(nodes: ParleyNode[], companyId: number, clients: ClientProc): Promise<Direct> {
  const n = nodes.length;
  const senders: Array<{ token: string; peerId: string }> = [];
  const receiverTokens: string[] = [];
  const tag = randomBytes(2).readUInt16BE(0) % 1000;
  for (let i = 0; i < SENDERS; i++) {
    const base = 3_000_000_000 + tag * 100_000 + i * 2;
    const s = await createUser(nodes[0].port, companyId, `1${String(base).padStart(10, "0")}`, "Android");
    const r = await createUser(nodes[0].port, companyId, `1${String(base + 1).padStart(10, "0")}`, "Web");
    senders.push({ token: s.token, peerId: r.id });
    receiverTokens.push(r.token);
  }
  // receiver i on node (i+1) mod n: its own targets entry per socket keeps the token order
  const opened = await clients.open({
    kind: "user",
    targets: receiverTokens.map((_, i) => ({ port: nodes[(i + 1) % n].port, count: 1 })),
    tokens: receiverTokens,
    batch: 64,
  });
  if (opened.failed) throw new Error(`receivers: ${opened.firstError}`);
  const socks = await Promise.all(senders.map((s, i) => openSender(nodes[i % n].port, s.token)));
  await sleep(500);
  let seq = 0;
  const drive = async (seconds: number, window: number) => {
    const lat: number[] = [];
    let acks = 0;
    let failures = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const send = (s: Sock, peer: string) => {
      const msgId = `c${++seq}`;
      s.pending.set(msgId, performance.now());
      s.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId,
          channelType: 3,
          targetId: peer,
          msgType: 1,
          msg: { content: benchText(seq) },
        }),
      );
    };
    await new Promise<void>((done) => {
      socks.forEach((s, i) => {
        s.ws.removeAllListeners("message");
        s.ws.on("message", (raw: Buffer) => {
          const f = JSON.parse(raw.toString()) as { eventType: number; msgId?: string; code?: number; logId?: string };
          if (f.eventType !== 0 || !f.msgId) return;
          const t = s.pending.get(f.msgId);
          if (t === undefined) return;
          s.pending.delete(f.msgId);
          if (f.code !== undefined && f.logId === undefined) failures++;
          else {
            acks++;
            lat.push(performance.now() - t);
          }
          if (performance.now() < deadline) send(s, senders[i].peerId);
        });
        for (let k = 0; k < window; k++) send(s, senders[i].peerId);
      });
      const check = setInterval(() => {
        const now = performance.now();
        if ((now >= deadline && socks.every((s) => s.pending.size === 0)) || now >= deadline + 30_000) {
          clearInterval(check);
          done();
        }
      }, 20);
    });
    return { acks, failures, lat: lat.sort((a, b) => a - b), elapsed: (performance.now() - t0) / 1000 };
  };
  await drive(2, 4); // warm-up
  await sleep(1000);
  await clients.reset();
  const c0 = nodeCpu(nodes);
  const m0 = machineTicks();
  const r = await drive(SECONDS, WINDOW);
  const c1 = nodeCpu(nodes);
  const m1 = machineTicks();
  await sleep(1000);
  const st = await clients.stats();
  const ls = summarize(histOf(st.hist));
  for (const s of socks) s.ws.terminate();
  await clients.close();
  return {
    perSec: r.acks / r.elapsed,
    ackP50: pct(r.lat, 50),
    ackP99: pct(r.lat, 99),
    delivered: st.recv,
    deliveryP50: ls.p50Ms,
    deliveryP99: ls.p99Ms,
    failures: r.failures,
    cpuUsPerMsg: ((sum(c1) - sum(c0)) * 1e6) / Math.max(1, r.acks),
    nodeCpuPct: c1.map((v, i) => ((v - c0[i]) / r.elapsed) * 100),
    machineBusyPct: (1 - (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total)) * 100,
    stealPct: ((m1.steal - m0.steal) / Math.max(1, m1.total - m0.total)) * 100,
  };
}

function histOf(json: Parameters<Histogram["merge"]>[0]): Histogram {
  const h = new Histogram();
  h.merge(json);
  return h;
}

interface Room {
  members: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  lost: number;
  cpuUsPerDelivery: number;
  nodeCpuPct: number[];
  machineBusyPct: number;
}

async function room(nodes: ParleyNode[], companyId: number, clients: ClientProc[]): Promise<Room> {
  const n = nodes.length;
  const roomId = await createRoom(nodes[0].port);
  const tag = randomBytes(2).readUInt16BE(0) % 1000;
  const senders: Sock[] = [];
  for (let i = 0; i < ROOM_SENDERS; i++) {
    const u = await createUser(
      nodes[0].port,
      companyId,
      `1${String(3_900_000_000 + tag * 100 + i).padStart(10, "0")}`,
      "Android",
    );
    senders.push(await openSender(nodes[i % n].port, u.token, roomId));
  }
  // members: socket k to client k mod C, node ⌊k / C⌋ mod n
  const C = clients.length;
  const plan = clients.map(() => new Map<number, number>());
  for (let k = 0; k < MEMBERS; k++) {
    const port = nodes[Math.floor(k / C) % n].port;
    plan[k % C].set(port, (plan[k % C].get(port) ?? 0) + 1);
  }
  const res = await Promise.all(
    clients.map((c, i) =>
      c.open({
        kind: "guest",
        room: roomId,
        idPrefix: `m${i}-`,
        targets: [...plan[i]].map(([port, count]) => ({ port, count })),
        batch: 200,
      }),
    ),
  );
  const failed = sum(res.map((r) => r.failed));
  if (failed) throw new Error(`${failed} members failed: ${res.find((r) => r.firstError)?.firstError}`);
  for (const c of clients) c.progress(poke);
  const received = () => sum(clients.map((c) => c.recv));
  let seq = 0;
  let sent = 0;
  const say = () => {
    const s = senders[sent % ROOM_SENDERS];
    sent++;
    s.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: `r${++seq}`,
        channelType: 1,
        targetId: roomId,
        msgType: 1,
        msg: { content: benchText(seq) },
      }),
    );
  };
  const run = async (seconds: number) => {
    await Promise.all(clients.map((c) => c.reset()));
    for (const c of clients) c.recv = 0;
    sent = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    let lost = 0;
    while (sent < ROOM_WINDOW) say();
    while (true) {
      const done = Math.floor(received() / MEMBERS);
      if (performance.now() >= deadline && done >= sent) break;
      while (performance.now() < deadline && sent - done < ROOM_WINDOW) say();
      const before = received();
      const end = performance.now() + 30_000;
      while (received() === before && received() < sent * MEMBERS && performance.now() < end) await nextProgress(50);
      if (received() === before && received() < sent * MEMBERS) {
        lost = sent * MEMBERS - received();
        log(`room: stalled at ${received()} of ${sent * MEMBERS} deliveries`);
        break;
      }
    }
    return { elapsed: (performance.now() - t0) / 1000, lost };
  };
  await run(2); // warm-up
  const c0 = nodeCpu(nodes);
  const m0 = machineTicks();
  const r = await run(SECONDS);
  const c1 = nodeCpu(nodes);
  const m1 = machineTicks();
  const stats = await Promise.all(clients.map((c) => c.stats()));
  const h = new Histogram();
  for (const s of stats) h.merge(s.hist);
  const l = summarize(h);
  const delivered = sum(stats.map((s) => s.recv));
  for (const s of senders) s.ws.terminate();
  await Promise.all(clients.map((c) => c.close()));
  return {
    members: MEMBERS,
    deliveriesPerSec: delivered / r.elapsed,
    p50: l.p50Ms,
    p99: l.p99Ms,
    lost: r.lost,
    cpuUsPerDelivery: ((sum(c1) - sum(c0)) * 1e6) / Math.max(1, delivered),
    nodeCpuPct: c1.map((v, i) => ((v - c0[i]) / r.elapsed) * 100),
    machineBusyPct: (1 - (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total)) * 100,
  };
}

let clientSeq = 0;

async function configuration(n: number) {
  const loadBefore = loadAvg();
  const { nodes } = await startBenchCluster(`cluster${n}`, n, { pg: PG_BASE, redis: REDIS });
  log(`${n} node(s) up, load ${loadBefore}`);
  const companyId = await createCompany(nodes[0].port);
  const receivers = new ClientProc(clientSeq, clientAddress(clientSeq++));
  await receivers.ready();
  const d = await direct(nodes, companyId, receivers);
  log(
    `${n} node(s) 1:1: ${Math.round(d.perSec)} msgs/s, ack p50 ${d.ackP50.toFixed(1)} ms, delivered ${d.delivered}, ${d.cpuUsPerMsg.toFixed(1)} µs/msg`,
  );
  const count = Math.max(1, Math.ceil(MEMBERS / MAX_SOCKETS_PER_CLIENT), n);
  const members = Array.from({ length: count }, () => new ClientProc(clientSeq, clientAddress(clientSeq++)));
  await Promise.all(members.map((c) => c.ready()));
  const r = await room(nodes, companyId, members);
  log(`${n} node(s) room: ${Math.round(r.deliveriesPerSec)} deliveries/s, p50 ${r.p50} ms, lost ${r.lost}`);
  await Promise.all(nodes.map((x) => x.stop()));
  return { nodes: n, loadBefore, loadAfter: loadAvg(), direct: d, room: r };
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const results = [];
  for (const n of NODE_COUNTS) results.push(await configuration(n));
  const m = machine();
  const out = {
    started,
    command: `npm run bench:cluster -- ${process.argv.slice(2).join(" ")}`,
    machine: m,
    senders: SENDERS,
    window: WINDOW,
    members: MEMBERS,
    roomWindow: ROOM_WINDOW,
    seconds: SECONDS,
    clientNice: CLIENT_NICE,
    results,
  };
  writeFileSync(path.join(OUT, "cluster-latest.json"), `${JSON.stringify(out, null, 2)}\n`);
  const md = [
    `## Cluster — ${started}`,
    "",
    `Command: \`${out.command}\`; machine ${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, Node ${m.node}. Every node on the same PostgreSQL and Redis; the senders in the bench process, receivers and members in client processes, all on this machine; client processes at nice ${CLIENT_NICE}.`,
    "",
    `### 1:1 messages (${SENDERS} senders × ${WINDOW} in flight, ack after commit; with N > 1 each receiver is on another node than its sender)`,
    "",
    "| nodes | msgs/s | ack p50 / p99 ms | delivered to receivers | delivery p50 / p99 ms | nodes' CPU µs/msg | each node's CPU % | machine busy % | steal % | failures | load before → after |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.nodes} | ${f0(r.direct.perSec)} | ${f1(r.direct.ackP50)} / ${f1(r.direct.ackP99)} | ${f0(r.direct.delivered)} | ${f1(r.direct.deliveryP50)} / ${f1(r.direct.deliveryP99)} | ${f1(r.direct.cpuUsPerMsg)} | ${r.direct.nodeCpuPct.map(f0).join(" + ")} | ${f0(r.direct.machineBusyPct)} | ${f1(r.direct.stealPct)} | ${r.direct.failures} | ${r.loadBefore} → ${r.loadAfter} |`,
    ),
    "",
    `### One chat room, ${f0(MEMBERS)} guests spread over the nodes, ${ROOM_SENDERS} senders, ${ROOM_WINDOW} messages in flight`,
    "",
    "| nodes | deliveries/s | delivery p50 / p99 ms | nodes' CPU µs/delivery | each node's CPU % | machine busy % | lost |",
    "|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.nodes} | ${f0(r.room.deliveriesPerSec)} | ${f1(r.room.p50)} / ${f1(r.room.p99)} | ${f1(r.room.cpuUsPerDelivery)} | ${r.room.nodeCpuPct.map(f0).join(" + ")} | ${f0(r.room.machineBusyPct)} | ${r.room.lost} |`,
    ),
    "",
  ].join("\n");
  writeFileSync(path.join(OUT, "cluster-latest.md"), md);
  process.stdout.write(`${md}\n`);
}

runMain("bench:cluster", main);
