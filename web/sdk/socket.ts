import { Chat33Error, type Device, type MessageFrame, type OutgoingMessage, type ServerFrame } from "./types.ts";

/** The part of the WHATWG `WebSocket` the SDK uses (the browser's, or the `ws` package's in Node). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface Backoff {
  /** First delay ceiling (ms). */
  baseMs: number;
  /** Largest delay ceiling (ms). */
  maxMs: number;
}
export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 15_000 };

/**
 * The wait before reconnect attempt `attempt` (0 = the first): "equal jitter" — half of the
 * exponential ceiling `min(maxMs, baseMs·2^attempt)` fixed, the other half random — so clients
 * dropped together by a restart do not come back together, and none retries in a tight loop.
 */
export function backoffDelay(
  attempt: number,
  b: Backoff = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export type SocketState = "connecting" | "open" | "closed";

export interface SocketOptions {
  /** `ws://host:port` or `wss://…`; `""` in a browser = the page's own host. */
  baseUrl?: string;
  /** Header-less auth for the upgrade: `?token=` (else the cookie of `/user/tokenLogin` is used). */
  token?: string;
  /** A guest's id (`?uuid=`), for chat rooms. */
  uuid?: string;
  device?: Device;
  /** How to open a socket; default `new WebSocket(url)` (browsers; Node ≥ 22). */
  connect?: WebSocketFactory;
  backoff?: Backoff;
  random?: () => number;
  /** Prefix of generated msgIds (default random per socket). */
  idPrefix?: string;
  /** Also receive event 61 (a friend conversation's read cursor moved; `?readEvents=1`). */
  readEvents?: boolean;
}

/** Close codes after which reconnecting cannot help (the session ended: docs/ARCHITECTURE.md). */
const FINAL_CLOSES = new Set([4001, 4003, 1008]);

interface Pending {
  frame: string;
  resolve: (f: MessageFrame) => void;
  reject: (e: Error) => void;
}
interface Waiting {
  eventType: number;
  groupId?: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

type Listeners = {
  frame: (f: ServerFrame) => void;
  message: (f: MessageFrame) => void;
  state: (s: SocketState) => void;
  /** Every open after the first: the client missed whatever was sent meanwhile (fill from history). */
  reconnected: () => void;
  /** A chat room join was answered (also the automatic re-joins after a reconnect). */
  joined: (groupId: string) => void;
  /** The server ended the session (-1004 expired, -1007 replaced, -3000 disabled): no more reconnects. */
  ended: (code: number, content: string) => void;
};

/**
 * The chat33 `/ws` socket: typed frames, reconnect with jittered exponential backoff, an outbox
 * that resends every unacknowledged message with the **same msgId** after a reconnect (the server
 * answers a repeated msgId with the original message, so nothing is stored twice), and the chat
 * rooms this client joined, re-joined after a reconnect.
 */
export class Chat33Socket {
  state: SocketState = "closed";
  private ws: WebSocketLike | null = null;
  private attempt = 0;
  private opens = 0;
  private stopped = true;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private counter = 0;
  private readonly prefix: string;
  private readonly outbox = new Map<string, Pending>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly rooms = new Set<string>();
  private readonly listeners: { [K in keyof Listeners]: Set<Listeners[K]> } = {
    frame: new Set(),
    message: new Set(),
    state: new Set(),
    reconnected: new Set(),
    joined: new Set(),
    ended: new Set(),
  };

  constructor(private readonly opts: SocketOptions = {}) {
    this.prefix = opts.idPrefix ?? `w${Math.floor((opts.random ?? Math.random)() * 2 ** 40).toString(36)}`;
  }

  on<K extends keyof Listeners>(type: K, fn: Listeners[K]): () => void {
    this.listeners[type].add(fn);
    return () => this.listeners[type].delete(fn);
  }
  private emit<K extends keyof Listeners>(type: K, ...args: Parameters<Listeners[K]>): void {
    for (const fn of this.listeners[type]) (fn as (...a: Parameters<Listeners[K]>) => void)(...args);
  }

  /** The socket URL: `/ws` with the token, uuid and device as query parameters where given. */
  url(): string {
    let base = this.opts.baseUrl ?? "";
    if (!base) {
      const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
      base = loc ? `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}` : "ws://127.0.0.1:8080";
    }
    base = base.replace(/^http/, "ws").replace(/\/$/, "");
    const q = new URLSearchParams();
    if (this.opts.token) q.set("token", this.opts.token);
    else if (this.opts.uuid) q.set("uuid", this.opts.uuid);
    if (this.opts.device && this.opts.device !== "Web") q.set("device", this.opts.device);
    if (this.opts.readEvents) q.set("readEvents", "1");
    const qs = q.toString();
    return `${base}/ws${qs ? `?${qs}` : ""}`;
  }

  /** Starts (and keeps) the connection until `close()`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  /** Closes for good; unacknowledged sends are rejected. */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000);
    }
    this.setState("closed");
    for (const [id, p] of this.outbox) p.reject(new Chat33Error(-9000, "socket closed", id));
    this.outbox.clear();
    for (const [id, w] of this.waiting) w.reject(new Chat33Error(-9000, "socket closed", id));
    this.waiting.clear();
  }

  /** Drops the current connection as a network failure would (it reconnects); for tests and "retry now". */
  drop(): void {
    const ws = this.ws;
    if (ws) ws.close(4000, "client drop");
  }

  /** A fresh client message id. */
  nextMsgId(): string {
    return `${this.prefix}-${Date.now().toString(36)}-${++this.counter}`;
  }

  /** The msgIds sent but not yet acknowledged, oldest first. */
  unacked(): string[] {
    return [...this.outbox.keys()];
  }

  /**
   * Sends a message (event 0). Resolves with the server's success frame (its `logId`, `datetime`)
   * once stored; rejects with a `Chat33Error` on the failure frame. While the socket is down the
   * message waits in the outbox and goes out (again, with the same msgId) on every reconnect until
   * it is acknowledged.
   */
  send(m: OutgoingMessage, msgId = this.nextMsgId()): Promise<MessageFrame> {
    return new Promise((resolve, reject) => {
      const frame = JSON.stringify({ eventType: 0, msgId, ...m });
      this.outbox.set(msgId, { frame, resolve, reject });
      if (this.state === "open") this.ws?.send(frame);
    });
  }

  /** Joins a chat room (event 1); it is re-joined after every reconnect until `leave`. */
  async join(groupId: string): Promise<void> {
    this.rooms.add(groupId);
    if (this.state === "open") await this.request({ eventType: 1, groupId });
  }
  async leave(groupId: string): Promise<void> {
    this.rooms.delete(groupId);
    if (this.state === "open") await this.request({ eventType: 2, groupId });
  }
  get joinedRooms(): string[] {
    return [...this.rooms];
  }

  private request(frame: { eventType: number; [k: string]: unknown }): Promise<void> {
    const msgId = this.nextMsgId();
    return new Promise((resolve, reject) => {
      const groupId = typeof frame.groupId === "string" ? frame.groupId : undefined;
      this.waiting.set(msgId, { eventType: frame.eventType, groupId, resolve, reject });
      this.ws?.send(JSON.stringify({ ...frame, msgId }));
    });
  }

  private setState(s: SocketState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit("state", s);
  }

  private open(): void {
    if (this.stopped) return;
    this.setState("connecting");
    const factory: WebSocketFactory =
      this.opts.connect ??
      ((url) => new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(url));
    let ws: WebSocketLike;
    try {
      ws = factory(this.url());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    let ended = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.opens++;
      this.setState("open");
      for (const g of this.rooms) this.request({ eventType: 1, groupId: g }).catch(() => this.rooms.delete(g));
      for (const p of this.outbox.values()) ws.send(p.frame);
      if (this.opens > 1) this.emit("reconnected");
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let f: ServerFrame & { msgId?: string; code?: number; content?: string };
      try {
        f = JSON.parse(typeof ev.data === "string" ? ev.data : String(ev.data));
      } catch {
        return;
      }
      if (!f || typeof f !== "object" || typeof f.eventType !== "number") return;
      // a frame about the connection itself (no msgId): the session ended, the socket closes
      if (f.eventType === -1 && typeof f.code === "number" && !("msgId" in f)) {
        ended = true;
        this.stopped = true;
        this.emit("ended", f.code, f.content ?? "");
      }
      const id = typeof f.msgId === "string" ? f.msgId : undefined;
      if (id !== undefined && typeof f.code === "number") {
        const p = this.outbox.get(id);
        if (p && f.eventType === 0) {
          this.outbox.delete(id);
          p.reject(new Chat33Error(f.code, f.content ?? "", id));
          return;
        }
        const w = this.waiting.get(id);
        if (w) {
          this.waiting.delete(id);
          if (f.code === 0) {
            w.resolve();
            if (w.eventType === 1 && w.groupId) this.emit("joined", w.groupId);
          } else w.reject(new Chat33Error(f.code, f.content ?? "", id));
          return;
        }
      }
      if (f.eventType === 0 && "logId" in f) {
        const p = id !== undefined ? this.outbox.get(id) : undefined;
        if (p) {
          this.outbox.delete(id as string);
          p.resolve(f as MessageFrame);
        }
        this.emit("message", f as MessageFrame);
      }
      this.emit("frame", f);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [id, w] of this.waiting) {
        // a join in flight is retried by the reconnect (rooms), the rest fail
        w.reject(new Chat33Error(-9000, "socket closed", id));
      }
      this.waiting.clear();
      if (ended || FINAL_CLOSES.has(ev.code)) {
        this.stopped = true;
        this.setState("closed");
        return;
      }
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.setState("connecting");
    const delay = backoffDelay(this.attempt++, this.opts.backoff, this.opts.random);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}
