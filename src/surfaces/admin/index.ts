import type { FastifyInstance } from "fastify";
import { notFoundInEnvelope, requireAdminToken } from "../../http/envelope.ts";
import { documentRoutes } from "../../http/openapi.ts";
import { httpScope } from "../../http/scope.ts";
import { conversationRoutes } from "./conversations.ts";
import { dashboardRoutes } from "./dashboard.ts";
import type { AdminDeps } from "./deps.ts";
import { answer, type Envelope, fail } from "./envelope.ts";
import { gatewayRoutes } from "./gateway.ts";
import { orgRoutes } from "./org.ts";
import { SIGN_IN_PATH, sessionRoutes } from "./session.ts";
import { userRoutes } from "./users.ts";
import { walletRoutes } from "./wallet.ts";

/**
 * The admin surface (SPEC §7, docs/admin.md): `<mount>/*` (mount `/admin/api`), used by the admin
 * console, the CLI and operators. An encapsulated plugin: its own admin-token hook, and the shared
 * scope builder (JSON bodies only, strict bodies, coerced query strings, error answers), so
 * nothing here leaks into the other surfaces. Errors: the shared envelope (envelope.ts).
 *
 * JSON bodies are strict (no coercion); query strings are text by nature: coerced there.
 */
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
      documentRoutes(api, {
        mount: deps.mount,
        security: (path, method) => (path === SIGN_IN_PATH && method === "POST" ? undefined : [{ adminBearer: [] }]),
      });

      // every route needs the admin credential (the admin token or an admin session's token),
      // except the sign-in that gives an admin session
      const requireAdmin = requireAdminToken(deps.admin);
      const signIn = `${deps.mount}${SIGN_IN_PATH}`;
      api.addHook("onRequest", async (req, reply) => {
        if (req.method === "POST" && req.routeOptions.url === signIn) return;
        await requireAdmin(req, reply);
      });
      api.setNotFoundHandler(notFoundInEnvelope);

      sessionRoutes(api, deps);
      userRoutes(api, deps);
      orgRoutes(api, deps);
      walletRoutes(api, deps);
      dashboardRoutes(api, deps);
      conversationRoutes(api, deps);
      gatewayRoutes(api, deps);
    },
    { prefix: deps.mount },
  );
}
