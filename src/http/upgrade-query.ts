import type { TSchema } from "@sinclair/typebox";
import { describeValidation, strictValidatorCompiler } from "./validation.ts";

/**
 * The query string of a WebSocket upgrade as an object (a repeated parameter becomes an array,
 * which then fails a string schema), for validation with the same TypeBox schemas and the same
 * strict validator as HTTP routes.
 */
export function upgradeQuery(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export type QueryCheck<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

/** Compiles a checker for an upgrade's query: the first problem names its field and says why. */
export function upgradeQueryValidator<T>(schema: TSchema, url: string): (u: URL) => QueryCheck<T> {
  const validate = strictValidatorCompiler()({ schema, method: "GET", url, httpPart: "querystring" }) as ((
    v: unknown,
  ) => boolean) & { errors?: Parameters<typeof describeValidation>[0] | null };
  return (u) => {
    const value = upgradeQuery(u);
    if (validate(value)) return { ok: true, value: value as T };
    const errors = validate.errors ?? [];
    const first = errors[0];
    const field =
      (first?.instancePath ?? "").replace(/^\//, "").split("/")[0] ||
      String(first?.params?.missingProperty ?? first?.params?.additionalProperty ?? "");
    return { ok: false, field, message: describeValidation(errors, "query") };
  };
}
