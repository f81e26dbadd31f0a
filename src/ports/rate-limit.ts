/**
 * Fixed-window counters and spacing slots shared by every node (Redis in a cluster, memory on one
 * node). Every operation is atomic, so concurrent requests cannot all pass one check.
 */
export interface RateLimiter {
  /**
   * Counts one event under `key` and says whether it is within `limit` per `windowMs` (the window
   * starts at the first hit). `count` is the count after this hit.
   */
  hit(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; retryAfterMs: number; count: number }>;
  /** Current count under `key` without counting (0 when none). */
  peek(key: string): Promise<number>;
  /** Takes back one earlier `hit` (a reservation that turned out not to count); never below 0. */
  release(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  /**
   * Spacing: reserves the next free slot under `key`, `spacingMs` after the previous reservation.
   * `waitMs` is how long the caller must wait for its slot; when that would exceed `maxWaitMs`
   * nothing is reserved and `ok` is false.
   */
  slot(key: string, spacingMs: number, maxWaitMs: number): Promise<{ ok: boolean; waitMs: number }>;
}
