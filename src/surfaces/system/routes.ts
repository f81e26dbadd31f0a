import { createHash, timingSafeEqual } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../http/metrics.ts";
import { documentRoutes, rawResponse } from "../../http/openapi.ts";
import type { Hub } from "../../ports/hub.ts";
import type { Storage } from "../../ports/storage.ts";

export interface SystemRoutesOptions {
  storage: Storage;
  hub: Hub;
  metrics: Metrics;
  isReady: () => boolean;
  nodeId: string;
  version: string;
  /** `metrics.token`: when set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Whether `header` is `Bearer <token>` (constant time in the token). */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m !== null && timingSafeEqual(digest(m[1]), expected);
}

/** Operational endpoints no seed has: liveness, readiness (false while draining), Prometheus metrics. */
const METRICS_EXAMPLE =
  '# HELP parley_ws_connections Open WebSocket connections per surface\n# TYPE parley_ws_connections gauge\nparley_ws_connections{surface="gateway"} 1\n';

export async function systemRoutes(app: FastifyInstance, opts: SystemRoutesOptions): Promise<void> {
  documentRoutes(app, {
    mount: "",
    security: (path) => (path === "/metrics" && opts.metricsToken ? [{ metricsBearer: [] }] : undefined),
  });
  const tags = ["operations"];
  app.get(
    "/healthz",
    {
      schema: {
        summary: "liveness: the process is up",
        tags,
        response: { 200: Type.Object({ status: Type.String(), node: Type.String(), version: Type.String() }) },
      },
    },
    async () => ({ status: "ok", node: opts.nodeId, version: opts.version }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        summary: "readiness: storage and hub reachable and not draining (503 otherwise)",
        tags,
        response: {
          200: Type.Object({ ready: Type.Boolean() }),
          503: Type.Object({ ready: Type.Boolean(), reason: Type.String() }),
        },
      },
    },
    async (_req, reply) => {
      if (!opts.isReady()) return reply.status(503).send({ ready: false, reason: "draining" });
      if (!(await opts.storage.ping())) return reply.status(503).send({ ready: false, reason: "storage unreachable" });
      if (!opts.hub.healthy()) return reply.status(503).send({ ready: false, reason: "hub unreachable" });
      return { ready: true };
    },
  );
  const metricsToken = opts.metricsToken ? digest(opts.metricsToken) : null;
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics (with metrics.token set: Authorization: Bearer <token>)",
        tags,
        response: {
          200: rawResponse("text/plain", "Prometheus text format", METRICS_EXAMPLE),
          401: Type.Object(
            { error: Type.String(), message: Type.String(), statusCode: Type.Integer() },
            { description: "metrics.token is set and the bearer token is missing or wrong" },
          ),
        },
      },
    },
    async (req, reply) => {
      if (metricsToken && !bearerMatches(req.headers.authorization, metricsToken))
        return reply
          .status(401)
          .header("www-authenticate", 'Bearer realm="metrics"')
          .send({ error: "Unauthorized", message: "metrics token required", statusCode: 401 });
      reply.header("content-type", opts.metrics.registry.contentType);
      return opts.metrics.registry.metrics();
    },
  );
}
