import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { ConnectionAddress, ConnectionOps } from "../../ports/connections.ts";
import type { Json, Presence } from "../../ports/hub.ts";
import type { GatewaySystem, Repos } from "../../ports/storage.ts";
import { AppError, conflict, invalid, unauthenticated, unavailable } from "../errors.ts";
import type { CoreEvent, CoreEvents, GatewayPresenceEvent, GatewayPushEvent } from "../events.ts";
import { gatewayAllSet, gatewayGroupTopic, gatewayOwner } from "../topics.ts";
import { ClientIdCodec } from "./client-id.ts";

/** A push as the seed document defines it; `data` is passed through unchanged. */
export interface Push {
  sendUserId: string;
  code: number;
  msg: string;
  data: Json;
}

/** Per-client state, kept by the surface with its socket and handed back to the hooks below. */
export interface GatewayClientState {
  systemId: string;
  clientId: string;
  /** The key node operations must name to reach this client (`core/topics.ts`). */
  owner: string;
  /** groupName → binding info, allocated on first bind. */
  groups: Map<string, { userId: string; extend: string }> | null;
}

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

/**
 * The push gateway (seed 000): systems (tenants) and their authorisation, anonymous clients,
 * named groups, presence and push composition. Pushes are live-only (at-most-once to connected
 * clients). Works across a cluster: client ids carry their node, groups are hub topics, online
 * lists come from presence. No transport here: sockets are reached through the connection-ops
 * port, and the surface (`surfaces/gateway`) owns the wire — frames, codes 1001/1002 and their
 * texts, close codes. The template for the 003 push API.
 */
