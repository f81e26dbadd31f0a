import { randomBytes } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { FastifyBaseLogger } from "fastify";
import type { AccountService, Authenticated } from "../../core/accounts/account-service.ts";
import { enterpriseDevice } from "../../core/accounts/devices.ts";
import { assertNever, type CoreEvent, type QrConfirmedEvent } from "../../core/events.ts";
import type { GroupService } from "../../core/groups/group-service.ts";
import { deviceTopic, sessionTopic, userTopic } from "../../core/topics.ts";
import { upgradeQueryValidator } from "../../http/upgrade-query.ts";
import { CloseCodes } from "../../realtime/close-codes.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { Realtime } from "../../realtime/realtime.ts";
import { type GroupSocketState, GroupSubscriptions } from "../group-subscriptions.ts";
import { sessionSockets } from "../session-socket.ts";
import { EXPIRED_FRAME, fail, frame, KICKED_FRAME, SocketCodes } from "./envelope.ts";
import { groupMsgVo, readReceiptVo, singleMsgVo } from "./message-presenters.ts";
import { upgradeToken } from "./params.ts";
import type { Presenter } from "./presenters.ts";

/** Wire-protocol name of the enterprise socket in the realtime layer. */
export const ENTERPRISE_PROTOCOL = "enterprise";

/** Per-connection state (kept small: idle sockets are the common case). */
interface SocketState {
  /** The device id announced in the first frame (session's deviceId, or random when anonymous). */
  device: string;
  /** `?platform=` of the upgrade (fallback platform of a QR login). */
  platform: string;
  /** The session once authenticated (at the upgrade or by a QR login); null = anonymous. */
  sid: string | null;
  userId: number | null;
  /** The session's expiry (ms); the ping sweep ends the socket once it has passed. */
  expiresAt: number;
  /** A QR login is being completed for this socket. */
  loggingIn: boolean;
  /** The groups whose messages (1101) this socket hears. */
  groups: GroupSocketState;
}

const stateOf = (conn: Connection) => conn.state as SocketState | null;

/**
 * The upgrade's query parameters (docs/enterprise.md "The socket"). A parameter that fails gets
 * `{code: 400, msg: "参数错误: …", data: null}` and close 1008; unknown parameters are ignored.
 */
const UpgradeQuery = Type.Object({
  authorization: Type.Optional(Type.String({ maxLength: 1024 })),
  platform: Type.Optional(Type.String({ maxLength: 32 })),
});
const checkQuery = upgradeQueryValidator(UpgradeQuery, "/socket");

export interface EnterpriseSocketDeps {
  mount: string;
  realtime: Realtime;
  accounts: AccountService;
  groups: GroupService;
  presenter: Presenter;
  log: FastifyBaseLogger;
}

/**
 * The enterprise socket `GET <mount>/socket?authorization=…&platform=pc`.
 *
 * - With a valid token the socket belongs to that session; without one it is anonymous and waits
 *   for a QR login. A token that is invalid, expired or revoked gets 1003 (1002 when the session
 *   was replaced) and the socket is closed — the handshake itself never fails, because a browser
 *   cannot read an HTTP refusal.
 * - The first frame `{code:1000, msg:"连接成功", data:{device}}` is sent only once the socket is
 *   subscribed to its device (and session/user) topics, so a QR confirmation or revocation that
 *   happens after the client saw it always reaches it, on any node.
 */
