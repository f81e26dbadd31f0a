import type { IncomingMessage } from "node:http";
import type { Json } from "../ports/hub.ts";
import type { Connection } from "./connection.ts";

/** A realtime event: a JSON object with a `type`; protocols render it into their wire format. */
export type RealtimeEvent = { type: string; [key: string]: Json };

/**
 * A wire protocol (one per surface socket), registered by the surface. `E` is the event union
 * the surface renders (the core's `CoreEvent`); the realtime layer itself only needs `type`.
 */
export interface ProtocolHandler<E extends RealtimeEvent = RealtimeEvent> {
  /** Renders an event for this protocol's sockets; null = this protocol ignores the event. */
  render(event: E): string | null;
  onMessage?(conn: Connection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void;
  onClose?(conn: Connection, code: number): void;
  /**
   * Per-connection reaction to an event, after the rendered frame (if any) was sent — for the
   * rare events that need more than a frame (close a revoked session, finish a QR login).
   */
  onEvent?(conn: Connection, event: E): void;
  /**
   * Whether `onEvent` needs events of this type (absent: every event). Asked once per event and
   * protocol; fan-out skips the per-connection hook for the others — a message to a 15 k
   * audience should not call 15 k hooks that do nothing.
   */
  hooksType?(type: string): boolean;
  /** Called for every open connection on each ping sweep (e.g. to end expired sessions). */
  onSweep?(conn: Connection, now: number): void;
  /**
   * Called once per ping sweep with all of this protocol's open connections, for checks that
   * should be one batched query rather than one per socket (e.g. revoked sessions).
   */
  onSweepAll?(conns: Connection[], now: number): void;
  /**
   * The `conn.bind` node operation reached one of this protocol's connections (owner already
   * checked): `subscribe` puts it on the topic. Resolves false to refuse the binding. Without
   * this hook the connection is simply subscribed.
   */
  onBind?(conn: Connection, topic: string, meta: Json, subscribe: () => Promise<void>): Promise<boolean>;
}

/** What an upgrade route decides before the handshake completes. */
export type UpgradeDecision =
  | {
      accept: true;
      protocol: string;
      /** Runs once the socket is open; the connection is `ready` when it returns or its promise settles. */
      onOpen: (conn: Connection) => void | Promise<void>;
    }
  | { accept: false; status: number; message: string };

/** Resolves to null when the request is not this route's (the next route for the path decides). */
export type UpgradeRoute = (req: IncomingMessage, url: URL) => Promise<UpgradeDecision | null>;

export interface RealtimeStats {
  framesIn: Map<string, number>;
  framesOut: Map<string, number>;
  slowConsumers: Map<string, number>;
  open: Map<string, number>;
  /** Message events (`message.new`) written to sockets, by `<protocol> <message kind>`. */
  messagesDelivered: Map<string, number>;
}

/** Empty counters, all keyed by protocol (or `<protocol> <kind>`). */
export function newRealtimeStats(): RealtimeStats {
  return {
    framesIn: new Map(),
    framesOut: new Map(),
    slowConsumers: new Map(),
    open: new Map(),
    messagesDelivered: new Map(),
  };
}

export function bump(m: Map<string, number>, key: string, by = 1): void {
  m.set(key, (m.get(key) ?? 0) + by);
}
