import type { TSchema } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest, HTTPMethods } from "fastify";
import type { AdminAuth } from "../../core/admin/admin-token.ts";
import type { CustomerService } from "../../core/customers/customer-service.ts";
import { decodeData } from "../../core/customers/validation.ts";
import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import {
  type Envelope,
  ErrorEnvelope,
  envelopeErrors,
  envelopeSchema,
  fail,
  notFoundInEnvelope,
  ok,
  requireAdminToken,
} from "../../http/envelope.ts";
import { documentRoutes } from "../../http/openapi.ts";
import { HttpInputError, httpScope, type ValidationIssue } from "../../http/scope.ts";
import {
  CodeParams,
  CustomerAddParams,
  CustomerInfoOut,
  CustomerListOut,
  CustomerOut,
  CustomerRemoveParams,
  CustomerUpdateParams,
  GroupCommitParams,
  GroupListOut,
  HistoryOut,
  HistoryParams,
  NoParams,
  RemovedOut,
  ServerCommitParams,
  StoredOut,
  UserCommitParams,
  UserListOut,
} from "./schemas.ts";

/** The OpenAPI tag of every console route (its page: docs/console.md). */
export const TAGS = ["console (004)"];

/**
 * The customer console surface (seed 004, docs/console.md). Client route `/api/customer/info`,
 * telemetry `/api/server|user|group/commit`, and the UI data routes (admin token) under `uiMount`:
 * `/console` on the main port (chat33 owns `/group/list` there), "" on the console's own listener
 * (`console.port`), where every route sits at the seed's own path. Every route answers GET and
 * POST with query, form or JSON parameters, validated by its TypeBox schema (schemas.ts) before
 * the core sees them (and again by the core); envelope `{code, msg, data}`, `code 0` on success.
 * The main port's routes are in the OpenAPI document (`/docs`, tag "console (004)"); the console
 * port has no `/docs` of its own — its routes are the same ones at the seed's paths.
 */
