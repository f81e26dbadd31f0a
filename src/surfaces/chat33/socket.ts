import type { IncomingMessage } from "node:http";
import { Type } from "@sinclair/typebox";
import type { FastifyBaseLogger } from "fastify";
import type { Authenticated } from "../../core/accounts/account-service.ts";
import { chat33Device, type DeviceType } from "../../core/accounts/devices.ts";
import { AppError, unauthenticated } from "../../core/errors.ts";
import type { CoreEvent } from "../../core/events.ts";
import { jsonTextTooDeep } from "../../core/json-limits.ts";
import { canonicalContent, canonicalExt, problemText, validClientMsgId } from "../../core/messages/content.ts";
import { upgradeQueryValidator } from "../../http/upgrade-query.ts";
import { throttledWarn } from "../../log.ts";
import { CloseCodes } from "../../realtime/close-codes.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { ProtocolHandler } from "../../realtime/protocol.ts";
import { type GroupSocketState, GroupSubscriptions } from "../group-subscriptions.ts";
import { sessionSockets } from "../session-socket.ts";
import { headerValue, readCookie, TOKEN_COOKIE } from "./auth.ts";
import { chatroomSocket, type RoomState } from "./chatroom-socket.ts";
import type { Chat33Deps } from "./deps.ts";
import { Codes, fromAppError } from "./envelope.ts";
import { parseId } from "./ids.ts";
import { kindFromChat33 } from "./kinds.ts";
import {
  batchFrame,
  connectionFrame,
  EventTypes,
  failureFrame,
  GROUP_KEYS_DONE_FRAME,
  laterRevokedFrame,
  messageFrame,
  renderEvent,
  renderLaterEvent,
  renderWithReads,
  revokedFrame,
  SYNC_DONE_FRAME,
} from "./ws-frames.ts";

/** Wire-protocol name of the chat33 socket in the realtime layer. */
export const CHAT33_PROTOCOL = "chat33";
/** The same socket opened at `/ws/`: the later clients' numbering where it differs (ws-frames.ts `renderLaterEvent`). */
export const CHAT33_LATER_PROTOCOL = "chat33-later";
/** `/ws?readEvents=1`: `/ws` plus event 61, friend read cursors (ws-frames.ts `renderWithReads`). */
export const CHAT33_READS_PROTOCOL = "chat33-reads";

/** Event-0 sends one connection may have waiting for their commit; more → -1012 at once. */
export const MAX_PENDING_SENDS = 64;
const MSG_ID_MAX = 128;
const UUID_RE = /^[\x21-\x7e]{1,128}$/;

/** Event 42: at most this many missed messages are pushed, in batches of SYNC_BATCH (docs/chat33.md). */
export const SYNC_MAX = 1000;
export const SYNC_BATCH = 100;
/** Event 42 with `time: 0` (a new device): the last SYNC_NEW_DEVICE_DAYS days, pushed as event 40. */
export const SYNC_NEW_DEVICE_DAYS = 7;

/** Per-connection state, kept small (idle sockets are the common case). */
interface SocketState extends RoomState {
  /** null = guest (`FZM-UUID`). */
  userId: number | null;
  sid: string | null;
  /** The session's expiry (ms); the ping sweep ends the socket once it has passed. */
  expiresAt: number;
  device: DeviceType;
  /**
   * This connection's frames in order, after the subscriptions are in place. An event-0 send
   * holds the queue until it has its place in the commit order (submitted to the group commit),
   * not until its commit: a connection's next messages are checked and queued while the previous
   * ones commit, so they share batches, and still get their seqs in the order sent.
   */
  queue: Promise<void>;
  /** Settles once every event-0 send queued so far has settled (joins, leaves and syncs wait for it). */
  sendsDone: Promise<void>;
  pending: number;
  /** Fixed one-second window of the per-connection rate limit. */
  windowStart: number;
  windowCount: number;
  /** The groups (chat33 rooms) whose topics this socket is subscribed to. */
  groups: GroupSocketState;
}

const stateOf = (conn: Connection) => conn.state as SocketState | null;
const noValue = (): void => {};

/** A client frame after the envelope checks: an object with an integer `eventType`. */
type ClientFrame = { eventType: number; msgId: string; body: Record<string, unknown> };

