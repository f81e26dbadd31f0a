import type { Logger } from "pino";
import { CloseCodes } from "./close-codes.ts";
import type { Connection } from "./connection.ts";
import type { ProtocolHandler } from "./protocol.ts";
import type { Writer } from "./writer.ts";

/**
 * The periodic sweep (every `pingIntervalMs`): per-connection protocol checks (`onSweep`, e.g.
 * session expiry), one batched check per protocol (`onSweepAll`, e.g. revoked sessions), the idle
 * timeout, and a ping to every live connection.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly connections: ReadonlyMap<number, Connection>,
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
    private readonly writer: Writer,
    private readonly opts: { pingIntervalMs: number; idleTimeoutMs: number },
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.opts.pingIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sweep(now = Date.now()): void {
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
      if (now - conn.lastSeen > this.opts.idleTimeoutMs)
        this.writer.close(conn, CloseCodes.IDLE_TIMEOUT, "idle timeout");
      else conn.transport.ping(conn);
    }
    for (const [protocol, conns] of batches) {
      const live = conns.filter((c) => !c.closing);
      if (live.length) this.safely(() => this.protocols.get(protocol)?.onSweepAll?.(live, now));
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, "protocol hook failed");
    }
  }
}
