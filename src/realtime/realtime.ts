import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { AppError } from "../core/errors.ts";
import type { Hub, Json } from "../ports/hub.ts";
import { CloseCodes } from "./close-codes.ts";
import { Connection } from "./connection.ts";
import { type PreparedFrame, prepareTextFrame } from "./frame.ts";

/** A realtime event: a JSON object with a `type`; protocols render it into their wire format. */
export type RealtimeEvent = { type: string; [key: string]: Json };

export interface ProtocolHandler {
  /** Renders an event for this protocol's sockets; null = this protocol ignores the event. */
  render(event: RealtimeEvent): string | null;
  onMessage?(conn: Connection, data: RawData, isBinary: boolean): void;
  onClose?(conn: Connection, code: number): void;
  /**
   * Per-connection reaction to an event, after the rendered frame (if any) was sent — for the
   * rare events that need more than a frame (close a revoked session, finish a QR login).
   */
  onEvent?(conn: Connection, event: RealtimeEvent): void;
  /** Called for every open connection on each ping sweep (e.g. to end expired sessions). */
  onSweep?(conn: Connection, now: number): void;
  /**
   * Called once per ping sweep with all of this protocol's open connections, for checks that
   * should be one batched query rather than one per socket (e.g. revoked sessions).
   */
  onSweepAll?(conns: Connection[], now: number): void;
}

/** What an upgrade route decides before the handshake completes. */
export type UpgradeDecision =
  | { accept: true; protocol: string; onOpen: (conn: Connection) => void }
  | { accept: false; status: number; message: string };

/** Resolves to null when the request is not this route's (the next route for the path decides). */
export type UpgradeRoute = (req: IncomingMessage, url: URL) => Promise<UpgradeDecision | null>;

export interface RealtimeOptions {
  maxFrameBytes: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  allowedOrigins: readonly string[];
  /** The client address of an upgrade request (behind trusted proxies); default: the TCP peer. */
  clientAddress?: (req: IncomingMessage) => string;
}

export interface RealtimeStats {
  framesIn: Map<string, number>;
  framesOut: Map<string, number>;
  slowConsumers: Map<string, number>;
  open: Map<string, number>;
}

const kConn = Symbol("parley.connection");
type TaggedSocket = WebSocket & { [kConn]?: Connection };

type OpHandler = (payload: { [key: string]: Json }) => Promise<Json> | Json;

function bump(m: Map<string, number>, key: string, by = 1): void {
  m.set(key, (m.get(key) ?? 0) + by);
}

/**
 * The realtime layer: connection registry, topic index, fan-out, bounded send buffers, write
 * coalescing, ping/idle sweep, upgrade routing and cluster routing over the hub.
 */
export class Realtime {
  readonly connections = new Map<number, Connection>();
  private readonly topicIndex = new Map<string, Set<Connection>>();
  private readonly protocols = new Map<string, ProtocolHandler>();
  private readonly routes = new Map<string, UpgradeRoute[]>();
  private readonly ops = new Map<string, OpHandler>();
  private readonly wss: WebSocketServer;
  /**
   * Connection ids start at a random point of a 2^47 space, so a restarted node (same nodeId)
   * does not hand out the ids of its previous life: an old gateway clientId finds nobody.
   */
  private nextId = 1 + Math.floor(Math.random() * 2 ** 47);
  private sweepTimer: NodeJS.Timeout | null = null;
  private touched: Connection[] = [];
  private flushScheduled = false;
  private draining = false;
  private readonly onWsMessage: (this: TaggedSocket, data: RawData, isBinary: boolean) => void;
  private readonly onWsClose: (this: TaggedSocket, code: number) => void;
  readonly stats: RealtimeStats = {
    framesIn: new Map(),
    framesOut: new Map(),
    slowConsumers: new Map(),
    open: new Map(),
  };

