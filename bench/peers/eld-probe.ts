// Event-loop delay probe for bench servers (Parley and the Node peers), loaded with
// `node --import ./bench/peers/eld-probe.ts ...`. On SIGUSR2 it writes {max, p50, p99, mean} in ms
// of the delay measured since the last SIGUSR2 to $BENCH_ELD_FILE, then resets. Only on the
// signal: a write every 100 ms cost the measured server ≈ 5 % of its CPU on this VM.
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.BENCH_ELD_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
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
        }),
      );
    } catch {
      // the bench removed its directory: nothing to report to
    }
  };
  process.on("SIGUSR2", () => {
    dump();
    h.reset();
  });
}
