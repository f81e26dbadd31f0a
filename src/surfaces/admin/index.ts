import type { FastifyInstance, FastifySchemaCompiler } from "fastify";
import { AppError } from "../../core/errors.ts";
import { bearerToken } from "../../http/auth.ts";
import { describeValidation, strictValidatorCompiler } from "../../http/validation.ts";
import type { AdminDeps } from "./deps.ts";
import { fail, fromAppError } from "./envelope.ts";
import { orgRoutes } from "./org.ts";
import { userRoutes } from "./users.ts";

/**
 * The admin surface (SPEC §7, docs/admin.md): `<mount>/*` (mount `/admin/api`), used by the admin
 * console, the CLI and operators. An encapsulated plugin: its own admin-token hook, validator and
 * error handler, so nothing here leaks into the other surfaces.
 */
export async function adminSurface(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  await app.register(
    async (api) => {
      // JSON bodies: strict (no coercion). Query strings are text by nature: coerce them there.
      const strict = strictValidatorCompiler();
      const coercing = strictValidatorCompiler({ coerceTypes: true, useDefaults: true });
      const compiler: FastifySchemaCompiler<unknown> = (route) =>
        route.httpPart === "querystring" ? coercing(route) : strict(route);
      api.setValidatorCompiler(compiler);
      // Responses are plain JSON; schemas document them (OpenAPI) but do not reshape them.
      api.setSerializerCompiler(() => (data) => JSON.stringify(data));

      // Runs before the body is read: without the admin token nothing else happens.
      api.addHook("onRequest", async (req, reply) => {
        if (!deps.admin.verify(bearerToken(req))) return reply.code(401).send(fail(401, "admin token required"));
      });

      api.setNotFoundHandler((req, reply) => {
        reply.code(404).send(fail(404, `no route ${req.method} ${req.url.split("?")[0]}`));
      });

      api.setErrorHandler((error, req, reply) => {
        const e = error as Error & {
          code?: string;
          statusCode?: number;
          validation?: unknown[];
          validationContext?: string;
        };
        if (error instanceof AppError) {
          const { status, body } = fromAppError(error);
          if (status >= 500) req.log.error({ err: error }, "admin request failed");
          return reply.code(status).send(body);
        }
        if (e.validation)
          return reply.code(400).send(fail(400, describeValidation(e.validation as [], e.validationContext ?? "body")));
        if (e.code === "FST_ERR_CTP_INVALID_JSON_BODY")
          return reply.code(400).send(fail(400, "body is not valid JSON"));
        if (e.code === "FST_ERR_CTP_EMPTY_JSON_BODY")
          return reply.code(400).send(fail(400, "body is empty: send a JSON object"));
        if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") return reply.code(413).send(fail(413, "body too large"));
        if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
          return reply.code(415).send(fail(415, "send JSON (Content-Type: application/json)"));
        if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
          return reply.code(e.statusCode).send(fail(e.statusCode, e.message));
        req.log.error({ err: error }, "admin request failed");
        return reply.code(500).send(fail(500, "internal error"));
      });

      userRoutes(api, deps);
      orgRoutes(api, deps);
    },
    { prefix: deps.mount },
  );
}
