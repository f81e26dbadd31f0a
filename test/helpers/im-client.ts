import { connect, type Socket } from "node:net";
import WebSocket from "ws";

/**
 * A client of the cluster-admin access protocol (seed 003) over either transport: WebSocket
 * (`/im/ws`, one text frame per message) or TCP (4-byte big-endian length + UTF-8 JSON). Every
 * message is kept as its raw bytes, so a test can check a push byte for byte; `next()` parses.
 */
export class AccessClient {
  private readonly queue: Buffer[] = [];
  private waiters: Array<(b: Buffer) => void> = [];
  readonly closed: Promise<{ code: number }>;
  readonly opened: Promise<void>;
  private ws: WebSocket | null = null;
  private tcp: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);

  private constructor(
    readonly kind: "ws" | "tcp",
    target: string,
  ) {
    if (kind === "ws") {
      const ws = new WebSocket(target);
      this.ws = ws;
      ws.on("message", (data: Buffer) => this.push(Buffer.from(data)));
      ws.on("error", () => {});
      this.opened = new Promise((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
        ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      });
      this.closed = new Promise((resolve) => ws.once("close", (code) => resolve({ code })));
    } else {
      const [host, port] = splitHostPort(target);
      const sock = connect(port, host);
      this.tcp = sock;
      sock.on("data", (d: Buffer) => this.data(d));
      sock.on("error", () => {});
      this.opened = new Promise((resolve, reject) => {
        sock.once("connect", () => resolve());
        sock.once("error", reject);
      });
      this.closed = new Promise((resolve) => sock.once("close", () => resolve({ code: 0 })));
    }
  }

  /** Connects to `addr` (an iplist entry `ip:port`) over `kind`. */
  static async open(kind: "ws" | "tcp", addr: string): Promise<AccessClient> {
    // tests reach loopback only: an advertised address elsewhere (test data such as 10.x) is never dialled
    if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(addr)) throw new Error(`refusing to connect to ${addr}: not loopback`);
    const c = new AccessClient(kind, kind === "ws" ? `ws://${addr}/im/ws` : addr);
    await c.opened;
    return c;
  }

  private data(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
      const len = this.buf.readUInt32BE(0);
      this.push(Buffer.from(this.buf.subarray(4, 4 + len)));
      this.buf = this.buf.subarray(4 + len);
    }
  }

  private push(b: Buffer): void {
    const w = this.waiters.shift();
    if (w) w(b);
    else this.queue.push(b);
  }

  /** Sends one message (an object is JSON-encoded; a string or Buffer is sent as it is). */
  send(v: unknown): void {
    const body = Buffer.isBuffer(v) ? v : Buffer.from(typeof v === "string" ? v : JSON.stringify(v), "utf8");
    if (this.ws) this.ws.send(body.toString("utf8"));
    else this.sendRawFrame(body);
  }

  /** TCP only: one length-prefixed frame with exactly these bytes. */
  sendRawFrame(body: Buffer, declaredLength = body.length): void {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(declaredLength, 0);
    this.tcp?.write(Buffer.concat([head, body]));
  }

  /** The next message's raw bytes. */
  nextRaw(timeoutMs = 3000): Promise<Buffer> {
    const b = this.queue.shift();
    if (b) return Promise.resolve(b);
    return new Promise((resolve, reject) => {
      const waiter = (x: Buffer) => {
        clearTimeout(timer);
        resolve(x);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no message within ${timeoutMs} ms (${this.kind})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async next<T = Frame>(timeoutMs = 3000): Promise<T> {
    return JSON.parse((await this.nextRaw(timeoutMs)).toString("utf8")) as T;
  }

  /** True when nothing arrives within `ms`. */
  async silent(ms = 200): Promise<boolean> {
    if (this.queue.length) return false;
    try {
      this.queue.unshift(await this.nextRaw(ms));
      return false;
    } catch {
      return true;
    }
  }

  /** Sends `online` and returns the ack's data. */
  async online(data: Record<string, unknown>, seq = 1): Promise<Record<string, unknown>> {
    this.send({ cmd: "online", seq, data });
    const f = await this.next();
    if (f.cmd !== "online-ack") throw new Error(`expected online-ack, got ${JSON.stringify(f)}`);
    return f.data;
  }

  close(): void {
    this.ws?.close();
    this.tcp?.destroy();
  }
}

export type Frame = { cmd: string; seq: number; data: Record<string, unknown> };

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}
