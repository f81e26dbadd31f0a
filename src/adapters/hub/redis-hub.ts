import { Redis } from "ioredis";
import type { Hub, HubNodeInfo, Json, Presence } from "../../ports/hub.ts";
import { HubBase, type NodeMessage, randomNodeId } from "./hub-base.ts";

export interface RedisHubOptions {
  url: string;
  prefix: string;
  nodeId?: string;
  heartbeatMs?: number;
  /** A node whose heartbeat is older than this is dead (its presence is dropped). */
  nodeTtlMs?: number;
}

/**
 * Redis implementation of the hub: pub/sub for topics and node channels, a sorted set as node
 * registry, per-node sets for presence. This class only moves bytes; the protocol lives in HubBase.
 *
 * Keys (all under `prefix`): `t:<topic>` channel per topic, `n:<nodeId>` channel per node,
 * `nodes` zset nodeId → last heartbeat, `nodeinfo` hash nodeId → JSON, `p:<nodeId>:<set>` presence
 * set, `pk:<nodeId>` the presence keys a node owns (for cleanup after a crash).
 */
export class RedisHub extends HubBase implements Hub {
  readonly kind = "redis";
  readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly nodeTtlMs: number;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly nodeChannel: string;

  constructor(opts: RedisHubOptions) {
    super(opts.nodeId || randomNodeId());
    this.prefix = opts.prefix;
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.nodeTtlMs = opts.nodeTtlMs ?? 15000;
    const common = { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true };
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
    const topicPrefix = `${this.prefix}t:`;
    this.sub.on("messageBuffer", (channelBuf: Buffer, message: Buffer) => {
      const channel = channelBuf.toString();
      let parsed: Json;
      try {
        parsed = JSON.parse(message.toString()) as Json;
      } catch {
        return;
      }
      if (channel === this.nodeChannel) this.dispatchNode(parsed as unknown as NodeMessage);
      else if (channel.startsWith(topicPrefix)) this.dispatchTopic(channel.slice(topicPrefix.length), parsed);
    });
    await this.sub.subscribe(this.nodeChannel);
    await this.beat();
    this.heartbeat = setInterval(() => {
      this.beat().catch(() => {});
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    await this.pub
      .multi()
      .zadd(`${this.prefix}nodes`, now, this.nodeId)
      .hset(`${this.prefix}nodeinfo`, this.nodeId, JSON.stringify(this.info))
      .exec();
    await this.sweepDeadNodes(now);
  }

  /** Drops registry entries and presence of nodes whose heartbeat expired. */
  private async sweepDeadNodes(now: number): Promise<void> {
    const dead = await this.pub.zrangebyscore(`${this.prefix}nodes`, "-inf", now - this.nodeTtlMs);
    for (const nodeId of dead) await this.dropNode(nodeId);
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
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.rejectAllPending();
    try {
      await this.dropNode(this.nodeId);
    } catch {
      // best effort: a dead node's entries expire anyway
    }
    this.sub.disconnect();
    await this.pub.quit().catch(() => this.pub.disconnect());
  }

  async publish(topic: string, payload: Json): Promise<void> {
    await this.pub.publish(`${this.prefix}t:${topic}`, JSON.stringify(payload));
  }

  async subscribe(topic: string): Promise<void> {
    await this.sub.subscribe(`${this.prefix}t:${topic}`);
  }

  async unsubscribe(topic: string): Promise<void> {
    await this.sub.unsubscribe(`${this.prefix}t:${topic}`);
  }

  protected async sendToNode(nodeId: string, msg: NodeMessage): Promise<void> {
    const receivers = await this.pub.publish(`${this.prefix}n:${nodeId}`, JSON.stringify(msg));
    if (receivers === 0) throw new Error(`node ${nodeId} is not connected`);
  }

  async nodes(): Promise<HubNodeInfo[]> {
    const now = Date.now();
    const raw = await this.pub.zrangebyscore(`${this.prefix}nodes`, now - this.nodeTtlMs, "+inf", "WITHSCORES");
    const ids: string[] = [];
    const seen: number[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      ids.push(raw[i]);
      seen.push(Number(raw[i + 1]));
    }
    if (!ids.length) return [];
    const infos = await this.pub.hmget(`${this.prefix}nodeinfo`, ...ids);
    return ids.map((nodeId, i) => {
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

class RedisPresence implements Presence {
  constructor(private readonly hub: RedisHub) {}

  async add(set: string, member: string): Promise<void> {
    const key = this.hub.keyFor(this.hub.nodeId, set);
    await this.hub.pub.multi().sadd(key, member).sadd(this.hub.ownedKeysKey(), key).exec();
  }

  async remove(set: string, member: string): Promise<void> {
    await this.hub.pub.srem(this.hub.keyFor(this.hub.nodeId, set), member);
  }

  async members(set: string): Promise<string[]> {
    const nodes = await this.hub.nodes();
    if (!nodes.length) return [];
    const p = this.hub.pub.pipeline();
    for (const n of nodes) p.smembers(this.hub.keyFor(n.nodeId, set));
    const results = (await p.exec()) ?? [];
    const out: string[] = [];
    for (const [err, members] of results) if (!err) out.push(...(members as string[]));
    return out;
  }

  async count(set: string): Promise<number> {
    const nodes = await this.hub.nodes();
    if (!nodes.length) return 0;
    const p = this.hub.pub.pipeline();
    for (const n of nodes) p.scard(this.hub.keyFor(n.nodeId, set));
    const results = (await p.exec()) ?? [];
    let total = 0;
    for (const [err, n] of results) if (!err) total += n as number;
    return total;
  }
}
