import type { Logger } from "pino";
import type { Connection } from "./connection.ts";
import { MAX_BATCH_EVENTS, Pass, type Waiter } from "./fanout-pass.ts";
import { FanOutWriter } from "./fanout-write.ts";
import type { ProtocolHandler, RealtimeEvent, RealtimeStats } from "./protocol.ts";
import type { Writer } from "./writer.ts";

export { MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from "./fanout-pass.ts";

/** Audience shard size of a topic the resolver does not size (e.g. a big gateway group). */
export const DEFAULT_SHARD_SIZE = 1000;

/**
 * Audiences at least this large are written by a pass even when they fit one shard, so events
 * that follow within a turn are coalesced (see `FanOut`); smaller ones are written directly.
 */
export const COALESCE_MIN = 256;

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

  private readonly out: FanOutWriter;

  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    writer: Writer,
    private readonly log: Logger,
    stats: RealtimeStats,
    /** The live subscriber set of a topic (the topic index). */
    private readonly subscribers: (topic: string) => Set<Connection> | undefined,
    /**
     * How long a busy pass (its last batch carried several events) waits for more events before
     * its next batch; 0 = never (`ws.fanoutCoalesceMs`).
     */
    private readonly coalesceMs: number,
  ) {
    this.out = new FanOutWriter(protocols, writer, log, stats);
  }

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
      this.out.deliver(set, event);
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
      this.out.writeRange(pass, pass.pos, end);
      pass.pos = end;
      if (end < pass.conns.length) {
        setImmediate(this.step, pass);
        return;
      }
      // A busy topic (the batch just written carried several events: they arrive faster than a
      // pass writes them) waits `coalesceMs` before its next batch, so that batch carries
      // more frames per write. One event at a time (a quiet room) never waits.
      if (this.coalesceMs > 0 && pass.batch.length > 1 && !pass.waited && pass.pendingEvents < MAX_BATCH_EVENTS) {
        pass.waited = true;
        setTimeout(this.step, this.coalesceMs, pass);
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

  /** Delivers `event` to `conns` at once (one shard's worth); returns how many frames were written. */
  deliver(conns: Iterable<Connection>, event: RealtimeEvent): number {
    return this.out.deliver(conns, event);
  }

  /** Sends `event` to each connection of `conns` (by id lookups); no per-event hooks. */
  sendEach(conns: Iterable<Connection>, event: RealtimeEvent): number {
    return this.out.sendEach(conns, event);
  }
}
