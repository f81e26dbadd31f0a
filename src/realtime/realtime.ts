import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { ConnectionAddress, ConnectionOps } from "../ports/connections.ts";
import type { Hub, Json } from "../ports/hub.ts";
import { CloseCodes } from "./close-codes.ts";
import type { Connection } from "./connection.ts";
import { FanOut } from "./fanout.ts";
import { NodeOps } from "./node-ops.ts";
import type { ProtocolHandler, RealtimeEvent, RealtimeStats, UpgradeRoute } from "./protocol.ts";
import { newRealtimeStats } from "./protocol.ts";
import { ConnectionRegistry } from "./registry.ts";
import { Sweeper } from "./sweeper.ts";
import { TopicIndex } from "./topic-index.ts";
import type { Transport, TransportSink } from "./transport.ts";
import { UpgradeRouter } from "./upgrade.ts";
import { Writer } from "./writer.ts";
import { WsTransport } from "./ws-transport.ts";

export type { ProtocolHandler, RealtimeEvent, RealtimeStats, UpgradeDecision, UpgradeRoute } from "./protocol.ts";

export interface RealtimeOptions {
  maxFrameBytes: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  /** How long a busy fan-out pass waits to gather more events (0 = never; `FanOut`). */
  fanoutCoalesceMs: number;
  allowedOrigins: readonly string[];
  /** The client address of an upgrade request (behind trusted proxies); default: the TCP peer. */
  clientAddress?: (req: IncomingMessage) => string;
}

/**
 * The realtime layer of one node, composed of small parts: upgrade routing (`upgrade.ts`), the
 * WebSocket transport (`ws-transport.ts`, behind the `Transport` interface), the connection
 * registry (`registry.ts`), the topic index (`topic-index.ts`), fan-out with its render cache
 * (`fanout.ts`), the writer (`writer.ts`), the sweeper (`sweeper.ts`) and node operations over
 * the hub (`node-ops.ts`). It knows nothing of the core: surfaces register wire protocols and
 * upgrade routes; core services reach it only through the events and connection-ops ports.
 */
export class Realtime implements ConnectionOps<RealtimeEvent> {
  readonly stats: RealtimeStats = newRealtimeStats();
  private readonly protocols = new Map<string, ProtocolHandler>();
  private readonly topics: TopicIndex;
  private readonly writer: Writer;
  private readonly fanout: FanOut;
  private readonly registry: ConnectionRegistry;
  private readonly ws: WsTransport;
  private readonly upgrades: UpgradeRouter;
  private readonly sweeper: Sweeper;
  private readonly ops: NodeOps;

  constructor(
    opts: RealtimeOptions,
    readonly hub: Hub,
    log: Logger,
  ) {
    this.topics = new TopicIndex(hub, log);
    this.writer = new Writer(opts.maxBufferedBytes, this.stats, log);
    this.fanout = new FanOut(
      this.protocols,
      this.writer,
      log,
      this.stats,
      (topic) => this.topics.subscribers(topic),
      opts.fanoutCoalesceMs,
    );
    this.registry = new ConnectionRegistry(this.protocols, this.topics, this.writer, this.stats, log);
    this.ws = new WsTransport(opts, this.registry);
    this.upgrades = new UpgradeRouter(this.ws, opts.allowedOrigins, log, opts.clientAddress);
    this.sweeper = new Sweeper(this.registry.connections, this.protocols, this.writer, opts, log);
    this.ops = new NodeOps(hub, this.registry, this.topics, this.fanout, this.writer, this.protocols);
    hub.onMessage((topic, payload) => this.deliverLocal(topic, payload as RealtimeEvent));
  }

  /** Open connections of this node by id. */
  get connections(): ReadonlyMap<number, Connection> {
    return this.registry.connections;
  }

  get nodeId(): string {
    return this.hub.nodeId;
  }

  /** Registers a wire protocol. `E` is the event union the surface renders. */
  registerProtocol<E extends RealtimeEvent>(name: string, handler: ProtocolHandler<E>): void {
    this.protocols.set(name, handler);
  }

  route(path: string, route: UpgradeRoute): void {
    this.upgrades.route(path, route);
  }

  hasRoute(path: string): boolean {
    return this.upgrades.hasRoute(path);
  }

  /** Registers a named operation other nodes may invoke on this node through the hub. */
  registerOp(name: string, fn: (payload: { [key: string]: Json }) => Promise<Json> | Json): void {
    this.ops.register(name, fn);
  }

  /** Invokes `op` on `nodeId` (locally without serialisation when it is this node). */
  callNode(nodeId: string, op: string, args: { [key: string]: Json }, timeoutMs?: number): Promise<Json> {
    return this.ops.call(nodeId, op, args, timeoutMs);
  }

  /**
   * Adds another transport (e.g. length-prefixed TCP): `make` gets the sink its connections
   * report to. Its connections share the registry, topics, fan-out, writer, sweeper and node ops;
   * `stop()` stops it.
   */
  addTransport<T extends Transport>(make: (sink: TransportSink) => T): T {
    const t = make(this.registry);
    this.transports.push(t);
    return t;
  }
  private readonly transports: Transport[] = [];

  start(): void {
    this.sweeper.start();
  }

