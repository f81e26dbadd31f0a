import type { Hub, HubNodeInfo, Json, Presence } from "../../ports/hub.ts";
import { HubBase, type NodeMessage, randomNodeId } from "./hub-base.ts";

/**
 * The in-process "cluster": hubs that share one bus see each other as nodes. Production uses one
 * bus per process (a single node); tests share a bus to run several nodes in one process.
 */
export class MemoryBus {
  readonly hubs = new Map<string, MemoryHub>();
  /** nodeId → set name → members. */
  readonly presence = new Map<string, Map<string, Set<string>>>();
}

export class MemoryHub extends HubBase implements Hub {
  readonly kind = "memory";
  private readonly topics = new Set<string>();
  private started = false;

  constructor(
    private readonly bus: MemoryBus = new MemoryBus(),
    nodeId: string = randomNodeId(),
  ) {
    super(nodeId);
  }

  healthy(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    this.bus.hubs.set(this.nodeId, this);
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    this.bus.hubs.delete(this.nodeId);
    this.bus.presence.delete(this.nodeId);
    this.rejectAllPending();
  }

  async publish(topic: string, payload: Json): Promise<void> {
    for (const hub of this.bus.hubs.values()) {
      if (hub.topics.has(topic)) hub.dispatchTopic(topic, payload);
    }
  }

  async subscribe(topic: string): Promise<void> {
    this.topics.add(topic);
  }

  async unsubscribe(topic: string): Promise<void> {
    this.topics.delete(topic);
  }

  protected async sendToNode(nodeId: string, msg: NodeMessage): Promise<void> {
    const hub = this.bus.hubs.get(nodeId);
    if (!hub?.started) throw new Error(`node ${nodeId} is not connected`);
    // Asynchronous like a real transport, so callers never depend on re-entrancy.
    queueMicrotask(() => hub.dispatchNode(msg));
  }

  async nodes(): Promise<HubNodeInfo[]> {
    const now = Date.now();
    return [...this.bus.hubs.values()].map((h) => ({ nodeId: h.nodeId, seenAt: now, info: h.currentInfo() }));
  }

  /** Nothing to write: `nodes()` reads every hub's entry live. */
  async announce(): Promise<void> {}

  presenceStore(): Presence {
    return new MemoryPresence(this.bus, this.nodeId);
  }
}

class MemoryPresence implements Presence {
  constructor(
    private readonly bus: MemoryBus,
    private readonly nodeId: string,
  ) {}

  private local(): Map<string, Set<string>> {
    let m = this.bus.presence.get(this.nodeId);
    if (!m) {
      m = new Map();
      this.bus.presence.set(this.nodeId, m);
    }
    return m;
  }

  async add(set: string, member: string): Promise<void> {
    const local = this.local();
    let s = local.get(set);
    if (!s) {
      s = new Set();
      local.set(set, s);
    }
    s.add(member);
  }

  async remove(set: string, member: string): Promise<void> {
    const local = this.local();
    const s = local.get(set);
    if (!s) return;
    s.delete(member);
    if (s.size === 0) local.delete(set);
  }

  async members(set: string): Promise<string[]> {
    const out: string[] = [];
    for (const [nodeId, sets] of this.bus.presence) {
      if (!this.bus.hubs.has(nodeId)) continue;
      const s = sets.get(set);
      if (s) for (const m of s) out.push(m);
    }
    return out;
  }

  async count(set: string): Promise<number> {
    let n = 0;
    for (const [nodeId, sets] of this.bus.presence) {
      if (this.bus.hubs.has(nodeId)) n += sets.get(set)?.size ?? 0;
    }
    return n;
  }
}