export interface ConsoleSurfaceOptions {
  uiMount: string;
  customers: CustomerService;
  admin: AdminAuth;
  bodyLimitBytes: number;
  /** Largest number of rows in one user/group batch (`console.maxRows`; the core checks it too). */
  maxRows?: number;
  /** Own listener: answer unknown paths with the envelope (the main port has its own 404). */
  ownListener?: boolean;
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

/** An ajv issue as the verbose validator reports it (the failing value and its schema's parent). */
type Issue = ValidationIssue & { parentSchema?: Record<string, unknown> };

const segments = (path: string | undefined) =>
  (path ?? "")
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
const where = (parts: string[]) => parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");

/**
 * A schema failure as one sentence in the core's words (what the core says when it finds the same
 * thing): `missing field: code`, `tcpport must be a port from 1 to 65535`, `data[1]: fmsgs must
 * be …`, `data has more than 50 rows`. The validator reports every failure (allErrors); the first
 * field with a bad value is named (in the schema's order, like the core's checks), else the first
 * missing one. Its text is the field's `x-message` (schemas.ts); a blank value is "missing"; a
 * form or query field given twice is "one value".
 */
export function describeConsoleValidation(issues: readonly Issue[], context: string): string {
  const rootMissing = (e: Issue) => e.keyword === "required" && segments(e.instancePath).length === 0;
  const lead = issues.find((e) => !rootMissing(e)) ?? issues[0];
  if (!lead) return "invalid parameters";
  if (rootMissing(lead)) return `missing field: ${String(lead.params?.missingProperty ?? "")}`;
  // the failures of that one field; skip its union wrapper's own "not an array / not a string"
  const top = segments(lead.instancePath)[0];
  const mine = issues.filter((e) => segments(e.instancePath)[0] === top);
  const wrapper = (e: Issue) =>
    segments(e.instancePath).length === 1 && (e.keyword === "type" || e.keyword === "anyOf");
  const first = mine.find((e) => !wrapper(e)) ?? lead;
  const parts = segments(first.instancePath);
  if (first.keyword === "required")
    return `${where(parts)}: missing field: ${String(first.params?.missingProperty ?? "")}`;

  const here = mine.filter((e) => e.instancePath === first.instancePath);
  const owner = (here.find((e) => e.keyword === "anyOf") ?? first).parentSchema ?? {};
  const keyword = here.find((e) => e.keyword !== "type" && e.keyword !== "anyOf")?.keyword ?? "anyOf";
  const field = parts.length > 1 && !/^\d+$/.test(parts[parts.length - 1] as string) ? parts.pop() : undefined;
  const place = field ? `${where(parts)}: ${field}` : where(parts) || context;
  if (typeof first.data === "string" && first.data.trim() === "")
    return field ? `${where(parts)}: missing field: ${field}` : `missing field: ${place}`;
  if (Array.isArray(first.data) && owner.type !== "array" && keyword === "anyOf")
    return `${place} must be one value (it was given more than once)`;
  const given = owner["x-message"];
  const byKeyword = given && typeof given === "object" ? (given as Record<string, string>) : {};
  const message = typeof given === "string" ? given : (byKeyword[keyword] ?? byKeyword.anyOf);
  return `${place} ${message ?? first.message ?? "is invalid"}`;
}

/** The shared envelope (src/http/envelope.ts) with the console's texts (docs/console.md). */
export const { fromAppError, answer } = envelopeErrors({
  validation: describeConsoleValidation,
  bad_json: "the body is not valid JSON",
  too_deep: `the body is nested too deeply (more than ${MAX_JSON_DEPTH} levels)`,
  too_large: "the body is too large",
  media_type: "send query parameters, a form or JSON",
  serverError: (status) => (status === 503 ? "unavailable" : "internal error"),
});

/**
 * Query, form or JSON (an empty JSON body is no parameters). Each path has a GET route (its
 * schema on the query string) and a POST route (its schema on the body); before validation the
 * query and the body are merged into the part the schema describes (see `mergeInto`), so either
 * method takes its parameters from anywhere. Strict validation: no coercion (the schemas accept
 * digit strings where numbers are meant).
 */
export const consoleHttp = httpScope<Envelope>({
  name: "console",
  body: { json: "application/json", emptyIsNoBody: true, form: true },
  // every failure, so the message can name the first field in order (describeConsoleValidation)
  validator: () => ({ allErrors: true }),
  answer,
  methodNotAllowed: (allowed) => fail(405, `use ${allowed.join(" or ")}`),
});

/** The methods a console path refuses with 405 (HEAD follows GET). */
const OTHER_METHODS: HTTPMethods[] = ["PUT", "DELETE", "PATCH", "OPTIONS"];

/** OpenAPI summaries (seed 004's names); the rules are in docs/console.md. */
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

const DESCRIPTION =
  "Parameters in the query string, a form or a JSON body, with GET or POST alike (query first, then the body; a body field wins). Errors: HTTP 4xx with {code: <status>, msg, data: null}; see docs/console.md.";

type Params = Record<string, unknown>;

interface ConsoleRoute {
  url: string;
  params: TSchema;
  data: TSchema;
  needsAdmin: boolean;
  /** `data` may be a JSON string: parsed before validation, so the rows are checked either way. */
  rows?: boolean;
  handler: (p: Params) => Promise<unknown>;
}

/**
 * preValidation: the merged parameters become the part the route's schema describes (`query` on
 * GET, `body` on POST); a JSON-string `data` is parsed (with the one depth check).
 */
const mergeInto =
  (part: "query" | "body", rows: boolean) =>
  async (req: FastifyRequest): Promise<void> => {
    const merged = paramsOf(req);
    if (rows && "data" in merged) {
      const data = decodeData(merged.data);
      if (data === undefined) delete merged.data;
      else merged.data = data;
    }
    if (part === "query") req.query = merged;
    else req.body = merged;
  };

export async function consoleSurface(app: FastifyInstance, opts: ConsoleSurfaceOptions): Promise<void> {
  const { customers, admin } = opts;
  const maxRows = opts.maxRows ?? 10_000;
  await app.register(async (api) => {
    consoleHttp.install(api);
    documentRoutes(api, {
      mount: "",
      security: (path) => (path.startsWith("/api/") ? undefined : [{ adminBearer: [] }]),
    });

    const requireAdmin = requireAdminToken(admin);

    const route = (r: ConsoleRoute) => {
      const summary = SUMMARIES[r.url.slice(r.url.lastIndexOf("/", r.url.lastIndexOf("/") - 1))] ?? "";
      const common = {
        url: r.url,
        bodyLimit: opts.bodyLimitBytes,
        onRequest: r.needsAdmin ? requireAdmin : undefined,
      };
      const schema = {
        summary,
        description: DESCRIPTION,
        tags: TAGS,
        response: { 200: envelopeSchema(r.data), "4XX": ErrorEnvelope },
      };
      api.route({
        ...common,
        method: "GET",
        schema: { ...schema, querystring: r.params },
        preValidation: mergeInto("query", r.rows ?? false),
        handler: async (req) => ok(await r.handler(req.query as Params)),
      });
      api.route({
        ...common,
        method: "POST",
        schema: { ...schema, body: r.params, consumes: ["application/json", "application/x-www-form-urlencoded"] },
        preValidation: mergeInto("body", r.rows ?? false),
        handler: async (req) => ok(await r.handler(req.body as Params)),
      });
      api.route({
        method: OTHER_METHODS,
        url: r.url,
        schema: { hide: true },
        handler: async (_req, reply) =>
          reply
            .status(405)
            .header("allow", "GET, POST")
            .send(consoleHttp.spec.methodNotAllowed(["GET", "POST"])),
      });
    };

    // 客户端接口 / 服务端接口: at the root on both listeners.
    route({
      url: "/api/customer/info",
      params: CodeParams,
      data: CustomerInfoOut,
      needsAdmin: false,
      handler: (p) => customers.info(p),
    });
    route({
      url: "/api/server/commit",
      params: ServerCommitParams,
      data: StoredOut,
      needsAdmin: false,
      handler: async (p) => {
        await customers.commitServer(p);
        return { stored: 1 };
      },
    });
    route({
      url: "/api/user/commit",
      params: UserCommitParams(maxRows),
      data: StoredOut,
      needsAdmin: false,
      rows: true,
      handler: async (p) => ({ stored: await customers.commitUsers(p) }),
    });
    route({
      url: "/api/group/commit",
      params: GroupCommitParams(maxRows),
      data: StoredOut,
      needsAdmin: false,
      rows: true,
      handler: async (p) => ({ stored: await customers.commitGroups(p) }),
    });

    // 界面接口 (admin token), plus the extensions customer/update and customer/history.
    const ui = opts.uiMount;
    const admin$ = (url: string, params: TSchema, data: TSchema, handler: (p: Params) => Promise<unknown>) =>
      route({ url: `${ui}${url}`, params, data, needsAdmin: true, handler });
    admin$("/customer/list", NoParams, CustomerListOut, () => customers.list());
    admin$("/customer/add", CustomerAddParams, CustomerOut, (p) => customers.add(p));
    admin$("/customer/update", CustomerUpdateParams, CustomerOut, (p) => customers.update(p));
    admin$("/customer/remove", CustomerRemoveParams, RemovedOut, async (p) => {
      await customers.remove(p);
      return { id: p.id };
    });
    admin$("/customer/history", HistoryParams, HistoryOut, (p) => customers.history(p));
    admin$("/user/list", CodeParams, UserListOut, (p) => customers.users(p));
    admin$("/group/list", CodeParams, GroupListOut, (p) => customers.groups(p));

    if (opts.ownListener) api.setNotFoundHandler(notFoundInEnvelope);
  });
}
