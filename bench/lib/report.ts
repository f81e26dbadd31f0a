// Markdown rendering of a bench report: one table per scenario, all targets side by side,
// with ratios against raw ws and against Socket.IO.
import type { BenchReport, FanoutRound, RoundMedians, TargetResult } from "./types.js";

const NAMES: Record<string, string> = { parley: "Parley", raw: "raw ws", socketio: "Socket.IO" };

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(v: number | undefined, base: number | undefined): string {
  if (v === undefined || base === undefined || !Number.isFinite(v) || !Number.isFinite(base) || base === 0) return "–";
  return `${(v / base).toFixed(2)}×`;
}

/** Markdown separator row for a header row. */
function sep(header: string): string {
  const cols = header.split("|").length - 2;
  return `|${"---|".repeat(Math.max(1, cols))}`;
}

function esc(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function byTarget(r: BenchReport, t: string): TargetResult | undefined {
  return r.targets.find((x) => x.target === t && x.status !== "skipped");
}

export function renderMarkdown(r: BenchReport): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`# Parley benchmark results${m.quick ? " (quick smoke run)" : ""}`);
  out.push("");
  out.push(
    `${m.startedAt} → ${m.finishedAt}; Node ${m.node}; ${m.cpus} × ${m.cpuModel}; ${m.memGiB} GiB. ` +
      `Server, load generators and drivers all share this machine. 1001/1002 group notices were ${m.notices ? "on" : "off"} (peers: NOTICES=${m.notices ? 1 : 0}; Parley: PARLEY_GATEWAY_GROUP_NOTICES, unless set in the environment).`,
  );
  out.push("");
  out.push(
    'Ratios are "this target ÷ raw ws" and "this target ÷ Socket.IO": for throughput higher is better, for "µs vs" (server CPU per delivery/request) lower is better. Server CPU per unit of work is the number least disturbed by other load on the box.',
  );
  out.push("");
  const raw = byTarget(r, "raw");
  const sio = byTarget(r, "socketio");
  const ok = r.targets.filter((t) => t.status !== "skipped");

  // status
  out.push("| target | status | elapsed s | notes |");
  out.push(sep(out[out.length - 1] ?? ""));
  for (const t of r.targets) {
    const notes = [t.reason ?? "", ...t.notes.filter((n) => !n.startsWith("server log tail"))]
      .filter(Boolean)
      .join("; ");
    out.push(`| ${t.label ?? NAMES[t.target]} | ${t.status} | ${fmt(t.elapsedS, 1)} | ${esc(notes)} |`);
  }
  out.push("");

  // (a) fan-out
  out.push("## (a) Fan-out: one group, paced send_to_group pushes");
  out.push("");
  out.push(
    "| clients | target | deliveries/s | vs raw | vs Socket.IO | p50 ms | p99 ms | server CPU µs/delivery | µs vs raw | µs vs Socket.IO | server CPU % | loadgen CPU % | pusher CPU % | other CPU % | bottleneck | pushes | lost | disconnects | bind s (notice frames) |",
  );
  out.push(sep(out[out.length - 1] ?? ""));
  const sizes = [...new Set(ok.flatMap((t) => t.fanout.map((f) => f.groupSize)))].sort((a, b) => a - b);
  for (const size of sizes) {
    const rawF = raw?.fanout.find((f) => f.groupSize === size);
    const sioF = sio?.fanout.find((f) => f.groupSize === size);
    for (const t of ok) {
      const f = t.fanout.find((x) => x.groupSize === size);
      if (!f) continue;
      if (f.skipped) {
        out.push(
          `| ${fmt(size)} | ${t.label ?? NAMES[t.target]} | skipped | | | | | | | | | | | | ${esc(f.skipped)} | | | | ${fmt(f.bindMs / 1000, 1)} (${fmt(f.noticeFrames)}) |`,
        );
        continue;
      }
      out.push(
        `| ${fmt(size)} | ${t.label ?? NAMES[t.target]} | ${fmt(f.deliveriesPerSec)} | ${ratio(f.deliveriesPerSec, rawF?.skipped ? undefined : rawF?.deliveriesPerSec)} | ${ratio(f.deliveriesPerSec, sioF?.skipped ? undefined : sioF?.deliveriesPerSec)} | ${fmt(f.latency.p50Ms, 2)} | ${fmt(f.latency.p99Ms, 2)} | ${fmt(f.serverCpuUsPerDelivery, 2)} | ${ratio(f.serverCpuUsPerDelivery, rawF?.skipped ? undefined : rawF?.serverCpuUsPerDelivery)} | ${ratio(f.serverCpuUsPerDelivery, sioF?.skipped ? undefined : sioF?.serverCpuUsPerDelivery)} | ${fmt(f.cpu.serverPct)} | ${fmt(f.cpu.loadgenPct)} | ${fmt(f.cpu.driverPct)} | ${fmt(f.cpu.otherPct)} | ${f.cpu.bottleneck} | ${fmt(f.pushes)} | ${fmt(f.lost)} | ${fmt(f.disconnects)} | ${fmt(f.bindMs / 1000, 1)} (${fmt(f.noticeFrames)}) |`,
      );
    }
  }
  out.push("");
  const multiA = ok.flatMap((t) =>
    t.fanout.filter((f) => (f.rounds?.length ?? 0) > 1).map((f) => ({ t, f, rounds: f.rounds ?? [] })),
  );
  if (multiA.length > 0) {
    out.push(
      "Rounds of (a), in the order they ran (the table above shows the round with the median server CPU µs/delivery; `median` = each column's own median):",
      "",
    );
    roundsTable(
      out,
      multiA.map(({ t, f, rounds }) => ({
        name: `${fmt(f.groupSize)} | ${t.label ?? NAMES[t.target]}`,
        rounds,
        m: f.medians,
      })),
      "clients | target",
      false,
    );
  }

  // (b) memory
  out.push("## (b) Memory per idle connection");
  out.push("");
  out.push(
    "| target | connections | server RSS before MiB | after MiB | KiB / connection | vs raw | vs Socket.IO | connect time s |",
  );
  out.push(sep(out[out.length - 1] ?? ""));
  for (const t of ok) {
    const mm = t.memory;
    if (!mm) continue;
    out.push(
      `| ${t.label ?? NAMES[t.target]} | ${fmt(mm.conns)} | ${fmt(mm.rssBeforeKiB / 1024, 1)} | ${fmt(mm.rssAfterKiB / 1024, 1)} | ${fmt(mm.perConnKiB, 2)} | ${ratio(mm.perConnKiB, raw?.memory?.perConnKiB)} | ${ratio(mm.perConnKiB, sio?.memory?.perConnKiB)} | ${fmt(mm.connectMs / 1000, 1)} |`,
    );
  }
  out.push("");
  const multiB = ok.filter((t) => (t.memory?.rounds?.length ?? 0) > 1);
  if (multiB.length > 0) {
    out.push("Rounds of (b) (the table above shows the round with the median KiB/connection):", "");
    out.push(
      "| target | round | at (UTC) | connections | RSS before MiB | after MiB | KiB / connection | load avg (1 min) |",
    );
    out.push(sep(out[out.length - 1] ?? ""));
    for (const t of multiB) {
      for (const [i, rd] of (t.memory?.rounds ?? []).entries())
        out.push(
          `| ${t.label ?? NAMES[t.target]} | ${i + 1} | ${rd.at} | ${fmt(rd.conns)} | ${fmt(rd.rssBeforeKiB / 1024, 1)} | ${fmt(rd.rssAfterKiB / 1024, 1)} | ${fmt(rd.perConnKiB, 2)} | ${fmt(rd.loadAvg1, 2)} |`,
        );
      out.push(`| ${t.label ?? NAMES[t.target]} | median | | | | | ${fmt(t.memory?.medianPerConnKiB, 2)} | |`);
    }
    out.push("");
  }

  // (c) send_to_client
  out.push("## (c) send_to_client HTTP requests/s (keep-alive, one connected recipient)");
  out.push("");
  out.push(
    "| target | concurrency | req/s | vs raw | vs Socket.IO | p50 ms | p99 ms | server CPU µs/req | µs vs raw | µs vs Socket.IO | server CPU % | http-load CPU % | other CPU % | bottleneck | delivered | errors |",
  );
  out.push(sep(out[out.length - 1] ?? ""));
  for (const t of ok) {
    const c = t.sendToClient;
    if (!c) continue;
    out.push(
      `| ${t.label ?? NAMES[t.target]} | ${c.concurrency} | ${fmt(c.reqPerSec)} | ${ratio(c.reqPerSec, raw?.sendToClient?.reqPerSec)} | ${ratio(c.reqPerSec, sio?.sendToClient?.reqPerSec)} | ${fmt(c.requestLatency.p50Ms, 2)} | ${fmt(c.requestLatency.p99Ms, 2)} | ${fmt(c.serverCpuUsPerRequest, 1)} | ${ratio(c.serverCpuUsPerRequest, raw?.sendToClient?.serverCpuUsPerRequest)} | ${ratio(c.serverCpuUsPerRequest, sio?.sendToClient?.serverCpuUsPerRequest)} | ${fmt(c.cpu.serverPct)} | ${fmt(c.cpu.driverPct)} | ${fmt(c.cpu.otherPct)} | ${c.cpu.bottleneck} | ${fmt(c.delivered)} | ${fmt(c.rejected + c.errors)} |`,
    );
  }
  out.push("");
  const offered = ok.find((t) => t.sendToClient?.offeredRate !== undefined)?.sendToClient?.offeredRate;
  if (offered !== undefined)
    out.push(
      `Offered rate: ${fmt(offered)} req/s (paced); CPU per request is comparable across targets only at the same rate.`,
      "",
    );
  const multi = ok.filter((t) => (t.sendToClient?.rounds?.length ?? 0) > 1);
  if (multi.length > 0) {
    out.push("Rounds of (c) (the table shows the round with the median server CPU µs/req):", "");
    out.push(
      "| target | round | at (UTC) | req/s | server CPU µs/req | server CPU % | other CPU % | load avg (1 min) |",
    );
    out.push(sep(out[out.length - 1] ?? ""));
    for (const t of multi)
      for (const [i, rd] of (t.sendToClient?.rounds ?? []).entries())
        out.push(
          `| ${t.label ?? NAMES[t.target]} | ${i + 1} | ${rd.at} | ${fmt(rd.reqPerSec)} | ${fmt(rd.serverCpuUsPerRequest, 1)} | ${fmt(rd.serverPct)} | ${fmt(rd.otherPct)} | ${fmt(rd.loadAvg1, 2)} |`,
        );
    out.push("");
  }

  // (d) in flight
  out.push("## (d) Many send_to_group requests in flight");
  out.push("");
  out.push(
    "| target | clients | in flight | deliveries/s | vs raw | vs Socket.IO | p50 ms | p99 ms | req/s | server CPU µs/delivery | µs vs raw | µs vs Socket.IO | server CPU % | loadgen CPU % | http-load CPU % | other CPU % | bottleneck | lost | disconnects | server wrote | drain s |",
  );
  out.push(sep(out[out.length - 1] ?? ""));
  for (const t of ok) {
    const d = t.inflight;
    if (!d) continue;
    out.push(
      `| ${t.label ?? NAMES[t.target]} | ${fmt(d.groupSize)} | ${d.concurrency} | ${fmt(d.deliveriesPerSec)} | ${ratio(d.deliveriesPerSec, raw?.inflight?.deliveriesPerSec)} | ${ratio(d.deliveriesPerSec, sio?.inflight?.deliveriesPerSec)} | ${fmt(d.latency.p50Ms, 2)} | ${fmt(d.latency.p99Ms, 2)} | ${fmt(d.reqPerSec)} | ${fmt(d.serverCpuUsPerDelivery, 2)} | ${ratio(d.serverCpuUsPerDelivery, raw?.inflight?.serverCpuUsPerDelivery)} | ${ratio(d.serverCpuUsPerDelivery, sio?.inflight?.serverCpuUsPerDelivery)} | ${fmt(d.cpu.serverPct)} | ${fmt(d.cpu.loadgenPct)} | ${fmt(d.cpu.driverPct)} | ${fmt(d.cpu.otherPct)} | ${d.cpu.bottleneck} | ${fmt(d.lost)} | ${fmt(d.disconnects)} | ${d.serverWrote == null ? "–" : fmt(d.serverWrote)} | ${d.drainMs === undefined ? "–" : fmt(d.drainMs / 1000, 1)} |`,
    );
  }
  out.push("");
  const multiD = ok.filter((t) => (t.inflight?.rounds?.length ?? 0) > 1);
  if (multiD.length > 0) {
    out.push(
      "Rounds of (d), in the order they ran (the table above shows the round with the median server CPU µs/delivery; `median` = each column's own median):",
      "",
    );
    roundsTable(
      out,
      multiD.map((t) => ({
        name: t.label ?? NAMES[t.target] ?? t.target,
        rounds: t.inflight?.rounds ?? [],
        m: t.inflight?.medians,
      })),
      "target",
      true,
    );
  }
  out.push(
    'CPU % is of one core (100 % = one core busy for the whole window); "bottleneck" names the side that was near 100 % of a core (server is single-threaded; the load generators share the other core). See bench/README.md.',
  );
  out.push("");
  return dropEmptySections(out.join("\n"));
}

