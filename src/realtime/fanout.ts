import type { Logger } from "pino";
import type { Connection } from "./connection.ts";
import { bump, type ProtocolHandler, type RealtimeEvent, type RealtimeStats } from "./protocol.ts";
import type { Transport } from "./transport.ts";
import type { Writer } from "./writer.ts";

/** Audience shard size of a topic the resolver does not size (e.g. a big gateway group). */
export const DEFAULT_SHARD_SIZE = 1000;

/**
 * Audiences at least this large are written by a pass even when they fit one shard, so events
 * that follow within a turn are coalesced (see `FanOut`); smaller ones are written directly.
 */
export const COALESCE_MIN = 256;

/** Most events one pass writes together (one concatenated buffer per connection). */
export const MAX_BATCH_EVENTS = 64;

/** Most bytes of one pass's concatenated frames per connection (well under `ws.maxBufferedBytes`). */
export const MAX_BATCH_BYTES = 64 * 1024;

/**
 * Events a topic may have queued behind its running pass before `admit` makes publishers wait
 * (four full batches: enough to keep every batch full, little enough that the queue adds at
 * most a few passes of latency). Events are never dropped: `publish` always queues; publishers
 * that can wait (HTTP pushes) ask `admit` first, so the backlog stays bounded and the wait
 * reaches the HTTP client instead of growing the latency of every member.
 */
export const MAX_PENDING_EVENTS = 4 * MAX_BATCH_EVENTS;

/** How long `admit` waits for room before it answers false (the caller answers "busy"). */
export const ADMIT_TIMEOUT_MS = 10_000;

/**
 * Fan-out of one event to many local connections: rendered once per wire protocol, framed once
 * per (protocol, transport), and the same bytes written to every recipient.
 *
 * A topic whose local audience is larger than its shard size (chat rooms: `chatrooms.shardSize`
 * or the room's own; other topics `DEFAULT_SHARD_SIZE`) is written by a **pass**: a snapshot of
 * its subscribers, written shard by shard with a `setImmediate` between shards, so a 15 k audience
 * never holds the event loop for more than one shard. The first shard leaves once the current burst
 * of publishes is over (same turn; a group commit's messages share it). Events of the
 * topic that arrive while a pass runs queue behind it (order per topic is kept) and the next pass
 * writes them together: their frames are concatenated (frames are self-delimiting on every
 * transport), so every connection gets all of its pending frames in one write. A connection that
 * left the topic or closed during a pass gets nothing more; one that joined after the pass started
 * gets only later events. An audience of `COALESCE_MIN` or more is always written by a pass (in
 * one step when it fits a shard), and a pass lingers one turn after its last batch, so the
 * messages of a busy room coalesce even when it fits one shard. Slow consumers are closed by the
 * writer's bounded-buffer rule.
 *
 * Backpressure: the events queued behind a topic's pass are bounded by `MAX_PENDING_EVENTS` for
 * publishers that ask `admit` first (the gateway's `send_to_group`): they wait, in arrival order,
 * until the pass has written enough; after `ADMIT_TIMEOUT_MS` they are told no (busy). `publish`
 * itself never refuses or drops an event (hub deliveries from other nodes cannot wait).
 */
