/**
 * The statistics precision notation of seed 003 (`prec`): a number of seconds, optionally with a
 * unit — `300`, `300s`, `5m`, `1h`, `1d` (also `1w`, `1y` = 365 days). `5m` and `300` are one
 * precision. Returns the seconds, or null when the text is not one.
 */
const UNIT: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

export const MAX_PRECISION_SECONDS = 31536000 * 10;

export function parsePrecision(text: string): number | null {
  const m = /^([0-9]{1,9})([smhdwy]?)$/i.exec(text.trim());
  if (!m) return null;
  const secs = Number(m[1]) * (UNIT[(m[2] ?? "").toLowerCase()] ?? 0);
  return secs >= 1 && secs <= MAX_PRECISION_SECONDS ? secs : null;
}

/** The shortest spelling of a precision in seconds (`300` → `5m`, `3600` → `1h`, `90` → `90s`). */
export function formatPrecision(secs: number): string {
  for (const [u, n] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const)
    if (secs % n === 0) return `${secs / n}${u}`;
  return `${secs}s`;
}

/** The start (seconds) of the bucket of width `prec` that holds `nowMs`. */
export const bucketOf = (nowMs: number, prec: number): number => Math.floor(nowMs / 1000 / prec) * prec;

/** `2006-01-02 15:04:05` in UTC, the original server's `time-str` layout. */
export function timeString(secs: number): string {
  return new Date(secs * 1000).toISOString().slice(0, 19).replace("T", " ");
}
