// Load generator for bench/rooms.ts and bench/groups.ts (a child process: ≤ 5 000 sockets each,
// far below the 20 000 descriptor limit). Connects chat-room members of one target, counts the
// bench messages they receive and their delivery latency.
//   IPC in:  {type:"connect", from, to, room, port, tokens?}  {type:"reset"}  {type:"collect"}  {type:"exit"}
//   IPC out: {type:"ready"} {type:"connected", n, ms} {type:"p", recv} (once per event-loop turn that received)
//            {type:"stats", recv, hist, cpuSeconds} {type:"fatal", error}
import { Histogram } from "./lib/common.js";
import { clock, join, type Member, type RoomTarget } from "./rooms-clients.js";

const target = process.argv[2] as RoomTarget;
const members: Member[] = [];
const hist = new Histogram();
let recv = 0;
let reported = 0;

// Progress goes to the orchestrator once per event-loop turn that received something (the
// setImmediate after the poll phase that read the sockets), so the senders learn of deliveries as
// soon as this process has them: with a fixed 5 ms report timer (before 2026-12-02), the senders'
// view lagged by up to 5 ms, which at 1 000 members is most of a pass, and "messages in flight"
// then counted messages this process already had.
let reportQueued = false;
const report = () => {
  reportQueued = false;
  if (recv !== reported) {
    reported = recv;
    process.send?.({ type: "p", recv });
  }
};

const onMessage = (t: number) => {
  recv++;
  hist.record(Math.max(0, (clock() - t) * 1000));
  if (!reportQueued) {
    reportQueued = true;
    setImmediate(report);
  }
};

async function connect(m: {
  from: number;
  to: number;
  room: string;
  port: number;
  prefix: string;
  tokens?: string[];
  batch?: number;
}): Promise<void> {
  const t0 = Date.now();
  const batch = m.batch ?? (target === "ejabberd" ? 25 : 100);
  for (let i = m.from; i < m.to; i += batch) {
    const end = Math.min(m.to, i + batch);
    const joined = await Promise.all(
      Array.from({ length: end - i }, (_, j) =>
        join(target, {
          port: m.port,
          room: m.room,
          id: `${m.prefix}${i + j}`,
          token: m.tokens?.[i + j - m.from],
          onMessage,
        }),
      ),
    );
    members.push(...joined);
  }
  process.send?.({ type: "connected", n: m.to - m.from, ms: Date.now() - t0 });
}

process.on("message", (m: { type: string } & Record<string, unknown>) => {
  if (m.type === "connect")
    connect(m as unknown as Parameters<typeof connect>[0]).catch((e: unknown) =>
      process.send?.({ type: "fatal", error: String((e as Error)?.message ?? e) }),
    );
  else if (m.type === "reset") {
    recv = 0;
    reported = 0;
    hist.reset();
    process.send?.({ type: "resetDone" });
  } else if (m.type === "collect") {
    const c = process.cpuUsage();
    process.send?.({ type: "stats", recv, hist: hist.toJSON(), cpuSeconds: (c.user + c.system) / 1e6 });
  } else if (m.type === "exit") {
    for (const x of members) x.close();
    setTimeout(() => process.exit(0), 200);
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