export class FanOut {
  private shardSizer: (topic: string) => number | null = () => null;
  /** Topic → its running pass. */
  private readonly passes = new Map<string, Pass>();

  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    private readonly writer: Writer,
    private readonly log: Logger,
    private readonly stats: RealtimeStats,
    /** The live subscriber set of a topic (the topic index). */
    private readonly subscribers: (topic: string) => Set<Connection> | undefined,
  ) {}

  /** Names the shard size of topics (null = `DEFAULT_SHARD_SIZE`); must be cheap (no I/O). */
  setShardSizer(fn: (topic: string) => number | null): void {
    this.shardSizer = fn;
  }

  /** The shard size fan-out uses for `topic` now. */
  shardSize(topic: string): number {
    let n: number | null = null;
    try {
      n = this.shardSizer(topic);
    } catch (err) {
      this.log.warn({ err, topic }, "shard sizer failed");
    }
    return n !== null && Number.isSafeInteger(n) && n >= 1 ? n : DEFAULT_SHARD_SIZE;
  }

  /** Passes running now (tests, metrics). */
  get activePasses(): number {
    return this.passes.size;
  }

  /**
   * Delivers an event published on `topic` to this node's subscribers: at once when the audience
   * fits one shard (and no pass of the topic is running), otherwise by a pass. Returns the size
   * of the audience it was delivered or queued to.
   */
  publish(topic: string, event: RealtimeEvent): number {
    const running = this.passes.get(topic);
    if (running) {
      running.enqueue(event);
      return this.subscribers(topic)?.size ?? 0;
    }
    const set = this.subscribers(topic);
    if (!set || set.size === 0) return 0;
    const shard = this.shardSize(topic);
    if (set.size <= shard && set.size < COALESCE_MIN) {
      this.deliver(set, event);
      return set.size;
    }
    const pass = new Pass(this.protocols, topic, shard);
    pass.enqueue(event);
    this.passes.set(topic, pass);
    // The first shard leaves as soon as the current burst of publishes is over (a group commit
    // publishes its messages in one loop; a tick queued from a microtask runs once the microtask
    // queue has drained), so a burst shares the first batch instead of the first message making
    // a pass of its own.
    queueMicrotask(() => process.nextTick(this.begin, pass));
    return set.size;
  }

  private readonly begin = (pass: Pass): void => {
    try {
      const first = pass.shift();
      if (first) pass.restart(this.subscribers(pass.topic), this.shardSize(pass.topic), first);
      this.release(pass, false);
    } catch (err) {
      this.passes.delete(pass.topic);
      this.release(pass, true);
      this.log.error({ err, topic: pass.topic, undelivered: pass.pendingEvents }, "fan-out pass failed");
      return;
    }
    this.step(pass);
  };

  /**
   * Room for one more event on `topic`: null when there is room now (no pass, or its queue is
   * below `MAX_PENDING_EVENTS` and nobody waits before us), else a promise that resolves true
   * once there is (publishers are let in in arrival order, as many as there is room for) or
   * false after `timeoutMs`. Admission bounds the queue; it reserves nothing, so the caller
   * publishes right after it resolves.
   */
  admit(topic: string, timeoutMs = ADMIT_TIMEOUT_MS): Promise<boolean> | null {
    const pass = this.passes.get(topic);
    if (!pass || (pass.pendingEvents < MAX_PENDING_EVENTS && pass.waiters.length === 0)) return null;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const i = pass.waiters.indexOf(waiter);
          if (i !== -1) pass.waiters.splice(i, 1);
          resolve(false);
        }, timeoutMs).unref(),
      };
      pass.waiters.push(waiter);
    });
  }

  /** Events queued behind running passes, all topics (metrics, tests). */
  get pendingEvents(): number {
    let n = 0;
    for (const p of this.passes.values()) n += p.pendingEvents;
    return n;
  }

  /** Lets in as many waiting publishers as the pass has room for (all of them when it ended). */
  private release(pass: Pass, ended: boolean): void {
    const ws = pass.waiters;
    if (ws.length === 0) return;
    const n = ended ? ws.length : Math.min(ws.length, MAX_PENDING_EVENTS - pass.pendingEvents);
    if (n <= 0) return;
    for (const w of ws.splice(0, n)) {
      clearTimeout(w.timer);
      w.resolve(true);
    }
  }

  private readonly step = (pass: Pass): void => {
    try {
      const end = Math.min(pass.pos + pass.shard, pass.conns.length);
      this.writeRange(pass, pass.pos, end);
      pass.pos = end;
      if (end < pass.conns.length) {
        setImmediate(this.step, pass);
        return;
      }
      const next = pass.shift();
      if (!next) {
        // Linger one turn: events of this topic published meanwhile (the next commits of a busy
        // room) queue behind the pass and leave together, one write per connection.
        if (!pass.lingered) {
          pass.lingered = true;
          setImmediate(this.step, pass);
        } else {
          this.passes.delete(pass.topic);
          this.release(pass, true);
        }
        return;
      }
      pass.lingered = false;
      pass.restart(this.subscribers(pass.topic), this.shardSize(pass.topic), next);
      this.release(pass, false);
      setImmediate(this.step, pass);
    } catch (err) {
      // never leave a topic blocked behind a broken pass (what it still held is counted and logged)
      this.passes.delete(pass.topic);
      this.release(pass, true);
      this.log.error(
        { err, topic: pass.topic, undelivered: pass.batch.length + pass.pendingEvents },
        "fan-out pass failed",
      );
    }
  };

  /** Writes the pass's batch to `conns[from, to)`, then runs the protocol hooks of that range. */
  private writeRange(pass: Pass, from: number, to: number): void {
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

/** Whether `handler.onEvent` runs for `event` (its `hooksType` filter, when it has one). */
function wantsHook(handler: ProtocolHandler, event: RealtimeEvent): boolean {
  if (!handler.onEvent) return false;
  return !handler.hooksType || handler.hooksType(event.type);
}

/** The kind of a delivered message (`message.new`) for the messagesDelivered metric; else null. */
function deliveredKind(event: RealtimeEvent): string | null {
  return event.type === "message.new" ? String((event.message as { kind?: unknown } | null)?.kind ?? "unknown") : null;
}

/**
 * One pass over a large topic: the audience snapshot, the position reached, the batch of events
 * being written (with their concatenated frames per protocol and transport) and the batches
 * waiting behind it. A batch ends at an event a protocol present in the audience hooks (e.g. a
 * room deletion that drops the connection), so nothing published after such an event reaches a
 * connection before its hook ran; protocols with no connection in the topic do not matter.
 */
class Pass {
  pos = 0;
  /** The pass finished its batch and waits one turn for more events before it ends. */
  lingered = false;
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
type Waiter = { resolve: (ok: boolean) => void; timer: NodeJS.Timeout };

/** A connection's pending frames of one pass, concatenated: the bytes and how many frames. */
type Frames = { buf: Buffer; count: number };

/** One event's renderings: text per protocol, bytes per (protocol, transport); null = not rendered. */
class RenderCache {
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
