import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { type Hub, type HubNodeInfo, type Json, NODE_DRAIN_OP, type Presence } from "../../ports/hub.ts";
import type { ImNodeKind, ImRepo, ImSession } from "../../ports/storage/im.ts";
import type { SettingsRepo } from "../../ports/storage/settings.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import type { ChatroomService } from "../chatrooms/chatroom-service.ts";
import { AppError, forbidden, invalid, notFound, unauthenticated } from "../errors.ts";
import type { CoreEvents, ImPushEvent } from "../events.ts";
import type { GroupService } from "../groups/group-service.ts";
import {
  chatroomTopic,
  groupTopic,
  IM_BROADCAST_TOPIC,
  imAppTopic,
  imAppVersionTopic,
  imSessionTopic,
  imUserRoomsSet,
  imUserSidsSet,
  imUsersSet,
  userTopic,
} from "../topics.ts";
import { bucketOf, timeString } from "./precision.ts";
import { TokenSigner } from "./token.ts";

/** Who calls: the admin token, or a logged-in user (who may act for itself only). */
export type ImActor = { admin: true } | { userId: number };

export interface ImOptions {
  tokenTtlMs: number;
  /** The clock (ms); tests inject one. */
  now?: () => number;
}

/** Listener types of seed 003: 1 TCP, 2 WS. */
export const LSN_TCP = 1;
export const LSN_WS = 2;

/** What one node reports about its access layer (node operation `im.node`). */
export interface ImNodeReport {
  nodeId: string;
  nid: number;
  /** Advertised `ip:port` of its WebSocket and TCP listeners (null = none). */
  ws: string | null;
  tcp: string | null;
  draining: boolean;
  conns: { ws: number; tcp: number };
}

export type PushTarget =
  | { dim: "broadcast" }
  | { dim: "group"; gid: number }
  | { dim: "room"; rid: number; expireSec: number }
  | { dim: "sid"; sid: number }
  | { dim: "uid"; uid: number }
  | { dim: "appid"; appid: string; version: string | null };

/** The node operation every node answers with its `ImNodeReport`. */
export const IM_NODE_OP = "im.node";
/** The node operation that drains a node's access layer only (the whole node: `NODE_DRAIN_OP`). */
export const IM_DRAIN_OP = "im.drain";

/** A node's `ImNodeReport` from its registry entry (`info.im`, written at each heartbeat), or null. */
export function reportOf(n: HubNodeInfo): ImNodeReport | null {
  const im = n.info.im as unknown as ImNodeReport | undefined;
  if (!im || typeof im !== "object" || typeof im.nid !== "number") return null;
  const conns = (im.conns ?? {}) as { ws?: unknown; tcp?: unknown };
  return {
    nodeId: n.nodeId,
    nid: im.nid,
    ws: typeof im.ws === "string" ? im.ws : null,
    tcp: typeof im.tcp === "string" ? im.tcp : null,
    draining: im.draining === true || n.info.status === "draining",
    conns: { ws: Number(conns.ws) || 0, tcp: Number(conns.tcp) || 0 },
  };
}

/** The seed's integer node id of a Parley node id (stable: derived from it). */
export function nidOf(nodeId: string): number {
  return createHash("sha256").update(nodeId).digest().readUIntBE(0, 6);
}

const TOKEN_KEY_SETTING = "im_token_key";
const ROOM_CAP_SETTING = "im_room_default_cap";
/** Hub topic telling every node that the default room shard size changed. */
const IM_ROOM_CAP_TOPIC = "im.roomcap";

/**
 * The cluster-admin core (seed 003): access sessions and their signed tokens, pushes by
 * dimension (published as `im.push` on the core topics, so chat33 and enterprise sockets of a
 * user receive them too), online status from hub presence, the online-user statistics with their
 * sampler (one per cluster: the live node with the smallest id samples), and the access nodes of
 * the cluster (each node answers `im.node`; `del` drains one through `im.drain`).
 */
