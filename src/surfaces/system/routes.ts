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
}

/** Operational endpoints no seed has: liveness, readiness (false while draining), Prometheus metrics. */
export async function systemRoutes(app: FastifyInstance, opts: SystemRoutesOptions): Promise<void> {
  documentRoutes(app, { mount: "", security: () => undefined });
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
  const metricsExample =
    '# HELP parley_ws_connections Open WebSocket connections per surface\n# TYPE parley_ws_connections gauge\nparley_ws_connections{surface="gateway"} 1\n';
  const metricsDoc = {
    summary: "Prometheus metrics",
    tags,
    response: { 200: rawResponse("text/plain", "Prometheus text format", metricsExample) },
  };
  app.get("/metrics", { schema: metricsDoc }, async (_req, reply) => {
    reply.header("content-type", opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
