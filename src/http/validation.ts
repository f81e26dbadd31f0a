import { Ajv, type Options } from "ajv";
import type { FastifySchemaCompiler } from "fastify";

/**
 * A strict validator compiler for a surface: no type coercion, no silent removal of unknown
 * properties (schemas decide with `additionalProperties`), every error reported.
 */
export function strictValidatorCompiler(options: Options = {}): FastifySchemaCompiler<unknown> {
  const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, strict: false, ...options });
  return ({ schema }) => ajv.compile(schema as object);
}

/** Turns Fastify/ajv validation errors into one readable sentence. */
export function describeValidation(
  errors: ReadonlyArray<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>,
  context: string,
): string {
  const e = errors[0];
  if (!e) return "invalid request";
  const path = (e.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
  const params = e.params ?? {};
  if (typeof params.missingProperty === "string") return `missing field: ${params.missingProperty}`;
  if (typeof params.additionalProperty === "string") return `unknown field: ${params.additionalProperty}`;
  const where = path || context;
  return `${where} ${e.message ?? "is invalid"}`;
}
