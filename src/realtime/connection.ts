import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * One live socket. Kept deliberately small (idle connections are the common case): no timers, no
 * per-connection closures — the realtime layer uses shared listeners and one sweep for pings.
 */
export class Connection {
  /** Topics this connection is subscribed to; allocated on first subscribe. */
  topics: Set<string> | null = null;
  lastSeen: number;
  /** Set once the connection is being closed; sends are dropped from then on. */
  closing = false;
  /** Write-coalescing state within one event-loop turn: 0 none yet, 1 one direct write, 2 corked. */
  tick = 0;
  /** Surface-specific state (e.g. the gateway's system id and groups). */
  state: unknown = null;
  /** The client address behind trusted proxies (src/http/client-address.ts), as HTTP's `req.ip`. */
  address = "";

  constructor(
    /** Unique on this node for the life of the process. */
    readonly id: number,
    /** Wire protocol (surface) name; fan-out renders an event once per protocol. */
    readonly protocol: string,
    readonly ws: WebSocket,
    readonly socket: Duplex,
    now: number,
  ) {
    this.lastSeen = now;
  }
}
