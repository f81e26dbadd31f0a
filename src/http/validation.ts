import { Ajv, type Options } from "ajv";
import type { FastifySchemaCompiler } from "fastify";

/**
 * A strict validator compiler for a surface: no type coercion, no silent removal of unknown
 * properties (schemas decide with `additionalProperties`), every error reported.
 */
export function strictValidatorCompiler(options: Options = {}): FastifySchemaCompiler<unknown> {
  const ajv = new Ajv({
    coerceTypes: false,
    removeAdditional: false,
    allErrors: false,
    strict: false,
    verbose: true,
    ...options,
  });
  return ({ schema }) => ajv.compile(schema as object);
}

/** Turns Fastify/ajv validation errors into one readable sentence. */
export function describeValidation(
  errors: ReadonlyArray<{
    instancePath?: string;
    message?: string;
    keyword?: string;
    params?: Record<string, unknown>;
    schema?: unknown;
  }>,
  context: string,
): string {
  // For a union (anyOf) ajv reports each branch first; the anyOf error itself lists the choices.
  const union = errors.find((x) => x.keyword === "anyOf" && Array.isArray(x.schema));
  if (union) {
    const kinds = (union.schema as Array<{ type?: string }>).map((b) => b.type ?? "value");
    const where = (union.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".") || context;
    return `${where} must be one of: ${kinds.join(", ")}`;
  }
  const e = errors[0];
  if (!e) return "invalid request";
  const path = (e.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
  const params = e.params ?? {};
  if (typeof params.missingProperty === "string") return `missing field: ${params.missingProperty}`;
  if (typeof params.additionalProperty === "string") return `unknown field: ${params.additionalProperty}`;
  const where = path || context;
  return `${where} ${e.message ?? "is invalid"}`;
}
