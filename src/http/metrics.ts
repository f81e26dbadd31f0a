import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RealtimeStats } from "../realtime/realtime.ts";

/**
 * Prometheus metrics. Hot-path counts (frames in/out) are plain integers kept by the realtime
 * layer and copied into prom-client only when /metrics is scraped.
 */
export function createMetrics(stats: RealtimeStats) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "parley_" });

  const fromMap = (m: Map<string, number>) => (target: Gauge<"surface"> | Counter<"surface">) => {
    const last = new Map<string, number>();
    return () => {
      for (const [surface, v] of m) {
        if (target instanceof Gauge) target.set({ surface }, v);
        else {
          const delta = v - (last.get(surface) ?? 0);
          if (delta > 0) target.inc({ surface }, delta);
          last.set(surface, v);
        }
      }
    };
  };

  const gauge = new Gauge({
    name: "parley_ws_connections",
    help: "Open WebSocket connections per surface",
    labelNames: ["surface"] as const,
    registers: [registry],
    collect() {
      sync.open();
    },
  });
  const framesIn = new Counter({
    name: "parley_ws_frames_in_total",
    help: "WebSocket frames received per surface",
    labelNames: ["surface"] as const,
    registers: [registry],
    collect() {
      sync.framesIn();
    },
  });
  const framesOut = new Counter({
    name: "parley_ws_frames_out_total",
    help: "WebSocket frames sent per surface",
    labelNames: ["surface"] as const,
    registers: [registry],
    collect() {
      sync.framesOut();
    },
  });
  const slow = new Counter({
    name: "parley_ws_slow_consumers_total",
    help: "Connections closed because they could not keep up with their send buffer",
    labelNames: ["surface"] as const,
    registers: [registry],
    collect() {
      sync.slow();
    },
  });
  const sync = {
    open: fromMap(stats.open)(gauge),
    framesIn: fromMap(stats.framesIn)(framesIn),
    framesOut: fromMap(stats.framesOut)(framesOut),
    slow: fromMap(stats.slowConsumers)(slow),
  };
  const httpDuration = new Histogram({
    name: "parley_http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, httpDuration };
}

export type Metrics = ReturnType<typeof createMetrics>;
