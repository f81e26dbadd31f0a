import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { CloseCodes } from "./close-codes.ts";
import type { Connection } from "./connection.ts";
import { prepareTextFrame } from "./frame.ts";
import type { Transport, TransportSink } from "./transport.ts";

/**
 * Pongs a client may have waiting to be written (it sends pings but does not read). More, and it
 * is closed with POLICY instead of growing our buffers — the number `ws` uses for the same guard,
 * where it would drop the TCP connection without a close frame.
 */
export const MAX_PENDING_PONGS = 60;

const kConn = Symbol("parley.connection");
type TaggedSocket = WebSocket & { [kConn]?: Connection };

/** The WebSocket transport (RFC 6455 over an HTTP upgrade), built on `ws` in `noServer` mode. */
export class WsTransport implements Transport {
  readonly name = "ws";
  private readonly wss: WebSocketServer;
  // Listeners shared by every socket (no per-connection closures); `this` is the socket.
  private readonly onMessage: (this: TaggedSocket, data: RawData, isBinary: boolean) => void;
  private readonly onClose: (this: TaggedSocket, code: number) => void;
  private readonly onPong: (this: TaggedSocket) => void;
  private readonly onPing: (this: TaggedSocket, data: Buffer) => void;

  constructor(
    opts: { maxFrameBytes: number },
    private readonly sink: TransportSink,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: opts.maxFrameBytes,
      // Pings are answered below, with a named close code for a ping flood.
      autoPong: false,
    });
    const t = this;
    this.onMessage = function (this: TaggedSocket, data: RawData, isBinary: boolean) {
      const c = this[kConn];
      if (c) t.sink.message(c, data, isBinary);
    };
    this.onClose = function (this: TaggedSocket, code: number) {
      const c = this[kConn];
      if (c) t.sink.closed(c, code);
    };
    this.onPong = function (this: TaggedSocket) {
      const c = this[kConn];
      if (c) t.sink.alive(c);
    };
    this.onPing = function (this: TaggedSocket, data: Buffer) {
      const c = this[kConn];
      if (c) t.answerPing(c, this, data);
    };
  }

  /** Completes a WebSocket handshake the upgrade router accepted, then runs the route's `onOpen`. */
  accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    protocol: string,
    onOpen: (conn: Connection) => void | Promise<void>,
  ): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = this.sink.opened(protocol, this, ws, socket);
      (ws as TaggedSocket)[kConn] = conn;
      ws.on("message", this.onMessage);
      ws.on("ping", this.onPing);
      ws.on("pong", this.onPong);
      ws.on("close", this.onClose);
      ws.on("error", onError);
      this.sink.begin(conn, onOpen);
    });
  }

  /** A client ping: answered with a pong unless too many pongs are still waiting to be written. */
  private answerPing(conn: Connection, ws: WebSocket, data: Buffer): void {
    if (conn.closing || ws.readyState !== ws.OPEN) return;
    if (conn.transportState >= MAX_PENDING_PONGS) {
      this.sink.violation(conn, CloseCodes.POLICY, "too many pings");
      return;
    }
    conn.transportState++;
    ws.pong(data, false, () => {
      conn.transportState--;
    });
  }

  frame(text: string): Buffer {
    return prepareTextFrame(text);
  }

  ping(conn: Connection): void {
    try {
      (conn.handle as WebSocket).ping();
    } catch {
      // socket already gone; the close event cleans up
    }
  }

  close(conn: Connection, code: number, reason: string): void {
    const ws = conn.handle as WebSocket;
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
    }
  }

  terminate(conn: Connection): void {
    (conn.handle as WebSocket).terminate();
  }

  stop(): void {
    this.wss.close();
  }
}

function onError(this: TaggedSocket): void {
  // ws closes the socket itself (e.g. 1009 on an oversized frame); the close event cleans up.
}
