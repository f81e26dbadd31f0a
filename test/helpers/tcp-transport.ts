import { createServer, type Server, type Socket } from "node:net";
import type { Connection } from "../../src/realtime/connection.ts";
import type { Transport, TransportSink } from "../../src/realtime/transport.ts";

/**
 * A length-prefixed TCP transport (each message: 4-byte big-endian length + UTF-8 JSON), written
 * against `src/realtime/transport.ts` alone — the proof that a new transport is one file. The
 * cluster-admin access layer will ship its own in `src/realtime/`; this one serves the tests.
 */
export class TcpTransport implements Transport {
  readonly name = "tcp";
  private readonly server: Server;

  constructor(
    sink: TransportSink,
    protocol: string,
    onOpen: (conn: Connection) => void | Promise<void>,
    maxFrameBytes = 64 * 1024,
  ) {
    this.server = createServer((socket) => {
      const conn = sink.opened(protocol, this, socket, socket);
      let buf: Buffer = Buffer.alloc(0);
      socket.on("data", (d: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        while (buf.length >= 4) {
          const len = buf.readUInt32BE(0);
          if (len > maxFrameBytes) {
            sink.violation(conn, 1009, "message too big");
            return;
          }
          if (buf.length < 4 + len) break;
          sink.message(conn, buf.subarray(4, 4 + len), false);
          buf = buf.subarray(4 + len);
        }
      });
      socket.on("close", () => sink.closed(conn, 1006));
      socket.on("error", () => {});
      sink.begin(conn, onOpen);
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) =>
      this.server.listen(0, "127.0.0.1", () => resolve((this.server.address() as { port: number }).port)),
    );
  }

  frame(text: string): Buffer {
    const body = Buffer.from(text, "utf8");
    const out = Buffer.allocUnsafe(4 + body.length);
    out.writeUInt32BE(body.length, 0);
    body.copy(out, 4);
    return out;
  }

  ping(): void {
    // no pings on this transport: liveness is inbound traffic
  }

  close(conn: Connection, code: number, reason: string): void {
    (conn.socket as Socket).end(this.frame(JSON.stringify({ close: code, reason })));
  }

  terminate(conn: Connection): void {
    (conn.socket as Socket).destroy();
  }

  stop(): void {
    this.server.close();
  }
}

/** A client of that transport: messages parsed from the length-prefixed stream, in order. */
export class TcpClient {
  readonly socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly queue: unknown[] = [];
  private waiters: Array<(v: unknown) => void> = [];
  readonly ended: Promise<void>;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
        const len = this.buf.readUInt32BE(0);
        const v = JSON.parse(this.buf.toString("utf8", 4, 4 + len));
        this.buf = this.buf.subarray(4 + len);
        const w = this.waiters.shift();
        if (w) w(v);
        else this.queue.push(v);
      }
    });
    this.ended = new Promise((r) => socket.once("end", () => r()));
  }

  send(v: unknown): void {
    const body = Buffer.from(JSON.stringify(v), "utf8");
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(body.length, 0);
    this.socket.write(Buffer.concat([head, body]));
  }

  next<T = Record<string, unknown>>(timeoutMs = 3000): Promise<T> {
    if (this.queue.length) return Promise.resolve(this.queue.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
    });
  }
}
