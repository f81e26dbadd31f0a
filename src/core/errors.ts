import { type ErrorCode, AppError as PortAppError } from "../ports/errors.ts";
import type { Reason, ReasonOf } from "./reasons.ts";

export type { ErrorCode } from "../ports/errors.ts";
/**
 * The one error catalogue. Core code throws `AppError` with a stable `code` and a `reason` from
 * the catalogue in reasons.ts; each surface maps them to its own envelope and numbers in one table
 * at its edge. Nothing in core knows about HTTP.
 *
 * The class itself is defined with the ports (`ports/errors.ts`) so adapters and the realtime
 * layer can throw it without importing core; here it is re-exported **typed**: constructed from
 * core and the surfaces it takes only catalogue reasons, and its `reason` reads as a `Reason`.
 * (An adapter's reasons are in the catalogue too; a reason from a node of another version is not
 * — every surface then answers by its code.)
 */
export { ErrorCodes } from "../ports/errors.ts";
export type { Reason } from "./reasons.ts";

export type AppError = PortAppError & { readonly reason: Reason };
export const AppError = PortAppError as unknown as {
  new (code: ErrorCode, reason: Reason, message?: string): AppError;
  prototype: AppError;
};

/** An AppError whose code is the catalogue's code for `reason`. */
export const appError = <C extends ErrorCode>(code: C, reason: ReasonOf<C>, message?: string): AppError =>
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
