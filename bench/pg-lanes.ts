// PostgreSQL group commit with 1, 2, 4, … writer lanes, without a server (issue 19 item 7): the
// storage layer's share of `npm run bench:messages`, rounds interleaved so a change in the
// machine's load hits every lane count alike.
//
//   node --import tsx bench/pg-lanes.ts [--lanes=1,4,1,4,2,8] [--seconds=6] [--inflight=1024] [--conversations=64]
//
// `--inflight` submitters, each awaiting its ack (after commit) before submitting again, spread
// over `--conversations` direct conversations; msgs/s and this process's CPU per message per round.
// A database of its own on PARLEY_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test), dropped at the end.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { BatchWriter } from "../src/core/messages/batch-writer.ts";
import { ints, parseFlags } from "./cluster-lib.ts";

const flags = parseFlags(
  "bench/pg-lanes.ts",
  ["lanes", "seconds", "inflight", "conversations"],
  "usage: node --import tsx bench/pg-lanes.ts [--lanes=1,4,1,4,2,8] [--seconds=6] [--inflight=1024] [--conversations=64]\n",
);
const LANES = ints(flags.get("lanes") ?? "1,4,1,4,2,8");
const SECONDS = Number(flags.get("seconds") ?? 6);
const INFLIGHT = Number(flags.get("inflight") ?? 1024);
const CONVERSATIONS = Number(flags.get("conversations") ?? 64);
const base = process.env.PARLEY_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const name = `parley_bench_${randomBytes(5).toString("hex")}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(base);
url.pathname = `/${name}`;
const storage = new SqlStorage({ databaseUrl: url.toString(), sqliteFile: "" });
let seq = 0;

async function round(lanes: number, seconds: number, convs: number[]) {
  const writer = new BatchWriter(storage.messages, 512, () => {}, lanes);
  let acks = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: INFLIGHT }, async (_, k) => {
      const conversationId = convs[k % convs.length];
      while (performance.now() < end) {
        const clientMsgId = `l${++seq}-${randomBytes(4).toString("hex")}`;
        const content = { content: clientMsgId };
        await writer.submit({
          conversationId,
          senderId: k + 1,
          clientMsgId,
          kind: "text",
          content,
          contentJson: JSON.stringify(content),
          createdAt: Date.now(),
        });
        acks++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { lanes, msgsPerSec: Math.round(acks / elapsed), cpuUsPerMsg: +((cpu.user + cpu.system) / acks).toFixed(1) };
}

try {
  await storage.migrate();
  const convs: number[] = [];
  for (let i = 1; i <= CONVERSATIONS; i++) {
    const c = await storage.messages.ensureConversation({
      kind: "direct",
      key: `d:${i}:${i + 100_000}`,
      userA: i,
      userB: i + 100_000,
      createdAt: Date.now(),
    });
    convs.push(c.id);
  }
  await round(1, 2, convs); // warm-up
  process.stdout.write("| lanes | msgs/s (ack after commit) | bench CPU µs/msg | load average |\n|---|---|---|---|\n");
  for (const l of LANES) {
    const r = await round(l, SECONDS, convs);
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    process.stdout.write(`| ${r.lanes} | ${r.msgsPerSec.toLocaleString("en-US")} | ${r.cpuUsPerMsg} | ${load} |\n`);
  }
} finally {
  await storage.close();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
