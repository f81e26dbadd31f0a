// Event-loop delay probe for bench servers (Parley and the Node peers), loaded with
// `node --import ./bench/peers/eld-probe.ts ...`. Writes {max, p50, p99, mean} in ms of the
// delay measured since the last reset to $BENCH_ELD_FILE every 100 ms; SIGUSR2 resets it.
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
  setInterval(dump, 100).unref();
  process.on("SIGUSR2", () => {
    h.reset();
    dump();
  });
}
