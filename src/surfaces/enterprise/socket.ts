import { randomBytes } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import {
  type AccountService,
  type Authenticated,
  type SessionRevokedEvent,
  sessionTopic,
  userTopic,
} from "../../core/accounts/account-service.ts";
import { enterpriseDevice } from "../../core/accounts/devices.ts";
import { deviceTopic, type QrConfirmedEvent } from "../../core/accounts/qr-service.ts";
import { AppError } from "../../core/errors.ts";
import type { GroupService } from "../../core/groups/group-service.ts";
import type { MessageNewEvent, MessageReadEvent } from "../../core/messages/message-service.ts";
import type { Storage } from "../../ports/storage.ts";
import { CloseCodes } from "../../realtime/close-codes.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { Realtime, RealtimeEvent } from "../../realtime/realtime.ts";
import { type GroupSocketState, GroupSubscriptions } from "../group-subscriptions.ts";
import { EXPIRED_FRAME, frame, KICKED_FRAME, SocketCodes } from "./envelope.ts";
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

const stateOf = (conn: Connection) => conn.state as SocketState;

export interface EnterpriseSocketDeps {
  mount: string;
  realtime: Realtime;
  accounts: AccountService;
  storage: Storage;
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
  const { realtime, accounts, storage, presenter, log } = d;
  const groupSubs = new GroupSubscriptions(realtime, d.groups);

  const endSession = (conn: Connection, reason: string) => {
    const kicked = reason === "replaced" || reason === "session_replaced";
    realtime.sendText(conn, kicked ? KICKED_FRAME : EXPIRED_FRAME);
    realtime.close(conn, kicked ? CloseCodes.KICKED : CloseCodes.AUTH_FAILED, kicked ? "replaced" : "login expired");
  };

  /** Session, user and the user's groups (1101), in that order: a join after the load still arrives. */
  const subscribeSession = async (conn: Connection, sid: string, userId: number) => {
    await Promise.all([realtime.subscribe(conn, sessionTopic(sid)), realtime.subscribe(conn, userTopic(userId))]);
    await groupSubs.open(conn, userId, stateOf(conn).groups);
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
    if (auth) {
      await subscribeSession(conn, auth.session.id, auth.user.id);
      // A revocation published between the upgrade's check and the subscription was missed: look again.
      const now = await storage.sessions.findById(auth.session.id);
      if (!now || now.revokedAt !== null) return endSession(conn, now?.revokeReason ?? "revoked");
    }
    realtime.sendText(conn, frame(SocketCodes.CONNECTED, "连接成功", { device: state.device }));
  }

  /** A phone confirmed a QR login for this (anonymous) socket: open the PC's session here. */
  async function qrLogin(conn: Connection, state: SocketState, event: QrConfirmedEvent): Promise<void> {
    state.loggingIn = true;
    try {
      const user = await storage.users.findById(event.userId);
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

  realtime.registerProtocol(ENTERPRISE_PROTOCOL, {
    render(event) {
      if (event.type === "session.revoked")
        return (event as SessionRevokedEvent).reason === "replaced" ? KICKED_FRAME : EXPIRED_FRAME;
      if (event.type === "message.new") {
        const { message } = event as unknown as MessageNewEvent;
        if (message.conversationKind === "group")
          return frame(SocketCodes.GROUP_MESSAGE, "群聊消息", groupMsgVo(message, 0));
        if (message.conversationKind !== "direct") return null;
        return frame(SocketCodes.SINGLE_MESSAGE, "单聊消息", singleMsgVo(message, 0));
      }
      if (event.type === "message.read") {
        const e = event as unknown as MessageReadEvent;
        if (e.conversationKind !== "direct") return null;
        return frame(SocketCodes.READ_RECEIPT, "已读回执", readReceiptVo(e));
      }
      return null;
    },
    onEvent(conn: Connection, event: RealtimeEvent) {
      const state = stateOf(conn);
      if (!state) return;
      if (event.type.startsWith("group.")) {
        if (state.userId !== null) groupSubs.onEvent(conn, state.userId, state.groups, event);
      } else if (event.type === "session.revoked") {
        const e = event as SessionRevokedEvent;
        // The frame (1002/1003) was already sent by render; now end the socket.
        if (e.sid === state.sid)
          realtime.close(
            conn,
            e.reason === "replaced" ? CloseCodes.KICKED : CloseCodes.AUTH_FAILED,
            e.reason === "replaced" ? "replaced" : "login expired",
          );
      } else if (event.type === "qr.confirmed") {
        const e = event as QrConfirmedEvent;
        // Only a socket still waiting for a login acts; an authenticated one ignores it.
        if (e.deviceId !== state.device || state.sid !== null || state.loggingIn) return;
        qrLogin(conn, state, e).catch((err: unknown) => log.error({ err }, "enterprise QR login failed"));
      }
    },
    onClose(conn) {
      const state = stateOf(conn);
      if (state?.userId != null) groupSubs.closed(state.userId, state.groups);
    },
    onSweep(conn, now) {
      const state = stateOf(conn);
      if (state?.sid && state.expiresAt <= now) endSession(conn, "expired");
    },
    // Revocations normally arrive as events; this catches one whose notice was lost.
    onSweepAll(conns) {
      accounts.recheckSessions(
        conns,
        (c) => (c.closing ? null : stateOf(c)?.sid),
        (c, reason) => endSession(c, reason),
      );
    },
  });

  realtime.route(`${d.mount}/socket`, async (req, url) => {
    const token = upgradeToken(req, url);
    const platform = (url.searchParams.get("platform") ?? "").trim().slice(0, 32) || "pc";
    let auth: Authenticated | null = null;
    let failure: AppError | null = null;
    if (token) {
      try {
        auth = await accounts.authenticate(token);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        failure = e;
      }
    }
    return {
      accept: true,
      protocol: ENTERPRISE_PROTOCOL,
      onOpen(conn) {
        if (failure) {
          conn.state = null;
          endSession(conn, failure.reason);
          return;
        }
        open(conn, auth, platform).catch((err: unknown) => {
          log.error({ err }, "enterprise socket open failed");
          realtime.close(conn, CloseCodes.INTERNAL, "internal error");
        });
      },
    };
  });
}
