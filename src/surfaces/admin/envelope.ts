import type { AppError, ErrorCode } from "../../core/errors.ts";

/**
 * The admin envelope: `{code, msg, data}`. Success is HTTP 200 with `code 0, msg "success"`;
 * every error is an HTTP 4xx/5xx whose status is repeated in `code`, with `data: null`.
 */
export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

export const ok = (data: unknown): Envelope => ({ code: 0, msg: "success", data });

export const fail = (status: number, msg: string): Envelope => ({ code: status, msg, data: null });

/** Core error codes → HTTP status (and envelope code). The core's message is the `msg`. */
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

export function fromAppError(e: AppError): { status: number; body: Envelope } {
  const status = STATUS[e.code] ?? 500;
  return { status, body: fail(status, status === 500 ? "internal error" : e.message) };
}