export function installSocket(d: EnterpriseSocketDeps): void {
  const { realtime, accounts, presenter, log } = d;
  const groupSubs = new GroupSubscriptions(realtime, d.groups);

  const kicked = (reason: string) => reason === "replaced" || reason === "session_replaced";
  const closeFor = (conn: Connection, reason: string) =>
    realtime.close(
      conn,
      kicked(reason) ? CloseCodes.KICKED : CloseCodes.AUTH_FAILED,
      kicked(reason) ? "replaced" : "login expired",
    );
  const endSession = (conn: Connection, reason: string) => {
    realtime.sendText(conn, kicked(reason) ? KICKED_FRAME : EXPIRED_FRAME);
    closeFor(conn, reason);
  };
  const sessions = sessionSockets<SocketState>({ realtime, accounts, stateOf, end: endSession, close: closeFor });

  /** Session, user and the user's groups (1101), in that order: a join after the load still arrives. */
  const subscribeSession = async (conn: Connection, sid: string, userId: number) => {
    await Promise.all([realtime.subscribe(conn, sessionTopic(sid)), realtime.subscribe(conn, userTopic(userId))]);
    await groupSubs.open(conn, userId, (stateOf(conn) as SocketState).groups);
  };

  async function open(conn: Connection, auth: Authenticated | null, platform: string): Promise<void> {
    const state: SocketState = {
      device: auth ? auth.session.deviceId || randomBytes(16).toString("hex") : randomBytes(16).toString("hex"),
      platform,
      sid: auth ? auth.session.id : null,
      userId: auth ? auth.user.id : null,
      expiresAt: auth ? auth.session.expiresAt : 0,
      loggingIn: false,
      groups: GroupSubscriptions.empty(),
    };
    conn.state = state;
    await realtime.subscribe(conn, deviceTopic(state.device));
    if (auth && !(await sessions.attach(conn, state, auth.session.id, auth.user.id))) return;
    if (auth) await groupSubs.open(conn, auth.user.id, state.groups);
    realtime.sendText(conn, frame(SocketCodes.CONNECTED, "连接成功", { device: state.device }));
  }

  /** A phone confirmed a QR login for this (anonymous) socket: open the PC's session here. */
  async function qrLogin(conn: Connection, state: SocketState, event: QrConfirmedEvent): Promise<void> {
    state.loggingIn = true;
    try {
      const user = await accounts.findUser(event.userId);
      if (!user || user.disabled || conn.closing) return;
      const platform = event.platform || state.platform;
      const login = await accounts.startSession(user, {
        device: enterpriseDevice(platform),
        deviceId: state.device,
        platform,
      });
      if (conn.closing) {
        // Nobody is left to receive the token: do not leave an orphan session behind.
        await accounts.revoke([login.session.id], "logout");
        return;
      }
      state.sid = login.session.id;
      state.userId = user.id;
      state.expiresAt = login.session.expiresAt;
      await subscribeSession(conn, login.session.id, user.id);
      realtime.sendText(conn, frame(SocketCodes.QR_LOGIN, "扫码登录成功", await presenter.login(login)));
    } finally {
      state.loggingIn = false;
    }
  }

  realtime.registerProtocol<CoreEvent>(ENTERPRISE_PROTOCOL, {
    render(event) {
      switch (event.type) {
        case "session.revoked":
          return event.reason === "replaced" ? KICKED_FRAME : EXPIRED_FRAME;
        case "message.new":
          if (event.message.conversationKind === "group")
            return frame(SocketCodes.GROUP_MESSAGE, "群聊消息", groupMsgVo(event.message, 0));
          if (event.message.conversationKind !== "direct") return null;
          return frame(SocketCodes.SINGLE_MESSAGE, "单聊消息", singleMsgVo(event.message, 0));
        case "message.read":
          if (event.conversationKind !== "direct") return null;
          return frame(SocketCodes.READ_RECEIPT, "已读回执", readReceiptVo(event));
        // no enterprise frame: recall/delete shows on the next fetch; the rest are other surfaces'
        case "message.changed":
        case "user.muted":
        case "friend.request":
        case "qr.confirmed":
        case "gw.push":
        case "gw.presence":
        // chat rooms are chat33 only
        case "chatroom.status":
        case "chatroom.muted":
        case "chatroom.removed":
        // groups are managed on chat33; their messages (above) are this surface's 1101
        case "group.joined":
        case "group.left":
        case "group.dissolved":
        case "group.application":
        case "group.muted":
        case "group.online":
        case "group.read":
          return null;
        default:
          return assertNever(event);
      }
    },
    // the events onEvent acts on (fan-out skips the hook for the rest)
    hooksType: (type) => type === "session.revoked" || type.startsWith("group.") || type === "qr.confirmed",
    onEvent(conn, event) {
      const state = stateOf(conn);
      if (!state) return;
      // The frame (1002/1003) was already sent by render; now end the socket.
      if (event.type === "session.revoked") sessions.onRevoked(conn, event);
      else if (event.type.startsWith("group.")) {
        // the user's own join/leave/kick and dissolutions change which groups (1101) it hears
        if (state.userId !== null) groupSubs.onEvent(conn, state.userId, state.groups, event);
      } else if (event.type === "qr.confirmed") {
        // Only a socket still waiting for a login acts; an authenticated one ignores it.
        if (event.deviceId !== state.device || state.sid !== null || state.loggingIn) return;
        qrLogin(conn, state, event).catch((err: unknown) => log.error({ err }, "enterprise QR login failed"));
      }
    },
    onClose(conn) {
      const state = stateOf(conn);
      if (state?.userId != null) groupSubs.closed(state.userId, state.groups);
    },
    // expiry per socket; revocations whose notice was lost, in one batched query
    ...sessions.sweep,
  });

  realtime.route(`${d.mount}/socket`, async (req, url) => {
    const query = checkQuery(url);
    const token = upgradeToken(req, url);
    const platform = (url.searchParams.get("platform") ?? "").trim() || "pc";
    const { auth, failure } = query.ok ? await sessions.authenticate(token) : { auth: null, failure: null };
    return {
      accept: true,
      protocol: ENTERPRISE_PROTOCOL,
      onOpen(conn) {
        if (!query.ok) {
          conn.state = null;
          realtime.sendText(conn, JSON.stringify(fail(400, `参数错误: ${query.message}`)));
          realtime.close(conn, CloseCodes.POLICY, "invalid parameter");
          return;
        }
        if (failure) {
          conn.state = null;
          endSession(conn, failure.reason);
          return;
        }
        return open(conn, auth, platform).catch((err: unknown) => {
          log.error({ err }, "enterprise socket open failed");
          realtime.close(conn, CloseCodes.INTERNAL, "internal error");
        });
      },
    };
  });
}