  /** Called by the HTTP server's `upgrade` event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgrades.handle(req, socket, head);
  }

  /** The client address of an upgrade (the same rule as HTTP's `req.ip`). */
  addressOf(req: IncomingMessage): string {
    return this.upgrades.addressOf(req);
  }

  /** Subscribes a local connection to a topic; resolves once cluster publishes will reach it. */
  subscribe(conn: Connection, topic: string): Promise<void> {
    return this.topics.subscribe(conn, topic);
  }

  unsubscribe(conn: Connection, topic: string): void {
    this.topics.unsubscribe(conn, topic);
  }

  localSubscribers(topic: string): number {
    return this.topics.subscribers(topic)?.size ?? 0;
  }

  /** Publishes an event to every subscriber of `topic` on every node. */
  publish(topic: string, event: RealtimeEvent): Promise<void> {
    return this.hub.publish(topic, event);
  }

  /**
   * Delivers an event to this node's subscribers of `topic` (rendered once per protocol and
   * transport); a large audience is written shard by shard (`fanout.ts`). Returns the audience size.
   */
  deliverLocal(topic: string, event: RealtimeEvent): number {
    return this.fanout.publish(topic, event);
  }

  /**
   * Names the fan-out shard size of topics (e.g. a chat room's 分组容量); null = the default
   * (`DEFAULT_SHARD_SIZE`). Called once per delivered event: it must not do I/O.
   */
  setShardSizer(fn: (topic: string) => number | null): void {
    this.fanout.setShardSizer(fn);
  }

  /**
   * Waits for room in this node's fan-out of `topic` (see `FanOut.admit`): null = room now, else
   * a promise of true (room) or false (still full after `timeoutMs`: the caller answers busy).
   */
  admit(topic: string, timeoutMs?: number): Promise<boolean> | null {
    return this.fanout.admit(topic, timeoutMs);
  }

  /** Fan-out passes running now (large audiences written shard by shard) and events queued behind them. */
  get fanoutLoad(): { passes: number; pending: number } {
    return { passes: this.fanout.activePasses, pending: this.fanout.pendingEvents };
  }

  /** Sends an event to one connection on any node. Best effort (live-only). */
  async send(addr: ConnectionAddress, event: RealtimeEvent): Promise<void> {
    if (addr.nodeId === this.nodeId) this.ops.sendLocal([addr.connId], event);
    else await this.callNode(addr.nodeId, "conn.send", { connId: addr.connId, event });
  }

  /** Sends one event to several connections of one node, rendered once per protocol. */
  async sendMany(nodeId: string, connIds: readonly number[], event: RealtimeEvent): Promise<void> {
    if (nodeId === this.nodeId) this.ops.sendLocal(connIds, event);
    else await this.callNode(nodeId, "conn.sendMany", { connIds: [...connIds], event });
  }

  /** Subscribes a connection anywhere in the cluster to `topic` (see `ConnectionOps.bind`). */
  async bind(addr: ConnectionAddress, owner: string, topic: string, meta: Json): Promise<boolean> {
    return (await this.callNode(addr.nodeId, "conn.bind", { connId: addr.connId, owner, topic, meta })) === true;
  }

  /** Closes a connection anywhere in the cluster; false when it was gone or has another owner. */
  async closeRemote(addr: ConnectionAddress, owner: string, code: number, reason: string): Promise<boolean> {
    return (await this.callNode(addr.nodeId, "conn.close", { connId: addr.connId, owner, code, reason })) === true;
  }

  /** Kicks a connection anywhere in the cluster: `text` (a surface frame) if given, then close 4003. */
  async kick(addr: ConnectionAddress, owner: string, text: string | null = null): Promise<boolean> {
    return (await this.callNode(addr.nodeId, "conn.kick", { connId: addr.connId, owner, text })) === true;
  }

  /** Sends a text message to one local connection. */
  sendText(conn: Connection, text: string): boolean {
    return this.writer.send(conn, conn.transport.frame(text));
  }

  /** One text message to many local connections, framed once per transport (see `Writer.sendTextMany`). */
  sendTextMany(conns: Iterable<Connection>, text: string): number {
    return this.writer.sendTextMany(conns, text);
  }

  /** See `Writer.holdWrites` (wired as the events port's after-commit hook). */
  holdWrites(): void {
    this.writer.holdWrites();
  }

  /** Closes a local connection with a named code (see `Writer.close`). */
  close(conn: Connection, code: number, reason: string): void {
    this.writer.close(conn, code, reason);
  }

  /** Stops accepting upgrades (readiness is reported separately). */
  startDraining(): void {
    this.upgrades.draining = true;
  }

  /** Closes every connection with a reconnectable code, in batches so the event loop breathes. */
  async closeAll(code: number = CloseCodes.GOING_AWAY, reason = "server shutting down", batch = 1000): Promise<void> {
    this.upgrades.draining = true;
    const all = [...this.registry.connections.values()];
    for (let i = 0; i < all.length; i += batch) {
      for (const conn of all.slice(i, i + batch)) this.writer.close(conn, code, reason);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves when every connection is gone or `timeoutMs` passed. */
  async drained(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.registry.connections.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }

  async stop(): Promise<void> {
    this.sweeper.stop();
    for (const conn of this.registry.connections.values()) conn.transport.terminate(conn);
    this.ws.stop();
    for (const t of this.transports) t.stop();
  }
}
