/**
 * Fixed-window counters shared by every node (Redis in a cluster, memory on one node).
 * `hit` counts one event under `key` and says whether it is within `limit` per `windowMs`.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; retryAfterMs: number }>;
  /** Current count under `key` without counting (0 when none). */
  peek(key: string): Promise<number>;
  reset(key: string): Promise<void>;
}
