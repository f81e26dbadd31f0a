import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { Json, Presence } from "../../ports/hub.ts";
import type { GatewaySystem, Repos } from "../../ports/storage.ts";
import { CloseCodes } from "../../realtime/close-codes.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { Realtime, RealtimeEvent } from "../../realtime/realtime.ts";
import { AppError, conflict, invalid, unauthenticated } from "../errors.ts";
import { type ClientAddress, ClientIdCodec } from "./client-id.ts";

/** The wire protocol name of gateway sockets. */
export const GATEWAY_PROTOCOL = "gateway";

/** A push as the seed document defines it; `data` is passed through unchanged. */
export interface Push {
  sendUserId: string;
  code: number;
  msg: string;
  data: Json;
}

export interface PushEvent extends RealtimeEvent {
  type: "gw.push";
  messageId: string;
  sendUserId: string;
  code: number;
  msg: string;
  data: Json;
}

/** Per-socket state of a gateway client. */
export interface GatewayClientState {
  systemId: string;
  clientId: string;
  /** groupName → binding info, allocated on first bind. */
  groups: Map<string, { userId: string; extend: string }> | null;
}

export const ONLINE_CODE = 1001;
export const OFFLINE_CODE = 1002;

const SYSTEM_CACHE_TTL_MS = 30_000;
const SYSTEM_CACHE_MAX = 10_000;

