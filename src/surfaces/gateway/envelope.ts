import type { AppError, ErrorCode } from "../../core/errors.ts";
import type { Reason, ReasonTable } from "../../core/reasons.ts";

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
 * server; clients read `code`. A reason without a row answers by its code (BY_CODE).
 */
const REASONS: ReasonTable<[number, string]> = {
  system_id_missing: [200, "系统ID不能为空"],
  system_id_invalid: [200, "系统ID无效"],
  system_exists: [200, "该系统ID已被注册"],
  secret_mismatch: [200, "系统密钥错误"],
  client_id_invalid: [200, "客户端ID无效"],
  client_offline: [200, "客户端不在线"],
  admin_required: [401, "需要管理员令牌"],
};

type Answer = { status: number; body: Envelope };

/** The fallback per core code: the core's message in `msg`, HTTP 200, except unavailability. */
const BY_CODE: Record<ErrorCode, (e: AppError) => Answer> = {
  invalid_argument: (e) => ({ status: 200, body: fail(e.message) }),
  unauthenticated: (e) => ({ status: 200, body: fail(e.message) }),
  forbidden: (e) => ({ status: 200, body: fail(e.message) }),
  not_found: (e) => ({ status: 200, body: fail(e.message) }),
  conflict: (e) => ({ status: 200, body: fail(e.message) }),
  rate_limited: (e) => ({ status: 200, body: fail(e.message) }),
  unavailable: () => ({ status: 503, body: fail("服务暂不可用") }),
  internal: (e) => ({ status: 200, body: fail(e.message) }),
};

export function fromAppError(e: AppError): Answer {
  const known = REASONS[e.reason];
  if (known) return { status: known[0], body: fail(known[1]) };
  return BY_CODE[e.code](e);
}

/** The reasons with an explicit row (for tests and docs). */
export const MAPPED_REASONS = Object.keys(REASONS) as readonly Reason[];

/** WebSocket handshake error frame (`code -1001`), sent before the socket is closed. */
export const wsError = (msg: string) => JSON.stringify({ code: -1001, msg, data: [] });
