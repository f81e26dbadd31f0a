import type { Logger } from "pino";
import { throttledWarn } from "../log.ts";
import { CloseCodes } from "./close-codes.ts";
import type { Connection } from "./connection.ts";
import { bump, type RealtimeStats } from "./protocol.ts";

/**
 * The writer: every frame to a client leaves through here. It coalesces writes within one
 * event-loop turn, bounds each connection's send buffer (a connection that would exceed
 * `maxBufferedBytes` is closed as a slow consumer) and closes connections politely.
 */
export class Writer {
  private touched: Connection[] = [];
  private flushScheduled = false;
  private holding = false;
  /** One warning per second at most: a burst of slow consumers must not become a log storm. */
  private readonly warnSlow: (fields: Record<string, unknown>) => void;

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly stats: RealtimeStats,
    log: Logger,
  ) {
    this.warnSlow = throttledWarn(log, "slow consumers closed");
  }

  /**
   * Writes a prepared frame. The first write to a socket in an event-loop turn goes straight out
   * (no added latency); further writes in the same turn are corked and leave as one writev when
   * the turn ends. A socket whose buffer would exceed `maxBufferedBytes` is closed (slow consumer).
   * `frames` is how many frames `frame` holds (fan-out concatenates a connection's pending frames
   * into one write; the framesOut metric counts frames).
   */
  send(conn: Connection, frame: Buffer, frames = 1): boolean {
    if (conn.closing) return false;
    const socket = conn.socket;
    if (socket.writableLength + frame.length > this.maxBufferedBytes) {
      this.slowConsumer(conn);
      return false;
    }
    if (conn.tick === 0) {
      conn.tick = this.holding ? 2 : 1;
      if (this.holding) socket.cork();
      this.touched.push(conn);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    } else if (conn.tick === 1) {
      conn.tick = 2;
      socket.cork();
    }
    socket.write(frame);
    bump(this.stats.framesOut, conn.protocol, frames);
    return true;
  }

  /**
   * For a burst of sends about to be produced by the current job and the promise continuations it
   * triggers (e.g. the acks of one group commit): every write of the burst is corked, including
   * the first to each socket, and all leave when the microtask queue has drained — one writev per
   * socket instead of a direct write plus a writev. Adds no wait beyond the burst itself.
   */
  holdWrites(): void {
    if (this.holding) return;
    this.holding = true;
    // A tick queued from a microtask runs once the whole microtask queue has drained.
    queueMicrotask(() => process.nextTick(this.endHold));
  }

  private readonly endHold = (): void => {
    this.holding = false;
    this.flush();
  };

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const list = this.touched;
    this.touched = [];
    for (const conn of list) {
      if (conn.tick === 2) conn.socket.uncork();
      conn.tick = 0;
    }
  };

  private slowConsumer(conn: Connection): void {
    bump(this.stats.slowConsumers, conn.protocol);
    this.warnSlow({ conn: conn.id, protocol: conn.protocol });
    this.close(conn, CloseCodes.TRY_AGAIN_LATER, "slow consumer");
  }

  /**
   * Closes a connection with a named code. Sends are dropped from now on; a peer that does not
   * complete the closing handshake within 2 s is cut off, so its buffers are freed.
   */
  close(conn: Connection, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    if (conn.tick === 2) conn.socket.uncork();
    conn.tick = 3; // never corked again
    conn.transport.close(conn, code, reason);
    setTimeout(() => conn.transport.terminate(conn), 2000).unref();
  }

  /**
   * Sends one text message to many local connections, framed once per transport (e.g. a
   * cluster-admin broadcast); returns how many frames were written.
   */
  sendTextMany(conns: Iterable<Connection>, text: string): number {
    let lastTransport: Connection["transport"] | null = null;
    let frame: Buffer | null = null;
    let sent = 0;
    for (const conn of conns) {
      if (conn.transport !== lastTransport) {
        lastTransport = conn.transport;
        frame = conn.transport.frame(text);
      }
      if (frame && this.send(conn, frame)) sent++;
    }
    return sent;
  }
}
