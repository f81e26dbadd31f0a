import type { Logger } from "pino";
import type { ChatroomService } from "../../core/chatrooms/chatroom-service.ts";
import { AppError } from "../../core/errors.ts";
import { type CoreEvent, imPushText } from "../../core/events.ts";
import type { GroupService } from "../../core/groups/group-service.ts";
import { IM_DRAIN_OP, IM_NODE_OP, type ImNodeReport, type ImService, nidOf } from "../../core/im/im-service.ts";
import { jsonTextTooDeep } from "../../core/json-limits.ts";
import {
  chatroomTopic,
  IM_BROADCAST_TOPIC,
  imAppTopic,
  imAppVersionTopic,
  imSessionTopic,
  imUserRoomsSet,
  imUserSidsSet,
  imUsersSet,
  userTopic,
} from "../../core/topics.ts";
import type { Presence } from "../../ports/hub.ts";
import { CloseCodes } from "../../realtime/close-codes.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { Realtime } from "../../realtime/realtime.ts";
import { TcpTransport } from "../../realtime/tcp-transport.ts";
import { type GroupSocketState, GroupSubscriptions } from "../group-subscriptions.ts";
import { fromAppError, ImCodes, OK_MSG } from "./envelope.ts";

/** The wire protocol name of access connections (both transports). */
export const IM_PROTOCOL = "im";
/** Most chat rooms one access connection may be in at once. */
export const MAX_ROOMS_PER_CONNECTION = 32;
const MAX_CMD = 32;
const MAX_TEXT_FIELD = 64;
const MAX_TOKEN = 256;

interface AccessState {
  online: boolean;
  /** An `online` is being checked (a second one meanwhile is refused). */
  checking: boolean;
  openedAt: number;
  uid: number;
  sid: number;
  app: string;
  version: string;
  terminal: string;
  rooms: Set<number> | null;
  groups: GroupSocketState;
}

const stateOf = (conn: Connection): AccessState => conn.state as AccessState;

/** One frame of the access protocol, as text. */
export const accessFrame = (cmd: string, seq: number, data: object): string => JSON.stringify({ cmd, seq, data });