/**
 * Parses a client frame. Anything that is not a JSON object with an integer `eventType` is a
 * malformed frame; the answer still echoes the `eventType`/`msgId` it could read.
 */
function parseFrame(
  data: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
): ClientFrame | { error: true; eventType: number; msgId: string } {
  let v: unknown;
  try {
    if (isBinary) throw new Error("binary");
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const text = buf.toString("utf8");
    // nested deeper than MAX_JSON_DEPTH: refused before JSON.parse builds it (a malformed frame;
    // the answer still echoes a top-level msgId, read without parsing the frame)
    if (jsonTextTooDeep(text)) return { error: true, eventType: EventTypes.connection, msgId: topLevelMsgId(text) };
    v = JSON.parse(text);
  } catch {
    return { error: true, eventType: EventTypes.connection, msgId: "" };
  }
  if (v === null || typeof v !== "object" || Array.isArray(v))
    return { error: true, eventType: EventTypes.connection, msgId: "" };
  const body = v as Record<string, unknown>;
  const msgId = typeof body.msgId === "string" ? body.msgId.slice(0, MSG_ID_MAX) : "";
  if (typeof body.eventType !== "number" || !Number.isSafeInteger(body.eventType))
    return { error: true, eventType: EventTypes.connection, msgId };
  return { eventType: body.eventType, msgId, body };
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** End index of the JSON string token starting at `start` (its closing quote), or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22 /* " */) return i;
  }
  return -1;
}

/**
 * The string value of the top-level `msgId` key of a frame's text, found by one linear scan that
 * builds nothing but that key and value (for a frame refused before parsing); "" when unreadable.
 */
function topLevelMsgId(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end < 0) return "";
      let j = end + 1;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      if (depth === 1 && text.charCodeAt(j) === 0x3a /* : */ && text.slice(i, end + 1) === '"msgId"') {
        j++;
        while (j < text.length && isSpace(text.charCodeAt(j))) j++;
        const valueEnd = text.charCodeAt(j) === 0x22 ? stringEnd(text, j) : -1;
        if (valueEnd < 0) return "";
        try {
          return String(JSON.parse(text.slice(j, valueEnd + 1))).slice(0, MSG_ID_MAX);
        } catch {
          return "";
        }
      }
      i = end;
    }
  }
  return "";
}

/**
 * The upgrade's query parameters (docs/chat33.md "Connecting"), bounded like the headers they
 * stand for. A parameter that fails gets the answer its field documents (below); others are ignored.
 */
const UpgradeQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 1024 })),
  uuid: Type.Optional(Type.String({ maxLength: 256 })),
  device: Type.Optional(Type.String({ maxLength: 32 })),
  readEvents: Type.Optional(Type.String({ maxLength: 8, description: "1: also event 61 (friend read cursors)" })),
});
const checkQuery = upgradeQueryValidator(UpgradeQuery, "/ws");

/** chat33 credentials of an upgrade request: header, `?token=`, or the cookie; guests' uuid. */
function upgradeCredentials(req: IncomingMessage, url: URL, allowedOrigins: readonly string[]) {
  const q = (name: string) => url.searchParams.get(name)?.trim() || undefined;
  let token = headerValue(req.headers, "fzm-auth-token") || q("token");
  if (!token && cookieAllowed(req, allowedOrigins))
    token = readCookie(headerValue(req.headers, "cookie"), TOKEN_COOKIE);
  return {
    token,
    uuid: headerValue(req.headers, "fzm-uuid") || q("uuid"),
    device: headerValue(req.headers, "fzm-device") || q("device"),
  };
}

/**
 * The cookie authenticates a socket only from this site: no `Origin` (not a browser), an Origin
 * whose host is the request's Host, or an Origin on `ws.allowedOrigins` (the realtime layer has
 * already refused the others when that list is set). Stops cross-site WebSocket hijacking.
 */
function cookieAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = headerValue(req.headers, "origin");
  if (!origin || allowedOrigins.length > 0) return true;
  try {
    return new URL(origin).host === headerValue(req.headers, "host");
  } catch {
    return false;
  }
}

