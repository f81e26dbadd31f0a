import WebSocket from "ws";

/**
 * A test WebSocket client that queues every text frame as parsed JSON and lets a test await the
 * next one (with a timeout, so a missing frame fails instead of hanging).
 */
export class TestClient {
  readonly ws: WebSocket;
  private readonly queue: unknown[] = [];
  private waiters: Array<(v: unknown) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on("message", (data) => {
      const v = JSON.parse(data.toString());
      const w = this.waiters.shift();
      if (w) w(v);
      else this.queue.push(v);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) =>
      this.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.ws.on("error", () => {});
  }

  next<T = Record<string, unknown>>(timeoutMs = 3000): Promise<T> {
    const v = this.queue.shift();
    if (v !== undefined) return Promise.resolve(v as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = (x: unknown) => {
        clearTimeout(timer);
        resolve(x as T);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves true when no frame arrives within `ms`. Never consumes a frame: one that arrives is kept for `next()`. */
  async silent(ms = 200): Promise<boolean> {
    if (this.queue.length) return false;
    try {
      this.queue.unshift(await this.next(ms));
      return false;
    } catch {
      return true;
    }
  }

  /** Discards frames until none arrives for `quietMs`; returns how many were discarded. */
  async drain(quietMs = 150): Promise<number> {
    let n = 0;
    for (;;) {
      try {
        await this.next(quietMs);
        n++;
      } catch {
        return n;
      }
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** Connects a gateway client and returns it with its clientId from the first frame. */
export async function gatewayClient(wsBase: string, systemId: string): Promise<{ c: TestClient; clientId: string }> {
  const c = new TestClient(`${wsBase}/ws?systemId=${encodeURIComponent(systemId)}`);
  const first = await c.next<{ code: number; data: { clientId: string } }>();
  if (first.code !== 0) throw new Error(`connect failed: ${JSON.stringify(first)}`);
  return { c, clientId: first.data.clientId };
}
