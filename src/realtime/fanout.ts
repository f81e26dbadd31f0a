import type { Logger } from "pino";
import type { Connection } from "./connection.ts";
import { bump, type ProtocolHandler, type RealtimeEvent, type RealtimeStats } from "./protocol.ts";
import type { Transport } from "./transport.ts";
import type { Writer } from "./writer.ts";

/**
 * Fan-out of one event to many local connections: rendered once per wire protocol, framed once
 * per (protocol, transport), and the same bytes written to every recipient.
 */
export class FanOut {
  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    private readonly writer: Writer,
    private readonly log: Logger,
    private readonly stats: RealtimeStats,
  ) {}

  /** Delivers `event` to `conns` (a topic's subscribers); returns how many frames were written. */
  deliver(conns: Iterable<Connection>, event: RealtimeEvent): number {
    const cache = new RenderCache(this.protocols, event);
    let lastProtocol = "";
    let lastTransport: Transport | null = null;
    let frame: Buffer | null = null;
    let sent = 0;
    let hooks: Connection[] | null = null;
    let hookProtocol = false;
    // metrics: the kind of a delivered message, counted per socket and protocol
    const delivered =
      event.type === "message.new" ? String((event.message as { kind?: unknown } | null)?.kind ?? "unknown") : null;
    for (const conn of conns) {
      if (conn.protocol !== lastProtocol || conn.transport !== lastTransport) {
        if (conn.protocol !== lastProtocol) hookProtocol = this.protocols.get(conn.protocol)?.onEvent !== undefined;
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
        if (delivered !== null) bump(this.stats.messagesDelivered, `${conn.protocol} ${delivered}`);
      }
    }
    if (hooks) for (const conn of hooks) this.safely(() => this.protocols.get(conn.protocol)?.onEvent?.(conn, event));
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

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, "protocol hook failed");
    }
  }
}

/** One event's renderings: text per protocol, bytes per (protocol, transport); null = not rendered. */
class RenderCache {
  private texts: Map<string, string | null> | null = null;
  private frames: Map<string, Buffer | null> | null = null;

  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    private readonly event: RealtimeEvent,
  ) {}

  frame(conn: Connection): Buffer | null {
    const key = `${conn.protocol}\u0000${conn.transport.name}`;
    this.frames ??= new Map();
    let frame = this.frames.get(key);
    if (frame === undefined) {
      const text = this.text(conn.protocol);
      frame = text == null ? null : conn.transport.frame(text);
      this.frames.set(key, frame);
    }
    return frame;
  }

  private text(protocol: string): string | null {
    this.texts ??= new Map();
    let text = this.texts.get(protocol);
    if (text === undefined) {
      text = this.protocols.get(protocol)?.render(this.event) ?? null;
      this.texts.set(protocol, text);
    }
    return text;
  }
}
