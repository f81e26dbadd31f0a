import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/errors.ts";
import { describeValidation, strictValidatorCompiler } from "../../http/validation.ts";
import type { SurfaceDeps } from "../deps.ts";
import { registerAuthRoutes } from "./auth-routes.ts";
import { createContext } from "./context.ts";
import { type Envelope, fail, fromAppError } from "./envelope.ts";
import { registerFileRoutes } from "./file-routes.ts";
import { registerGroupRoutes } from "./group-routes.ts";
import { registerMessageRoutes } from "./message-routes.ts";
import { installParsers, mergeParams } from "./params.ts";
import { Presenter } from "./presenters.ts";
import { installSocket } from "./socket.ts";

/**
 * The enterprise surface (seed 001): REST under `<mount>/auth/*` and `<mount>/api/*`, the socket at
 * `<mount>/socket`. An encapsulated Fastify plugin with its own parsers (form bodies), validator
 * (coercing: query/form values are strings), error handler and envelope. See docs/enterprise.md.
 */
export async function enterpriseSurface(app: FastifyInstance, deps: SurfaceDeps): Promise<void> {
  const presenter = new Presenter(deps.storage, deps.org);
  const log = app.log.child({ surface: "enterprise" });
  installSocket({
    mount: deps.mount,
    realtime: deps.realtime,
    accounts: deps.accounts,
    storage: deps.storage,
    groups: deps.groups,
    presenter,
    log,
  });
  const ctx = createContext(deps, presenter);

  await app.register(
    async (api) => {
      api.setValidatorCompiler(strictValidatorCompiler({ coerceTypes: true }));
      // Responses are plain JSON; schemas document them (OpenAPI) but do not reshape them.
      api.setSerializerCompiler(() => (data) => JSON.stringify(data));
      installParsers(api);
      api.addHook("preValidation", mergeParams);

      api.setErrorHandler((error, req, reply) => {
        const e = error as Error & {
          code?: string;
          statusCode?: number;
          validation?: unknown[];
          validationContext?: string;
        };
        let body: Envelope;
        if (error instanceof AppError) body = fromAppError(error);
        else if (e.validation)
          body = fail(
            400,
            `参数错误: ${describeValidation(e.validation as [], e.validationContext === "params" ? "path" : "params")}`,
          );
        else if (e.code === "PARLEY_ENTERPRISE_PARAMS") body = fail(400, e.message);
        else if (e.code === "FST_ERR_CTP_INVALID_JSON_BODY") body = fail(400, "参数错误: 请求体不是合法的JSON");
        else if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") body = fail(413, "请求体过大");
        else if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") body = fail(415, "不支持的Content-Type");
        else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) body = fail(e.statusCode, e.message);
        else {
          req.log.error({ err: error }, "enterprise request failed");
          body = fail(500, "服务器内部错误");
        }
        if (body.code >= 500 && error instanceof AppError) req.log.error({ err: error }, "enterprise request failed");
        reply.status(body.code).send(body);
      });

      registerAuthRoutes(api, ctx);
      registerMessageRoutes(api, ctx);
      registerGroupRoutes(api, ctx);
      await registerFileRoutes(api, ctx);
    },
    { prefix: deps.mount },
  );
}
