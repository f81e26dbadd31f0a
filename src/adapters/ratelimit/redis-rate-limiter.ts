import type { Redis } from "ioredis";
import type { RateLimiter } from "../../ports/rate-limit.ts";

/** Cluster-wide rate limiter: INCR + PEXPIRE (set on the first hit of a window) per key. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async hit(key: string, limit: number, windowMs: number) {
    const k = `${this.prefix}rl:${key}`;
    const res = await this.redis.multi().incr(k).pexpire(k, windowMs, "NX").pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    const ttl = Number(res?.[2]?.[1] ?? windowMs);
    return { ok: count <= limit, retryAfterMs: count <= limit ? 0 : Math.max(ttl, 0) };
  }

  async peek(key: string) {
    return Number((await this.redis.get(`${this.prefix}rl:${key}`)) ?? 0);
  }

  async reset(key: string) {
    await this.redis.del(`${this.prefix}rl:${key}`);
  }
}
