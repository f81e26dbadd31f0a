import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import { type HttpFailure, httpScope } from "../../http/scope.ts";
import { describeValidation } from "../../http/validation.ts";
import { type Envelope, fail, fromAppError } from "./envelope.ts";

/**
 * HTTP rules of the gateway surface (seed 000), on the shared scope builder:
 * - every route is `POST`; other methods → HTTP 405, `Allow: POST`;
 * - the body is JSON whatever the Content-Type says (like the original server); an empty body is
 *   no body; malformed JSON → HTTP 400; JSON nested deeper than MAX_JSON_DEPTH → HTTP 400; both
 *   `code -1` with a message that says which;
 * - schema failures → HTTP 200, `code -1`, `参数错误: …`;
 * - AppErrors → envelope.ts; anything unexpected → HTTP 500, logged.
 */
export const TOO_DEEP_MSG = `请求体JSON嵌套过深(最多${MAX_JSON_DEPTH}层)`;

function answer(f: HttpFailure): { status: number; body: Envelope } {
  switch (f.kind) {
    case "app":
      return fromAppError(f.error);
    case "validation":
      return { status: 200, body: fail(`参数错误: ${describeValidation(f.issues, "body")}`) };
    case "bad_json":
      return { status: 400, body: fail("请求体不是合法的JSON") };
    case "too_deep":
      return { status: 400, body: fail(TOO_DEEP_MSG) };
    case "too_large":
      return { status: 413, body: fail("请求体过大") };
    case "internal":
      return { status: 500, body: fail("服务器内部错误") };
    default:
      return { status: f.status, body: fail(f.message) };
  }
}

export const gatewayHttp = httpScope<Envelope>({
  name: "gateway",
  body: { json: "any-content-type", empty: () => undefined },
  answer,
  methodNotAllowed: () => fail("Method Not Allowed"),
});
