import type { Logger } from "pino";
import type { Connection } from "./connection.ts";
import { deliveredKind, type Frames, type Pass, RenderCache, wantsHook } from "./fanout-pass.ts";
import { bump, type ProtocolHandler, type RealtimeEvent, type RealtimeStats } from "./protocol.ts";
import type { Transport } from "./transport.ts";
import type { Writer } from "./writer.ts";

/**
 * The writing half of fan-out: one event (or one pass's batch) rendered once per protocol, framed
 * once per (protocol, transport), the same bytes written to every recipient, the
 * messagesDelivered metric counted per run of one protocol, and the protocol hooks run after
 * the writes of a range.
 */
export class FanOutWriter {
  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    private readonly writer: Writer,
    private readonly log: Logger,
    private readonly stats: RealtimeStats,
  ) {}

  /** Writes the pass's batch to `conns[from, to)`, then runs the protocol hooks of that range. */
  writeRange(pass: Pass, from: number, to: number): void {
    const { conns, topic } = pass;
    let lastProtocol = "";
    let lastTransport: Transport | null = null;
    let frame: Frames | null = null;
    let runSent = 0;
    let hookProtocol = false;
    let hooks: Connection[] | null = null;
    for (let i = from; i < to; i++) {
      const conn = conns[i];
      // left the topic (or closed) since the pass took its snapshot
      if (!conn.topics?.has(topic)) continue;
      if (conn.protocol !== lastProtocol || conn.transport !== lastTransport) {
        if (conn.protocol !== lastProtocol) {
          if (runSent) this.countDelivered(pass.batch, lastProtocol, runSent);
          runSent = 0;
          const handler = this.protocols.get(conn.protocol);
          hookProtocol = handler !== undefined && pass.batch.some((e) => wantsHook(handler, e));
        }
        lastProtocol = conn.protocol;
        lastTransport = conn.transport;
        frame = pass.frame(conn);
      }
      if (hookProtocol) {
        hooks ??= [];
        hooks.push(conn);
      }
      if (frame && this.writer.send(conn, frame.buf, frame.count)) runSent++;
    }
    if (runSent) this.countDelivered(pass.batch, lastProtocol, runSent);
    if (hooks) for (const conn of hooks) for (const event of pass.batch) this.hook(conn, event);
  }

  /** messagesDelivered, per protocol and kind, for `n` connections that received `batch`. */
  private countDelivered(batch: readonly RealtimeEvent[], protocol: string, n: number): void {
    for (const e of batch) {
      const kind = deliveredKind(e);
      if (kind !== null) bump(this.stats.messagesDelivered, `${protocol} ${kind}`, n);
    }
  }

  private hook(conn: Connection, event: RealtimeEvent): void {
    const handler = this.protocols.get(conn.protocol);
    if (!handler?.onEvent || !wantsHook(handler, event)) return;
    try {
      handler.onEvent(conn, event);
    } catch (err) {
      this.log.error({ err }, "protocol hook failed");
    }
  }

  /** Delivers `event` to `conns` at once (one shard's worth); returns how many frames were written. */
  deliver(conns: Iterable<Connection>, event: RealtimeEvent): number {
    const cache = new RenderCache(this.protocols, event);
    const kind = deliveredKind(event);
    let lastProtocol = "";
    let lastTransport: Transport | null = null;
    let frame: Buffer | null = null;
    let sent = 0;
    let runSent = 0;
    let hooks: Connection[] | null = null;
    let hookProtocol = false;
    for (const conn of conns) {
      if (conn.protocol !== lastProtocol || conn.transport !== lastTransport) {
        if (conn.protocol !== lastProtocol) {
          if (runSent && kind !== null) bump(this.stats.messagesDelivered, `${lastProtocol} ${kind}`, runSent);
          runSent = 0;
          const handler = this.protocols.get(conn.protocol);
          hookProtocol = handler !== undefined && wantsHook(handler, event);
        }
        lastProtocol = conn.protocol;
        lastTransport = conn.transport;
        frame = cache.frame(conn);
      }
      if (hookProtocol) {
        hooks ??= [];
        hooks.push(conn);
      }
      if (frame && this.writer.send(conn, frame)) {
        sent++;
        runSent++;
      }
    }
    if (runSent && kind !== null) bump(this.stats.messagesDelivered, `${lastProtocol} ${kind}`, runSent);
    if (hooks) for (const conn of hooks) this.hook(conn, event);
    return sent;
  }

  /** Sends `event` to each connection of `conns` (by id lookups); no per-event hooks. */
  sendEach(conns: Iterable<Connection>, event: RealtimeEvent): number {
    const cache = new RenderCache(this.protocols, event);
    let sent = 0;
    for (const conn of conns) {
      const frame = cache.frame(conn);
      if (frame && this.writer.send(conn, frame)) sent++;
    }
    return sent;
  }
}
