import type { Duplex } from "node:stream";
import type { Transport } from "./transport.ts";

/**
 * One live client connection, whatever its transport. Kept deliberately small (idle connections
 * are the common case): no timers, no per-connection closures — the realtime layer uses shared
 * listeners and one sweep for pings.
 */
export class Connection {
  /** Topics this connection is subscribed to; allocated on first subscribe. */
  topics: Set<string> | null = null;
  lastSeen: number;
  /** Set once the connection is being closed; sends are dropped from then on. */
  closing = false;
  /** Write-coalescing state within one event-loop turn: 0 none yet, 1 one direct write, 2 corked, 3 never again. */
  tick = 0;
  /**
   * True once the surface finished opening the socket (subscriptions in place, first checks
   * done): the `onOpen` of the upgrade returned, or the promise it returned settled.
   */
  ready = false;
  /**
   * Who may address this connection through node operations (bind, close, kick) — e.g. a gateway
   * system's owner key. null = nobody: node operations refuse it.
   */
  owner: string | null = null;
  /** Surface-specific state (e.g. the gateway's system id and groups). */
  state: unknown = null;
  /** Transport-private per-connection state (e.g. the WebSocket transport's pending pongs). */
  transportState = 0;
  /** The client address behind trusted proxies (src/http/client-address.ts), as HTTP's `req.ip`. */
  address = "";

  constructor(
    /** Unique on this node for the life of the process. */
    readonly id: number,
    /** Wire protocol (surface) name; fan-out renders an event once per protocol. */
    readonly protocol: string,
    readonly transport: Transport,
    /** The transport's own object for this connection (e.g. the `ws` WebSocket). */
    readonly handle: unknown,
    /** The byte stream prepared frames are written to. */
    readonly socket: Duplex,
    now: number,
  ) {
    this.lastSeen = now;
  }
}
