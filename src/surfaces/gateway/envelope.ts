import type { AppError } from "../../core/errors.ts";

/** The gateway's envelope: `{code, msg, data}`; success is `code 0, msg "success"`. */
export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

export const ok = (data: unknown = []): Envelope => ({ code: 0, msg: "success", data });

export const fail = (msg: string, data: unknown = []): Envelope => ({ code: -1, msg, data });

/**
 * Core error reasons → (HTTP status, message). Business errors keep HTTP 200 like the original
 * server; clients read `code`.
 */
const REASONS: Record<string, [number, string]> = {
  system_id_missing: [200, "系统ID不能为空"],
  system_id_invalid: [200, "系统ID无效"],
  system_exists: [200, "该系统ID已被注册"],
  secret_mismatch: [200, "系统密钥错误"],
  client_id_invalid: [200, "客户端ID无效"],
  client_offline: [200, "客户端不在线"],
  admin_required: [401, "需要管理员令牌"],
};

export function fromAppError(e: AppError): { status: number; body: Envelope } {
  const known = REASONS[e.reason];
  if (known) return { status: known[0], body: fail(known[1]) };
  switch (e.code) {
    case "invalid_argument":
      return { status: 200, body: fail(e.message) };
    case "unavailable":
      return { status: 503, body: fail("服务暂不可用") };
    default:
      return { status: 200, body: fail(e.message) };
  }
}

/** WebSocket handshake error frame (`code -1001`), sent before the socket is closed. */
export const wsError = (msg: string) => JSON.stringify({ code: -1001, msg, data: [] });