/**
 * The chat33 socket `GET <mount>/ws` (no `systemId`: that one is the gateway's; see
 * docs/chat33.md "WebSocket"). Registered before the gateway's route for the same path.
 */
export function installSocket(deps: Chat33Deps, log: FastifyBaseLogger): void {
  const { realtime, accounts, messages, groups, config } = deps;
  const groupSubs = new GroupSubscriptions(realtime, groups);
  const warnUnavailable = throttledWarn(log, "chat33 sends refused: a service is unavailable");
  const perConnection = config.chat33.msgRatePerConnection;

  const send = (conn: Connection, text: string): void => {
    realtime.sendText(conn, text);
  };

  /** Tells the socket why its session ended, then closes it. */
  const endSession = (conn: Connection, reason: string) => {
    send(conn, conn.protocol === CHAT33_LATER_PROTOCOL ? laterRevokedFrame(reason) : revokedFrame(reason));
    closeFor(conn, reason);
  };
  const closeFor = (conn: Connection, reason: string) =>
    realtime.close(
      conn,
      reason === "replaced" ? CloseCodes.KICKED : CloseCodes.AUTH_FAILED,
      reason === "replaced" ? "replaced" : "session ended",
    );

  // chat rooms (events 1/2, channelType 1, notices 3/4/5/7): chatroom-socket.ts
  const rooms = chatroomSocket(deps.chatrooms, realtime, send, log);

  const sessions = sessionSockets<SocketState>({
    realtime,
    accounts,
    stateOf,
    end: endSession,
    close: closeFor,
  });

  /**
   * Event 0: a message to a friend (channelType 3), a group (2) or a chat room (1). Answers only the
   * sending connection. `queued` is called once the message holds its place in the commit order.
   */
  async function sendMessage(conn: Connection, state: SocketState, f: ClientFrame, queued: () => void): Promise<void> {
    const b = f.body;
    // msgId: a string as documented (an integer is accepted and used as its decimal string)
    const msgId = typeof b.msgId === "number" && Number.isSafeInteger(b.msgId) ? String(b.msgId) : f.msgId;
    if (conn.closing) return;
    if (state.userId === null) return send(conn, failureFrame(EventTypes.message, msgId, Codes.guestNoSend));
    const targetRaw = typeof b.targetId === "number" ? String(b.targetId) : b.targetId;
    if (
      !msgId ||
      (typeof b.msgId === "string" && b.msgId.length > MSG_ID_MAX) ||
      !validClientMsgId(msgId) ||
      typeof b.channelType !== "number" ||
      typeof targetRaw !== "string" ||
      typeof b.msgType !== "number" ||
      b.msg === null ||
      typeof b.msg !== "object" ||
      Array.isArray(b.msg)
    )
      return send(conn, failureFrame(EventTypes.message, msgId, Codes.msgFormat));
    const failWith = (code: number, content?: string): void =>
      send(conn, failureFrame(EventTypes.message, msgId, code, content));
    if (b.channelType !== 1 && b.channelType !== 2 && b.channelType !== 3)
      return failWith(Codes.msgFormat, "消息格式错误: channelType 必须是 1、2 或 3");
    const kind = kindFromChat33(b.msgType);
    if (!kind) return failWith(Codes.msgFormat, "消息格式错误: 未知的 msgType");
    if (kind === "redpacket") return failWith(Codes.msgFormat, "消息格式错误: 红包请通过 /red-packet/send 发送");
    if (kind === "forward") return failWith(Codes.msgFormat, "消息格式错误: 转发请通过 /chat33/forward 发送");
    // the later clients' fields: isSnap 1 burn after reading, 2 (or absent) normal; ext as sent
    if (b.isSnap !== undefined && b.isSnap !== 1 && b.isSnap !== 2)
      return failWith(Codes.msgFormat, "消息格式错误: isSnap 必须是 1 或 2");
    const snap = b.isSnap === 1;
    if (snap && b.channelType !== 3) return failWith(Codes.msgFormat, "消息格式错误: 阅后即焚只用于好友消息");
    const ext = canonicalExt(b.ext);
    if ("problem" in ext) return failWith(Codes.msgFormat, `消息格式错误: ${problemText(ext.problem)}`);
    // The canonical content rules (core/messages/content.ts): kind members, depth, size; the
    // content leaves here serialised, so nothing later re-serialises what the client sent.
    const checked = canonicalContent(kind, b.msg);
    if ("problem" in checked) return failWith(Codes.msgFormat, `消息格式错误: ${problemText(checked.problem, "msg.")}`);
    const targetId = parseId(targetRaw);
    const toRoom = b.channelType === 1;
    if (targetId === null)
      return failWith(
        toRoom ? Codes.chatroomNotFound : b.channelType === 2 ? Codes.notGroupMember : Codes.userNotFound,
      );
    // a chat-room message leaves from a connection in the room (the policy checks the rest)
    if (toRoom && !rooms.inRoom(state, targetId)) {
      const room = await deps.chatrooms.room(targetId).catch(() => null);
      return failWith(!room || room.status === "deleted" ? Codes.chatroomNotFound : Codes.notInChatroom);
    }
    try {
      // Fresh user row per send: a mute, a nickname change or a disabled account applies at once.
      const user = await accounts.cachedUser(state.userId);
      if (!user || user.disabled) return failWith(Codes.loginExpired);
      // The pipeline applies the per-user rate limit (-1012), admin-only kinds (-2006), the mute,
      // and the kind's policy (friends; for groups membership -3001 and group mutes -2007; chat
      // rooms: open, not muted or blacklisted).
      const group = b.channelType === 2;
      const convKind = group ? "group" : toRoom ? "chatroom" : "direct";
      const { view, duplicate, published } = await messages.send(
        convKind,
        user,
        targetId,
        {
          clientMsgId: msgId,
          content: checked.content,
          snap,
          ext: ext.ext,
        },
        { onQueued: queued },
      );
      // A new message reaches this connection through the user topic (a group's: the group topic)
      // exactly once, like every other connection of the conversation; a retry publishes nothing,
      // so only the sender hears back. If the publication failed (hub down) the message is stored:
      // ack it directly all the same — and so when this socket is not subscribed to the group yet.
      if (duplicate || !published || (group && !state.groups.joined.has(targetId))) send(conn, messageFrame(view));
    } catch (e) {
      if (e instanceof AppError) {
        if (e.code === "unavailable") warnUnavailable({ err: e });
        const { body } = fromAppError(e);
        return failWith(body.result, body.message);
      }
      log.error({ err: e }, "chat33 send failed");
      failWith(Codes.internal);
    }
  }

  /**
   * Event 42 `{time}`: the messages the user missed since `time` (ms), oldest first, in batches —
   * event 41 (unread), or 40 (read) for a new device (`time` 0: the last SYNC_NEW_DEVICE_DAYS
   * days) — then 43. Direct conversations and the user's groups (from the later of `time` and
   * joining); deleted and burnt messages are left out. At most SYNC_MAX (the rest by history).
   */
  async function sync(conn: Connection, state: SocketState, f: ClientFrame): Promise<void> {
    const t = f.body.time;
    if (state.userId === null) return send(conn, failureFrame(EventTypes.sync, f.msgId, Codes.guestNoSend));
    if (typeof t !== "number" || !Number.isSafeInteger(t) || t < 0)
      return send(
        conn,
        failureFrame(EventTypes.sync, f.msgId, Codes.paramError, "参数错误: time 必须是非负整数(毫秒)"),
      );
    const user = await accounts.cachedUser(state.userId);
    if (!user || user.disabled || conn.closing) return;
    const newDevice = t === 0;
    const since = newDevice ? Date.now() - SYNC_NEW_DEVICE_DAYS * 86_400_000 : t;
    const memberships = await groups.list(user);
    const { views } = await messages.syncSince(
      user,
      since,
      memberships.map((r) => ({ conversationId: r.group.conversationId, from: r.member.joinedAt })),
      SYNC_MAX,
    );
    const eventType = newDevice ? EventTypes.batchRead : EventTypes.batchUnread;
    for (let i = 0; i < views.length && !conn.closing; i += SYNC_BATCH)
      send(conn, batchFrame(eventType, views.slice(i, i + SYNC_BATCH)));
    if (!conn.closing) send(conn, SYNC_DONE_FRAME);
  }

  /**
   * Event 0 in this connection's order: it starts after the frames before it, and the frames after
   * it wait only until it holds its place in the commit order (see `SocketState.queue`).
   */
  function queueSend(conn: Connection, state: SocketState, f: ClientFrame): void {
    state.pending++;
    let queued!: () => void;
    const placed = new Promise<void>((resolve) => {
      queued = resolve;
    });
    const done = state.queue
      .then(() => sendMessage(conn, state, f, queued))
      .catch((err: unknown) => log.error({ err }, "chat33 frame failed"))
      .finally(() => {
        state.pending--;
        queued();
      });
    state.queue = placed;
    // settles with no value: a chain of Promise.all results would nest one array per send
    state.sendsDone = Promise.all([state.sendsDone, done]).then(noValue);
  }

  function onFrame(conn: Connection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const state = stateOf(conn);
    if (!state || conn.closing) return;
    const f = parseFrame(data, isBinary);
    const now = Date.now();
    if (now - state.windowStart >= 1000) {
      state.windowStart = now;
      state.windowCount = 0;
    }
    if (++state.windowCount > perConnection) {
      send(conn, failureFrame(f.eventType, f.msgId, Codes.tooFrequent));
      return;
    }
    if ("error" in f) {
      send(conn, failureFrame(f.eventType, f.msgId, Codes.msgFormat));
      return;
    }
    switch (f.eventType) {
      case EventTypes.message:
        if (state.pending >= MAX_PENDING_SENDS) {
          send(conn, failureFrame(f.eventType, f.msgId, Codes.tooFrequent));
          return;
        }
        queueSend(conn, state, f);
        return;
      case EventTypes.joinChatroom:
      case EventTypes.leaveChatroom:
        // after the socket's subscriptions (the queue), in order with this connection's frames
        // and after its earlier sends settled (those before this frame: a later send waits for it)
        state.queue = Promise.all([state.queue, state.sendsDone])
          .then(() =>
            f.eventType === EventTypes.joinChatroom
              ? rooms.join(conn, state, f.msgId, f.body)
              : rooms.leave(conn, state, f.msgId, f.body),
          )
          .catch((err: unknown) => log.error({ err }, "chat33 frame failed"));
        return;
      case EventTypes.sync:
        // after the socket's subscriptions (the queue): nothing published meanwhile is missed;
        // after this connection's earlier sends settled, so what it sent is in the answer (those
        // before this frame: a later send waits for it)
        state.queue = Promise.all([state.queue, state.sendsDone])
          .then(() => sync(conn, state, f))
          .catch((err: unknown) => {
            log.error({ err }, "chat33 sync failed");
            send(conn, failureFrame(EventTypes.sync, f.msgId, Codes.internal));
          });
        return;
      case EventTypes.startGroupKeys:
        // Parley has no encrypted groups: no session key to push (28), done at once (29)
        send(conn, GROUP_KEYS_DONE_FRAME);
        return;
      default:
        send(conn, failureFrame(f.eventType, f.msgId, Codes.paramError, "参数错误: 未知的事件类型"));
    }
  }

  const handler: ProtocolHandler<CoreEvent> = {
    render: renderEvent,
    onMessage: onFrame,
    // the events onEvent acts on (fan-out skips the hook for the rest: messages to big rooms)
    hooksType: (type) =>
      type === "session.revoked" ||
      type.startsWith("group.") ||
      type === "chatroom.status" ||
      type === "chatroom.removed",
    onEvent(conn, event) {
      // the frame was sent by render; now end the socket
      if (event.type === "session.revoked") sessions.onRevoked(conn, event);
      else if (event.type.startsWith("group.")) {
        // the user's own join/leave/kick and dissolutions change which groups the socket hears
        const st = stateOf(conn);
        if (st?.userId != null) groupSubs.onEvent(conn, st.userId, st.groups, event);
      } else if (event.type === "chatroom.status" || event.type === "chatroom.removed") {
        const state = stateOf(conn);
        if (state) rooms.onEvent(conn, state, event);
      }
    },
    onClose(conn) {
      const st = stateOf(conn);
      if (st?.userId != null) groupSubs.closed(st.userId, st.groups);
      const state = stateOf(conn);
      if (state) rooms.onClose(state);
    },
    // expiry per socket; revocations whose notice was lost, in one batched query
    ...sessions.sweep,
  };
  realtime.registerProtocol<CoreEvent>(CHAT33_PROTOCOL, handler);
  realtime.registerProtocol<CoreEvent>(CHAT33_LATER_PROTOCOL, { ...handler, render: renderLaterEvent });
  realtime.registerProtocol<CoreEvent>(CHAT33_READS_PROTOCOL, { ...handler, render: renderWithReads });

  // `/ws/` too: the later clients (33cn/chat33-pc) open the socket with a trailing slash
  const route: Parameters<typeof realtime.route>[1] = async (req, url) => {
    // `?systemId=` is a gateway client; a request without any chat33 credential is left to the
    // gateway too, which answers its documented "-1001 系统ID不能为空" frame.
    if (url.searchParams.has("systemId")) return null;
    const cred = upgradeCredentials(req, url, config.ws.allowedOrigins);
    if (!cred.token && !cred.uuid) return null;
    // Browsers cannot set headers on a WebSocket: no device at all means Web (documented).
    const device = cred.device === undefined ? "web" : chat33Device(cred.device);
    const fromError = (e: AppError) => {
      const { body } = fromAppError(e);
      return { code: body.result, content: body.message, reason: e.reason };
    };
    let failure: { code: number; content: string; reason: string } | null = null;
    let auth: Authenticated | null = null;
    const query = checkQuery(url);
    if (!query.ok)
      failure =
        query.field === "token"
          ? fromError(unauthenticated("token_invalid", "invalid token"))
          : query.field === "uuid"
            ? { code: Codes.sessionError, content: "Session错误: FZM-UUID 无效", reason: "uuid" }
            : { code: Codes.unknownDevice, content: "未知的设备类型", reason: "device" };
    else if (!device) failure = { code: Codes.unknownDevice, content: "未知的设备类型", reason: "device" };
    else if (cred.token) {
      const r = await sessions.authenticate(cred.token);
      auth = r.auth;
      if (r.failure) failure = fromError(r.failure);
    } else if (!UUID_RE.test(cred.uuid ?? ""))
      failure = { code: Codes.sessionError, content: "Session错误: FZM-UUID 无效", reason: "uuid" };
    return {
      accept: true,
      // `/ws/` (the later clients' path) speaks their numbering where it differs from the seed's
      protocol: url.pathname.endsWith("/")
        ? CHAT33_LATER_PROTOCOL
        : url.searchParams.get("readEvents") === "1"
          ? CHAT33_READS_PROTOCOL
          : CHAT33_PROTOCOL,
      onOpen(conn) {
        if (failure || !device) {
          conn.state = null;
          send(conn, connectionFrame(failure?.code ?? Codes.unknownDevice, failure?.content));
          const code =
            failure?.reason === "device"
              ? CloseCodes.POLICY
              : failure?.reason === "session_replaced"
                ? CloseCodes.KICKED
                : CloseCodes.AUTH_FAILED;
          realtime.close(conn, code, failure?.reason ?? "device");
          return;
        }
        const state: SocketState = {
          userId: auth ? auth.user.id : null,
          uuid: auth ? null : (cred.uuid ?? null),
          rooms: null,
          sid: auth ? auth.session.id : null,
          expiresAt: auth ? auth.session.expiresAt : 0,
          device,
          queue: Promise.resolve(),
          sendsDone: Promise.resolve(),
          pending: 0,
          windowStart: 0,
          windowCount: 0,
          groups: GroupSubscriptions.empty(),
        };
        conn.state = state;
        if (!auth) return;
        // frames wait for the subscriptions (the queue); the socket is ready once they are in place
        const userId = auth.user.id;
        state.queue = sessions
          .attach(conn, state, auth.session.id, userId)
          // then the user's groups (chat33 rooms): their messages and events
          .then((live) => (live ? groupSubs.open(conn, userId, state.groups) : undefined))
          .catch((err: unknown) => {
            log.error({ err }, "chat33 socket open failed");
            realtime.close(conn, CloseCodes.INTERNAL, "internal error");
          });
        return state.queue;
      },
    };
  };
  realtime.route(`${deps.mount}/ws`, route);
  realtime.route(`${deps.mount}/ws/`, route);
}
