import type { Logger } from "pino";
import type { ConsoleClient, DeploymentStats } from "../../ports/customers.ts";
import type { Hub } from "../../ports/hub.ts";

export interface SelfReporterOptions {
  /** This deployment's customer code at the console. */
  code: string;
  /** The key the console expects ("" = none). */
  key: string;
  intervalMs: number;
  /** Reported as the server's licence expiry (`timeout`). */
  licenceExpiry: string;
  /** Name, MAC and address reported for the server (from the host, by the composition root). */
  identity: () => { name: string; mac: string; ip: string };
  /** Rows per user/group batch. */
  rowsPerBatch?: number;
  /** Delay of the first report after start (default 1 s). */
  firstDelayMs?: number;
  now?: () => number;
}

/**
 * Parley reporting on itself to a customer console (seed 004's 服务端接口; docs/console.md): its
 * server state, per-user and per-group statistics, on a schedule. In a cluster only one node
 * reports — the live node with the smallest id in the hub's node registry — so a fleet of N nodes
 * is one customer, reported once. A failed round is retried sooner with exponential backoff
 * (capped at the interval); nothing here throws into the caller or delays serving.
 */
export class SelfReporter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly now: () => number;
  /** Consecutive failed rounds (0 after a success). */
  failures = 0;
  /** Rounds in which this node was the reporter and every commit was accepted. */
  reports = 0;

  constructor(
    private readonly stats: DeploymentStats,
    private readonly client: ConsoleClient,
    private readonly hub: Pick<Hub, "nodeId" | "nodes">,
    private readonly options: SelfReporterOptions,
    private readonly log: Logger,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.schedule(this.options.firstDelayMs ?? 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref();
  }

  /** One round: leader check, report, schedule the next (interval, or backoff after a failure). */
  private async round(): Promise<void> {
    try {
      if (await this.isLeader()) {
        await this.reportOnce();
        this.reports++;
      }
      if (this.failures) this.log.info({ after: this.failures }, "console report succeeded again");
      this.failures = 0;
      this.schedule(this.options.intervalMs);
    } catch (err) {
      this.failures++;
      const base = Math.min(this.options.intervalMs, 1000 * 2 ** Math.min(this.failures, 20));
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      // Once, then every 10th failure: a console down for a day must not fill the log.
      if (this.failures === 1 || this.failures % 10 === 0)
        this.log.warn(
          { err: (err as Error).message, failures: this.failures, retryMs: delay },
          "console report failed",
        );
      this.schedule(Math.min(delay, this.options.intervalMs));
    }
  }

  private async isLeader(): Promise<boolean> {
    const nodes = await this.hub.nodes();
    const ids = nodes.map((n) => n.nodeId).sort();
    return ids.length === 0 || ids[0] === this.hub.nodeId;
  }

  /** Sends the server state, then every user and group in batches. Rejects on the first failure. */
  async reportOnce(): Promise<void> {
    const { code, key } = this.options;
    const keyParam = key ? { key } : {};
    const identity = this.options.identity();
    const server = await this.stats.server();
    await this.client.commit("/api/server/commit", {
      code,
      ...keyParam,
      name: identity.name,
      mac: identity.mac,
      ip: identity.ip,
      timeout: this.options.licenceExpiry,
      count: server.count,
      updatetimes: server.updatetimes,
    });
    const size = this.options.rowsPerBatch ?? 500;
    let after = 0;
    for (;;) {
      const users = await this.stats.users(after, size, this.now());
      if (!users.length) break;
      after = users[users.length - 1]?.id ?? after;
      await this.client.commit("/api/user/commit", {
        ...keyParam,
        data: users.map(({ id: _id, ...u }) => ({ code, ...u })),
      });
      if (users.length < size) break;
    }
    const groups = await this.stats.groups();
    for (let i = 0; i < groups.length; i += size)
      await this.client.commit("/api/group/commit", {
        ...keyParam,
        data: groups.slice(i, i + size).map((g) => ({ code, ...g })),
      });
  }
}
