/**
 * Limits on the shape of client-supplied JSON, checked at the edge (HTTP body parsers, socket
 * frame parsers) before anything is stored, rendered or put into a shared batch.
 *
 * Why: `JSON.parse` accepts arrays nested thousands deep, but `JSON.stringify`, structured clone
 * and most recursive code then throw `RangeError` (or blow the stack) — inside whatever shared
 * work happens to touch the value. A depth limit at the edge turns that into the surface's
 * "bad format" answer for the one request that sent it.
 */

/** Deepest nesting (objects and arrays) any client-supplied JSON value may have. */
export const MAX_JSON_DEPTH = 32;

/**
 * Nesting depth of a JSON text, scanned without parsing (strings and escapes are skipped), so a
 * hostile text is refused before `JSON.parse` builds it. Returns the deepest level reached, or
 * stops early and returns `limit + 1` as soon as `limit` is exceeded. Malformed text is not
 * detected here — `JSON.parse` still decides validity.
 */
export function jsonTextDepth(text: string, limit: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return deepest;
}

/** True when the JSON text nests deeper than `limit`. */
export function jsonTextTooDeep(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  // Fast path: nesting needs an opening bracket per level, so a text with at most `limit` of them
  // (counted anywhere, strings included) cannot be too deep. `indexOf` is native and skips ahead,
  // so the usual small, flat body costs a few calls instead of a scan of every character.
  let openers = 0;
  for (let i = text.indexOf("{"); i !== -1 && openers <= limit; i = text.indexOf("{", i + 1)) openers++;
  for (let i = text.indexOf("["); i !== -1 && openers <= limit; i = text.indexOf("[", i + 1)) openers++;
  if (openers <= limit) return false;
  return jsonTextDepth(text, limit) > limit;
}

/**
 * Nesting depth of an already-parsed value (iterative: safe on hostile input), stopping at
 * `limit + 1`. Scalars have depth 0, `[]` and `{}` depth 1.
 */
export function jsonValueDepth(value: unknown, limit: number = MAX_JSON_DEPTH): number {
  if (value === null || typeof value !== "object") return 0;
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > deepest) {
      deepest = d;
      if (deepest > limit) return deepest;
    }
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const child of children) {
      if (child !== null && typeof child === "object") stack.push([child, d + 1]);
    }
  }
  return deepest;
}

/** True when the value nests deeper than `limit`. */
export function jsonValueTooDeep(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  return jsonValueDepth(value, limit) > limit;
}
