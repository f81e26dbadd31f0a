import { randomBytes } from "node:crypto";
import { AppError } from "../../ports/errors.ts";
import type { Json, RequestHandler, TopicHandler } from "../../ports/hub.ts";

/** Wire messages on a node's private channel. */
export type NodeMessage =
  | { t: "req"; id: string; from: string; p: Json }
  | { t: "res"; id: string; ok: true; p: Json }
  | { t: "res"; id: string; ok: false; err: string };

interface Pending {
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function randomNodeId(): string {
  return randomBytes(8).toString("hex");
}

/**
 * What every hub shares: handler registration, request/response correlation and local short-cuts.
 * Subclasses only move bytes (`sendToNode`) and call `dispatchTopic` / `dispatchNode` on arrival.
 */
export abstract class HubBase {
  readonly nodeId: string;
  protected topicHandlers: TopicHandler[] = [];
  protected requestHandler: RequestHandler | null = null;
  private pending = new Map<string, Pending>();
  private seq = 0;
  protected info: { [key: string]: Json } = {};
  private readonly infoProviders: Array<() => { [key: string]: Json }> = [];

  constructor(nodeId: string) {
    this.nodeId = nodeId;
  }

  onMessage(handler: TopicHandler): void {
    this.topicHandlers.push(handler);
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  setNodeInfo(info: { [key: string]: Json }): void {
    this.info = { ...this.info, ...info };
  }

  addNodeInfoProvider(fn: () => { [key: string]: Json }): void {
    this.infoProviders.push(fn);
  }

  /** This node's registry entry now: the static info merged with every provider's answer. */
  protected currentInfo(): { [key: string]: Json } {
    let out = this.info;
    for (const fn of this.infoProviders) {
      try {
        out = { ...out, ...fn() };
      } catch {
        // a broken provider must not stop the heartbeat
      }
    }
    return out;
  }

  protected dispatchTopic(topic: string, payload: Json): void {
    for (const h of this.topicHandlers) h(topic, payload);
  }

  protected abstract sendToNode(nodeId: string, msg: NodeMessage): Promise<void>;

  async request(nodeId: string, payload: Json, timeoutMs = 5000): Promise<Json> {
    if (nodeId === this.nodeId) return this.handleRequest(payload);
    const id = `${this.nodeId}.${++this.seq}`;
    const p = new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AppError("unavailable", "node_timeout", `node ${nodeId} did not answer`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    try {
      await this.sendToNode(nodeId, { t: "req", id, from: this.nodeId, p: payload });
    } catch (e) {
      const entry = this.pending.get(id);
      if (entry) {
        clearTimeout(entry.timer);
        this.pending.delete(id);
      }
      throw e instanceof AppError ? e : new AppError("unavailable", "node_unreachable", (e as Error).message);
    }
    return p;
  }

  private async handleRequest(payload: Json): Promise<Json> {
    if (!this.requestHandler) throw new AppError("unavailable", "no_handler");
    return this.requestHandler(payload);
  }

  /** Called by subclasses when a message for this node arrives. */
  protected dispatchNode(msg: NodeMessage): void {
    if (msg.t === "req") {
      this.handleRequest(msg.p).then(
        (p) => this.sendToNode(msg.from, { t: "res", id: msg.id, ok: true, p }).catch(() => {}),
        (e: unknown) =>
          this.sendToNode(msg.from, {
            t: "res",
            id: msg.id,
            ok: false,
            err: e instanceof AppError ? e.reason : "internal",
          }).catch(() => {}),
      );
      return;
    }
    const entry = this.pending.get(msg.id);
    if (!entry) return; // timed out already
    this.pending.delete(msg.id);
    clearTimeout(entry.timer);
    if (msg.ok) entry.resolve(msg.p);
    else entry.reject(new AppError("unavailable", msg.err, `remote node failed: ${msg.err}`));
  }

  protected rejectAllPending(): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new AppError("unavailable", "hub_stopped"));
      this.pending.delete(id);
    }
  }
}
