import { createServer, type Server, type Socket } from "node:net";
import { CloseCodes } from "./close-codes.ts";
import type { Connection } from "./connection.ts";
import type { Transport, TransportSink } from "./transport.ts";

export interface TcpTransportOptions {
  /** Wire protocol every connection of this listener speaks (e.g. the 003 access protocol). */
  protocol: string;
  /** Largest declared frame length accepted; more gets `tooBig(conn)` and a close. */
  maxFrameBytes: number;
  /** Runs once a connection is registered (the protocol's open hook). */
  onOpen: (conn: Connection) => void | Promise<void>;
  /**
   * The last frame (the protocol's own text) written before a close — e.g. the access protocol's
   * `error`/`kick` frame. null = close without a last frame.
   */
  closeFrame?: (code: number, reason: string) => string | null;
  /** Called when a peer declares a frame over the limit, before the connection is closed. */
  tooBig?: (conn: Connection) => void;
  /** Refuses new connections at once (e.g. the node is draining); checked per accept. */
  refuse?: () => boolean;
}

/** Per-connection reassembly state, kept on the socket (no closures per connection). */
interface TcpState {
  conn: Connection;
  buf: Buffer | null;
}
const kState = Symbol("parley.tcp");
type TaggedSocket = Socket & { [kState]?: TcpState };

/**
 * The length-prefixed TCP transport: each message is a 4-byte big-endian length followed by that
 * many bytes of UTF-8 JSON, in both directions. It owns a `net.Server`; every connection shares
 * the registry, topics, fan-out, writer and sweeper with the WebSocket transport (see
 * transport.ts). The declared length is checked before anything is buffered: a peer announcing
 * more than `maxFrameBytes` is told (`tooBig`) and closed, so it can never make us buffer it.
 * There are no transport pings: liveness is inbound traffic (the protocol's own `ping`).
 */
export class TcpTransport implements Transport {
  readonly name = "tcp";
  private readonly server: Server;
  private readonly onData: (this: TaggedSocket, chunk: Buffer) => void;
  private readonly onClose: (this: TaggedSocket) => void;

  constructor(
    private readonly sink: TransportSink,
    private readonly opts: TcpTransportOptions,
  ) {
    const t = this;
    this.onData = function (this: TaggedSocket, chunk: Buffer) {
      const st = this[kState];
      if (st) t.receive(st, chunk);
    };
    this.onClose = function (this: TaggedSocket) {
      const st = this[kState];
      if (st) t.sink.closed(st.conn, st.conn.closing ? CloseCodes.NORMAL : 1006);
    };
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket as TaggedSocket));
  }

  private accept(socket: TaggedSocket): void {
    socket.on("error", onError);
    if (this.opts.refuse?.()) {
      socket.destroy();
      return;
    }
    const conn = this.sink.opened(this.opts.protocol, this, socket, socket);
    conn.address = socket.remoteAddress ?? "";
    socket[kState] = { conn, buf: null };
    socket.on("data", this.onData);
    socket.on("close", this.onClose);
    this.sink.begin(conn, this.opts.onOpen);
  }

  private receive(st: TcpState, chunk: Buffer): void {
    const conn = st.conn;
    let buf = st.buf ? Buffer.concat([st.buf, chunk]) : chunk;
    while (buf.length >= 4) {
      if (conn.closing) {
        st.buf = null;
        return;
      }
      const len = buf.readUInt32BE(0);
      if (len > this.opts.maxFrameBytes) {
        st.buf = null;
        this.opts.tooBig?.(conn);
        this.sink.violation(conn, CloseCodes.MESSAGE_TOO_BIG, "message too big");
        return;
      }
      if (buf.length < 4 + len) break;
      const frame = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      this.sink.message(conn, frame, false);
    }
    // keep only the unfinished tail (copied, so the big chunk it came from can be freed)
    st.buf = buf.length ? Buffer.from(buf) : null;
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      this.server.once("error", fail);
      this.server.listen(port, host, () => {
        this.server.off("error", fail);
        const addr = this.server.address();
        resolve(typeof addr === "object" && addr ? addr.port : 0);
      });
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  frame(text: string): Buffer {
    const len = Buffer.byteLength(text);
    const out = Buffer.allocUnsafe(4 + len);
    out.writeUInt32BE(len, 0);
    out.write(text, 4, "utf8");
    return out;
  }

  ping(): void {
    // no transport-level pings: the access protocol's `ping` frame keeps a connection alive
  }

  close(conn: Connection, code: number, reason: string): void {
    const socket = conn.socket as Socket;
    const last = this.opts.closeFrame?.(code, reason) ?? null;
    if (last !== null && socket.writable) socket.end(this.frame(last));
    else socket.end();
  }

  terminate(conn: Connection): void {
    (conn.socket as Socket).destroy();
  }

  stop(): void {
    this.server.close();
  }
}

function onError(this: Socket): void {
  // a reset peer: the close event cleans up
}
