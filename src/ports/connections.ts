import type { EventShape } from "./events.ts";
import type { Json } from "./hub.ts";

/** Where a client connection lives: the node that owns its socket and the socket's id there. */
export interface ConnectionAddress {
  nodeId: string;
  connId: number;
}

/**
 * Operations on client connections anywhere in the cluster, for core services that address single
 * connections (the gateway today, the 003 push API next). Implemented by the realtime layer over
 * the hub; the calling node needs no socket of its own. Every operation is live-only and best
 * effort: a connection that is gone, or a node that does not answer, is not an error here — the
 * promise rejects only when the owning node is unreachable, and `bind` resolves false.
 *
 * `owner` is the key the surface gave the connection when it opened (e.g. a gateway system's
 * owner key from `core/topics.ts`): an operation naming another owner finds nobody, so a forged
 * or foreign address never reaches a socket it does not own.
 */
export interface ConnectionOps<E extends EventShape = EventShape> {
  /** This node's id (the `nodeId` of addresses of connections opened here). */
  readonly nodeId: string;
  /** Sends one event to one connection. */
  send(addr: ConnectionAddress, event: E): Promise<void>;
  /** Sends one event to several connections of one node, rendered once per protocol. */
  sendMany(nodeId: string, connIds: readonly number[], event: E): Promise<void>;
  /**
   * Subscribes the connection to `topic` on its node, with `meta` for its protocol's `onBind`
   * hook. Resolves true once publishes on `topic` reach it; false when it is gone, has another
   * owner, or its protocol refused.
   */
  bind(addr: ConnectionAddress, owner: string, topic: string, meta: Json): Promise<boolean>;
  /**
   * Backpressure before a publish on `topic` that may wait (an HTTP push): null when this node's
   * fan-out of the topic has room now, else a promise of true once it has, or false when it
   * stayed full (answer "busy"). Publishes are never dropped; this keeps their queue bounded.
   * Absent: no bound.
   */
  admit?(topic: string): Promise<boolean> | null;
}
