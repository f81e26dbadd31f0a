import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { TrustFn } from "../http/client-address.ts";
import { clientErrorHandler } from "../http/client-error.ts";
import type { Metrics } from "../http/metrics.ts";
import { RedactingLogController } from "../http/redact.ts";
import type { Hub } from "../ports/hub.ts";
import { adminSurface } from "../surfaces/admin/index.ts";
import { chat33Surface } from "../surfaces/chat33/index.ts";
import type { Services } from "../surfaces/deps.ts";
import { enterpriseSurface } from "../surfaces/enterprise/index.ts";
import { gatewaySurface } from "../surfaces/gateway/routes.ts";
import { systemRoutes } from "../surfaces/system/routes.ts";

export interface HttpInputs {
  config: Readonly<Config>;
  log: Logger;
  version: string;
  services: Services;
  metrics: Metrics;
  hub: Hub;
  storageReachable: () => Promise<boolean>;
  /** The parsed `http.trustProxy` (one rule with WebSocket upgrades; src/http/client-address.ts). */
  trustProxy: TrustFn | null;
  /** False while draining (readiness). */
  isReady: () => boolean;
}

/**
 * The HTTP server of a node (not listening): Fastify with the request-duration metric, the
 * OpenAPI document at `/docs`, the system routes and every enabled surface, each handed the
 * services it declares.
 */
export async function buildHttp(inputs: HttpInputs): Promise<FastifyInstance> {
  const { config, log, version, services, metrics } = inputs;
  const http = Fastify({
    loggerInstance: log,
    logController: new RedactingLogController({ disableRequestLogging: !config.requestLog }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: inputs.trustProxy ?? false,
    return503OnClosing: true,
    clientErrorHandler,
    forceCloseConnections: "idle",
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }) as unknown as FastifyInstance;

  http.addHook("onResponse", async (req, reply) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await http.register(swagger, {
    openapi: {
      info: {
        title: "Parley",
        version,
        description: "One IM server, five APIs. See docs/ in the repository for each surface.",
      },
    },
  });
  await http.register(swaggerUi, { routePrefix: "/docs" });

  await http.register(systemRoutes, {
    storageReachable: inputs.storageReachable,
    hub: inputs.hub,
    metrics,
    isReady: inputs.isReady,
    nodeId: inputs.hub.nodeId,
    version,
    metricsToken: config.metrics.token,
  });

  // chat33 registers before the gateway: both serve WebSocket /ws (see Realtime.route).
  if (config.chat33.enabled) await http.register(chat33Surface, { ...services, mount: config.chat33.prefix });
  if (config.enterprise.enabled)
    await http.register(enterpriseSurface, { ...services, mount: config.enterprise.prefix });
  await http.register(adminSurface, { ...services, mount: "/admin/api" });

  if (config.gateway.enabled) {
    await http.register(gatewaySurface, {
      mount: config.gateway.prefix,
      registerRequiresAdmin: config.gateway.registerRequiresAdmin,
      maxClientIds: config.gateway.maxClientIds,
      gateway: services.gateway,
      realtime: services.realtime,
      admin: services.admin,
    });
  }
  return http;
}
