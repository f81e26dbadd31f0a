import type { Logger } from "pino";
import type { Hub } from "../ports/hub.ts";
import type { Connection } from "./connection.ts";

/**
 * Which local connections listen on which topic. The first local subscriber of a topic
 * subscribes this node on the hub; the last one leaving unsubscribes it.
 */
export class TopicIndex {
  private readonly index = new Map<string, Set<Connection>>();

  constructor(
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {}

  /** Resolves once cluster publishes on `topic` will reach `conn`. */
  async subscribe(conn: Connection, topic: string): Promise<void> {
    if (conn.closing) return;
    let set = this.index.get(topic);
    const first = !set;
    if (!set) {
      set = new Set();
      this.index.set(topic, set);
    }
    set.add(conn);
    if (!conn.topics) conn.topics = new Set();
    conn.topics.add(topic);
    if (first) await this.hub.subscribe(topic);
  }

  unsubscribe(conn: Connection, topic: string): void {
    if (conn.topics?.delete(topic)) this.remove(conn, topic);
  }

  /** Drops a closed connection from every topic it was on. */
  dropAll(conn: Connection): void {
    if (conn.topics) for (const t of conn.topics) this.remove(conn, t);
    conn.topics = null;
  }

  subscribers(topic: string): Set<Connection> | undefined {
    return this.index.get(topic);
  }

  private remove(conn: Connection, topic: string): void {
    const set = this.index.get(topic);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) {
      this.index.delete(topic);
      this.hub.unsubscribe(topic).catch((err: unknown) => this.log.warn({ err, topic }, "hub unsubscribe failed"));
    }
  }
}
