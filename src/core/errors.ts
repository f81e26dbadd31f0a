import type { Reason, ReasonOf } from "./reasons.ts";

/**
 * The one error catalogue. Core code throws `AppError` with a stable `code` and a `reason` from
 * the catalogue in reasons.ts; each surface maps them to its own envelope and numbers in one table
 * at its edge. Nothing in core knows about HTTP.
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

export type { Reason } from "./reasons.ts";

export class AppError extends Error {
  readonly code: ErrorCode;
  /** A finer reason a surface may map to its own message (e.g. `system_id_invalid`); see reasons.ts. */
  readonly reason: Reason;
  constructor(code: ErrorCode, reason: Reason, message?: string) {
    super(message ?? reason);
    this.code = code;
    this.reason = reason;
  }
}

/** An AppError whose code is the catalogue's code for `reason`. */
export const appError = <C extends ErrorCode>(code: C, reason: ReasonOf<C>, message?: string) =>
  new AppError(code, reason, message);

export const invalid = (reason: ReasonOf<"invalid_argument">, message?: string) =>
  new AppError("invalid_argument", reason, message);
export const notFound = (reason: ReasonOf<"not_found">, message?: string) => new AppError("not_found", reason, message);
export const conflict = (reason: ReasonOf<"conflict">, message?: string) => new AppError("conflict", reason, message);
export const forbidden = (reason: ReasonOf<"forbidden">, message?: string) =>
  new AppError("forbidden", reason, message);
export const unauthenticated = (reason: ReasonOf<"unauthenticated">, message?: string) =>
  new AppError("unauthenticated", reason, message);
export const unavailable = (reason: ReasonOf<"unavailable">, message?: string) =>
  new AppError("unavailable", reason, message);