export class GatewayService {
  private readonly codec: ClientIdCodec;
  private readonly systemCache = new Map<string, { system: GatewaySystem; at: number }>();
  /** One owner-key string per system, shared by all its clients (idle clients are the common case). */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly storage: Pick<Repos, "gatewaySystems">,
    private readonly events: CoreEvents,
    private readonly connections: ConnectionOps<CoreEvent>,
    private readonly presence: Presence,
    clusterSecret: Buffer,
    private readonly log: Logger,
    /** Publish the online/offline group notices (the seed's behaviour; n² frames while a big group fills). */
    private readonly groupNotices = true,
  ) {
    this.codec = new ClientIdCodec(clusterSecret);
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

  /**
   * A freshly opened socket at `addr` becomes a client of `systemId`: its state (with its client
   * id), and `listed`, which settles once the client is in the system's online list (it never
   * rejects: a failed presence write is logged). The surface tells the client its id only then,
   * so a system that asks for the online list after its client got its id finds it there, also
   * when presence lives in Redis.
   */
  attach(addr: ConnectionAddress, systemId: string): { state: GatewayClientState; listed: Promise<void> } {
    const clientId = this.codec.encode(addr, systemId);
    const listed = this.presence
      .add(gatewayAllSet(systemId), clientId)
      .catch((err: unknown) => this.log.warn({ err }, "presence add failed"));
    return { state: { systemId, clientId, owner: this.ownerOf(systemId), groups: null }, listed };
  }

  /** A client's socket closed: it leaves presence and its groups are told (offline notice). */
  detach(state: GatewayClientState): void {
    const { systemId, clientId } = state;
    const tasks: Promise<unknown>[] = [this.presence.remove(gatewayAllSet(systemId), clientId)];
    if (state.groups) {
      for (const [group, info] of state.groups) {
        const topic = gatewayGroupTopic(systemId, group);
        tasks.push(this.presence.remove(topic, clientId));
        if (this.groupNotices) tasks.push(this.events.publish(topic, presenceEvent("offline", clientId, info)));
      }
    }
    Promise.all(tasks).catch((err: unknown) => this.log.warn({ err }, "gateway detach failed"));
  }

  /** The address of a client of `system`; a malformed, forged or foreign id is `client_id_invalid`. */
  clientAddress(system: GatewaySystem, clientId: string): ConnectionAddress {
    const addr = this.codec.decode(clientId, system.systemId);
    if (!addr) throw invalid("client_id_invalid", `invalid clientId: ${String(clientId).slice(0, 80)}`);
    return addr;
  }

  /** The owner key node operations must name to reach a client of `system`. */
  owner(system: GatewaySystem): string {
    return this.ownerOf(system.systemId);
  }

  private ownerOf(systemId: string): string {
    let owner = this.owners.get(systemId);
    if (owner === undefined) {
      if (this.owners.size >= SYSTEM_CACHE_MAX) this.owners.clear();
      owner = gatewayOwner(systemId);
      this.owners.set(systemId, owner);
    }
    return owner;
  }

  async sendToClient(system: GatewaySystem, clientId: string, push: Push): Promise<string> {
    const addr = this.clientAddress(system, clientId);
    const event = pushEvent(push);
    try {
      await this.connections.send(addr, event);
    } catch (err) {
      // live-only: a client on a node that is gone simply does not receive the push
      this.log.debug({ err, node: addr.nodeId }, "push to a client of an unreachable node dropped");
    }
    return event.messageId;
  }

  /** All ids are checked before anything is sent: one bad id rejects the whole batch. */
  async sendToClients(system: GatewaySystem, clientIds: string[], push: Push): Promise<string> {
    // duplicates are delivered once
    const addrs = [...new Set(clientIds)].map((id) => this.clientAddress(system, id));
    const event = pushEvent(push);
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
        this.connections.sendMany(nodeId, connIds, event).catch((err: unknown) => {
          this.log.debug({ err, node: nodeId }, "push to clients of an unreachable node dropped");
        }),
      ),
    );
    return event.messageId;
  }

  async bindToGroup(
    system: GatewaySystem,
    clientId: string,
    group: string,
    userId: string,
    extend: string,
  ): Promise<void> {
    const addr = this.clientAddress(system, clientId);
    const topic = gatewayGroupTopic(system.systemId, group);
    let ok = false;
    try {
      ok = await this.connections.bind(addr, this.owner(system), topic, { group, userId, extend });
    } catch (err) {
      this.log.debug({ err }, "bind to a client of an unreachable node");
    }
    if (!ok) throw invalid("client_offline", "client is not online");
    if (!this.groupNotices) return;
    await this.events.publish(topic, presenceEvent("online", clientId, { userId, extend }));
  }

  /**
   * On the client's own node, when a bind reached its socket: records the group (for the offline
   * notice), subscribes, joins the group's presence. False when the client left meanwhile.
   */
  async bound(
    state: GatewayClientState,
    meta: Json,
    subscribe: () => Promise<void>,
    closed: () => boolean,
  ): Promise<boolean> {
    const m = (typeof meta === "object" && meta !== null && !Array.isArray(meta) ? meta : {}) as {
      [key: string]: Json;
    };
    const group = String(m.group);
    state.groups ??= new Map();
    state.groups.set(group, { userId: String(m.userId ?? ""), extend: String(m.extend ?? "") });
    const topic = gatewayGroupTopic(state.systemId, group);
    await subscribe();
    await this.presence.add(topic, state.clientId);
    if (closed()) {
      // the client left while we were subscribing: its detach may have run already, so undo here
      await this.presence.remove(topic, state.clientId);
      return false;
    }
    return true;
  }

  /**
   * Publishes a push to a group. When this node's fan-out of the group is behind (a big group
   * under many concurrent pushes), the request waits for room first, so the backlog — and every
   * member's latency — stays bounded and the wait reaches the caller; still full after the wait:
   * `unavailable` (HTTP 503, "服务暂不可用"), nothing pushed.
   */
  async sendToGroup(system: GatewaySystem, group: string, push: Push): Promise<string> {
    const topic = gatewayGroupTopic(system.systemId, group);
    const wait = this.connections.admit?.(topic);
    if (wait && !(await wait)) throw unavailable("fanout_busy", "the group's fan-out is behind; try again");
    const event = pushEvent(push);
    await this.events.publish(topic, event);
    return event.messageId;
  }

  /** Online client ids of a group, or of the whole system when `group` is empty. */
  /** Every registered system (admin API); the secret hashes stay in core. */
  async systems(): Promise<Array<{ systemId: string; hasSecret: boolean; createdAt: number }>> {
    return (await this.storage.gatewaySystems.list()).map((s) => ({
      systemId: s.systemId,
      hasSecret: s.secretHash !== null,
      createdAt: s.createdAt,
    }));
  }

  onlineList(system: GatewaySystem, group: string): Promise<string[]> {
    return this.presence.members(group ? gatewayGroupTopic(system.systemId, group) : gatewayAllSet(system.systemId));
  }
}

function pushEvent(push: Push): GatewayPushEvent {
  return {
    type: "gw.push",
    messageId: newMessageId(),
    sendUserId: push.sendUserId,
    code: push.code,
    msg: push.msg,
    data: push.data,
  };
}

function presenceEvent(
  change: GatewayPresenceEvent["change"],
  clientId: string,
  info: { userId: string; extend: string },
): GatewayPresenceEvent {
  return { type: "gw.presence", change, messageId: newMessageId(), clientId, userId: info.userId, extend: info.extend };
}
