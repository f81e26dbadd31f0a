import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { TrustFn } from "../http/client-address.ts";
import { clientErrorHandler } from "../http/client-error.ts";
import { type CorsPolicy, installCors } from "../http/cors.ts";
import { FastLane } from "../http/fast-lane.ts";
import type { Metrics } from "../http/metrics.ts";
import { openapiDocument } from "../http/openapi.ts";
import { RedactingLogController } from "../http/redact.ts";
import { meterMessages } from "../instrumentation.ts";
import type { Hub } from "../ports/hub.ts";
import { adminSurface } from "../surfaces/admin/index.ts";
import { chat33Surface } from "../surfaces/chat33/index.ts";
import type { Services } from "../surfaces/deps.ts";
import { enterpriseSurface } from "../surfaces/enterprise/index.ts";
import { gatewaySurface } from "../surfaces/gateway/routes.ts";
import { systemRoutes } from "../surfaces/system/routes.ts";
import { adminConsoleSurface } from "../surfaces/webapp/admin.ts";
import { webAppSurface } from "../surfaces/webapp/index.ts";

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
  /** The parsed `http.corsOrigins` (parsed by the caller before anything is opened). */
  cors: CorsPolicy;
  /** False while draining (readiness). */
  isReady: () => boolean;
}

/**
 * The HTTP server of a node (not listening): Fastify with the CORS allow-list, the
 * request-duration metric, the OpenAPI document at `/docs`, the system routes and every enabled
 * surface, each handed the services it declares.
 */
export async function buildHttp(inputs: HttpInputs): Promise<FastifyInstance> {
  const { config, log, version, services, metrics } = inputs;
  const http = Fastify({
    loggerInstance: log,
    logController: new RedactingLogController({ disableRequestLogging: !config.requestLog }),
    // Without request logging no line carries a request id, so skip the per-request child
    // logger (measured: about a microsecond of each gateway push, bench (c)).
    ...(config.requestLog ? {} : { childLoggerFactory: (logger: FastifyBaseLogger) => logger }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: inputs.trustProxy ?? false,
    return503OnClosing: true,
    clientErrorHandler,
    forceCloseConnections: "idle",
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }) as unknown as FastifyInstance;

  // The gateway's push routes skip Fastify's per-request machinery for plain requests, with the
  // same parser, validators, handler, envelope and metric (src/http/fast-lane.ts). Not with
  // request logging on: Fastify logs every request then.
  if (!config.requestLog)
    FastLane.install(http, {
      bodyLimit: config.http.bodyLimitBytes,
      log,
      observe: (method, url, status, seconds) => metrics.httpDuration.observe(method, url, status, seconds),
    });

  // before every route: preflights of allowed origins never reach a surface's 405 or auth hook
  installCors(http, inputs.cors);

  // A callback hook (no promise per request) into plain counters: see RequestDurations.
  http.addHook("onResponse", (req, reply, done) => {
    metrics.httpDuration.observe(
      req.method,
      req.routeOptions.url ?? "unmatched",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  await http.register(swagger, {
    openapi: openapiDocument({
      version,
      gateway: config.gateway.enabled ? config.gateway.prefix : null,
      chat33: config.chat33.enabled ? config.chat33.prefix : null,
      enterprise: config.enterprise.enabled ? config.enterprise.prefix : null,
    }),
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
  // Each surface's messages are counted under its name (parley_messages_stored_total{surface}).
  const metered = (surface: string) => ({
    ...services,
    messages: meterMessages(services.messages, surface, metrics.record),
  });
  if (config.chat33.enabled) await http.register(chat33Surface, { ...metered("chat33"), mount: config.chat33.prefix });
  if (config.enterprise.enabled)
    await http.register(enterpriseSurface, { ...metered("enterprise"), mount: config.enterprise.prefix });
  await http.register(adminSurface, { ...services, mount: "/admin/api", counters: metrics.counters });
  if (config.web.enabled) await http.register(webAppSurface, { dir: config.web.dir });
  if (config.web.adminEnabled) await http.register(adminConsoleSurface, { dir: config.web.adminDir });

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
