import { Redis } from "ioredis";
import { AppError } from "../../ports/errors.ts";
import type { Hub, HubNodeInfo, Json, Presence } from "../../ports/hub.ts";
import { HubBase, type NodeMessage, randomNodeId } from "./hub-base.ts";

export interface RedisHubOptions {
  url: string;
  prefix: string;
  nodeId?: string;
  heartbeatMs?: number;
  /** A node whose heartbeat is older than this is dead (its presence is dropped). */
  nodeTtlMs?: number;
  /**
   * Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis ≥ 7): true, false, or "auto" (default: the
   * server's version decides at start).
   */
  sharded?: boolean | "auto";
}

/**
 * A Redis command's result; a failure (Redis restarting or unreachable) becomes `unavailable`
 * (`hub_unavailable`), which every surface answers as its "try again" error, never as a 500.
 */
export async function redisCall<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError("unavailable", "hub_unavailable", `Redis: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** Most members one SADD of a presence re-write carries. */
const RESYNC_CHUNK = 1000;

/**
 * Redis implementation of the hub: pub/sub for topics and node channels (sharded pub/sub —
 * SPUBLISH/SSUBSCRIBE — when the server offers it, so a Redis Cluster spreads channels over its
 * shards; classic PUBLISH/SUBSCRIBE otherwise), a sorted set as node registry, per-node sets for
 * presence. This class only moves bytes; the protocol lives in HubBase.
 *
 * Keys (all under `prefix`): `t:<topic>` channel per topic, `n:<nodeId>` channel per node,
 * `nodes` zset nodeId → last heartbeat (ms), `nodeinfo` hash nodeId → JSON, `p:<nodeId>:<set>`
 * presence set, `pk:<nodeId>` the presence keys a node owns (for cleanup after a crash).
 *
 * Surviving Redis: ioredis reconnects and re-subscribes every channel by itself. Each node keeps
 * its own presence contribution in memory; when its registry entry was missing at a heartbeat (a
 * Redis restart emptied it, or the others presumed this node dead) or its connection came back,
 * the node writes its registry entry and its whole presence again, so lists and counts are exact
 * again within one heartbeat of Redis being back.
 */
export class RedisHub extends HubBase implements Hub {
  readonly kind = "redis";
  readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  readonly nodeTtlMs: number;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly nodeChannel: string;
  private readonly shardedOption: boolean | "auto";
  /** Whether channels use SPUBLISH/SSUBSCRIBE (decided at start). */
  sharded = false;
  private started = false;
  private stopping = false;
  /** The presence this node contributes: set name → members (the source of every re-write). */
  readonly mirror = new Map<string, Set<string>>();
  /** Set when the connection came back: the next heartbeat re-writes this node's presence. */
  private resyncDue = false;
  private beating: Promise<void> | null = null;

  constructor(opts: RedisHubOptions) {
    super(opts.nodeId || randomNodeId());
    this.prefix = opts.prefix;
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.nodeTtlMs = opts.nodeTtlMs ?? 15000;
    this.shardedOption = opts.sharded ?? "auto";
    const common = {
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      enableOfflineQueue: true,
      // reconnect quickly and keep trying (ioredis' default backoff, capped at 1 s)
      retryStrategy: (times: number) => Math.min(times * 50, 1000),
    };
    this.pub = new Redis(opts.url, common);
    this.sub = new Redis(opts.url, common);
    this.nodeChannel = `${this.prefix}n:${this.nodeId}`;
    // Connection errors are retried by ioredis; surfacing them as process crashes would be worse.
    this.pub.on("error", () => {});
    this.sub.on("error", () => {});
  }

  healthy(): boolean {
    return this.pub.status === "ready" && this.sub.status === "ready";
  }

  async start(): Promise<void> {
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    this.sharded = this.shardedOption === "auto" ? await this.serverHasShardedPubSub() : this.shardedOption;
    const topicPrefix = `${this.prefix}t:`;
    const onMessage = (channelBuf: Buffer, message: Buffer) => {
      const channel = channelBuf.toString();
      let parsed: Json;
      try {
        parsed = JSON.parse(message.toString()) as Json;
      } catch {
        return;
      }
      if (channel === this.nodeChannel) this.dispatchNode(parsed as unknown as NodeMessage);
      else if (channel.startsWith(topicPrefix)) this.dispatchTopic(channel.slice(topicPrefix.length), parsed);
    };
    this.sub.on(this.sharded ? "smessageBuffer" : "messageBuffer", onMessage);
    await this.subscribeChannel(this.nodeChannel);
    // A previous life of this node id (fixed PARLEY_NODE_ID, killed) leaves no ghosts behind.
    await this.dropNode(this.nodeId);
    await this.beat();
    this.started = true;
    // After a lost connection: register and write the presence again at once.
    this.pub.on("ready", () => {
      if (!this.started || this.stopping) return;
      this.resyncDue = true;
      this.beat().catch(() => {});
    });
    this.heartbeat = setInterval(() => {
      this.beat().catch(() => {});
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private async serverHasShardedPubSub(): Promise<boolean> {
    try {
      const info = await this.pub.info("server");
      const m = /redis_version:(\d+)/.exec(info);
      return m !== null && Number(m[1]) >= 7;
    } catch {
      return false;
    }
  }

  private subscribeChannel(channel: string): Promise<unknown> {
    return this.sharded ? this.sub.ssubscribe(channel) : this.sub.subscribe(channel);
  }

  private publishChannel(channel: string, message: string): Promise<number> {
    return (this.sharded ? this.pub.spublish(channel, message) : this.pub.publish(channel, message)) as Promise<number>;
  }

  /** One heartbeat (never two at once): registry entry, presence re-write when due, dead-node sweep. */
  private beat(): Promise<void> {
    this.beating ??= this.beatOnce().finally(() => {
      this.beating = null;
    });
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    const now = Date.now();
    const res = await this.pub
      .multi()
      .zadd(`${this.prefix}nodes`, now, this.nodeId)
      .hset(`${this.prefix}nodeinfo`, this.nodeId, JSON.stringify(this.currentInfo()))
      .exec();
    // ZADD answers 1 when the entry was new: Redis lost it (restart) or another node swept us.
    const added = Number(res?.[0]?.[1] ?? 0) === 1;
    if (this.started && (added || this.resyncDue)) {
      this.resyncDue = false;
      await this.resyncPresence();
    }
    await this.sweepDeadNodes(now);
  }

  /** Writes this node's whole presence again from its mirror (atomically per node). */
  private async resyncPresence(): Promise<void> {
    const owned = this.ownedKeysKey();
    const stale = await this.pub.smembers(owned);
    const m = this.pub.multi();
    if (stale.length) m.del(...stale);
    m.del(owned);
    for (const [set, members] of this.mirror) {
      if (members.size === 0) continue;
      const key = this.keyFor(this.nodeId, set);
      const all = [...members];
      for (let i = 0; i < all.length; i += RESYNC_CHUNK) m.sadd(key, ...all.slice(i, i + RESYNC_CHUNK));
      m.sadd(owned, key);
    }
    await m.exec();
  }

  /** Writes this node's registry entry now (status changes such as draining). */
  async announce(): Promise<void> {
    await this.beat();
  }

  /** Drops registry entries and presence of nodes whose heartbeat expired. */
  private async sweepDeadNodes(now: number): Promise<void> {
    const dead = await this.pub.zrangebyscore(`${this.prefix}nodes`, "-inf", now - this.nodeTtlMs);
    for (const nodeId of dead) if (nodeId !== this.nodeId) await this.dropNode(nodeId);
  }

  private async dropNode(nodeId: string): Promise<void> {
    const pk = `${this.prefix}pk:${nodeId}`;
    const keys = await this.pub.smembers(pk);
    const m = this.pub.multi();
    if (keys.length) m.del(...keys);
    m.del(pk).zrem(`${this.prefix}nodes`, nodeId).hdel(`${this.prefix}nodeinfo`, nodeId);
    await m.exec();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.rejectAllPending();
    try {
      if (this.pub.status === "ready") await this.dropNode(this.nodeId);
    } catch {
      // best effort: a dead node's entries expire anyway
    }
    this.sub.disconnect();
    await this.pub.quit().catch(() => this.pub.disconnect());
  }

  async publish(topic: string, payload: Json): Promise<void> {
    await redisCall(this.publishChannel(`${this.prefix}t:${topic}`, JSON.stringify(payload)));
  }

  async subscribe(topic: string): Promise<void> {
    await redisCall(this.subscribeChannel(`${this.prefix}t:${topic}`));
  }

  async unsubscribe(topic: string): Promise<void> {
    const channel = `${this.prefix}t:${topic}`;
    await (this.sharded ? this.sub.sunsubscribe(channel) : this.sub.unsubscribe(channel));
  }

  /** A message to one node goes on that node's own channel: no other node receives it. */
  protected async sendToNode(nodeId: string, msg: NodeMessage): Promise<void> {
    const receivers = await this.publishChannel(`${this.prefix}n:${nodeId}`, JSON.stringify(msg));
    if (receivers === 0) throw new Error(`node ${nodeId} is not connected`);
  }

  async nodes(): Promise<HubNodeInfo[]> {
    const now = Date.now();
    const raw = await redisCall(
      this.pub.zrangebyscore(`${this.prefix}nodes`, now - this.nodeTtlMs, "+inf", "WITHSCORES"),
    );
    const ids: string[] = [];
    const seen: number[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      ids.push(raw[i]);
      seen.push(Number(raw[i + 1]));
    }
    if (!ids.length) return [];
    const infos = await redisCall(this.pub.hmget(`${this.prefix}nodeinfo`, ...ids));
    return ids.map((nodeId, i) => {
      // this node's own entry is read live, not as of its last heartbeat: the node answering an
      // admin call (listend list, the dashboard) sees its own connection totals exact
      if (nodeId === this.nodeId) return { nodeId, seenAt: now, info: this.currentInfo() };
      let info: { [key: string]: Json } = {};
      try {
        info = JSON.parse(infos[i] ?? "{}");
      } catch {
        // keep empty
      }
      return { nodeId, seenAt: seen[i], info };
    });
  }

  presenceStore(): Presence {
    return new RedisPresence(this);
  }

  /** @internal used by RedisPresence */
  keyFor(nodeId: string, set: string): string {
    return `${this.prefix}p:${nodeId}:${set}`;
  }

  /** @internal */
  ownedKeysKey(): string {
    return `${this.prefix}pk:${this.nodeId}`;
  }
}

/**
 * Presence over Redis: this node's members of each set in `p:<nodeId>:<set>`, mirrored in memory
 * (the mirror changes first, synchronously, so a re-write after a Redis restart holds every change
 * made before it); reads are the union over the nodes whose heartbeat is live.
 */
class RedisPresence implements Presence {
  constructor(private readonly hub: RedisHub) {}

  async add(set: string, member: string): Promise<void> {
    let s = this.hub.mirror.get(set);
    if (!s) {
      s = new Set();
      this.hub.mirror.set(set, s);
    }
    s.add(member);
    const key = this.hub.keyFor(this.hub.nodeId, set);
    await redisCall(this.hub.pub.multi().sadd(key, member).sadd(this.hub.ownedKeysKey(), key).exec());
  }

  async remove(set: string, member: string): Promise<void> {
    const s = this.hub.mirror.get(set);
    if (s) {
      s.delete(member);
      if (s.size === 0) this.hub.mirror.delete(set);
    }
    await redisCall(this.hub.pub.srem(this.hub.keyFor(this.hub.nodeId, set), member));
  }

  async members(set: string): Promise<string[]> {
    const nodes = await this.hub.nodes();
    if (!nodes.length) return [];
    const p = this.hub.pub.pipeline();
    for (const n of nodes) p.smembers(this.hub.keyFor(n.nodeId, set));
    const results = (await redisCall(p.exec())) ?? [];
    const out: string[] = [];
    for (const [err, members] of results) if (!err) out.push(...(members as string[]));
    return out;
  }

  async count(set: string): Promise<number> {
    const nodes = await this.hub.nodes();
    if (!nodes.length) return 0;
    const p = this.hub.pub.pipeline();
    for (const n of nodes) p.scard(this.hub.keyFor(n.nodeId, set));
    const results = (await redisCall(p.exec())) ?? [];
    let total = 0;
    for (const [err, n] of results) if (!err) total += n as number;
    return total;
  }
}
