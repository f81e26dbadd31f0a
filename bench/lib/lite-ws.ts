// A small WebSocket client (RFC 6455) for the load generators: one TCP socket, the opening
// handshake written by hand (its Sec-WebSocket-Accept checked), frames parsed in place out of one
// read buffer shared by every socket of the process (`net.connect`'s `onread`), no per-frame
// objects, no events, no streams. It exists so that the members of a room benchmark cost their
// process as little CPU as possible: with the `ws` client, a member costs its load generator
// several times the server's CPU per delivery, so on a 2-core box the generators, not the server,
// set the pace, and a server that is faster than its clients never sees a backlog to coalesce.
//
// What it supports: text and binary frames from the server (unmasked, as RFC 6455 requires of a
// server), continuation frames, ping (answered with pong), close (answered, then the socket ends);
// masked client frames for what a member sends. No extensions (no permessage-deflate), no TLS.
// A protocol error (a masked server frame, a control frame over 125 bytes, a frame over
// `maxFrame`) destroys the socket and calls `onClose`.
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import net from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** One read buffer for every socket of the process: `onread` fills it and calls back synchronously. */
const READ_BUF = Buffer.allocUnsafe(256 * 1024);

export interface LiteWsOptions {
  port: number;
  host?: string;
  path: string;
  headers?: Record<string, string>;
  protocol?: string;
  /** Most bytes of one message (default 1 MiB). */
  maxFrame?: number;
  /** Source address to bind (a 127.x address). */
  localAddress?: string;
  /** A message (text or binary): `buf[start, end)`, valid only during the call. */
  onMessage: (buf: Buffer, start: number, end: number) => void;
  onOpen?: () => void;
  onClose?: (why: string) => void;
}

export class LiteWs {
  private readonly socket: net.Socket;
  private open = false;
  private closed = false;
  /** Bytes of an unfinished handshake answer or frame, kept across reads. */
  private rest: Buffer | null = null;
  /** Payloads of a fragmented message so far. */
  private parts: Buffer[] | null = null;
  private readonly key = randomBytes(16).toString("base64");
  private readonly maxFrame: number;

  constructor(private readonly o: LiteWsOptions) {
    this.maxFrame = o.maxFrame ?? 1024 * 1024;
    this.socket = net.connect({
      host: o.host ?? "127.0.0.1",
      port: o.port,
      localAddress: o.localAddress,
      noDelay: true,
      onread: { buffer: READ_BUF, callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer) },
    });
    this.socket.on("connect", () => {
      let req =
        `GET ${o.path} HTTP/1.1\r\nHost: ${o.host ?? "127.0.0.1"}:${o.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n`;
      if (o.protocol) req += `Sec-WebSocket-Protocol: ${o.protocol}\r\n`;
      for (const [k, v] of Object.entries(o.headers ?? {})) req += `${k}: ${v}\r\n`;
      this.socket.write(`${req}\r\n`);
    });
    this.socket.on("error", (e) => this.end(`socket error: ${e.message}`));
    this.socket.on("close", () => this.end("socket closed"));
  }

  get isOpen(): boolean {
    return this.open && !this.closed;
  }

  /** Sends a text message (one masked frame). */
  send(text: string): void {
    if (!this.isOpen) return;
    this.socket.write(clientFrame(0x1, Buffer.from(text, "utf8")));
  }

  /** Closes at once (no closing handshake), like `ws.terminate()`. */
  terminate(): void {
    this.socket.destroy();
    this.end("terminated");
  }

  private end(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.o.onClose?.(why);
  }

  private onRead(n: number, chunk: Buffer): boolean {
    if (this.closed) return false;
    let buf: Buffer;
    let i = 0;
    let len: number;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk.subarray(0, n)]);
      this.rest = null;
      len = buf.length;
    } else {
      buf = chunk;
      len = n;
    }
    if (!this.open) {
      const h = buf.subarray(0, len).indexOf("\r\n\r\n");
      if (h < 0) {
        if (len > 16 * 1024) this.end("handshake answer too long");
        else this.rest = Buffer.from(buf.subarray(0, len));
        return true;
      }
      const head = buf.toString("latin1", 0, h);
      if (!/^HTTP\/1\.1 101 /.test(head)) {
        this.end(`handshake refused: ${head.split("\r\n")[0]}`);
        return false;
      }
      const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
      const want = createHash("sha1")
        .update(this.key + GUID)
        .digest("base64");
      if (accept !== want) {
        this.end("bad Sec-WebSocket-Accept");
        return false;
      }
      this.open = true;
      i = h + 4;
      this.o.onOpen?.();
      if (this.closed) return false;
    }
    while (i < len) {
      if (len - i < 2) break;
      const b0 = buf[i];
      const b1 = buf[i + 1];
      if (b1 & 0x80) {
        this.end("masked frame from the server");
        return false;
      }
      let size = b1 & 0x7f;
      let hdr = 2;
      if (size === 126) {
        if (len - i < 4) break;
        size = buf.readUInt16BE(i + 2);
        hdr = 4;
      } else if (size === 127) {
        if (len - i < 10) break;
        size = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6);
        hdr = 10;
      }
      if (size > this.maxFrame) {
        this.end(`frame of ${size} bytes`);
        return false;
      }
      if (len - i < hdr + size) break;
      const start = i + hdr;
      const end = start + size;
      i = end;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode >= 0x8) {
        if (size > 125 || !fin) {
          this.end("bad control frame");
          return false;
        }
        if (opcode === 0x9) this.socket.write(clientFrame(0xa, buf.subarray(start, end)));
        else if (opcode === 0x8) {
          this.socket.write(clientFrame(0x8, buf.subarray(start, Math.min(end, start + 2))));
          this.socket.end();
          this.end("closed by the server");
          return false;
        }
        continue;
      }
      if (opcode === 0x0 || !fin) {
        // fragmented: keep copies until the final fragment
        if (opcode !== 0x0) this.parts = [];
        if (!this.parts) {
          this.end("continuation without a start");
          return false;
        }
        this.parts.push(Buffer.from(buf.subarray(start, end)));
        if (fin) {
          const whole = Buffer.concat(this.parts);
          this.parts = null;
          this.o.onMessage(whole, 0, whole.length);
        }
        continue;
      }
      this.o.onMessage(buf, start, end);
      if (this.closed) return false;
    }
    if (i < len) this.rest = Buffer.from(buf.subarray(i, len));
    return true;
  }
}

/** A client frame (FIN set, masked with a fresh key). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const hdr = n < 126 ? 6 : n < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(hdr + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  const mask = out.subarray(hdr - 4, hdr);
  randomFillSync(mask);
  for (let j = 0; j < n; j++) out[hdr + j] = payload[j] ^ mask[j & 3];
  return out;
}
