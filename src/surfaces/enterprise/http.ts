import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import type { Security } from "../../http/openapi.ts";
import { type HttpFailure, httpScope } from "../../http/scope.ts";
import { describeValidation } from "../../http/validation.ts";
import { type Envelope, fail, fromAppError } from "./envelope.ts";

/**
 * HTTP rules of the enterprise surface (seed 001), on the shared scope builder:
 * - bodies: JSON (Fastify's parser; an empty body is no body) and `x-www-form-urlencoded`;
 *   JSON nested deeper than MAX_JSON_DEPTH → 400; other content types → 415;
 * - the validator coerces (query and form values are strings; see params.ts);
 * - every failure is `{data: null, code: <HTTP status>, msg}` with the same HTTP status.
 */
function answer(f: HttpFailure): { status: number; body: Envelope } {
  const body = envelopeOf(f);
  return { status: body.code, body };
}

function envelopeOf(f: HttpFailure): Envelope {
  switch (f.kind) {
    case "app":
      return fromAppError(f.error);
    case "validation":
      return fail(400, `参数错误: ${describeValidation(f.issues, f.context === "params" ? "path" : "params")}`);
    case "input":
      return fail(400, f.message);
    case "bad_json":
      return fail(400, "参数错误: 请求体不是合法的JSON");
    case "too_deep":
      return fail(400, `参数错误: 请求体JSON嵌套过深(最多${MAX_JSON_DEPTH}层)`);
    case "too_large":
      return fail(413, "请求体过大");
    case "media_type":
      return fail(415, "不支持的Content-Type");
    case "internal":
      return fail(500, "服务器内部错误");
    default:
      return fail(f.status, f.message);
  }
}

export const enterpriseHttp = httpScope<Envelope>({
  name: "enterprise",
  body: { json: "application/json", emptyIsNoBody: true, form: true },
  validator: () => ({ coerceTypes: true }),
  answer,
  methodNotAllowed: () => fail(405, "请求方法不支持"),
});

/** Routes that need no session: login, the login QR code, and the file bytes (content-addressed). */
const PUBLIC = new Set(["/auth/login", "/auth/scan_login_url", "/files/:sha256"]);

/** OpenAPI security of an enterprise route. */
export const enterpriseSecurity = (path: string): Security | undefined =>
  PUBLIC.has(path) ? undefined : [{ enterpriseAuth: [] }];