  constructor(
    private readonly opts: RealtimeOptions,
    readonly hub: Hub,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: opts.maxFrameBytes,
    });
    hub.onMessage((topic, payload) => this.deliverLocal(topic, payload as RealtimeEvent));
    hub.onRequest((payload) => this.handleOp(payload));
    // Listeners shared by every socket (no per-connection closures); `this` is the socket.
    const realtime = this;
    this.onWsMessage = function (this: TaggedSocket, data: RawData, isBinary: boolean) {
      const c = this[kConn];
      if (c) realtime.onMessage(c, data, isBinary);
    };
    this.onWsClose = function (this: TaggedSocket, code: number) {
      const c = this[kConn];
      if (c) realtime.onClose(c, code);
    };
    this.registerOp("conn.send", (p) => this.sendLocal(Number(p.connId), p.event as RealtimeEvent));
    this.registerOp("conn.sendMany", (p) =>
      Array.isArray(p.connIds) ? this.sendManyLocal(p.connIds.map(Number), p.event as RealtimeEvent) : 0,
    );
  }

  get nodeId(): string {
    return this.hub.nodeId;
  }

  registerProtocol(name: string, handler: ProtocolHandler): void {
    this.protocols.set(name, handler);
  }

  /**
   * Routes WebSocket upgrades for `path` (exact match) to `route`. Several surfaces may share a
   * path (chat33 and the gateway both use /ws): routes are asked in registration order and the
   * first non-null decision wins.
   */
  route(path: string, route: UpgradeRoute): void {
    const list = this.routes.get(path) ?? [];
    list.push(route);
    this.routes.set(path, list);
  }

  hasRoute(path: string): boolean {
    return this.routes.has(path);
  }

  /** Registers a named operation other nodes may invoke on this node through the hub. */
  registerOp(name: string, fn: OpHandler): void {
    this.ops.set(name, fn);
  }

  private async handleOp(payload: Json): Promise<Json> {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
    const fn = this.ops.get(String(payload.op));
    if (!fn) throw new AppError("invalid_argument", "unknown_op");
    return fn(payload);
  }

  /** Invokes `op` on `nodeId` (locally without serialisation when it is this node). */
  callNode(nodeId: string, op: string, args: { [key: string]: Json }, timeoutMs?: number): Promise<Json> {
    return this.hub.request(nodeId, { ...args, op }, timeoutMs);
  }

  start(): void {
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.pingIntervalMs);
    this.sweepTimer.unref();
  }

  /** Called by the HTTP server's `upgrade` event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      // answered below
    }
    const routes = url ? this.routes.get(url.pathname) : undefined;
    const origin = req.headers.origin;
    let refusal: [number, string] | null = null;
    if (!url) refusal = [400, "Bad Request"];
    else if (!routes) refusal = [404, "Not Found"];
    else if (this.draining) refusal = [503, "Service Unavailable"];
    else if (this.opts.allowedOrigins.length && origin && !this.opts.allowedOrigins.includes(origin))
      refusal = [403, "Forbidden"];
    if (refusal || !url || !routes) {
      rejectUpgrade(socket, ...(refusal ?? [404, "Not Found"]));
      return;
    }
    decide(routes, req, url).then(
      (decision) => {
        if (!decision) rejectUpgrade(socket, 404, "Not Found");
        else if (!decision.accept) rejectUpgrade(socket, decision.status, decision.message);
        if (!decision?.accept || socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) =>
          this.open(ws, socket, decision.protocol, decision.onOpen, this.addressOf(req)),
        );
      },
      (err: unknown) => {
        this.log.error({ err, address: this.addressOf(req) }, "upgrade route failed");
        rejectUpgrade(socket, 500, "Internal Server Error");
      },
    );
  }

  /** The client address of an upgrade (the same rule as HTTP's `req.ip`). */
  addressOf(req: IncomingMessage): string {
    return this.opts.clientAddress ? this.opts.clientAddress(req) : (req.socket.remoteAddress ?? "");
  }

  private open(
    ws: WebSocket,
    socket: Duplex,
    protocol: string,
    onOpen: (conn: Connection) => void,
    address: string,
  ): void {
    const conn = new Connection(this.nextId++, protocol, ws, socket, Date.now());
    conn.address = address;
    (ws as TaggedSocket)[kConn] = conn;
    this.connections.set(conn.id, conn);
    bump(this.stats.open, protocol);
    ws.on("message", this.onWsMessage);
    ws.on("pong", onWsPong);
    ws.on("close", this.onWsClose);
    ws.on("error", onWsError);
    try {
      onOpen(conn);
    } catch (err) {
      this.log.error({ err }, "onOpen failed");
      this.close(conn, CloseCodes.INTERNAL, "internal error");
    }
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    conn.lastSeen = Date.now();
    bump(this.stats.framesIn, conn.protocol);
    const handler = this.protocols.get(conn.protocol);
    try {
      handler?.onMessage?.(conn, data, isBinary);
    } catch (err) {
      this.log.error({ err }, "protocol onMessage failed");
    }
  }

  private onClose(conn: Connection, code: number): void {
    if (!this.connections.delete(conn.id)) return;
    conn.closing = true;
    bump(this.stats.open, conn.protocol, -1);
    if (conn.topics) for (const t of conn.topics) this.removeFromTopic(conn, t);
    conn.topics = null;
    try {
      this.protocols.get(conn.protocol)?.onClose?.(conn, code);
    } catch (err) {
      this.log.error({ err }, "protocol onClose failed");
    }
  }

  /** Subscribes a local connection to a topic; resolves once cluster publishes will reach it. */
  async subscribe(conn: Connection, topic: string): Promise<void> {
    if (conn.closing) return;
    let set = this.topicIndex.get(topic);
    const first = !set;
    if (!set) {
      set = new Set();
      this.topicIndex.set(topic, set);
    }
    set.add(conn);
    if (!conn.topics) conn.topics = new Set();
    conn.topics.add(topic);
    if (first) await this.hub.subscribe(topic);
  }

  unsubscribe(conn: Connection, topic: string): void {
    if (conn.topics?.delete(topic)) this.removeFromTopic(conn, topic);
  }

  private removeFromTopic(conn: Connection, topic: string): void {
    const set = this.topicIndex.get(topic);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) {
      this.topicIndex.delete(topic);
      this.hub.unsubscribe(topic).catch((err: unknown) => this.log.warn({ err, topic }, "hub unsubscribe failed"));
    }
  }

  localSubscribers(topic: string): number {
    return this.topicIndex.get(topic)?.size ?? 0;
  }

  /** Publishes an event to every subscriber of `topic` on every node. */
  publish(topic: string, event: RealtimeEvent): Promise<void> {
    return this.hub.publish(topic, event);
  }

  /**
   * Delivers an event to this node's subscribers of `topic`, rendering it once per protocol and
   * writing the same prepared frame to every socket.
   */
  deliverLocal(topic: string, event: RealtimeEvent): number {
    const set = this.topicIndex.get(topic);
    if (!set) return 0;
    let lastProtocol = "";
    let frame: PreparedFrame | null = null;
    let rendered: Map<string, PreparedFrame | null> | null = null;
    let sent = 0;
    let hooks: Connection[] | null = null;
    let hookProtocol = false;
    for (const conn of set) {
      if (conn.protocol !== lastProtocol) {
        if (lastProtocol !== "") {
          rendered ??= new Map();
          rendered.set(lastProtocol, frame);
        }
        lastProtocol = conn.protocol;
        frame = rendered?.has(lastProtocol) ? (rendered.get(lastProtocol) ?? null) : this.render(lastProtocol, event);
        hookProtocol = this.protocols.get(lastProtocol)?.onEvent !== undefined;
      }
      if (hookProtocol) {
        hooks ??= [];
        hooks.push(conn);
      }
      if (frame && this.sendFrame(conn, frame)) sent++;
    }
    if (hooks) for (const conn of hooks) this.safely(() => this.protocols.get(conn.protocol)?.onEvent?.(conn, event));
    return sent;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, "protocol hook failed");
    }
  }

  private render(protocol: string, event: RealtimeEvent): PreparedFrame | null {
    const text = this.protocols.get(protocol)?.render(event);
    return text == null ? null : prepareTextFrame(text);
  }

  /** Sends an event to one connection on any node. Best effort (live-only). */
  async sendTo(nodeId: string, connId: number, event: RealtimeEvent): Promise<void> {
    if (nodeId === this.nodeId) {
      this.sendLocal(connId, event);
      return;
    }
    await this.callNode(nodeId, "conn.send", { connId, event });
  }

  /** Sends one event to several connections of one node, rendered once per protocol. */
  async sendToMany(nodeId: string, connIds: number[], event: RealtimeEvent): Promise<void> {
    if (nodeId === this.nodeId) {
      this.sendManyLocal(connIds, event);
      return;
    }
    await this.callNode(nodeId, "conn.sendMany", { connIds, event });
  }

  private sendLocal(connId: number, event: RealtimeEvent): boolean {
    return this.sendManyLocal([connId], event) === 1;
  }

  private sendManyLocal(connIds: readonly number[], event: RealtimeEvent): number {
    let rendered: Map<string, PreparedFrame | null> | null = null;
    let sent = 0;
    for (const id of connIds) {
      const conn = this.connections.get(id);
      if (!conn) continue;
      rendered ??= new Map();
      let frame = rendered.get(conn.protocol);
      if (frame === undefined) {
        frame = this.render(conn.protocol, event);
        rendered.set(conn.protocol, frame);
      }
      if (frame && this.sendFrame(conn, frame)) sent++;
    }
    return sent;
  }

  /** Sends a text message to one local connection. */
  sendText(conn: Connection, text: string): boolean {
    return this.sendFrame(conn, prepareTextFrame(text));
  }

  /**
   * Writes a prepared frame. The first write to a socket in an event-loop turn goes straight out
   * (no added latency); further writes in the same turn are corked and leave as one writev when
   * the turn ends. A socket whose buffer would exceed `maxBufferedBytes` is closed (slow consumer).
   */
  sendFrame(conn: Connection, frame: PreparedFrame): boolean {
    if (conn.closing) return false;
    const socket = conn.socket;
    if (socket.writableLength + frame.length > this.opts.maxBufferedBytes) {
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
    bump(this.stats.framesOut, conn.protocol);
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
  private holding = false;
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
    // One warning per second at most: a burst of slow consumers must not become a log storm.
    const now = Date.now();
    this.slowSinceLog++;
    if (now - this.slowLoggedAt >= 1000) {
      this.log.warn({ conn: conn.id, protocol: conn.protocol, count: this.slowSinceLog }, "slow consumers closed");
      this.slowLoggedAt = now;
      this.slowSinceLog = 0;
    }
    this.close(conn, CloseCodes.TRY_AGAIN_LATER, "slow consumer");
  }
  private slowLoggedAt = 0;
  private slowSinceLog = 0;

  /**
   * Closes a connection with a named code. Sends are dropped from now on; a peer that does not
   * complete the closing handshake within 2 s is cut off, so its buffers are freed.
   */
  close(conn: Connection, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    if (conn.tick === 2) conn.socket.uncork();
    conn.tick = 3; // never corked again
    try {
      conn.ws.close(code, reason);
    } catch {
      conn.ws.terminate();
    }
    setTimeout(() => conn.ws.terminate(), 2000).unref();
  }

  private sweep(): void {
    const now = Date.now();
    const batches = new Map<string, Connection[]>();
    for (const conn of this.connections.values()) {
      if (conn.closing) continue;
      const handler = this.protocols.get(conn.protocol);
      if (handler?.onSweep) this.safely(() => handler.onSweep?.(conn, now));
      if (conn.closing) continue;
      if (handler?.onSweepAll) {
        const list = batches.get(conn.protocol);
        if (list) list.push(conn);
        else batches.set(conn.protocol, [conn]);
      }
      if (now - conn.lastSeen > this.opts.idleTimeoutMs) this.close(conn, CloseCodes.IDLE_TIMEOUT, "idle timeout");
      else {
        try {
          conn.ws.ping();
        } catch {
          // socket already gone; the close event cleans up
        }
      }
    }
    for (const [protocol, conns] of batches) {
      const live = conns.filter((c) => !c.closing);
      if (live.length) this.safely(() => this.protocols.get(protocol)?.onSweepAll?.(live, now));
    }
  }

  /** Stops accepting upgrades (readiness is reported separately). */
  startDraining(): void {
    this.draining = true;
  }

  /** Closes every connection with a reconnectable code, in batches so the event loop breathes. */
  async closeAll(code: number = CloseCodes.GOING_AWAY, reason = "server shutting down", batch = 1000): Promise<void> {
    this.draining = true;
    const all = [...this.connections.values()];
    for (let i = 0; i < all.length; i += batch) {
      for (const conn of all.slice(i, i + batch)) this.close(conn, code, reason);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves when every connection is gone or `timeoutMs` passed. */
  async drained(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.connections.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const conn of this.connections.values()) conn.ws.terminate();
    this.wss.close();
  }
}

function onWsPong(this: TaggedSocket): void {
  const c = this[kConn];
  if (c) c.lastSeen = Date.now();
}

function onWsError(this: TaggedSocket): void {
  // ws closes the socket itself (e.g. 1009 on an oversized frame); the close event cleans up.
}

async function decide(routes: UpgradeRoute[], req: IncomingMessage, url: URL): Promise<UpgradeDecision | null> {
  for (const route of routes) {
    const d = await route(req, url);
    if (d) return d;
  }
  return null;
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}
