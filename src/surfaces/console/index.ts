import { parse as parseQuery } from "node:querystring";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AdminAuth } from "../../core/admin/admin-token.ts";
import type { CustomerService } from "../../core/customers/customer-service.ts";
import { AppError, type ErrorCode } from "../../core/errors.ts";
import { jsonTextTooDeep } from "../../core/json-limits.ts";
import { bearerToken } from "../../http/auth.ts";

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

class ParamsError extends Error {
  readonly statusCode = 400;
  readonly code = "PARLEY_CONSOLE_PARAMS";
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
  if (!isPlainObject(body)) throw new ParamsError("the body must be a JSON object or a form");
  return { ...query, ...body };
}

const METHODS_405 = ["PUT", "DELETE", "PATCH"] as const;

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
    // JSON (Fastify's parser: prototype poisoning is a 400; the one depth check first; an empty
    // body is no parameters) and x-www-form-urlencoded (repeated keys → arrays, refused as fields).
    const json = api.getDefaultJsonParser("error", "error");
    api.removeContentTypeParser(["application/json", "text/plain"]);
    api.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
      const text = String(body);
      if (text.trim() === "") return done(null, undefined);
      if (jsonTextTooDeep(text)) return done(new ParamsError("the body is nested too deeply"), undefined);
      json(req, text, done);
    });
    api.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
      done(null, { ...parseQuery(String(body)) });
    });

    api.setErrorHandler((error, req, reply) => {
      const e = error as Error & { code?: string; statusCode?: number };
      let status: number;
      let msg: string;
      if (error instanceof AppError) {
        status = STATUS[error.code] ?? 500;
        msg = status === 500 ? "internal error" : error.message;
      } else if (e.code === "PARLEY_CONSOLE_PARAMS") [status, msg] = [400, e.message];
      else if (e.code === "FST_ERR_CTP_INVALID_JSON_BODY") [status, msg] = [400, "the body is not valid JSON"];
      else if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") [status, msg] = [413, "the body is too large"];
      else if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
        [status, msg] = [415, "send query parameters, a form or JSON"];
      else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) [status, msg] = [e.statusCode, e.message];
      else [status, msg] = [500, "internal error"];
      if (status >= 500) req.log.error({ err: error }, "console request failed");
      return reply.code(status).send(fail(status, msg));
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
      api.route({
        method: ["GET", "POST"],
        url,
        bodyLimit: opts.bodyLimitBytes,
        onRequest: needsAdmin ? requireAdmin : undefined,
        // Parameters are merged from query, form and JSON and validated in core (docs/console.md).
        schema: {
          summary,
          tags: ["console"],
          // The console's own listener has no OpenAPI document; the main port's lists each route once.
          hide: opts.ownListener === true,
        },
        handler: async (req) => ok(await handler(paramsOf(req))),
      });
      api.route({
        method: [...METHODS_405],
        url,
        handler: async (_req, reply) => reply.code(405).header("allow", "GET, POST").send(fail(405, "use GET or POST")),
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