/** Presence with per-node reference counts: a member is added on 0 → 1 and removed on 1 → 0, in order. */
class CountedPresence {
  private readonly counts = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly presence: Presence,
    private readonly log: Logger,
  ) {}

  private serial(key: string, op: () => Promise<void>): void {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(op).catch((err: unknown) => {
      this.log.warn({ err }, "im presence update failed");
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves once the member is in the set (when this call added it). */
  add(set: string, member: string): Promise<void> {
    const key = `${set}\u0000${member}`;
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    if (n === 0) this.serial(key, () => this.presence.add(set, member));
    return this.chains.get(key) ?? Promise.resolve();
  }

  remove(set: string, member: string): void {
    const key = `${set}\u0000${member}`;
    const n = this.counts.get(key) ?? 0;
    if (n <= 0) return;
    if (n > 1) {
      this.counts.set(key, n - 1);
      return;
    }
    this.counts.delete(key);
    this.serial(key, () => this.presence.remove(set, member));
  }
}

export interface ImAccessDeps {
  realtime: Realtime;
  im: ImService;
  groups: GroupService;
  chatrooms: ChatroomService;
  presence: Presence;
  log: Logger;
  onlineTimeoutMs: number;
  maxFrameBytes: number;
  /** Host advertised in iplist and listings. */
  advertiseHost: string;
}

/** A positive integer from a JSON number or a decimal string. */
function idOf(v: unknown): number | null {
  if (typeof v === "number") return Number.isSafeInteger(v) && v > 0 ? v : null;
  if (typeof v === "string" && /^[1-9][0-9]{0,14}$/.test(v)) return Number(v);
  return null;
}

/**
 * The access layer of seed 003 (docs/cluster-admin.md "Access protocol"): `GET /im/ws` and the
 * length-prefixed TCP listener, both speaking `{cmd, seq, data}` frames on the shared realtime
 * layer. A connection must send a valid `online` (token from `/im/iplist`) within
 * `im.onlineTimeoutMs`; a newer `online` of the same sid anywhere in the cluster kicks the older
 * connection (20009). Online connections receive `/im/push` bodies byte for byte through the core
 * topics (user, session, app, groups, joined chat rooms) and the broadcast; chat33 and enterprise
 * user sockets receive the user, group and broadcast pushes as well.
 */
export class ImAccess {
  readonly tcp: TcpTransport;
  private draining = false;
  private readonly pending = new Set<Connection>();
  private readonly deadlineTimer: NodeJS.Timeout;
  private readonly counted: CountedPresence;
  private readonly groupSubs: GroupSubscriptions;
  private wsAddress: string | null = null;
  private tcpAddress: string | null = null;

  constructor(private readonly d: ImAccessDeps) {
    const { realtime } = d;
    this.counted = new CountedPresence(d.presence, d.log);
    this.groupSubs = new GroupSubscriptions(realtime, d.groups);
    realtime.registerProtocol<CoreEvent>(IM_PROTOCOL, {
      render: (e) => (e.type === "im.push" ? imPushText(e) : null),
      onMessage: (conn, data) => this.onMessage(conn, data as Buffer),
      onEvent: (conn, e) => this.onEvent(conn, e),
      // the events onEvent acts on: without this filter every fan-out would run the hook for every
      // event and stop batching (src/realtime/fanout.ts)
      hooksType: (type) =>
        type === "im.online" || type === "chatroom.removed" || type === "chatroom.status" || type.startsWith("group."),
      onClose: (conn) => this.onClose(conn),
    });
    realtime.route("/im/ws", async () =>
      this.draining
        ? { accept: false, status: 503, message: "Service Unavailable" }
        : { accept: true, protocol: IM_PROTOCOL, onOpen: (conn) => this.opened(conn) },
    );
    this.tcp = realtime.addTransport(
      (sink) =>
        new TcpTransport(sink, {
          protocol: IM_PROTOCOL,
          maxFrameBytes: d.maxFrameBytes,
          onOpen: (conn) => this.opened(conn),
          tooBig: (conn) =>
            this.sendError(conn, 0, ImCodes.bodyTooLarge, `Frame over the limit of ${d.maxFrameBytes} bytes`),
          refuse: () => this.draining,
        }),
    );
    // the broadcast reaches every user connection of every node (access, chat33, enterprise)
    realtime.hub.onMessage((topic, payload) => {
      if (topic === IM_BROADCAST_TOPIC) this.broadcastLocal(payload as CoreEvent);
    });
    realtime.registerOp(IM_NODE_OP, () => this.report() as never);
    // the node registry entry (read by /im/iplist and /im/config listend|frwder on every node)
    realtime.hub.addNodeInfoProvider(() => ({ im: this.report() as never }));
    realtime.registerOp(IM_DRAIN_OP, () => this.drain());
    const tick = Math.max(50, Math.min(1000, Math.floor(d.onlineTimeoutMs / 4)));
    this.deadlineTimer = setInterval(() => this.expirePending(), tick);
    this.deadlineTimer.unref();
  }

  /** Subscribes this node to the broadcast topic; resolves once broadcasts will arrive. */
  start(): Promise<void> {
    return this.d.realtime.hub.subscribe(IM_BROADCAST_TOPIC);
  }

  /** Starts the TCP listener (port 0 = none); records the advertised addresses. */
  async listen(httpPort: number, tcpPort: number, host: string): Promise<number | null> {
    this.wsAddress = `${this.d.advertiseHost}:${httpPort}`;
    if (!tcpPort) return null;
    const port = await this.tcp.listen(tcpPort, host);
    this.tcpAddress = `${this.d.advertiseHost}:${port}`;
    return port;
  }

  stop(): void {
    clearInterval(this.deadlineTimer);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  report(): ImNodeReport {
    let ws = 0;
    let tcp = 0;
    for (const c of this.d.realtime.connections.values())
      if (c.protocol === IM_PROTOCOL && !c.closing) {
        if (c.transport === this.tcp) tcp++;
        else ws++;
      }
    const nodeId = this.d.realtime.nodeId;
    return {
      nodeId,
      nid: nidOf(nodeId),
      ws: this.wsAddress,
      tcp: this.tcpAddress,
      draining: this.draining,
      conns: { ws, tcp },
    };
  }

  /** Drains this node: no new access connections or `online`, every access connection kicked. */
  drain(): boolean {
    this.draining = true;
    const kick = accessFrame("kick", 0, {
      code: ImCodes.unavailable,
      errmsg: "Node is draining: reconnect through /im/iplist",
    });
    for (const c of [...this.d.realtime.connections.values()])
      if (c.protocol === IM_PROTOCOL && !c.closing) {
        this.d.realtime.sendText(c, kick);
        this.d.realtime.close(c, CloseCodes.TRY_AGAIN_LATER, "draining");
      }
    // leave iplist on every node now, not at the next heartbeat
    this.d.realtime.hub.announce().catch((err: unknown) => this.d.log.warn({ err }, "node registry update failed"));
    return true;
  }

  private opened(conn: Connection): void {
    const st: AccessState = {
      online: false,
      checking: false,
      openedAt: Date.now(),
      uid: 0,
      sid: 0,
      app: "",
      version: "",
      terminal: "",
      rooms: null,
      groups: GroupSubscriptions.empty(),
    };
    conn.state = st;
    this.pending.add(conn);
  }

  private expirePending(): void {
    const now = Date.now();
    for (const conn of this.pending) {
      const st = stateOf(conn);
      if (conn.closing || st.online) {
        this.pending.delete(conn);
        continue;
      }
      if (now - st.openedAt < this.d.onlineTimeoutMs) continue;
      this.pending.delete(conn);
      this.sendError(conn, 0, ImCodes.authFailed, "No online within the deadline");
      this.d.realtime.close(conn, CloseCodes.POLICY, "online timeout");
    }
  }

  private send(conn: Connection, cmd: string, seq: number, data: object): void {
    this.d.realtime.sendText(conn, accessFrame(cmd, seq, data));
  }

  private sendError(conn: Connection, seq: number, code: number, errmsg: string): void {
    this.send(conn, "error", seq, { code, errmsg });
  }

  private onMessage(conn: Connection, raw: Buffer) {
    const text = Buffer.isBuffer(raw) ? raw.toString("utf8") : String(raw);
    let frame: unknown;
    try {
      if (jsonTextTooDeep(text)) throw new Error("too deep");
      frame = JSON.parse(text);
    } catch {
      return this.sendError(conn, 0, ImCodes.invalidRequest, "Frame is not valid JSON");
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame))
      return this.sendError(conn, 0, ImCodes.invalidRequest, "Frame must be a JSON object");
    const f = frame as { cmd?: unknown; seq?: unknown; data?: unknown };
    const seq = typeof f.seq === "number" && Number.isSafeInteger(f.seq) && f.seq >= 0 ? f.seq : 0;
    if (f.seq !== undefined && f.seq !== seq)
      return this.sendError(conn, 0, ImCodes.invalidParameter, "seq must be a non-negative integer");
    if (typeof f.cmd !== "string" || f.cmd === "" || f.cmd.length > MAX_CMD)
      return this.sendError(conn, seq, ImCodes.missingParameter, "cmd is missing");
    if (f.data !== undefined && (typeof f.data !== "object" || f.data === null || Array.isArray(f.data)))
      return this.sendError(conn, seq, ImCodes.invalidParameter, "data must be an object");
    const data = (f.data ?? {}) as Record<string, unknown>;
    const st = stateOf(conn);
    switch (f.cmd) {
      case "online":
        this.online(conn, st, seq, data).catch((err: unknown) => this.failed(conn, "online-ack", seq, err));
        return;
      case "ping":
      case "room-join":
      case "room-quit":
        break;
      default:
        return this.sendError(conn, seq, ImCodes.invalidParameter, `Unknown command: ${f.cmd.slice(0, MAX_CMD)}`);
    }
    if (!st.online) return this.sendError(conn, seq, ImCodes.authFailed, "Send online first");
    if (f.cmd === "ping") return this.send(conn, "pong", seq, {});
    const rid = idOf(data.rid);
    const ack = `${f.cmd}-ack`;
    if (data.rid === undefined)
      return this.send(conn, ack, seq, {
        code: ImCodes.missingParameter,
        errmsg: "Paramter [rid] is missing!",
        rid: 0,
      });
    if (rid === null)
      return this.send(conn, ack, seq, {
        code: ImCodes.invalidParameter,
        errmsg: "Paramter [rid] is invalid!",
        rid: 0,
      });
    const op = f.cmd === "room-join" ? this.join(conn, st, seq, rid) : this.quit(conn, st, seq, rid);
    op.catch((err: unknown) => this.failed(conn, ack, seq, err, { rid }));
  }

  private failed(conn: Connection, ack: string, seq: number, err: unknown, extra: object = {}): void {
    if (err instanceof AppError) {
      this.send(conn, ack, seq, { ...fromAppError(err), ...extra });
      return;
    }
    this.d.log.error({ err }, "im access frame failed");
    this.send(conn, ack, seq, { code: ImCodes.system, errmsg: "System error", ...extra });
  }

  private async online(conn: Connection, st: AccessState, seq: number, data: Record<string, unknown>): Promise<void> {
    const ack = (code: number, errmsg: string) =>
      this.send(conn, "online-ack", seq, {
        code,
        errmsg,
        uid: st.uid || idOf(data.uid) || 0,
        sid: st.sid || idOf(data.sid) || 0,
      });
    if (st.online || st.checking) return ack(ImCodes.onlineRefused, "Already online on this connection");
    for (const name of ["uid", "sid", "token"])
      if (data[name] === undefined || data[name] === null || data[name] === "")
        return ack(ImCodes.missingParameter, `Paramter [${name}] is missing!`);
    const uid = idOf(data.uid);
    const sid = idOf(data.sid);
    if (uid === null) return ack(ImCodes.invalidParameter, "Paramter [uid] is invalid!");
    if (sid === null) return ack(ImCodes.invalidParameter, "Paramter [sid] is invalid!");
    if (typeof data.token !== "string" || data.token.length > MAX_TOKEN)
      return ack(ImCodes.invalidParameter, "Paramter [token] is invalid!");
    const text = (name: string): string | null => {
      const v = data[name];
      if (v === undefined || v === null) return "";
      if (typeof v === "number" && Number.isFinite(v)) return String(v);
      return typeof v === "string" && v.length <= MAX_TEXT_FIELD ? v : null;
    };
    const app = text("app");
    const version = text("version");
    const terminal = text("terminal");
    if (app === null) return ack(ImCodes.invalidParameter, "Paramter [app] is invalid!");
    if (version === null) return ack(ImCodes.invalidParameter, "Paramter [version] is invalid!");
    if (terminal === null) return ack(ImCodes.invalidParameter, "Paramter [terminal] is invalid!");
    if (this.draining) {
      ack(ImCodes.unavailable, "Node is draining: reconnect through /im/iplist");
      this.d.realtime.close(conn, CloseCodes.TRY_AGAIN_LATER, "draining");
      return;
    }
    st.checking = true;
    try {
      await this.d.im.authorizeOnline(uid, sid, data.token);
    } catch (e) {
      if (e instanceof AppError && e.code === "unauthenticated") return ack(ImCodes.authFailed, e.message);
      throw e;
    } finally {
      st.checking = false;
    }
    if (conn.closing) return;
    st.checking = true;
    Object.assign(st, { uid, sid, app, version, terminal });
    const rt = this.d.realtime;
    const subs = [rt.subscribe(conn, userTopic(uid)), rt.subscribe(conn, imSessionTopic(sid))];
    if (app) subs.push(rt.subscribe(conn, imAppTopic(app)), rt.subscribe(conn, imAppVersionTopic(app, version)));
    await Promise.all(subs);
    await this.groupSubs.open(conn, uid, st.groups);
    if (conn.closing) return;
    st.online = true;
    st.checking = false;
    this.pending.delete(conn);
    await Promise.all([this.counted.add(imUsersSet, String(uid)), this.counted.add(imUserSidsSet(uid), String(sid))]);
    // older connections of this sid, on any node, see this and leave (20009)
    await rt.publish(imSessionTopic(sid), { type: "im.online", sid, conn: `${rt.nodeId}/${conn.id}` });
    ack(0, OK_MSG);
  }

  private async join(conn: Connection, st: AccessState, seq: number, rid: number): Promise<void> {
    const ack = (code: number, errmsg: string) => this.send(conn, "room-join-ack", seq, { code, errmsg, rid });
    if (st.rooms?.has(rid)) return ack(0, OK_MSG);
    if ((st.rooms?.size ?? 0) >= MAX_ROOMS_PER_CONNECTION)
      return ack(ImCodes.joinRefused, `At most ${MAX_ROOMS_PER_CONNECTION} rooms per connection`);
    try {
      await this.d.chatrooms.join(rid, { userId: st.uid });
    } catch (e) {
      if (e instanceof AppError && e.code === "not_found") return ack(ImCodes.joinRefused, "No such room");
      throw e;
    }
    if (conn.closing) return void (await this.d.chatrooms.leave(rid, { userId: st.uid }));
    st.rooms ??= new Set();
    st.rooms.add(rid);
    await this.d.realtime.subscribe(conn, chatroomTopic(rid));
    await this.counted.add(imUserRoomsSet(st.uid), String(rid));
    ack(0, OK_MSG);
  }

  private async quit(conn: Connection, st: AccessState, seq: number, rid: number): Promise<void> {
    if (!st.rooms?.has(rid))
      return this.send(conn, "room-quit-ack", seq, { code: ImCodes.quitRefused, errmsg: "Not in this room", rid });
    await this.dropRoom(conn, st, rid);
    this.send(conn, "room-quit-ack", seq, { code: 0, errmsg: OK_MSG, rid });
  }

  private async dropRoom(conn: Connection, st: AccessState, rid: number): Promise<void> {
    if (!st.rooms?.delete(rid)) return;
    this.d.realtime.unsubscribe(conn, chatroomTopic(rid));
    this.counted.remove(imUserRoomsSet(st.uid), String(rid));
    await this.d.chatrooms.leave(rid, { userId: st.uid });
  }

  private onEvent(conn: Connection, e: CoreEvent): void {
    const st = stateOf(conn);
    if (!st?.online) return;
    switch (e.type) {
      case "im.online":
        if (e.sid === st.sid && e.conn !== `${this.d.realtime.nodeId}/${conn.id}`) {
          this.send(conn, "kick", 0, { code: ImCodes.collision, errmsg: "Session went online on another connection" });
          this.d.realtime.close(conn, CloseCodes.KICKED, "kicked");
        }
        return;
      case "chatroom.removed":
        if (e.userId === st.uid && st.rooms?.has(e.roomId)) {
          this.sendError(conn, 0, ImCodes.permissionDenied, `Removed from room ${e.roomId}`);
          this.dropRoom(conn, st, e.roomId).catch((err: unknown) => this.d.log.warn({ err }, "room leave failed"));
        }
        return;
      case "chatroom.status":
        if (e.room.status === "deleted")
          this.dropRoom(conn, st, e.room.id).catch((err: unknown) => this.d.log.warn({ err }, "room leave failed"));
        return;
      default:
        this.groupSubs.onEvent(conn, st.uid, st.groups, e);
    }
  }

  private onClose(conn: Connection): void {
    this.pending.delete(conn);
    const st = stateOf(conn);
    if (!st) return;
    // an `online` still subscribing may have joined groups already
    if (st.uid) this.groupSubs.closed(st.uid, st.groups);
    if (!st.online) return;
    st.online = false;
    this.counted.remove(imUsersSet, String(st.uid));
    this.counted.remove(imUserSidsSet(st.uid), String(st.sid));
    if (st.rooms)
      for (const rid of st.rooms) {
        this.counted.remove(imUserRoomsSet(st.uid), String(rid));
        this.d.chatrooms
          .leave(rid, { userId: st.uid })
          .catch((err: unknown) => this.d.log.warn({ err }, "room leave failed"));
      }
    st.rooms = null;
  }

  /** A broadcast on this node: every connection bound to a user (its user topic), any surface. */
  private broadcastLocal(e: CoreEvent): void {
    if (e?.type !== "im.push") return;
    const text = imPushText(e);
    if (text === null) return;
    const targets: Connection[] = [];
    for (const c of this.d.realtime.connections.values()) {
      if (c.closing || !c.topics) continue;
      if (c.protocol === IM_PROTOCOL ? stateOf(c)?.online : hasUserTopic(c)) targets.push(c);
    }
    // group by transport so each framing is built once
    targets.sort((a, b) => (a.transport.name < b.transport.name ? -1 : a.transport.name > b.transport.name ? 1 : 0));
    this.d.realtime.sendTextMany(targets, text);
  }
}

function hasUserTopic(c: Connection): boolean {
  if (!c.topics) return false;
  for (const t of c.topics) if (t.startsWith("user:")) return true;
  return false;
}
