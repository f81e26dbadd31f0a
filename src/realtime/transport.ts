import type { Duplex } from "node:stream";
import type { Connection } from "./connection.ts";

/**
 * A transport carries one wire framing of client connections: the WebSocket transport
 * (`ws-transport.ts`) today; a length-prefixed TCP transport (each message = 4-byte big-endian
 * length + UTF-8 JSON, for the cluster-admin access layer) is meant to be one more file that
 * implements this interface. Everything above it — registry, topic index, fan-out and its render
 * cache, the writer (coalescing, bounded buffers, slow-consumer close), the sweeper and the node
 * operations — works on `Connection`s and never knows which transport a connection uses.
 *
 * What an implementation must do:
 * - Accept connections its own way (the WebSocket transport completes HTTP upgrades handed to it
 *   by the upgrade router; a TCP transport would own a `net.Server`) and hand each new one to
 *  *   `sink.opened(protocol, transport, handle, socket)`, which registers it and returns the
 *   `Connection`, then call `sink.begin(conn, onOpen)` with the surface's open hook.
 *   `socket` is the byte stream the writer writes prepared frames to (and corks/uncorks);
 *   `handle` is the transport's own per-connection object (e.g. the `ws` WebSocket).
 * - Deliver each complete inbound message as `sink.message(conn, data, isBinary)` — a TCP
 *   transport reassembles its length-prefixed messages and passes `isBinary = false`, enforcing
 *   `maxFrameBytes` on the declared length before buffering.
 * - Report liveness (any inbound traffic, pongs) with `sink.alive(conn)` and the end of a
 *   connection once with `sink.closed(conn, code)`.
 * - `frame(text)` encodes one outbound text message as the exact bytes to write (server frames
 *   are unmasked, so one encoding serves every recipient): fan-out renders an event once per wire
 *   protocol, then frames it once per transport.
 * - `ping` keeps the connection alive (a transport without pings may do nothing; the sweeper then
 *   relies on inbound traffic), `close` ends it politely with a close code and reason (a TCP
 *   transport may send a last JSON message and end the stream), `terminate` cuts it at once.
 */
export interface Transport {
  /** Short name, part of the render cache key and of logs: "ws", "tcp". */
  readonly name: string;
  frame(text: string): Buffer;
  ping(conn: Connection): void;
  close(conn: Connection, code: number, reason: string): void;
  terminate(conn: Connection): void;
  /** Stops accepting and releases the transport's resources (connections are closed by the caller). */
  stop(): void;
}

/** How a transport reports to the realtime layer. */
export interface TransportSink {
  /** Registers a new connection speaking wire protocol `protocol`. */
  opened(protocol: string, transport: Transport, handle: unknown, socket: Duplex): Connection;
  /**
   * Runs the surface's `onOpen` for a registered connection; the connection is `ready` when it
   * returns or the promise it returns settles (a failure closes it with 1011).
   */
  begin(conn: Connection, onOpen: (conn: Connection) => void | Promise<void>): void;
  message(conn: Connection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void;
  alive(conn: Connection): void;
  closed(conn: Connection, code: number): void;
  /** The peer broke a transport rule (e.g. a ping flood): close it politely with `code`. */
  violation(conn: Connection, code: number, reason: string): void;
}
