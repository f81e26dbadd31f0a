import { type MemoryBus, MemoryHub } from "../adapters/hub/memory-hub.ts";
import { RedisHub } from "../adapters/hub/redis-hub.ts";
import { MemoryRateLimiter } from "../adapters/ratelimit/memory-rate-limiter.ts";
import { RedisRateLimiter } from "../adapters/ratelimit/redis-rate-limiter.ts";
import type { Config } from "../config/schema.ts";
import type { Hub, Presence } from "../ports/hub.ts";
import type { RateLimiter } from "../ports/rate-limit.ts";

/**
 * The hub and rate limiter the config chooses: Redis when `redisUrl` is set, else in-process
 * (several apps sharing one `memoryBus` form a cluster in one process, for tests). Not started.
 */
export function createHub(
  config: Readonly<Config>,
  memoryBus?: MemoryBus,
): { hub: Hub & { presenceStore(): Presence }; limiter: RateLimiter } {
  if (config.redisUrl) {
    const hub = new RedisHub({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      nodeId: config.nodeId,
      heartbeatMs: config.cluster.heartbeatMs,
      nodeTtlMs: config.cluster.nodeTtlMs,
    });
    return { hub, limiter: new RedisRateLimiter(hub.pub, config.redisPrefix) };
  }
  return { hub: new MemoryHub(memoryBus, config.nodeId || undefined), limiter: new MemoryRateLimiter() };
}
