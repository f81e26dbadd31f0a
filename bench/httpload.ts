// HTTP load child process: keeps `concurrency` requests in flight over a keep-alive Agent for a
// fixed duration against /api/send_to_client (mode=client) or /api/send_to_group (mode=group).
// Every request body carries data.t (send time) so receivers can measure delivery latency.
// Started by bench/run.ts with child_process.fork; receives one HttpLoadJob over IPC.
import http from "node:http";
import {
  benchData,
  errMsg,
  Histogram,
  type HttpLoadJob,
  type HttpLoadToParent,
  hasType,
  nowMs,
  postJson,
} from "./lib/common.js";

function send(m: HttpLoadToParent): void {
  if (process.connected && process.send) process.send(m);
}

async function run(job: HttpLoadJob): Promise<void> {
  if (job.host !== "127.0.0.1" && job.host !== "localhost")
    throw new Error("httpload: only loopback targets are allowed");
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const hist = new Histogram();
  let ok = 0;
  let rejected = 0;
  let errors = 0;
  let seq = 0;
  const sampleErrors: string[] = [];
  const path = job.mode === "client" ? "/api/send_to_client" : "/api/send_to_group";
  const cpu0 = process.cpuUsage();
  const startMs = nowMs();
  const deadline = startMs + job.durationMs;
  // hard cap on requests so the loop is bounded in count as well as time
  const maxRequests = 5_000_000;
  // paced mode: request s is not sent before startMs + s / rate (a fixed offered rate, so CPU per
  // request compares servers at the same load; a worker that falls behind sends at once)
  const intervalMs = job.rate !== undefined && job.rate > 0 ? 1000 / job.rate : 0;

  const worker = async (): Promise<void> => {
    while (nowMs() < deadline && seq < maxRequests) {
      const s = seq++;
      if (intervalMs > 0) {
        const wait = startMs + s * intervalMs - nowMs();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (nowMs() >= deadline) break;
      }
      const body =
        job.mode === "client"
          ? { clientId: job.target, sendUserId: "bench", code: 0, msg: "bench", data: benchData(s) }
          : { groupName: job.target, sendUserId: "bench", code: 0, msg: "bench", data: benchData(s) };
      const t0 = nowMs();
      try {
        const r = await postJson(agent, job.host, job.port, path, body, job.systemId, 30_000);
        hist.record((nowMs() - t0) * 1000);
        if (r.status === 200 && r.env?.code === 0) ok++;
        else {
          rejected++;
          if (sampleErrors.length < 5) sampleErrors.push(`HTTP ${r.status} ${r.raw.slice(0, 200)}`);
        }
      } catch (e) {
        errors++;
        if (sampleErrors.length < 5) sampleErrors.push(errMsg(e));
        // back off a little so a dead server does not turn this into a hot loop
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const elapsedMs = nowMs() - startMs;
  agent.destroy();
  const cpu = process.cpuUsage(cpu0);
  send({
    type: "result",
    ok,
    rejected,
    errors,
    sampleErrors,
    elapsedMs,
    startMs,
    hist: hist.toJSON(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  });
}

process.on("message", (raw: unknown) => {
  if (!hasType(raw) || raw.type !== "run") return;
  run(raw as HttpLoadJob)
    .catch((e: unknown) => send({ type: "fatal", error: errMsg(e) }))
    .finally(() => setTimeout(() => process.exit(0), 50));
});
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));

send({ type: "ready", pid: process.pid });
