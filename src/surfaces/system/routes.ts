import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../http/metrics.ts";
import type { Hub } from "../../ports/hub.ts";

export interface SystemRoutesOptions {
  /** Storage liveness (`Storage.ping`). */
  storageReachable: () => Promise<boolean>;
  hub: Hub;
  metrics: Metrics;
  isReady: () => boolean;
  nodeId: string;
  version: string;
}

/** Operational endpoints no seed has: liveness, readiness (false while draining), Prometheus metrics. */
export async function systemRoutes(app: FastifyInstance, opts: SystemRoutesOptions): Promise<void> {
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
      if (!(await opts.storageReachable()))
        return reply.status(503).send({ ready: false, reason: "storage unreachable" });
      if (!opts.hub.healthy()) return reply.status(503).send({ ready: false, reason: "hub unreachable" });
      return { ready: true };
    },
  );
  app.get("/metrics", { schema: { summary: "Prometheus metrics", tags } }, async (_req, reply) => {
    reply.header("content-type", opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
