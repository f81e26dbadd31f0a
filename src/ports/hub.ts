/**
 * The hub port: how nodes of a cluster tell each other about realtime events.
 *
 * Guarantees (both implementations, see `test/hub.contract.test.ts`):
 * - `publish(topic)` reaches every node that has called `subscribe(topic)` — including this node —
 *   at most once; delivery is best-effort (pub/sub is lossy; durable data lives in storage).
 * - Messages published by one node on one topic arrive at a given node in publish order.
 * - `request(node)` reaches exactly that node's `onRequest` handler and resolves with its answer,
 *   or rejects with `unavailable` after the timeout; a request to this node's own id is handled
 *   locally without serialisation.
 * - Payloads are plain JSON values (the Redis hub serialises them once per publish).
 */
/**
 * The node operation (`Hub.request`) that drains a node: it stops accepting connections, leaves
 * iplist (its registry status becomes "draining") and closes its connections with the reconnect
 * code 1013, so clients come back through the load balancer on another node.
 */
export const NODE_DRAIN_OP = "node.drain";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface HubNodeInfo {
  nodeId: string;
  /** ms since epoch of the last heartbeat. */
  seenAt: number;
  info: { [key: string]: Json };
}

export type TopicHandler = (topic: string, payload: Json) => void;
export type RequestHandler = (payload: Json) => Promise<Json> | Json;

export interface Hub {
  readonly nodeId: string;
  /** "memory" or "redis". */
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while the hub can deliver (for /readyz). */
  healthy(): boolean;
  publish(topic: string, payload: Json): Promise<void>;
  /** Starts receiving `topic` on this node. Resolves once publishes made afterwards will arrive. */
  subscribe(topic: string): Promise<void>;
  unsubscribe(topic: string): Promise<void>;
  onMessage(handler: TopicHandler): void;
  onRequest(handler: RequestHandler): void;
  request(nodeId: string, payload: Json, timeoutMs?: number): Promise<Json>;
  /**
   * Live nodes of the cluster from the node registry: this node's own entry read live, every other
   * node's as of its last heartbeat.
   */
  nodes(): Promise<HubNodeInfo[]>;
  /** Merged into this node's registry entry at the next heartbeat. */
  setNodeInfo(info: { [key: string]: Json }): void;
  /**
   * Adds a function whose answer is merged into this node's registry entry at every heartbeat
   * (e.g. connection totals, advertised addresses, status). Must be cheap and synchronous.
   */
  addNodeInfoProvider(fn: () => { [key: string]: Json }): void;
  /** Writes this node's registry entry now instead of at the next heartbeat (e.g. it started draining). */
  announce(): Promise<void>;
}

/**
 * Presence: named sets of members (e.g. the clients of a gateway group), contributed by each node.
 * A member added by a node disappears when that node removes it or when the node dies (its
 * heartbeat expires: at most the hub's node TTL after its last heartbeat), so lists never keep
 * ghosts of a crashed node for long. Each node keeps its own contribution in memory too and
 * writes it again when the shared store lost it (a Redis restart, or the node was presumed dead).
 */
export interface Presence {
  add(set: string, member: string): Promise<void>;
  remove(set: string, member: string): Promise<void>;
  /** Union over all live nodes. */
  members(set: string): Promise<string[]>;
  count(set: string): Promise<number>;
}
