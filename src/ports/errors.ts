/**
 * The error type that crosses the ports: core code throws it with a stable `code`, adapters throw
 * it for what the core must recognise (a unique-key conflict, an unreachable node), and each
 * surface maps the code to its own envelope and numbers in one table at its edge. It lives with
 * the ports so adapters and the realtime layer need nothing from the core; the core re-exports it
 * (`core/errors.ts`) with its helpers.
 */
export const ErrorCodes = {
  invalidArgument: "invalid_argument",
  unauthenticated: "unauthenticated",
  forbidden: "forbidden",
  notFound: "not_found",
  conflict: "conflict",
  rateLimited: "rate_limited",
  unavailable: "unavailable",
  internal: "internal",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class AppError extends Error {
  readonly code: ErrorCode;
  /** A finer reason a surface may map to its own message (e.g. `system_id_invalid`). */
  readonly reason: string;
  constructor(code: ErrorCode, reason: string, message?: string) {
    super(message ?? reason);
    this.code = code;
    this.reason = reason;
  }
}

export const invalid = (reason: string, message?: string) => new AppError("invalid_argument", reason, message);
export const notFound = (reason: string, message?: string) => new AppError("not_found", reason, message);
export const conflict = (reason: string, message?: string) => new AppError("conflict", reason, message);
export const forbidden = (reason: string, message?: string) => new AppError("forbidden", reason, message);
export const unauthenticated = (reason: string, message?: string) => new AppError("unauthenticated", reason, message);
export const unavailable = (reason: string, message?: string) => new AppError("unavailable", reason, message);
