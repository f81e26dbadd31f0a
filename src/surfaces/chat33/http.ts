import type { TSchema } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import { documentRoutes, type Security } from "../../http/openapi.ts";
import { type HttpFailure, httpScope, type ValidationIssue } from "../../http/scope.ts";
import { describeValidation } from "../../http/validation.ts";
import { Codes, type Envelope, fail, fromAppError, ok } from "./envelope.ts";
import { envelope, Headers } from "./schemas.ts";
import { SEED_RESPONSES } from "./seed-examples.ts";

/**
 * HTTP rules of the chat33 surface, applied to one encapsulated Fastify scope:
 * - every route is `POST` with a JSON body (document "约定"); other methods → HTTP 405;
 * - the body is parsed as JSON whatever the Content-Type says; an empty body is `{}` (several
 *   routes document "请求参数：无"); malformed JSON or JSON nested deeper than MAX_JSON_DEPTH →
 *   HTTP 400, `-1001`;
 * - schema failures → HTTP 200, `-1002 缺少参数` (field absent or empty string) or `-1001 参数错误`;
 * - AppErrors → the table in envelope.ts; anything unexpected → HTTP 500, `-9000`, logged, no stack.
 */

/** Documented typos clients send: alias → canonical field (seed: `rootId` for `roomId`). */
export const FIELD_ALIASES: Readonly<Record<string, string>> = { rootId: "roomId" };

/** Rewrites documented alias fields in place (the canonical field wins when both are sent). */
export function applyAliases(body: unknown): void {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return;
  const b = body as Record<string, unknown>;
  for (const [alias, canonical] of Object.entries(FIELD_ALIASES)) {
    if (!Object.hasOwn(b, alias)) continue;
    if (!Object.hasOwn(b, canonical)) b[canonical] = b[alias];
    delete b[alias];
  }
}

/** A schema failure as the chat33 envelope: absent or empty required field → -1002, else -1001. */
export function validationEnvelope(issues: readonly ValidationIssue[]): Envelope {
  const first = issues[0];
  if (first?.keyword === "required" && typeof first.params?.missingProperty === "string")
    return fail(Codes.missingParam, first.params.missingProperty);
  if (first?.keyword === "minLength" && first.data === "") {
    const field = (first.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
    return fail(Codes.missingParam, field || "body");
  }
  return fail(Codes.paramError, describeValidation(issues, "body"));
}

/** A request failure in the chat33 envelope. */
function answer(f: HttpFailure): { status: number; body: Envelope } {
  switch (f.kind) {
    case "app":
      return fromAppError(f.error);
    case "validation":
      return { status: 200, body: validationEnvelope(f.issues) };
    case "bad_json":
      return { status: 400, body: fail(Codes.paramError, "请求体不是合法的JSON") };
    case "too_deep":
      return { status: 400, body: fail(Codes.paramError, `请求体JSON嵌套过深(最多${MAX_JSON_DEPTH}层)`) };
    case "too_large":
      return { status: 413, body: fail(Codes.paramError, "请求体过大") };
    case "internal":
      return { status: 500, body: fail(Codes.internal) };
    default:
      return { status: f.status, body: fail(Codes.paramError) };
  }
}

/** The chat33 scope: parser (empty body → `{}`), validator, error handler, 405s. */
export const chat33Http = httpScope<Envelope>({
  name: "chat33",
  body: { json: "any-content-type", empty: () => ({}) },
  answer,
  methodNotAllowed: () => fail(Codes.paramError, "只支持 POST 请求"),
});

/** Routes that need no credentials at all, and those that need only `FZM-DEVICE` (logins). */
const PUBLIC = new Set([
  "/send/sms",
  "/user/sendCode",
  "/user/isreg",
  // the hosted-account service's voice code (-9002, docs/chat33.md "Compatibility")
  "/v1/send/voice",
  // red packets: the guest path, and the packet detail (a session is optional there)
  "/red-packet/receive",
  "/red-packet/entry",
  "/red-packet/register-entry",
  "/red-packet/detail",
]);
const DEVICE_ONLY = new Set(["/user/pwdLogin", "/user/register", "/user/phoneLogin"]);

/** OpenAPI security of a chat33 route: every route not listed above needs a session. */
export function chat33Security(path: string): Security | undefined {
  if (PUBLIC.has(path)) return undefined;
  if (DEVICE_ONLY.has(path)) return [{ chat33Device: [] }];
  // the admin token, or an admin user's session
  if (path === "/user/muted") return [{ adminBearer: [] }, { chat33Token: [], chat33Device: [] }];
  return [{ chat33Token: [], chat33Device: [] }];
}

const CHAT33_EXAMPLES = Object.fromEntries(
  Object.entries(SEED_RESPONSES).map(([path, response]) => [path, { response }]),
);

/** Installs the parser, validator, alias hook and error handler on a chat33 scope. */
export function setupScope(api: FastifyInstance, mount: string): void {
  chat33Http.install(api);
  documentRoutes(api, { mount, security: chat33Security, examples: CHAT33_EXAMPLES });
  api.addHook("preValidation", async (req) => {
    // no body at all (no Content-Type, no length): the parser did not run
    if (req.body === undefined) req.body = {};
    applyAliases(req.body);
  });
}

export interface PostRoute<B> {
  path: string;
  summary: string;
  /** Request body schema (TypeBox); routes without parameters use an empty object. */
  body: TSchema;
  /** Schema of `data` on success (documentation only). */
  data: TSchema;
  /** Returns `data`; the wrapper adds the envelope. Throw AppError for failures. */
  handler: (req: FastifyRequest<{ Body: B }>, reply: FastifyReply) => Promise<unknown>;
}

const TAGS = ["chat33 (002)"];

/** Registers `POST path` with the envelope, and 405 for every other method on the same path. */
export function postRoute<B>(api: FastifyInstance, route: PostRoute<B>): void {
  chat33Http.route<{ Body: B }>(api, {
    method: "POST",
    url: route.path,
    schema: {
      summary: route.summary,
      tags: TAGS,
      headers: Headers,
      body: route.body,
      response: { 200: envelope(route.data) },
    },
    handler: async (req, reply) => ok(await route.handler(req, reply)),
  });
}
