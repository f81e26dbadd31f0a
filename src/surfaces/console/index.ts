import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AdminAuth } from "../../core/admin/admin-token.ts";
import type { CustomerService } from "../../core/customers/customer-service.ts";
import type { AppError, ErrorCode } from "../../core/errors.ts";
import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import { bearerToken } from "../../http/auth.ts";
import { documentRoutes } from "../../http/openapi.ts";
import { type HttpFailure, HttpInputError, httpScope } from "../../http/scope.ts";

/**
 * The customer console surface (seed 004, docs/console.md). Client route `/api/customer/info`,
 * telemetry `/api/server|user|group/commit`, and the UI data routes (admin token) under `uiMount`:
 * `/console` on the main port (chat33 owns `/group/list` there), "" on the console's own listener
 * (`console.port`), where every route sits at the seed's own path. Every route answers GET and
 * POST with query, form or JSON parameters; envelope `{code, msg, data}`, `code 0` on success.
 */
export interface ConsoleSurfaceOptions {
  uiMount: string;
  customers: CustomerService;
  admin: AdminAuth;
  bodyLimitBytes: number;
  /** Own listener: answer unknown paths with the envelope (the main port has its own 404). */
  ownListener?: boolean;
}

export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

export const ok = (data: unknown): Envelope => ({ code: 0, msg: "success", data });
export const fail = (status: number, msg: string): Envelope => ({ code: status, msg, data: null });

const STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** Core errors → (HTTP status = envelope code, msg): by core code; the core's message names the field. */
export function fromAppError(e: AppError): { status: number; body: Envelope } {
  const status = STATUS[e.code] ?? 500;
  return {
    status,
    body: fail(status, status >= 500 ? (status === 503 ? "unavailable" : "internal error") : e.message),
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Query first, then the body: a body field overrides a query parameter of the same name. */
function paramsOf(req: FastifyRequest): Record<string, unknown> {
  const query = { ...(req.query as Record<string, unknown>) };
  const body = req.body;
  if (body === undefined || body === null) return query;
  if (!isPlainObject(body)) throw new HttpInputError("the body must be a JSON object or a form");
  return { ...query, ...body };
}

function answer(f: HttpFailure): { status: number; body: Envelope } {
  switch (f.kind) {
    case "app":
      return fromAppError(f.error);
    case "validation":
      return { status: 400, body: fail(400, "invalid parameters") };
    case "bad_json":
      return { status: 400, body: fail(400, "the body is not valid JSON") };
    case "too_deep":
      return { status: 400, body: fail(400, `the body is nested too deeply (more than ${MAX_JSON_DEPTH} levels)`) };
    case "too_large":
      return { status: 413, body: fail(413, "the body is too large") };
    case "media_type":
      return { status: 415, body: fail(415, "send query parameters, a form or JSON") };
    case "internal":
      return { status: 500, body: fail(500, "internal error") };
    default:
      return { status: f.status, body: fail(f.status, f.message) };
  }
}

/**
 * Query, form or JSON (an empty JSON body is no parameters); parameters are merged and validated
 * in core (validation.ts), so no route schema reshapes them.
 */
export const consoleHttp = httpScope<Envelope>({
  name: "console",
  body: { json: "application/json", emptyIsNoBody: true, form: true },
  answer,
  methodNotAllowed: (allowed) => fail(405, `use ${allowed.join(" or ")}`),
});

/** OpenAPI summaries (seed 004's names); parameters and answers are in docs/console.md. */
const SUMMARIES: Record<string, string> = {
  "/customer/info": "客户信息 — a client app's deployment addresses by customer code (no token, never the key)",
  "/server/commit": "上报服务器信息 — server state report (code, key when set)",
  "/user/commit": "上报用户信息 — user rows, data = JSON array or JSON string (key beside data when set)",
  "/group/commit": "上报群组信息 — group rows, data = JSON array or JSON string (key beside data when set)",
  "/customer/list": "客户列表 — every customer with its latest server report (admin token)",
  "/customer/add": "添加客户 — register a customer; every field validated (admin token)",
  "/customer/update": "update a customer's fields (extension; admin token)",
  "/customer/remove": "删除客户 — remove a customer and its reports (admin token)",
  "/customer/history": "a customer's report history for charts (extension; admin token)",
  "/user/list": "用户列表 — a customer's users, latest row each (admin token)",
  "/group/list": "群组列表 — a customer's groups, latest row each (admin token)",
};

export async function consoleSurface(app: FastifyInstance, opts: ConsoleSurfaceOptions): Promise<void> {
  const { customers, admin } = opts;
  await app.register(async (api) => {
    consoleHttp.install(api);
    documentRoutes(api, {
      mount: "",
      security: (path) => (path.startsWith("/api/") ? undefined : [{ adminBearer: [] }]),
    });

    // Runs before the body is read: without the admin token nothing else happens.
    const requireAdmin = async (req: FastifyRequest, reply: FastifyReply) => {
      if (!admin.verify(bearerToken(req))) return reply.code(401).send(fail(401, "admin token required"));
    };

    const route = (
      url: string,
      handler: (p: Record<string, unknown>) => Promise<unknown>,
      needsAdmin: boolean,
      summary = SUMMARIES[url.slice(url.lastIndexOf("/", url.lastIndexOf("/") - 1))] ?? "",
    ) => {
      consoleHttp.route(api, {
        method: ["GET", "POST"],
        url,
        bodyLimit: opts.bodyLimitBytes,
        onRequest: needsAdmin ? requireAdmin : undefined,
        schema: {
          summary,
          tags: ["console"],
          // Not in /docs yet: the OpenAPI walk (test/openapi.test.ts) wants parameter and answer
          // schemas with examples per route, which these routes (validated in core) do not have
          // yet. docs/console.md is their reference.
          hide: true,
        },
        handler: async (req) => ok(await handler(paramsOf(req))),
      });
    };

    // 客户端接口 / 服务端接口: at the root on both listeners.
    route("/api/customer/info", (p) => customers.info(p), false);
    route(
      "/api/server/commit",
      async (p) => {
        await customers.commitServer(p);
        return { stored: 1 };
      },
      false,
    );
    route("/api/user/commit", async (p) => ({ stored: await customers.commitUsers(p) }), false);
    route("/api/group/commit", async (p) => ({ stored: await customers.commitGroups(p) }), false);

    // 界面接口 (admin token), plus the extensions customer/update and customer/history.
    const ui = opts.uiMount;
    route(`${ui}/customer/list`, () => customers.list(), true);
    route(`${ui}/customer/add`, (p) => customers.add(p), true);
    route(`${ui}/customer/update`, (p) => customers.update(p), true);
    route(
      `${ui}/customer/remove`,
      async (p) => {
        await customers.remove(p);
        return { id: p.id };
      },
      true,
    );
    route(`${ui}/customer/history`, (p) => customers.history(p), true);
    route(`${ui}/user/list`, (p) => customers.users(p), true);
    route(`${ui}/group/list`, (p) => customers.groups(p), true);

    if (opts.ownListener)
      api.setNotFoundHandler((req, reply) => {
        reply.code(404).send(fail(404, `no route ${req.method} ${req.url.split("?")[0]}`));
      });
  });
}
