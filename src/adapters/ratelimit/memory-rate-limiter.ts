import type { RateLimiter } from "../../ports/rate-limit.ts";

/** Single-node rate limiter: fixed windows and slots in Maps, swept as they expire. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  /** Slot key → when the next slot is free. */
  private readonly slots = new Map<string, number>();
  private lastSweep = 0;

  async hit(key: string, limit: number, windowMs: number) {
    const now = Date.now();
    this.sweep(now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    const ok = w.count <= limit;
    return { ok, retryAfterMs: ok ? 0 : w.resetAt - now, count: w.count };
  }

  async peek(key: string) {
    const w = this.windows.get(key);
    return w && w.resetAt > Date.now() ? w.count : 0;
  }

  async release(key: string) {
    const w = this.windows.get(key);
    if (!w) return;
    if (--w.count <= 0) this.windows.delete(key);
  }

  async reset(key: string) {
    this.windows.delete(key);
  }

  async slot(key: string, spacingMs: number, maxWaitMs: number) {
    const now = Date.now();
    this.sweep(now);
    const wait = Math.max(0, (this.slots.get(key) ?? 0) - now);
    if (wait > maxWaitMs) return { ok: false, waitMs: wait };
    this.slots.set(key, now + wait + spacingMs);
    return { ok: true, waitMs: wait };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    for (const [k, at] of this.slots) if (at <= now) this.slots.delete(k);
  }
}
