// Event-loop delay probe for bench servers (Parley and the Node peers), loaded with
// `node --import ./bench/peers/eld-probe.ts ...`. On SIGUSR2 it writes {max, p50, p99, mean} in ms
// of the delay measured since the last SIGUSR2 to $BENCH_ELD_FILE, then resets. Only on the
// signal: a write every 100 ms cost the measured server ≈ 5 % of its CPU on this VM.
// `elu` is the event-loop utilisation over the same span (0..1: the share of wall time the loop
// was not waiting in epoll; ≈ 1 = the server always had work queued, so the CPU it used is what
// the scheduler gave it, not what the work needed).
import { writeFileSync } from "node:fs";
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from "node:perf_hooks";

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let elu0: EventLoopUtilization = performance.eventLoopUtilization();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const dump = () => {
    try {
      writeFileSync(
        file,
        JSON.stringify({
          max: ms(h.max),
          p50: ms(h.percentile(50)),
          p99: ms(h.percentile(99)),
          mean: ms(h.mean),
          count: h.count,
          elu: Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000,
        }),
      );
    } catch {
      // the bench removed its directory: nothing to report to
    }
  };
  process.on("SIGUSR2", () => {
    dump();
    h.reset();
    elu0 = performance.eventLoopUtilization();
  });
}
