import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Metric,
  type MetricObjectWithValues,
  type MetricValueWithName,
  Registry,
} from "prom-client";
import type { RealtimeStats } from "../realtime/realtime.ts";

/**
 * Prometheus metrics. Hot-path counts (frames in/out, messages delivered) are plain integers kept
 * by the realtime layer and copied into prom-client only when /metrics is scraped. Business
 * metrics are fed by the decorators in `src/instrumentation.ts` (the core never sees prom-client).
 */
export function createMetrics(stats: RealtimeStats, build: { version: string; node?: string } = { version: "" }) {
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
  const deliveredSeen = new Map<string, number>();
  new Counter({
    name: "parley_messages_delivered_total",
    help: "Messages written to sockets, per WebSocket surface and message kind",
    labelNames: ["surface", "kind"] as const,
    registers: [registry],
    collect() {
      for (const [key, v] of stats.messagesDelivered) {
        const delta = v - (deliveredSeen.get(key) ?? 0);
        if (delta <= 0) continue;
        const [surface, kind] = key.split(" ");
        this.inc({ surface, kind }, delta);
        deliveredSeen.set(key, v);
      }
    },
  });
  const sync = {
    open: fromMap(stats.open)(gauge),
    framesIn: fromMap(stats.framesIn)(framesIn),
    framesOut: fromMap(stats.framesOut)(framesOut),
    slow: fromMap(stats.slowConsumers)(slow),
  };
  const httpDuration = new RequestDurations(
    "parley_http_request_duration_seconds",
    "HTTP request latency",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  registry.registerMetric(httpDuration as unknown as Metric);
  new Gauge({
    name: "parley_build_info",
    help: "Always 1; the labels say which Parley version runs on which Node.js",
    labelNames: ["version", "node"] as const,
    registers: [registry],
  }).set({ version: build.version, node: build.node ?? process.version }, 1);

  const messagesStored = new Counter({
    name: "parley_messages_stored_total",
    help: "Messages stored (retries of a stored message not counted), per surface and message kind",
    labelNames: ["surface", "kind"] as const,
    registers: [registry],
  });
  const logins = new Counter({
    name: "parley_logins_total",
    help: "Password logins, by outcome (ok, failed)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const smsSent = new Counter({
    name: "parley_sms_sent_total",
    help: "SMS verification codes handed to the provider, by provider and outcome (ok, failed)",
    labelNames: ["provider", "outcome"] as const,
    registers: [registry],
  });
  const storageDuration = new Histogram({
    name: "parley_storage_query_duration_seconds",
    help: "Storage query latency, by operation (select, insert, update, delete, raw)",
    labelNames: ["op"] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const storageErrors = new Counter({
    name: "parley_storage_errors_total",
    help: "Storage queries that failed, by operation",
    labelNames: ["op"] as const,
    registers: [registry],
  });
  const hubPublished = new Counter({
    name: "parley_hub_published_total",
    help: "Events this node published to the hub",
    registers: [registry],
  });
  const hubReceived = new Counter({
    name: "parley_hub_received_total",
    help: "Events this node received from the hub",
    registers: [registry],
  });
  const hubErrors = new Counter({
    name: "parley_hub_errors_total",
    help: "Hub operations that failed, by operation (publish, subscribe, request)",
    labelNames: ["op"] as const,
    registers: [registry],
  });
  /** Plain running totals for JSON readers (the admin dashboard, docs/admin.md), beside prom-client's. */
  const counters = { messagesStored: new Map<string, number>() };
  /** What the decorators of src/instrumentation.ts report to. */
  const record = {
    messageStored: (surface: string, kind: string) => {
      messagesStored.inc({ surface, kind });
      counters.messagesStored.set(surface, (counters.messagesStored.get(surface) ?? 0) + 1);
    },
    login: (ok: boolean) => logins.inc({ outcome: ok ? "ok" : "failed" }),
    smsSent: (provider: string, ok: boolean) => smsSent.inc({ provider, outcome: ok ? "ok" : "failed" }),
    storageQuery: (op: string, ms: number, failed: boolean) => {
      storageDuration.observe({ op }, ms / 1000);
      if (failed) storageErrors.inc({ op });
    },
    hubPublished: () => hubPublished.inc(),
    hubReceived: () => hubReceived.inc(),
    hubError: (op: string) => hubErrors.inc({ op }),
  };
  return { registry, httpDuration, record, counters };
}

/** This node's running totals since it started (see `counters` above). */
export type NodeCounters = ReturnType<typeof createMetrics>["counters"];

export type MetricsRecorder = ReturnType<typeof createMetrics>["record"];

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The HTTP latency histogram (labels method, route, status), kept as plain counters and rendered
 * by the registry like a prom-client Histogram. Why not prom-client's own: its `observe` checks
 * and hashes the label object on every call, which was a measurable part of a gateway push
 * (bench (c)); here one request costs three Map lookups on values that are the same every time
 * (the route's and the method's string, whose hash V8 keeps, and the status number) and a short
 * bucket search — no key string is built per request.
 */
type Series = {
  labels: { method: string; route: string; status: string };
  buckets: number[];
  sum: number;
  count: number;
};

export class RequestDurations {
  readonly type = "histogram";
  readonly aggregator = "sum";
  /** route → method → status → series */
  private readonly byRoute = new Map<string, Map<string, Map<number, Series>>>();
  /** every series, in the order they appeared (rendering) */
  private readonly series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    let methods = this.byRoute.get(route);
    if (!methods) {
      methods = new Map();
      this.byRoute.set(route, methods);
    }
    let statuses = methods.get(method);
    if (!statuses) {
      statuses = new Map();
      methods.set(method, statuses);
    }
    let s = statuses.get(status);
    if (!s) {
      s = {
        labels: { method, route, status: String(status) },
        buckets: this.upperBounds.map(() => 0),
        sum: 0,
        count: 0,
      };
      statuses.set(status, s);
      this.series.push(s);
    }
    const b = this.upperBounds.findIndex((ub) => seconds <= ub);
    if (b !== -1) s.buckets[b] = (s.buckets[b] ?? 0) + 1;
    s.sum += seconds;
    s.count++;
  }

  /** What the registry reads when /metrics is scraped (the shape of prom-client's own `get`). */
  async get(): Promise<
    Pick<MetricObjectWithValues<MetricValueWithName<string>>, "name" | "help" | "values" | "aggregator"> & {
      type: string;
    }
  > {
    const values: MetricValueWithName<string>[] = [];
    for (const s of this.series) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.buckets[i] ?? 0;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf", ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }

  reset(): void {
    this.byRoute.clear();
    this.series.length = 0;
  }
}