/** Random bytes drawn in 4 KiB blocks: one syscall per 512 message ids instead of one each. */
let pool = Buffer.alloc(0);
let poolPos = 0;
export function newMessageId(): string {
  if (poolPos + 8 > pool.length) {
    pool = randomBytes(4096);
    poolPos = 0;
  }
  poolPos += 8;
  return pool.toString("hex", poolPos - 8, poolPos);
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Topic and presence-set names; the system id is length-prefixed so names cannot collide. */
const sysKey = (systemId: string) => `gw:${systemId.length}:${systemId}`;
export const groupTopic = (systemId: string, group: string) => `${sysKey(systemId)}:g:${group}`;
const allSet = (systemId: string) => `${sysKey(systemId)}:all`;

/**
 * The push gateway (seed 000): systems (tenants), anonymous clients, named groups. Pushes are
 * live-only (at-most-once to connected clients). Works across a cluster: client ids carry their
 * node, groups are hub topics, online lists come from presence.
 */
export class GatewayService {
  private readonly codec: ClientIdCodec;
  private readonly systemCache = new Map<string, { system: GatewaySystem; at: number }>();

  constructor(
    private readonly storage: Pick<Repos, "gatewaySystems">,
    private readonly realtime: Realtime,
    private readonly presence: Presence,
    clusterSecret: Buffer,
    private readonly log: Logger,
    /** Send the 1001/1002 group notices (the seed's behaviour; n² frames while a big group fills). */
    private readonly groupNotices = true,
  ) {
    this.codec = new ClientIdCodec(clusterSecret);
    realtime.registerOp("gw.bind", (p) => this.bindLocal(p));
    realtime.registerOp("gw.close", (p) => this.closeLocal(p));
  }

  async register(systemId: string, secret: string | undefined): Promise<void> {
    try {
      await this.storage.gatewaySystems.create({
        systemId,
        secretHash: secret ? hashSecret(secret) : null,
        createdAt: Date.now(),
      });
    } catch (e) {
      if (e instanceof AppError && e.code === "conflict")
        throw conflict("system_exists", "system id already registered");
      throw e;
    }
  }

  async findSystem(systemId: string): Promise<GatewaySystem | null> {
    const hit = this.systemCache.get(systemId);
    const now = Date.now();
    if (hit && now - hit.at < SYSTEM_CACHE_TTL_MS) return hit.system;
    const system = await this.storage.gatewaySystems.find(systemId);
    if (system) {
      if (this.systemCache.size >= SYSTEM_CACHE_MAX) this.systemCache.clear();
      this.systemCache.set(systemId, { system, at: now });
    }
    return system;
  }

  /**
   * Checks the caller of an API route: the system must exist and, when it was registered with a
   * secret, the same secret must be presented.
   */
  async authorize(systemId: string | undefined, secret: string | undefined): Promise<GatewaySystem> {
    if (!systemId) throw invalid("system_id_missing", "SystemId header is required");
    const system = await this.findSystem(systemId);
    if (!system) throw invalid("system_id_invalid", "unknown SystemId");
    if (system.secretHash) {
      const given = Buffer.from(hashSecret(secret ?? ""), "hex");
      if (!secret || !timingSafeEqual(given, Buffer.from(system.secretHash, "hex")))
        throw unauthenticated("secret_mismatch", "SystemSecret header missing or wrong");
    }
    return system;
  }

  /** Makes a freshly opened socket a client of `systemId`; returns its client id. */
  attach(conn: Connection, systemId: string): string {
    const clientId = this.codec.encode({ nodeId: this.realtime.nodeId, connId: conn.id }, systemId);
    const state: GatewayClientState = { systemId, clientId, groups: null };
    conn.state = state;
    this.presence
      .add(allSet(systemId), clientId)
      .catch((err: unknown) => this.log.warn({ err }, "presence add failed"));
    return clientId;
  }

  /** Called when a client's socket closed: leaves presence and tells its groups (code 1002). */
  detach(conn: Connection): void {
    const state = conn.state as GatewayClientState | null;
    if (!state) return;
    const { systemId, clientId } = state;
    const tasks: Promise<unknown>[] = [this.presence.remove(allSet(systemId), clientId)];
    if (state.groups) {
      for (const [group, info] of state.groups) {
        const topic = groupTopic(systemId, group);
        tasks.push(this.presence.remove(topic, clientId));
        if (this.groupNotices)
          tasks.push(this.realtime.publish(topic, this.notice(OFFLINE_CODE, "客户端下线", clientId, info)));
      }
    }
    Promise.all(tasks).catch((err: unknown) => this.log.warn({ err }, "gateway detach failed"));
  }

  private notice(code: number, msg: string, clientId: string, info: { userId: string; extend: string }): PushEvent {
    return {
      type: "gw.push",
      messageId: newMessageId(),
      sendUserId: info.userId,
      code,
      msg,
      data: JSON.stringify({ clientId, userId: info.userId, extend: info.extend }),
    };
  }

  private resolve(system: GatewaySystem, clientId: string): ClientAddress {
    const addr = this.codec.decode(clientId, system.systemId);
    if (!addr) throw invalid("client_id_invalid", `invalid clientId: ${String(clientId).slice(0, 80)}`);
    return addr;
  }

  private pushEvent(push: Push): PushEvent {
    return {
      type: "gw.push",
      messageId: newMessageId(),
      sendUserId: push.sendUserId,
      code: push.code,
      msg: push.msg,
      data: push.data,
    };
  }

  async sendToClient(system: GatewaySystem, clientId: string, push: Push): Promise<string> {
    const addr = this.resolve(system, clientId);
    const event = this.pushEvent(push);
    await this.deliver(addr, event);
    return event.messageId;
  }

  /** All ids are checked before anything is sent: one bad id rejects the whole batch. */
  async sendToClients(system: GatewaySystem, clientIds: string[], push: Push): Promise<string> {
    // duplicates are delivered once
    const addrs = [...new Set(clientIds)].map((id) => this.resolve(system, id));
    const event = this.pushEvent(push);
    const byNode = new Map<string, number[]>();
    for (const a of addrs) {
      let list = byNode.get(a.nodeId);
      if (!list) {
        list = [];
        byNode.set(a.nodeId, list);
      }
      list.push(a.connId);
    }
    await Promise.all(
      [...byNode].map(([nodeId, connIds]) =>
        this.realtime.sendToMany(nodeId, connIds, event).catch((err: unknown) => {
          this.log.debug({ err, node: nodeId }, "push to clients of an unreachable node dropped");
        }),
      ),
    );
    return event.messageId;
  }

  /** Live-only: a client on a node that is gone simply does not receive the push. */
  private async deliver(addr: ClientAddress, event: PushEvent): Promise<void> {
    try {
      await this.realtime.sendTo(addr.nodeId, addr.connId, event);
    } catch (err) {
      this.log.debug({ err, node: addr.nodeId }, "push to a client of an unreachable node dropped");
    }
  }

  async bindToGroup(
    system: GatewaySystem,
    clientId: string,
    group: string,
    userId: string,
    extend: string,
  ): Promise<void> {
    const addr = this.resolve(system, clientId);
    let ok: Json = false;
    try {
      ok = await this.realtime.callNode(addr.nodeId, "gw.bind", {
        connId: addr.connId,
        systemId: system.systemId,
        group,
        userId,
        extend,
      });
    } catch (err) {
      this.log.debug({ err }, "bind to a client of an unreachable node");
    }
    if (ok !== true) throw invalid("client_offline", "client is not online");
    if (!this.groupNotices) return;
    await this.realtime.publish(
      groupTopic(system.systemId, group),
      this.notice(ONLINE_CODE, "客户端上线", clientId, { userId, extend }),
    );
  }

  private localClient(p: { [key: string]: Json }): { conn: Connection; state: GatewayClientState } | null {
    const conn = this.realtime.connections.get(Number(p.connId));
    if (!conn || conn.closing || conn.protocol !== GATEWAY_PROTOCOL) return null;
    const state = conn.state as GatewayClientState | null;
    if (!state || state.systemId !== p.systemId) return null;
    return { conn, state };
  }

  private async bindLocal(p: { [key: string]: Json }): Promise<Json> {
    const found = this.localClient(p);
    if (!found) return false;
    const { conn, state } = found;
    const group = String(p.group);
    state.groups ??= new Map();
    state.groups.set(group, { userId: String(p.userId ?? ""), extend: String(p.extend ?? "") });
    const topic = groupTopic(state.systemId, group);
    await this.realtime.subscribe(conn, topic);
    await this.presence.add(topic, state.clientId);
    if (conn.closing) {
      // the client left while we were subscribing: its detach may have run already, so undo here
      await this.presence.remove(topic, state.clientId);
      return false;
    }
    return true;
  }

  async sendToGroup(system: GatewaySystem, group: string, push: Push): Promise<string> {
    const event = this.pushEvent(push);
    await this.realtime.publish(groupTopic(system.systemId, group), event);
    return event.messageId;
  }

  /** Online client ids of a group, or of the whole system when `group` is empty. */
  onlineList(system: GatewaySystem, group: string): Promise<string[]> {
    return this.presence.members(group ? groupTopic(system.systemId, group) : allSet(system.systemId));
  }

  /** Closes a client of the calling system; closing a client that is already gone succeeds. */
  async closeClient(system: GatewaySystem, clientId: string): Promise<void> {
    const addr = this.resolve(system, clientId);
    try {
      await this.realtime.callNode(addr.nodeId, "gw.close", { connId: addr.connId, systemId: system.systemId });
    } catch (err) {
      this.log.debug({ err }, "close of a client on an unreachable node");
    }
  }

  private closeLocal(p: { [key: string]: Json }): Json {
    const found = this.localClient(p);
    if (!found) return false;
    this.realtime.close(found.conn, CloseCodes.NORMAL, "closed by system");
    return true;
  }
}
