import { MAX_JSON_DEPTH } from "../../core/json-limits.ts";
import type { RouteExamples } from "../../http/openapi.ts";
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

/** Examples of the gateway document (seed 000): its response examples, requests from its field tables. */
const PUSH = { sendUserId: "user-1", code: 0, msg: "hello", data: { text: "hi" } };
const MESSAGE_ID = { code: 0, msg: "success", data: { messageId: "5b4646dd8328f4b1" } };
const CLIENT_ID = "<clientId from the first /ws frame>";
export const GATEWAY_EXAMPLES: Readonly<Record<string, RouteExamples>> = {
  "/api/register": { request: { systemId: "my-system" }, response: { code: 0, msg: "success", data: [] } },
  "/api/send_to_client": { request: { clientId: CLIENT_ID, ...PUSH }, response: MESSAGE_ID },
  "/api/send_to_clients": { request: { clientIds: [CLIENT_ID], ...PUSH }, response: MESSAGE_ID },
  "/api/bind_to_group": {
    request: { sendUserId: "user-1", clientId: CLIENT_ID, groupName: "room-1" },
    response: { code: 0, msg: "success", data: [] },
  },
  "/api/send_to_group": { request: { groupName: "room-1", ...PUSH }, response: MESSAGE_ID },
  "/api/get_online_list": {
    request: { groupName: "room-1" },
    response: { code: 0, msg: "success", data: { count: 1, list: ["9fa54bdbbf2778cb"] } },
  },
  "/api/close_client": { request: { clientId: CLIENT_ID }, response: { code: 0, msg: "success", data: {} } },
};
