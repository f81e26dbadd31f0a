import type { Redis } from "ioredis";
import type { RateLimiter } from "../../ports/rate-limit.ts";
import { redisCall } from "../hub/redis-hub.ts";

/** DECR that never leaves a key at or below zero. */
const RELEASE = `local v = redis.call('DECR', KEYS[1]) if v <= 0 then redis.call('DEL', KEYS[1]) end return v`;

/** Next free slot by the Redis clock (one clock for every node): returns {reserved 0/1, waitMs}. */
const SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
local wait = nextAt - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[2]) then return {0, wait} end
local spacing = tonumber(ARGV[1])
redis.call('SET', KEYS[1], now + wait + spacing, 'PX', wait + spacing + 1000)
return {1, wait}`;

/** Cluster-wide rate limiter: INCR + PEXPIRE (set on the first hit of a window) per key; Lua for the rest. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async hit(key: string, limit: number, windowMs: number) {
    const k = `${this.prefix}rl:${key}`;
    const res = await redisCall(this.redis.multi().incr(k).pexpire(k, windowMs, "NX").pttl(k).exec());
    const count = Number(res?.[0]?.[1] ?? 0);
    const ttl = Number(res?.[2]?.[1] ?? windowMs);
    const ok = count <= limit;
    return { ok, retryAfterMs: ok ? 0 : Math.max(ttl, 0), count };
  }

  async peek(key: string) {
    return Number((await redisCall(this.redis.get(`${this.prefix}rl:${key}`))) ?? 0);
  }

  async release(key: string) {
    // DECR keeps the window's TTL; a key that expired meanwhile comes back as -1 and is deleted.
    await redisCall(this.redis.eval(RELEASE, 1, `${this.prefix}rl:${key}`));
  }

  async reset(key: string) {
    await redisCall(this.redis.del(`${this.prefix}rl:${key}`));
  }

  async slot(key: string, spacingMs: number, maxWaitMs: number) {
    const res = (await redisCall(this.redis.eval(SLOT, 1, `${this.prefix}slot:${key}`, spacingMs, maxWaitMs))) as [
      number,
      number,
    ];
    return { ok: Number(res[0]) === 1, waitMs: Number(res[1]) };
  }
}