export class ImService {
  private signer: TokenSigner | null = null;
  private now: () => number;
  private sampler: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: ImRepo,
    private readonly settings: Pick<SettingsRepo, "getOrInit" | "get" | "set">,
    private readonly events: CoreEvents,
    private readonly hub: Hub,
    private readonly presence: Presence,
    private readonly users: Pick<UserCache, "get">,
    private readonly groups: GroupService,
    private readonly chatrooms: ChatroomService,
    private readonly opts: ImOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Replaces the clock (tests: statistics and token expiry at chosen times). */
  useClock(now: () => number): void {
    this.now = now;
  }

  /**
   * Loads (or creates, once per cluster) the token key and the operator's default room shard
   * size, and follows changes of the latter made on other nodes.
   */
  async start(): Promise<void> {
    const key = await this.settings.getOrInit(TOKEN_KEY_SETTING, randomBytes(32).toString("base64"));
    this.signer = new TokenSigner(Buffer.from(key, "base64"));
    this.hub.onMessage((topic) => {
      if (topic === IM_ROOM_CAP_TOPIC)
        this.loadRoomCap().catch((err: unknown) => this.log.warn({ err }, "room cap reload failed"));
    });
    await this.hub.subscribe(IM_ROOM_CAP_TOPIC);
    await this.loadRoomCap();
  }

  private async loadRoomCap(): Promise<void> {
    const v = Number(await this.settings.get(ROOM_CAP_SETTING));
    if (Number.isSafeInteger(v) && v >= 1) this.chatrooms.setDefaultShardSize(v);
  }

  /** The default chat-room shard size (分组容量), for every node of the cluster. */
  async setDefaultRoomCap(cap: number): Promise<void> {
    this.chatrooms.setDefaultShardSize(cap);
    await this.settings.set(ROOM_CAP_SETTING, String(cap));
    await this.hub.publish(IM_ROOM_CAP_TOPIC, { cap });
  }

  private get tokens(): TokenSigner {
    if (!this.signer) throw new Error("ImService.start() was not called");
    return this.signer;
  }

  private requireSelf(actor: ImActor, uid: number): void {
    if ("admin" in actor) return;
    if (actor.userId !== uid) throw forbidden("im_not_self", "a user may act for itself only");
  }

  private async requireUser(uid: number): Promise<void> {
    const u = await this.users.get(uid);
    if (!u || u.disabled) throw notFound("im_no_user", `no such user: ${uid}`);
  }

  // ---------------------------------------------------------------------------------------------
  // sessions and tokens

  /** `/im/register`: a new session (sid) of the user's device, with its location. */
  async register(actor: ImActor, uid: number, loc: { nation: number; city: number; town: number }): Promise<ImSession> {
    this.requireSelf(actor, uid);
    await this.requireUser(uid);
    return this.repo.createSession({ uid, ...loc, createdAt: this.now() });
  }

  /** A session that belongs to `uid`, else `im_no_session`. */
  async sessionOf(uid: number, sid: number): Promise<ImSession> {
    const s = await this.repo.session(sid);
    if (!s || s.uid !== uid) throw notFound("im_no_session", `no session ${sid} of user ${uid}`);
    return s;
  }

  /** `/im/iplist`: the healthy nodes' addresses for `type`, a token for (uid, sid) and its lifetime (s). */
  async iplist(
    actor: ImActor,
    type: number,
    uid: number,
    sid: number,
  ): Promise<{ iplist: string[]; token: string; expire: number }> {
    this.requireSelf(actor, uid);
    await this.sessionOf(uid, sid);
    const nodes = (await this.nodeReports()).filter((n) => !n.draining);
    const extra = await this.repo.addresses("listend");
    const list: string[] = [];
    for (const n of nodes) {
      const own = type === LSN_TCP ? n.tcp : n.ws;
      if (own) list.push(own);
      for (const a of extra) if (a.nid === n.nid && a.type === type) list.push(`${a.ipaddr}:${a.port}`);
    }
    const expire = Math.max(1, Math.floor(this.opts.tokenTtlMs / 1000));
    const ttl = Math.floor((this.now() + this.opts.tokenTtlMs) / 1000);
    return { iplist: [...new Set(list)], token: this.tokens.sign({ uid, sid, ttl }), expire };
  }

