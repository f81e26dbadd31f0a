import type { Chat33Api } from "./http.ts";
import type { ChannelType, Log, MessageFrame, Page, RecallFrame, Unread } from "./types.ts";

/** `"3:8"` friend 8, `"2:3"` group 3, `"1:9"` chat room 9. */
export type ConvKey = `${ChannelType}:${string}`;
export const convKey = (type: ChannelType, id: string): ConvKey => `${type}:${id}`;

export interface Conversation {
  key: ConvKey;
  type: ChannelType;
  /** The friend's user id, the group's id or the chat room's id. */
  id: string;
  /** Loaded messages, oldest first, by `seq`; each `logId` once. */
  messages: Log[];
  /** Messages of others after the read cursor (the server's count, then live increments). */
  unread: number;
  /** The newest message known (also for conversations never opened). */
  last: Log | null;
  /** The `startId` of the next older page; `null` = nothing older; `""` = the newest page not loaded yet. */
  older: string | null;
  /** The newest page was loaded, so live messages extend `messages` and gaps are looked for. */
  live: boolean;
  /** The seq of the first unread message when the conversation was opened ("new messages" divider). */
  dividerSeq: number;
}

export interface StoreOptions {
  /** Page size for history reads (1–100). */
  pageSize?: number;
  /** At most this many pages are read to fill one gap; the rest is left to scrolling back. */
  maxFillPages?: number;
}

/** A message frame as the log object history shows (the frames carry no `remark`). */
export function frameToLog(f: MessageFrame): Log {
  return {
    channelType: f.channelType,
    datetime: f.datetime,
    fromId: f.fromId,
    logId: f.logId,
    msgId: f.msgId,
    msg: f.msg,
    msgType: f.msgType,
    senderInfo: f.senderInfo,
    targetId: f.targetId,
    seq: f.seq,
  };
}

/**
 * A small store of conversations for one user: messages deduplicated by `logId` and ordered by
 * the conversation's gapless `seq`, unread counts, and **gap detection** — a live message whose
 * seq is more than one past the newest one held means messages were missed (a reconnect, a
 * dropped frame), and the store reads history back until the gap is closed. Deleted messages
 * leave holes in seq for good; a fill that finds them absent accepts the hole.
 */
export class ConversationStore {
  readonly conversations = new Map<ConvKey, Conversation>();
  /** Conversation being looked at: its live messages are not counted unread. */
  active: ConvKey | null = null;
  /** How many gaps were found and filled (observable by tests and the UI). */
  gapsFilled = 0;
  private version = 0;
  private readonly subscribers = new Set<() => void>();
  private readonly filling = new Map<ConvKey, Promise<void>>();
  private readonly peeked = new Set<ConvKey>();
  private readonly pageSize: number;
  private readonly maxFillPages: number;

  constructor(
    private readonly api: Chat33Api,
    public myId: string,
    opts: StoreOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 30;
    this.maxFillPages = opts.maxFillPages ?? 20;
  }

  /** Called after every change (batched per call); returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
  /** Increases on every change (for UI memoisation). */
  get revision(): number {
    return this.version;
  }
  private changed(): void {
    this.version++;
    for (const fn of this.subscribers) fn();
  }

  get(key: ConvKey): Conversation {
    let c = this.conversations.get(key);
    if (!c) {
      const [t, ...rest] = key.split(":");
      c = {
        key,
        type: Number(t) as ChannelType,
        id: rest.join(":"),
        messages: [],
        unread: 0,
        last: null,
        older: "",
        live: false,
        dividerSeq: 0,
      };
      this.conversations.set(key, c);
    }
    return c;
  }

  /** The conversation a message belongs to, seen by this user. */
  keyOf(m: { channelType: ChannelType; fromId: string; targetId: string }): ConvKey {
    if (m.channelType === 3) return convKey(3, m.fromId === this.myId ? m.targetId : m.fromId);
    return convKey(m.channelType, m.targetId);
  }

  /** Total unread over every conversation (the badge). */
  get totalUnread(): number {
    let n = 0;
    for (const c of this.conversations.values()) n += c.unread;
    return n;
  }

  /** Inserts messages into their conversation (dedupe by logId, order by seq). Returns those that were new. */
  private insert(c: Conversation, logs: Log[]): Log[] {
    const have = new Set(c.messages.map((m) => m.logId));
    const fresh: Log[] = [];
    for (const l of logs) {
      if (have.has(l.logId)) continue;
      have.add(l.logId);
      fresh.push(l);
    }
    if (fresh.length) {
      c.messages.push(...fresh);
      c.messages.sort((a, b) => a.seq - b.seq);
    }
    for (const l of logs) if (!c.last || l.seq > c.last.seq) c.last = l;
    return fresh;
  }

  /** The newest seq held in the loaded window (0 when nothing). */
  private newestSeq(c: Conversation): number {
    return c.messages.length ? c.messages[c.messages.length - 1].seq : 0;
  }

  /**
   * A message from the socket. Adds it, counts it unread when it is someone else's and its
   * conversation is not active, and fills a gap before it when one shows.
   */
  ingestLive(f: MessageFrame): Promise<void> {
    const log = frameToLog(f);
    const c = this.get(this.keyOf(log));
    const before = this.newestSeq(c);
    const known = c.live && c.messages.some((m) => m.logId === log.logId);
    if (known) return Promise.resolve();
    const gap = c.live && before > 0 && log.seq > before + 1;
    this.insert(c, [log]);
    if (log.fromId !== this.myId && this.active !== c.key) c.unread++;
    this.changed();
    if (gap) return this.fill(c.key);
    return Promise.resolve();
  }