/** Per-round rows of (a) or (d) and a `median` row per target. */
function roundsTable(
  out: string[],
  rows: Array<{ name: string; rounds: FanoutRound[]; m: RoundMedians | undefined }>,
  nameHeader: string,
  withReq: boolean,
): void {
  out.push(
    `| ${nameHeader} | round | at (UTC) | deliveries/s | p99 ms | server CPU µs/delivery | lost |${withReq ? " req/s |" : ""} server CPU % | other CPU % | load avg (1 min) |`,
  );
  out.push(sep(out[out.length - 1] ?? ""));
  for (const { name, rounds, m } of rows) {
    for (const [i, rd] of rounds.entries())
      out.push(
        `| ${name} | ${i + 1} | ${rd.at} | ${fmt(rd.deliveriesPerSec)} | ${fmt(rd.p99Ms, 2)} | ${fmt(rd.serverCpuUsPerDelivery, 2)} | ${fmt(rd.lost)} |${withReq ? ` ${fmt(rd.reqPerSec)} |` : ""} ${fmt(rd.serverPct)} | ${fmt(rd.otherPct)} | ${fmt(rd.loadAvg1, 2)} |`,
      );
    if (m)
      out.push(
        `| ${name} | median | | ${fmt(m.deliveriesPerSec)} | ${fmt(m.p99Ms, 2)} | ${fmt(m.serverCpuUsPerDelivery, 2)} | ${fmt(m.lost)} |${withReq ? ` ${fmt(m.reqPerSec)} |` : ""} | | |`,
      );
  }
  out.push("");
}

/** Drops a "## " section whose tables have no data row (a scenario that did not run, `--scenarios`). */
function dropEmptySections(md: string): string {
  const parts = md.split(/\n(?=## )/);
  return parts
    .filter((p, i) => i === 0 || !p.startsWith("## ") || p.split("\n").filter((l) => l.startsWith("|")).length > 2)
    .join("\n");
}
