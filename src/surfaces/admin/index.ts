import type { FastifyInstance } from "fastify";
import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import { bearerToken } from "../../http/auth.ts";
import { documentRoutes } from "../../http/openapi.ts";
import { type HttpFailure, httpScope } from "../../http/scope.ts";
import { describeValidation } from "../../http/validation.ts";
import type { AdminDeps } from "./deps.ts";
import { type Envelope, fail, fromAppError } from "./envelope.ts";
import { orgRoutes } from "./org.ts";
import { userRoutes } from "./users.ts";
import { walletRoutes } from "./wallet.ts";

/**
 * The admin surface (SPEC §7, docs/admin.md): `<mount>/*` (mount `/admin/api`), used by the admin
 * console, the CLI and operators. An encapsulated plugin: its own admin-token hook, and the shared
 * scope builder (JSON bodies only, strict bodies, coerced query strings, error answers), so
 * nothing here leaks into the other surfaces.
 */
function answer(f: HttpFailure): { status: number; body: Envelope } {
  const status = f.kind === "app" ? 0 : f.kind === "validation" ? 400 : f.kind === "internal" ? 500 : f.status;
  switch (f.kind) {
    case "app":
      return fromAppError(f.error);
    case "validation":
      return { status, body: fail(status, describeValidation(f.issues, f.context)) };
    case "bad_json":
      return { status, body: fail(status, "body is not valid JSON") };
    case "too_deep":
      return { status, body: fail(status, `body nests deeper than ${MAX_JSON_DEPTH} levels`) };
    case "empty_json":
      return { status, body: fail(status, "body is empty: send a JSON object") };
    case "too_large":
      return { status, body: fail(status, "body too large") };
    case "media_type":
      return { status, body: fail(status, "send JSON (Content-Type: application/json)") };
    case "internal":
      return { status, body: fail(status, "internal error") };
    default:
      return { status, body: fail(status, f.message) };
  }
}

/** JSON bodies are strict (no coercion); query strings are text by nature: coerced there. */
export const adminHttp = httpScope<Envelope>({
  name: "admin",
  body: { json: "application/json", emptyIsNoBody: false },
  validator: (part) => (part === "querystring" ? { coerceTypes: true, useDefaults: true } : {}),
  answer,
  methodNotAllowed: () => fail(405, "method not allowed"),
});

export async function adminSurface(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  await app.register(
    async (api) => {
      adminHttp.install(api);
      documentRoutes(api, { mount: deps.mount, security: () => [{ adminBearer: [] }] });

      // Runs before the body is read: without the admin token nothing else happens.
      api.addHook("onRequest", async (req, reply) => {
        if (!deps.admin.verify(bearerToken(req))) return reply.code(401).send(fail(401, "admin token required"));
      });

      api.setNotFoundHandler((req, reply) => {
        reply.code(404).send(fail(404, `no route ${req.method} ${req.url.split("?")[0]}`));
      });

      userRoutes(api, deps);
      orgRoutes(api, deps);
      walletRoutes(api, deps);
    },
    { prefix: deps.mount },
  );
}