  private page(c: Conversation, startId: string, size = this.pageSize): Promise<Page> {
    if (c.type === 3) return this.api.friendLog(c.id, startId, size);
    if (c.type === 2) return this.api.groupLog(c.id, startId, size);
    return this.api.chatroomLog(c.id, startId, size);
  }

  /**
   * Reads just the newest message of conversations (for a list's previews and order, since
   * chat33's unread routes name only conversations with something unread), `concurrency` at a time.
   */
  async peek(keys: ConvKey[], concurrency = 6): Promise<void> {
    const queue = keys.filter((k) => !this.peeked.has(k) && !this.get(k).live && !this.get(k).last);
    for (const k of queue) this.peeked.add(k);
    const worker = async () => {
      for (let k = queue.shift(); k; k = queue.shift()) {
        const c = this.get(k);
        const p = await this.page(c, "", 1).catch(() => null);
        const l = p?.logs[0];
        if (l && (!c.last || l.seq > c.last.seq)) c.last = l;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    this.changed();
  }

  /** Loads the newest page (first open of a conversation). */
  async open(key: ConvKey): Promise<Conversation> {
    const c = this.get(key);
    if (!c.live) {
      const p = await this.page(c, "");
      this.insert(c, p.logs);
      c.older = more(p.nextLog);
      c.live = true;
    }
    const firstUnread = c.unread > 0 ? c.messages.filter((m) => m.fromId !== this.myId).slice(-c.unread)[0] : undefined;
    c.dividerSeq = firstUnread ? firstUnread.seq : 0;
    this.changed();
    return c;
  }

  /** Loads the next older page (infinite scroll). Returns how many messages were added. */
  async loadOlder(key: ConvKey): Promise<number> {
    const c = this.get(key);
    if (!c.live) return (await this.open(key)).messages.length;
    if (c.older === null) return 0;
    const p = await this.page(c, c.older);
    const fresh = this.insert(c, p.logs);
    c.older = more(p.nextLog);
    this.changed();
    return fresh.length;
  }

  /**
   * Reads history back from the newest message until it meets what is held (or `maxFillPages`),
   * so every missed message is in the store once, in order. Concurrent calls share one fill.
   */
  fill(key: ConvKey): Promise<void> {
    const running = this.filling.get(key);
    if (running) return running.then(() => this.fill(key));
    const c = this.get(key);
    if (!c.live) return Promise.resolve();
    const job = (async () => {
      const held = new Set(c.messages.map((m) => m.logId));
      let start = "";
      for (let i = 0; i < this.maxFillPages; i++) {
        const p = await this.page(c, start);
        this.insert(c, p.logs);
        const met = p.logs.some((l) => held.has(l.logId));
        const next = more(p.nextLog);
        if (met || next === null || p.logs.length === 0) return;
        start = next;
      }
      // gave up reading back: what is below the filled part is reached by scrolling
      c.older = start;
    })();
    this.filling.set(key, job);
    return job.then(
      () => {
        this.filling.delete(key);
        this.gapsFilled++;
        this.changed();
      },
      (e) => {
        this.filling.delete(key);
        throw e;
      },
    );
  }

  /**
   * After a (re)connect: the server's unread counts and newest messages for every conversation,
   * then a fill of every conversation that is held live — offline catch-up without loss or
   * duplicates.
   */
  async sync(): Promise<void> {
    const [friends, groups] = await Promise.all([this.api.friendUnread(), this.api.groupUnread()]);
    const seen = new Set<ConvKey>();
    const apply = (u: Unread, type: ChannelType) => {
      const c = this.get(convKey(type, u.id));
      seen.add(c.key);
      c.unread = this.active === c.key ? 0 : u.number;
      if (!c.last || u.lastLog.seq > c.last.seq) c.last = u.lastLog;
    };
    for (const u of friends) apply(u, 3);
    for (const u of groups) apply(u, 2);
    for (const c of this.conversations.values()) if (c.type !== 1 && !seen.has(c.key)) c.unread = 0;
    this.changed();
    await Promise.all([...this.conversations.values()].filter((c) => c.live).map((c) => this.fill(c.key)));
  }

  /** Marks everything in a conversation read (moves the server's read cursor). */
  async markRead(key: ConvKey): Promise<void> {
    const c = this.get(key);
    const had = c.unread;
    c.unread = 0;
    if (had) this.changed();
    if (c.type !== 1 && c.last) await this.api.markRead(c.type === 2 ? 1 : 2, c.id, c.last.logId);
  }

  /** Event 10: a message was recalled (it becomes a notice) or deleted (it goes). */
  applyChange(f: RecallFrame): void {
    const type: ChannelType = f.logType === 1 ? 2 : 3;
    for (const c of this.conversations.values()) {
      if (c.type !== type) continue;
      const i = c.messages.findIndex((m) => m.logId === f.logId);
      if (i < 0) continue;
      const m = c.messages[i];
      if (f.operateType === 2) c.messages.splice(i, 1);
      else
        c.messages[i] = {
          ...m,
          msgType: 6,
          msg: { content: `${f.userName} 撤回了一条消息` },
          recalled: 1,
        };
      if (c.last?.logId === f.logId) c.last = c.messages[c.messages.length - 1] ?? null;
      this.changed();
    }
  }

  /** Forgets a conversation (left group, deleted friend). */
  drop(key: ConvKey): void {
    if (this.conversations.delete(key)) this.changed();
  }
}

/** chat33's "no more" cursors: `"-1"` (friends, groups) and `""` (chat rooms). */
function more(nextLog: string): string | null {
  return nextLog === "-1" || nextLog === "" ? null : nextLog;
}
