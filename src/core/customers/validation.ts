import { invalid } from "../errors.ts";
import { jsonTextTooDeep, jsonValueTooDeep } from "../json-limits.ts";

/**
 * Field validation of the customer console (docs/console.md). Every value arrives as a string
 * (query, form) or a JSON scalar; these functions turn it into the stored type or throw
 * `invalid("bad_field", "<field> …")` naming the field. Nothing here knows about HTTP.
 */

export type Params = Record<string, unknown>;

const fieldError = (field: string, why: string) => invalid("bad_field", `${field} ${why}`);

/** A trimmed string; "" when absent. Numbers are accepted (a form has no types). */
export function text(p: Params, field: string, max: number, required = false): string {
  const v = p[field];
  if (v === undefined || v === null || v === "") {
    if (required) throw invalid("missing_field", `missing field: ${field}`);
    return "";
  }
  if (typeof v !== "string" && typeof v !== "number") throw fieldError(field, "must be a string");
  const s = String(v).trim();
  if (required && s === "") throw invalid("missing_field", `missing field: ${field}`);
  if (s.length > max) throw fieldError(field, `must be at most ${max} characters`);
  // Control characters (NUL included: PostgreSQL cannot store it) are never part of these fields.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f]/.test(s)) throw fieldError(field, "must not contain control characters");
  return s;
}

/** A non-negative integer (number or digit string) ≤ max; `fallback` when absent. */
export function count(p: Params, field: string, fallback: number | null = 0, max = 2 ** 31 - 1): number {
  const v = p[field];
  if (v === undefined || v === null || v === "") {
    if (fallback === null) throw invalid("missing_field", `missing field: ${field}`);
    return fallback;
  }
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^\s*\d{1,15}\s*$/.test(v) ? Number(v.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) throw fieldError(field, `must be an integer from 0 to ${max}`);
  return n;
}

export function port(p: Params, field: string, required: boolean): number {
  const v = p[field];
  if (!required && (v === undefined || v === null || v === "")) return 0;
  const n = count(p, field, null, 65535);
  if (n < 1) throw fieldError(field, "must be a port from 1 to 65535");
  return n;
}

/**
 * The shapes below, as pattern sources without anchors, so the surface's route schemas
 * (src/surfaces/console/schemas.ts) check the same shapes at the edge.
 */
export const DATE_SOURCE = "(\\d{4})-(\\d{2})-(\\d{2})";
/** 5–8 hex octets separated by `:` or `-` (one separator throughout); the seed's example has five. */
export const MAC_SOURCE = "[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\\1[0-9A-Fa-f]{2}){3,6}";
/** A host name or an IPv4/IPv6 address. */
export const HOST_SOURCE =
  "\\[[0-9A-Fa-f:.]+\\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*";
/** Customer codes: 1–64 letters, digits, `_`, `-`, `.` (kept as text: `0513001` keeps its zero). */
export const CODE_SOURCE = "[A-Za-z0-9_.-]{1,64}";
export const PHONE_SOURCE = "[0-9+()\\- ]+";

const anchored = (source: string) => new RegExp(`^(?:${source})$`);

const DATE = anchored(DATE_SOURCE);

/** A calendar date `YYYY-MM-DD` (a real one: no 2016-02-30). */
export function date(p: Params, field: string, required: boolean): string {
  const s = text(p, field, 10, required);
  if (s === "") return s;
  const m = DATE.exec(s);
  if (!m) throw fieldError(field, "must be a date YYYY-MM-DD");
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d)
    throw fieldError(field, "must be a real date YYYY-MM-DD");
  return s;
}

const MAC = anchored(MAC_SOURCE);

export function mac(p: Params, field: string, required: boolean): string {
  const s = text(p, field, 23, required);
  if (s !== "" && !MAC.test(s)) throw fieldError(field, "must be 5 to 8 hex octets separated by ':' or '-'");
  return s.toUpperCase();
}

const HOST = anchored(HOST_SOURCE);

export function host(p: Params, field: string, required: boolean): string {
  const s = text(p, field, 253, required);
  if (s !== "" && !HOST.test(s)) throw fieldError(field, "must be a host name or an IP address");
  return s;
}

const CODE = anchored(CODE_SOURCE);

export function code(p: Params, field = "code"): string {
  const s = text(p, field, 64, true);
  if (!CODE.test(s)) throw fieldError(field, "must be 1 to 64 letters, digits, '_', '-' or '.'");
  return s;
}

const PHONE = anchored(PHONE_SOURCE);

export function phone(p: Params, field: string): string {
  const s = text(p, field, 32);
  if (s !== "" && !PHONE.test(s)) throw fieldError(field, "must be a phone number");
  return s;
}

/**
 * The `data` parameter as a JSON value: a string is parsed (after the depth check), anything else
 * is checked for depth; undefined when absent. Throws `bad_data` naming the problem.
 */
export function decodeData(v: unknown): unknown {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "string") {
    if (jsonTextTooDeep(v)) throw invalid("bad_data", "data is nested too deeply");
    try {
      return JSON.parse(v);
    } catch {
      throw invalid("bad_data", "data is not valid JSON");
    }
  }
  if (jsonValueTooDeep(v)) throw invalid("bad_data", "data is nested too deeply");
  return v;
}

/**
 * The `data` parameter of a user/group commit: a JSON array, or a JSON string of one. Depth is
 * checked with the one depth check of the project (core/json-limits.ts).
 */
export function rowsOf(p: Params, maxRows: number): Params[] {
  const v = decodeData(p.data);
  if (v === undefined) throw invalid("missing_data", "missing field: data");
  if (!Array.isArray(v)) throw invalid("bad_data", "data must be a JSON array of objects");
  if (v.length > maxRows) throw invalid("too_many_rows", `data has more than ${maxRows} rows`);
  return v.map((row, i) => {
    if (typeof row !== "object" || row === null || Array.isArray(row))
      throw invalid("bad_data", `data[${i}] must be an object`);
    return row as Params;
  });
}
