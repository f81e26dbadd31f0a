import type { Hub, Json } from "../ports/hub.ts";
import { CloseCodes } from "./close-codes.ts";
import type { Connection } from "./connection.ts";
import type { FanOut } from "./fanout.ts";
import type { ProtocolHandler, RealtimeEvent } from "./protocol.ts";
import type { ConnectionRegistry } from "./registry.ts";
import type { TopicIndex } from "./topic-index.ts";
import type { Writer } from "./writer.ts";

type OpHandler = (payload: { [key: string]: Json }) => Promise<Json> | Json;

/** Thrown (and answered to the calling node) for an operation this node does not know. */
export class UnknownOpError extends Error {}

/**
 * Named operations other nodes invoke on this node through the hub, and the generic connection
 * operations every surface can use on a connection anywhere in the cluster:
 * `conn.send` / `conn.sendMany` (live-only delivery), `conn.bind` (subscribe to a topic) and
 * `conn.close` (close with a code and reason) and `conn.kick` (a last frame, then close 4003).
 * Binding, closing and kicking name the connection's owner.
 */
export class NodeOps {
  private readonly ops = new Map<string, OpHandler>();

  constructor(
    private readonly hub: Hub,
    private readonly registry: ConnectionRegistry,
    private readonly topics: TopicIndex,
    private readonly fanout: FanOut,
    private readonly writer: Writer,
    private readonly protocols: ReadonlyMap<string, ProtocolHandler>,
  ) {
    hub.onRequest((payload) => this.handle(payload));
    this.register("conn.send", (p) => this.sendLocal([Number(p.connId)], p.event as RealtimeEvent));
    this.register("conn.sendMany", (p) =>
      Array.isArray(p.connIds) ? this.sendLocal(p.connIds.map(Number), p.event as RealtimeEvent) : 0,
    );
    this.register("conn.bind", (p) =>
      this.bindLocal(Number(p.connId), String(p.owner), String(p.topic), p.meta ?? null),
    );
    this.register("conn.close", (p) =>
      this.closeLocal(Number(p.connId), String(p.owner), Number(p.code), String(p.reason ?? "")),
    );
    this.register("conn.kick", (p) =>
      this.kickLocal(Number(p.connId), String(p.owner), typeof p.text === "string" ? p.text : null),
    );
  }

  /** Registers a named operation other nodes may invoke on this node through the hub. */
  register(name: string, fn: OpHandler): void {
    this.ops.set(name, fn);
  }

  private async handle(payload: Json): Promise<Json> {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return null;
    const fn = this.ops.get(String(payload.op));
    if (!fn) throw new UnknownOpError("unknown_op");
    return fn(payload);
  }

  /** Invokes `op` on `nodeId` (locally without serialisation when it is this node). */
  call(nodeId: string, op: string, args: { [key: string]: Json }, timeoutMs?: number): Promise<Json> {
    return this.hub.request(nodeId, { ...args, op }, timeoutMs);
  }

  sendLocal(connIds: readonly number[], event: RealtimeEvent): number {
    const conns = [];
    for (const id of connIds) {
      const conn = this.registry.connections.get(id);
      if (conn) conns.push(conn);
    }
    return conns.length ? this.fanout.sendEach(conns, event) : 0;
  }

  private async bindLocal(connId: number, owner: string, topic: string, meta: Json): Promise<boolean> {
    const conn = this.registry.owned(connId, owner);
    if (!conn) return false;
    const subscribe = () => this.topics.subscribe(conn, topic);
    const hook = this.protocols.get(conn.protocol)?.onBind;
    if (hook) return (await hook(conn, topic, meta, subscribe)) && !conn.closing;
    await subscribe();
    return !conn.closing;
  }

  /** A kick: the surface's last frame (if any), then close 4003 (do not reconnect automatically). */
  private kickLocal(connId: number, owner: string, text: string | null): boolean {
    const conn = this.registry.owned(connId, owner);
    if (!conn) return false;
    if (text !== null) this.writer.send(conn, conn.transport.frame(text));
    this.writer.close(conn, CloseCodes.KICKED, "kicked");
    return true;
  }

  private closeLocal(connId: number, owner: string, code: number, reason: string): boolean {
    const conn = this.registry.owned(connId, owner);
    if (!conn) return false;
    this.writer.close(conn, code, reason);
    return true;
  }
}

/**
 * Live connections of a node by wire protocol and their total, and the distinct users and sessions
 * they belong to (from the surfaces' socket state: `userId`/`sid` of session sockets, `uid`/`sid`
 * of 003 access connections that are online) — the node registry's `conns`.
 */
export function connectionTotals(connections: ReadonlyMap<number, Connection>): { [key: string]: number } {
  const out: { [key: string]: number } = { total: 0 };
  const users = new Set<number>();
  const sessions = new Set<string>();
  for (const c of connections.values()) {
    if (c.closing) continue;
    out.total++;
    out[c.protocol] = (out[c.protocol] ?? 0) + 1;
    const st = c.state as { userId?: unknown; uid?: unknown; sid?: unknown; online?: unknown } | null;
    if (!st || typeof st !== "object") continue;
    const uid =
      typeof st.userId === "number" ? st.userId : st.online === true && typeof st.uid === "number" ? st.uid : 0;
    if (uid > 0) users.add(uid);
    if (uid > 0 && (typeof st.sid === "string" || typeof st.sid === "number") && st.sid !== "" && st.sid !== 0)
      sessions.add(`${typeof st.sid}:${st.sid}`);
  }
  out.users = users.size;
  out.sessions = sessions.size;
  return out;
}

/** What a node writes into its registry entry at every heartbeat: status and connection totals. */
export function nodeRegistryInfo(
  realtime: { connections: ReadonlyMap<number, Connection> },
  draining: boolean,
): { [key: string]: Json } {
  return { status: draining ? "draining" : "serving", conns: connectionTotals(realtime.connections) };
}

/**
 * Drains this node (`NODE_DRAIN_OP`, requested by any node): refuses new WebSocket upgrades and
 * TCP connections, tells the surfaces (e.g. the 003 access layer sends its kick frame), writes the
 * "draining" status into the node registry at once (so iplist leaves it out on every node), then
 * closes every remaining connection with 1013 (reconnect, elsewhere) in batches.
 */
export async function drainNode(
  realtime: {
    startDraining(): void;
    closeAll(code?: number, reason?: string): Promise<void>;
  },
  hub: Pick<Hub, "announce">,
  surfaces: () => void,
): Promise<void> {
  realtime.startDraining();
  surfaces();
  await hub.announce().catch(() => {});
  await realtime.closeAll(CloseCodes.TRY_AGAIN_LATER, "draining");
}
