// Client process of bench/cluster.ts and bench/scale.ts (forked by cluster-lib.ts ClientProc):
// holds up to 18 000 WebSockets, all bound to its own source address (argv[2], a 127.x.y.z
// address: each process gets its own ≈ 28 000 ephemeral ports), spread over the Parley nodes it
// is told. Kinds: `gateway` (seed 000 `/ws?systemId=`), `guest` (chat33 guest that joins a chat
// room), `user` (a logged-in chat33 user: hears its direct messages, can send frames). Counts the
// bench messages (`pbm|<send ms>|…`, see rooms-clients.ts) its sockets receive, with their latency.
//   IPC in:  {type:"hello"} {type:"open", job} {type:"stats"} {type:"reset"} {type:"say", i, frame} {type:"close"}
//   IPC out: {type:"hello"} {type:"opened", ok, failed, ms, firstError} {type:"stats", …} {type:"resetDone"}
//            {type:"closed"} {type:"p", recv} (every 5 ms when it changed) {type:"fatal", error}
import WebSocket from "ws";
import type { OpenJob } from "./cluster-lib.ts";
import { Histogram } from "./lib/common.ts";
import { clock, sentAt } from "./rooms-clients.ts";

const localAddress = process.argv[2] ?? "";
if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(localAddress)) throw new Error(`not a loopback address: ${localAddress}`);

// Source ports are chosen here instead of by bind(addr, 0): that search costs the kernel ≈ 0.7 ms per
// socket at 8 000 sockets and more after (measured: 5.9 s of system time for 8 000 connects, 0.5 s with
// explicit ports), which made connecting 200 k sockets take most of an hour. They are taken BELOW the
// kernel's ephemeral range (32768–60999 here): a port bound explicitly on any address is skipped by the
// kernel's own choice of a source port for connect(), so 12 client processes holding ≈ 17 k explicit
// ports each inside that range left no port for anything else on the machine — at 200 k the nodes'
// new PostgreSQL connections failed with EADDRNOTAVAIL (2026-12-02). 10 000–32 767 leaves the range to
// the kernel; a port already taken (EADDRINUSE: a listener, or TIME_WAIT from an earlier run) is skipped.
const PORT_LO = 10_000;
const PORT_HI = 32_767;
// a random start, so a rerun from the same address does not walk through its predecessor's TIME_WAIT ports
let nextPort = PORT_LO + Math.floor(Math.random() * (PORT_HI - PORT_LO));
const takePort = () => {
  const p = nextPort;
  nextPort = nextPort >= PORT_HI ? PORT_LO : nextPort + 1;
  return p;
};

const sockets: WebSocket[] = [];
const hist = new Histogram();
let recv = 0;
let reported = 0;
let open = 0;
let closed = 0;
let lastRecvAt = 0;
let opened = 0;

setInterval(() => {
  if (recv !== reported) {
    reported = recv;
    process.send?.({ type: "p", recv });
  }
}, 5).unref();

const onData = (data: Buffer) => {
  const t = sentAt(data);
  if (Number.isNaN(t)) return;
  const now = clock();
  recv++;
  lastRecvAt = now;
  hist.record(Math.max(0, (now - t) * 1000));
};

/** Attempts per socket when its handshake (or join) times out: the server was starved, not wrong. */
const TIMEOUT_ATTEMPTS = 3;
let retried = 0;

async function connectOne(job: OpenJob, port: number, n: number): Promise<WebSocket> {
  let timeouts = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectFrom(job, port, n, takePort());
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "EADDRINUSE" && attempt <= PORT_HI - PORT_LO) continue;
      if (/timed out|not ready within/.test(err.message) && ++timeouts < TIMEOUT_ATTEMPTS) {
        retried++;
        continue;
      }
      throw e;
    }
  }
}

function connectFrom(job: OpenJob, port: number, n: number, localPort: number): Promise<WebSocket> {
  const id = `${job.idPrefix ?? "g"}${n}`;
  let url = `ws://127.0.0.1:${port}/ws`;
  const headers: Record<string, string> = {};
  if (job.kind === "gateway") url += `?systemId=${encodeURIComponent(job.systemId ?? "")}`;
  else if (job.kind === "guest") {
    headers["FZM-UUID"] = id;
    headers["FZM-DEVICE"] = "Android";
  } else url += `?token=${encodeURIComponent(job.tokens?.[n] ?? "")}&device=Web`;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    localAddress,
    localPort,
    headers,
    handshakeTimeout: 120_000,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${job.kind} ${id}: not ready within 180 s`));
    }, 180_000);
    const ready = () => {
      clearTimeout(timer);
      open++;
      ws.on("close", () => {
        open--;
        closed++;
      });
      ws.on("message", onData);
      resolve(ws);
    };
    ws.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.once("open", () => {
      if (job.kind !== "guest") return ready();
      ws.send(JSON.stringify({ eventType: 1, msgId: "join", groupId: job.room }));
      const onJoin = (data: Buffer) => {
        const f = JSON.parse(data.toString()) as { eventType?: number; msgId?: string; code?: number };
        if (f.eventType !== 1 || f.msgId !== "join") return;
        ws.off("message", onJoin);
        if (f.code !== 0) {
          clearTimeout(timer);
          ws.terminate();
          reject(new Error(`join refused: ${data.toString()}`));
        } else ready();
      };
      ws.on("message", onJoin);
    });
  });
}

async function openAll(job: OpenJob): Promise<void> {
  const t0 = Date.now();
  const batch = job.batch ?? 200;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const plan: Array<{ port: number; n: number }> = [];
  for (const t of job.targets) for (let i = 0; i < t.count; i++) plan.push({ port: t.port, n: opened + plan.length });
  for (let i = 0; i < plan.length; i += batch) {
    const part = plan.slice(i, i + batch);
    const got = await Promise.allSettled(part.map((p) => connectOne(job, p.port, p.n)));
    for (const g of got) {
      if (g.status === "fulfilled") {
        sockets.push(g.value);
        ok++;
      } else {
        failed++;
        firstError ??= String((g.reason as Error)?.message ?? g.reason);
      }
    }
  }
  opened += plan.length;
  process.send?.({ type: "opened", ok, failed, ms: Date.now() - t0, firstError, retried });
}

process.on("message", (m: { type: string; job?: OpenJob; i?: number; frame?: string }) => {
  switch (m.type) {
    case "hello":
      process.send?.({ type: "hello" });
      break;
    case "open":
      openAll(m.job as OpenJob).catch((e: unknown) =>
        process.send?.({ type: "fatal", error: String((e as Error)?.message ?? e) }),
      );
      break;
    case "stats": {
      const c = process.cpuUsage();
      process.send?.({
        type: "stats",
        open,
        closed,
        recv,
        hist: hist.toJSON(),
        cpuSeconds: (c.user + c.system) / 1e6,
        rssKiB: Math.round(process.memoryUsage().rss / 1024),
        lastRecvAt,
      });
      break;
    }
    case "reset":
      recv = 0;
      reported = 0;
      lastRecvAt = 0;
      hist.reset();
      process.send?.({ type: "resetDone" });
      break;
    case "say":
      sockets[m.i ?? 0]?.send(m.frame ?? "");
      break;
    case "close":
      for (const s of sockets.splice(0)) s.terminate();
      setTimeout(() => process.send?.({ type: "closed" }), 100);
      break;
  }
});
process.on("disconnect", () => process.exit(0));
