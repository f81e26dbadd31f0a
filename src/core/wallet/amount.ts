/**
 * Money on the wire and in storage (docs/red-packets.md "Amounts"). Storage and every
 * computation use integer minor units: 1 coin = 10^8 units (8 decimals). The wire (chat33) uses
 * JSON numbers; they are converted here, exactly, or refused — never rounded.
 */

export const DECIMALS = 8;
export const UNITS_PER_COIN = 10 ** DECIMALS;
/**
 * The largest amount of units anything may hold, and everything issued of one coin together:
 * 10^15 − 1 units = 9 999 999.99999999 coins. 15 significant digits is what a JSON (IEEE double)
 * number carries exactly, so every balance and every sum reads back from the wire unchanged; it
 * is also below 2^53, so every sum stays a JavaScript safe integer.
 */
export const MAX_UNITS = 999_999_999_999_999;

/** Units as a decimal string without trailing zeros: 30000000 → "0.3", 100000000 → "1". */
export function formatUnits(units: number): string {
  if (!Number.isSafeInteger(units)) throw new RangeError(`not a safe integer amount: ${units}`);
  const neg = units < 0;
  const abs = Math.abs(units);
  const whole = Math.floor(abs / UNITS_PER_COIN);
  const frac = String(abs % UNITS_PER_COIN)
    .padStart(DECIMALS, "0")
    .replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/**
 * Units as the JSON number the wire shows: the shortest float that reads back as the same decimal,
 * so 10000000 + 20000000 units show as 0.3 (never 0.30000000000000004).
 */
export const unitsToWire = (units: number): number => Number(formatUnits(units));

/**
 * A wire amount (a JSON number, or a decimal string) → units; null when it is not a positive
 * amount with at most 8 decimals within MAX_UNITS (0.123456789 is refused, not rounded).
 */
export function wireToUnits(v: unknown): number | null {
  let text: string;
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v <= 0) return null;
    // the float's own shortest decimal form; exponent forms (1e-7) are expanded below
    text = String(v);
  } else if (typeof v === "string") text = v.trim();
  else return null;
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!m) return null;
  let digits = m[1] + (m[2] ?? "");
  let point = m[1].length + (m[3] ? Number(m[3]) : 0);
  if (point < 0) {
    digits = "0".repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += "0".repeat(point - digits.length);
  const whole = digits.slice(0, point) || "0";
  const frac = digits.slice(point).replace(/0+$/, "");
  if (frac.length > DECIMALS) return null;
  const big = BigInt(whole) * BigInt(UNITS_PER_COIN) + BigInt(frac.padEnd(DECIMALS, "0") || "0");
  if (big <= 0n || big > BigInt(MAX_UNITS)) return null;
  return Number(big);
}
