/**
 * The one error catalogue. Core code throws `AppError` with a stable `code`; each surface maps the
 * code to its own envelope and numbers in one table at its edge. Nothing in core knows about HTTP.
 * The type itself is defined with the ports (`ports/errors.ts`) so adapters can throw it too.
 */
export * from "../ports/errors.ts";
