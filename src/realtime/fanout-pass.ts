import type { Connection } from "./connection.ts";
import type { ProtocolHandler, RealtimeEvent } from "./protocol.ts";

/** Most events one pass writes together (one concatenated buffer per connection). */
export const MAX_BATCH_EVENTS = 64;

/** Most bytes of one pass's concatenated frames per connection (well under `ws.maxBufferedBytes`). */
export const MAX_BATCH_BYTES = 64 * 1024;

/** Whether `handler.onEvent` runs for `event` (its `hooksType` filter, when it has one). */
export function wantsHook(handler: ProtocolHandler, event: RealtimeEvent): boolean {
  if (!handler.onEvent) return false;
  return !handler.hooksType || handler.hooksType(event.type);
}

/** The kind of a delivered message (`message.new`) for the messagesDelivered metric; else null. */
export function deliveredKind(event: RealtimeEvent): string | null {
  return event.type === "message.new" ? String((event.message as { kind?: unknown } | null)?.kind ?? "unknown") : null;
}

/**
 * One pass over a large topic: the audience snapshot, the position reached, the batch of events
 * being written (with their concatenated frames per protocol and transport) and the batches
 * waiting behind it. A batch ends at an event a protocol present in the audience hooks (e.g. a
 * room deletion that drops the connection), so nothing published after such an event reaches a
 * connection before its hook ran; protocols with no connection in the topic do not matter.
 */
export class Pass {
  pos = 0;
  /** The pass finished its batch and waits one turn for more events before it ends. */
  lingered = false;
  /** The pass waited (`FanOut` coalescing) after its current batch; reset by `restart`. */
  waited = false;
  conns: Connection[] = [];
  batch: RealtimeEvent[] = [];
  /** Events in `pending`. */
  pendingEvents = 0;
  /** Publishers waiting for room (`FanOut.admit`), in arrival order. */
  readonly waiters: Waiter[] = [];
  private readonly pending: RealtimeEvent[][] = [];
  /** The hook-wanting handlers of the protocols in the snapshot (usually none). */
  private hookers: ProtocolHandler[] = [];
  private caches: RenderCache[] = [];
  private frames = new Map<string, Frames | null>();

  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    readonly topic: string,
    public shard: number,
  ) {}

  enqueue(event: RealtimeEvent): void {
    const last = this.pending[this.pending.length - 1];
    if (!last || last.length >= MAX_BATCH_EVENTS) this.pending.push([event]);
    else last.push(event);
    this.pendingEvents++;
  }

  /** The next batch waiting, if any. */
  shift(): RealtimeEvent[] | undefined {
    const next = this.pending.shift();
    if (next) this.pendingEvents -= next.length;
    return next;
  }

  /** Puts events back at the head of the queue (the part of a batch cut off). */
  private unshift(events: RealtimeEvent[]): void {
    this.pending.unshift(events);
    this.pendingEvents += events.length;
  }

  /**
   * Starts writing `batch` to a fresh snapshot of the audience. The batch is cut after the first
   * event a protocol of the snapshot hooks (the rest goes back to the head of the queue).
   */
  restart(set: Set<Connection> | undefined, shard: number, batch: RealtimeEvent[]): void {
    const conns: Connection[] = [];
    let hookers: ProtocolHandler[] | null = null;
    if (set) {
      let last = "";
      for (const conn of set) {
        conns.push(conn);
        if (conn.protocol !== last) {
          last = conn.protocol;
          const handler = this.protocols.get(last);
          if (handler?.onEvent && !(hookers ?? this.hookers).includes(handler)) {
            hookers ??= [...this.hookers];
            hookers.push(handler);
          }
        }
      }
    }
    // the handlers of protocols seen so far in this pass (a protocol seen once is kept: cheap, safe)
    if (hookers) this.hookers = hookers;
    if (this.hookers.length > 0)
      for (let i = 0; i < batch.length - 1; i++)
        if (this.hookers.some((h) => wantsHook(h, batch[i]))) {
          this.unshift(batch.slice(i + 1));
          batch = batch.slice(0, i + 1);
          break;
        }
    this.conns = conns;
    this.shard = shard;
    this.pos = 0;
    this.waited = false;
    this.batch = batch;
    this.caches = batch.map((e) => new RenderCache(this.protocols, e));
    this.frames = new Map();
  }

  /**
   * The bytes for `conn`: every event of the batch its protocol renders, framed by its transport
   * and concatenated (null: nothing for it). A batch too big for one write is cut: the events
   * beyond `MAX_BATCH_BYTES` go back to the front of the queue as the next batch.
   */
  frame(conn: Connection): Frames | null {
    const key = `${conn.protocol}\u0000${conn.transport.name}`;
    let frame = this.frames.get(key);
    if (frame !== undefined) return frame;
    const parts: Buffer[] = [];
    let bytes = 0;
    for (let i = 0; i < this.caches.length; i++) {
      const f = this.caches[i].frame(conn);
      if (!f) continue;
      if (parts.length > 0 && bytes + f.length > MAX_BATCH_BYTES && this.pos === 0 && this.frames.size === 0) {
        // first rendering of this batch: cut it here (nobody has been written yet)
        this.unshift(this.batch.slice(i));
        this.batch = this.batch.slice(0, i);
        this.caches = this.caches.slice(0, i);
        break;
      }
      parts.push(f);
      bytes += f.length;
    }
    frame =
      parts.length === 0
        ? null
        : { buf: parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes), count: parts.length };
    this.frames.set(key, frame);
    return frame;
  }
}

/** A publisher waiting in `FanOut.admit`. */
export type Waiter = { resolve: (ok: boolean) => void; timer: NodeJS.Timeout };

/** A connection's pending frames of one pass, concatenated: the bytes and how many frames. */
export type Frames = { buf: Buffer; count: number };

/** One event's renderings: text per protocol, bytes per (protocol, transport); null = not rendered. */
export class RenderCache {
  private texts: Map<string, string | null> | null = null;
  private frames: Map<string, Buffer | null> | null = null;

  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    readonly event: RealtimeEvent,
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
