// Server CPU per delivery of the chat-room write path as a function of frames per write
// (issue 12 item 5, target (ii)): `src/realtime` FanOut + Writer in this process, N loopback TCP
// sockets read by a child process that only drains them. Each round publishes `b` events on one
// topic in one turn (so one pass writes them all: one write of b concatenated frames per member),
// waits until the pass ended and the reader has every byte, then the next round. No HTTP, no
// SQLite, no `ws` parsing: what is left is what one delivery costs the fan-out and the kernel.
//
//   node --import tsx bench/rooms-write-cost.ts [--members=5000] [--rounds=40] [--batches=1,2,4,8,16,32] [--bytes=300]
//
// Reported per batch size: process CPU (user, system) per delivery and write syscalls per
// delivery (/proc/self/io). CPU time, not wall time, so it is usable on a shared machine (the
// kernel part still varies with contention: compare rows of one run).
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import pino from "pino";
import { Connection } from "../src/realtime/connection.ts";
import { FanOut } from "../src/realtime/fanout.ts";
import { prepareTextFrame } from "../src/realtime/frame.ts";
import { newRealtimeStats, type ProtocolHandler, type RealtimeEvent } from "../src/realtime/protocol.ts";
import type { Transport } from "../src/realtime/transport.ts";
import { Writer } from "../src/realtime/writer.ts";

if (process.argv[2] === "reader") {
  // child: connect, drain, report bytes received
  const [port, n] = [Number(process.argv[3]), Number(process.argv[4])];
  let bytes = 0;
  let open = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, "127.0.0.1", () => {
      if (++open === n) process.send?.({ type: "open" });
    });
    s.on("data", (d: Buffer) => {
      bytes += d.length;
    });
    s.on("error", () => {});
  }
  setInterval(() => process.send?.({ type: "bytes", bytes }), 5);
  process.on("disconnect", () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const flags = new Map<string, string>();
  for (const a of process.argv.slice(2)) {
    const m = /^--([a-z]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a}`);
    flags.set(m[1], m[2]);
  }
  const N = Number(flags.get("members") ?? 5000);
  const ROUNDS = Number(flags.get("rounds") ?? 40);
  const BATCHES = (flags.get("batches") ?? "1,2,4,8,16,32").split(",").map(Number);
  const BYTES = Number(flags.get("bytes") ?? 300);
  if (!Number.isInteger(N) || N < 1 || N > 5000) throw new Error("--members: 1..5000 (one reader process)");

  const topic = "room";
  const subscribers = new Set<Connection>();
  const transport: Transport = {
    name: "ws",
    frame: prepareTextFrame,
    ping() {},
    close(conn) {
      conn.socket.destroy();
    },
    terminate(conn) {
      conn.socket.destroy();
    },
    stop() {},
  };
  const protocols = new Map<string, ProtocolHandler>([
    ["bench", { render: (e: RealtimeEvent) => (e as unknown as { text: string }).text }],
  ]);
  const stats = newRealtimeStats();
  const log = pino({ level: "silent" });
  const writer = new Writer(4 * 1024 * 1024, stats, log);
  const fanout = new FanOut(protocols, writer, log, stats, () => subscribers, 0); // no coalescing wait: the write path alone

  let id = 0;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const conn = new Connection(++id, "bench", transport, null, socket, Date.now());
    conn.topics = new Set([topic]);
    subscribers.add(conn);
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const reader = fork(import.meta.filename, ["reader", String(port), String(N)], { execArgv: ["--import", "tsx"] });
  let received = 0;
  let opened = false;
  let wake: (() => void) | null = null;
  reader.on("message", (m: { type: string; bytes?: number }) => {
    if (m.type === "open") opened = true;
    if (m.type === "bytes") received = m.bytes ?? 0;
    wake?.();
  });
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise<void>((r) => (wake = r));
    wake = null;
  };
  await until(() => opened && subscribers.size === N);

  const pad = "x".repeat(Math.max(0, BYTES - 60));
  let seq = 0;
  const event = (): RealtimeEvent => ({ type: "bench", text: `{"eventType":0,"seq":${++seq},"msg":"${pad}"}` });
  let expected = 0;
  const round = async (b: number) => {
    for (let i = 0; i < b; i++) {
      const e = event();
      expected += N * prepareTextFrame((e as unknown as { text: string }).text).length;
      fanout.publish(topic, e);
    }
    await until(() => fanout.activePasses === 0 && received >= expected);
  };
  const syscw = () => Number(/^syscw:\s+(\d+)/m.exec(readFileSync("/proc/self/io", "utf8"))?.[1] ?? Number.NaN);

  const rows: string[] = [];
  for (const b of BATCHES) {
    for (let i = 0; i < 3; i++) await round(b); // warm-up
    const w0 = syscw();
    const c0 = process.cpuUsage();
    for (let i = 0; i < ROUNDS; i++) await round(b);
    const c = process.cpuUsage(c0);
    const writes = syscw() - w0;
    const deliveries = ROUNDS * b * N;
    const us = (x: number) => (x / deliveries).toFixed(3);
    rows.push(
      `| ${b} | ${deliveries} | ${us(c.user)} | ${us(c.system)} | ${us(c.user + c.system)} | ${Math.round(deliveries / ((c.user + c.system) / 1e6)).toLocaleString("en")} | ${(deliveries / writes).toFixed(2)} |`,
    );
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
  process.stdout.write(
    `members ${N}, ${ROUNDS} rounds per batch size, frame ${BYTES} B, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}\n\n` +
      "| frames per write (batch) | deliveries | user µs/delivery | system µs/delivery | total µs/delivery | deliveries per CPU-second | deliveries per write syscall |\n" +
      "|---:|---:|---:|---:|---:|---:|---:|\n" +
      `${rows.join("\n")}\n`,
  );
  reader.kill();
  server.close();
  for (const c of subscribers) c.socket.destroy();
  process.exit(0);
}
