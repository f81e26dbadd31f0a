import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { CloseCodes } from "./close-codes.ts";
import { Connection } from "./connection.ts";
import { bump, type ProtocolHandler, type RealtimeStats } from "./protocol.ts";
import type { TopicIndex } from "./topic-index.ts";
import type { Transport, TransportSink } from "./transport.ts";
import type { Writer } from "./writer.ts";

/**
 * The connection registry: every open connection of this node by id, and the transport sink —
 * where transports report new connections, inbound messages, liveness and closes.
 */
export class ConnectionRegistry implements TransportSink {
  readonly connections = new Map<number, Connection>();
  /**
   * Connection ids start at a random point of a 2^47 space, so a restarted node (same nodeId)
   * does not hand out the ids of its previous life: an old gateway clientId finds nobody.
   */
  private nextId = 1 + Math.floor(Math.random() * 2 ** 47);

  constructor(
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    private readonly topics: TopicIndex,
    private readonly writer: Writer,
    private readonly stats: RealtimeStats,
    private readonly log: Logger,
  ) {}

  opened(protocol: string, transport: Transport, handle: unknown, socket: Duplex): Connection {
    const conn = new Connection(this.nextId++, protocol, transport, handle, socket, Date.now());
    this.connections.set(conn.id, conn);
    bump(this.stats.open, protocol);
    return conn;
  }

  begin(conn: Connection, onOpen: (conn: Connection) => void | Promise<void>): void {
    const failed = (err: unknown) => {
      conn.ready = true;
      this.log.error({ err }, "onOpen failed");
      this.writer.close(conn, CloseCodes.INTERNAL, "internal error");
    };
    try {
      const done = onOpen(conn);
      if (!done) conn.ready = true;
      else
        done.then(() => {
          conn.ready = true;
        }, failed);
    } catch (err) {
      failed(err);
    }
  }

  message(conn: Connection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    conn.lastSeen = Date.now();
    bump(this.stats.framesIn, conn.protocol);
    try {
      this.protocols.get(conn.protocol)?.onMessage?.(conn, data, isBinary);
    } catch (err) {
      this.log.error({ err }, "protocol onMessage failed");
    }
  }

  alive(conn: Connection): void {
    conn.lastSeen = Date.now();
  }

  closed(conn: Connection, code: number): void {
    if (!this.connections.delete(conn.id)) return;
    conn.closing = true;
    bump(this.stats.open, conn.protocol, -1);
    this.topics.dropAll(conn);
    try {
      this.protocols.get(conn.protocol)?.onClose?.(conn, code);
    } catch (err) {
      this.log.error({ err }, "protocol onClose failed");
    }
  }

  violation(conn: Connection, code: number, reason: string): void {
    this.log.debug({ conn: conn.id, protocol: conn.protocol, reason }, "connection closed for a protocol violation");
    this.writer.close(conn, code, reason);
  }

  /** The connection `id` if it is open here and addressed by `owner` (node operations). */
  owned(id: number, owner: string): Connection | null {
    const conn = this.connections.get(id);
    return conn && !conn.closing && conn.owner !== null && conn.owner === owner ? conn : null;
  }
}