  /**
   * Checks an access connection's `online`: the token is ours, unexpired, for exactly this uid and
   * sid, and the session exists. Throws `unauthenticated` (20008) otherwise.
   */
  async authorizeOnline(uid: number, sid: number, token: string): Promise<ImSession> {
    const c = this.tokens.verify(token);
    if (!c) throw unauthenticated("im_token_invalid", "token invalid");
    if (c.ttl * 1000 <= this.now()) throw unauthenticated("token_expired", "token expired");
    if (c.uid !== uid || c.sid !== sid) throw unauthenticated("im_token_invalid", "token is for another uid or sid");
    try {
      return await this.sessionOf(uid, sid);
    } catch (e) {
      if (e instanceof AppError && e.reason === "im_no_session")
        throw unauthenticated("im_token_invalid", "session unknown");
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // pushes

  /** `/im/push`: publishes `body` (exact text) to the connections of the target. */
  async push(target: PushTarget, body: string): Promise<void> {
    const at = this.now();
    const event = (expireMs = -1): ImPushEvent => ({ type: "im.push", body, at, expireMs });
    switch (target.dim) {
      case "broadcast":
        return this.events.publish(IM_BROADCAST_TOPIC, event());
      case "group":
        if (!(await this.groups.publicInfo(target.gid)))
          throw notFound("group_not_found", `no such group: ${target.gid}`);
        return this.events.publish(groupTopic(target.gid), event());
      case "room":
        await this.chatrooms.require(target.rid);
        return this.events.publish(chatroomTopic(target.rid), event(target.expireSec * 1000));
      case "sid":
        return this.events.publish(imSessionTopic(target.sid), event());
      case "uid":
        return this.events.publish(userTopic(target.uid), event());
      case "appid":
        return this.events.publish(
          target.version === null ? imAppTopic(target.appid) : imAppVersionTopic(target.appid, target.version),
          event(),
        );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // status

  async userStatus(uid: number): Promise<{ online: boolean; rooms: number[] }> {
    const [sids, rooms] = await Promise.all([
      this.presence.members(imUserSidsSet(uid)),
      this.presence.members(imUserRoomsSet(uid)),
    ]);
    const rids = [...new Set(rooms)].map(Number).filter(Number.isSafeInteger);
    return { online: sids.length > 0, rooms: rids.sort((a, b) => a - b) };
  }

  async sidList(uid: number): Promise<number[]> {
    const sids = await this.presence.members(imUserSidsSet(uid));
    return [...new Set(sids)]
      .map(Number)
      .filter(Number.isSafeInteger)
      .sort((a, b) => a - b);
  }

  /** Users with an online access session, over the cluster. */
  async onlineUsers(): Promise<number> {
    return new Set(await this.presence.members(imUsersSet)).size;
  }

  // ---------------------------------------------------------------------------------------------
  // statistics

  async precisions() {
    return this.repo.precisions();
  }

  async addPrecision(prec: number, num: number): Promise<void> {
    if (!Number.isSafeInteger(num) || num < 1 || num > 100_000)
      throw invalid("im_bad_parameter", "num must be 1..100000");
    await this.repo.setPrecision({ prec, num });
    await this.sampleOne(prec, num, this.now(), await this.onlineUsers());
  }

  async deletePrecision(prec: number): Promise<void> {
    if (!(await this.repo.deletePrecision(prec))) throw invalid("im_bad_parameter", `no precision ${prec}`);
  }

  /**
   * The trend of one precision: at most `num` buckets (and at most the precision's own `num`),
   * newest first; the current bucket is counted now, so it is never older than this call.
   */
  async trend(prec: number, num: number): Promise<Array<{ time: number; timeStr: string; num: number }>> {
    const p = (await this.repo.precisions()).find((x) => x.prec === prec);
    if (!p) throw invalid("im_bad_parameter", `no precision ${prec}; add it first`);
    const limit = Math.max(1, Math.min(num, p.num));
    const current = { time: bucketOf(this.now(), prec), num: await this.onlineUsers() };
    const stored = (await this.repo.samples(prec, limit)).filter((s) => s.time !== current.time);
    return [current, ...stored].slice(0, limit).map((s) => ({ time: s.time, timeStr: timeString(s.time), num: s.num }));
  }

  private async sampleOne(prec: number, keep: number, nowMs: number, count: number): Promise<void> {
    await this.repo.recordSample(prec, bucketOf(nowMs, prec), count, keep);
  }

  /**
   * One sampling round at `nowMs`: only the cluster's sampler node (the live node with the
   * smallest id) records, so there is one sampler per cluster whatever the number of nodes.
   * Returns whether this node sampled.
   */
  async sample(nowMs = this.now()): Promise<boolean> {
    const nodes = await this.hub.nodes();
    const leader = nodes.map((n) => n.nodeId).sort()[0] ?? this.hub.nodeId;
    if (leader !== this.hub.nodeId) return false;
    const count = await this.onlineUsers();
    for (const p of await this.repo.precisions()) await this.sampleOne(p.prec, p.num, nowMs, count);
    return true;
  }

  startSampler(intervalMs: number): void {
    if (intervalMs <= 0 || this.sampler) return;
    this.sampler = setInterval(() => {
      this.sample().catch((err: unknown) => this.log.warn({ err }, "im statistics sample failed"));
    }, intervalMs);
    this.sampler.unref();
  }

  stop(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  // ---------------------------------------------------------------------------------------------
  // nodes

  /**
   * Every live node's access-layer report, from the node registry (each node writes its id,
   * advertised addresses, status and connection totals at every heartbeat, and at once when it
   * starts draining): a node whose heartbeat expired is left out.
   */
  async nodeReports(): Promise<ImNodeReport[]> {
    const nodes = await this.hub.nodes();
    return nodes
      .map(reportOf)
      .filter((r): r is ImNodeReport => r !== null)
      .sort((a, b) => a.nid - b.nid);
  }

  /** `/im/group/query`: live groups by member count or by message count, most first. */
  topGroups(by: "members" | "messages", limit: number): Promise<Array<{ gid: number; total: number }>> {
    return by === "members" ? this.repo.topGroupsByMembers(limit) : this.repo.topGroupsByMessages(limit);
  }

  async addresses(kind: ImNodeKind) {
    return this.repo.addresses(kind);
  }

  /** `add`: records an advertised address for node `nid` (a live node's, or one to come). */
  async addAddress(kind: ImNodeKind, nid: number, type: number, ipaddr: string, port: number): Promise<void> {
    await this.repo.addAddress({ kind, nid, type, ipaddr, port, createdAt: this.now() });
  }

  /**
   * Drains a live node by its node id (admin API), as `listend del` of one of its own listeners
   * does: the whole node drains (every surface), leaves iplist, tells its connections to reconnect
   * elsewhere and refuses new ones until it restarts.
   */
  async drainNode(nodeId: string): Promise<ImNodeReport> {
    const node = (await this.nodeReports()).find((n) => n.nodeId === nodeId);
    if (!node) throw notFound("im_no_node", `no live node ${nodeId} with an access layer`);
    await this.hub.request(node.nodeId, { op: NODE_DRAIN_OP } as Json, 15_000);
    return node;
  }

  /**
   * `del`: a recorded address is removed; the address of a live node's own listener drains that
   * node (it leaves iplist, kicks its access connections with a reconnect code and refuses new
   * ones). `im_no_node` when the address is neither.
   */
  async deleteAddress(kind: ImNodeKind, nid: number, ipaddr: string, port: number): Promise<"removed" | "drained"> {
    const removed = await this.repo.deleteAddress(kind, nid, ipaddr, port);
    if (removed > 0) return "removed";
    if (kind !== "listend") throw notFound("im_no_node", `no forwarder ${nid} at ${ipaddr}:${port}`);
    const addr = `${ipaddr}:${port}`;
    const node = (await this.nodeReports()).find((n) => n.nid === nid && (n.ws === addr || n.tcp === addr));
    if (!node) throw notFound("im_no_node", `no node ${nid} at ${addr}`);
    // the whole node drains (every surface), not only its access layer
    await this.hub.request(node.nodeId, { op: NODE_DRAIN_OP } as Json, 15_000);
    return "drained";
  }
}
