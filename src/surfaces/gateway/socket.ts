import { Type } from "@sinclair/typebox";
import { assertNever, type CoreEvent } from "../../core/events.ts";
import type { GatewayClientState, GatewayService } from "../../core/gateway/gateway-service.ts";
import { gatewayGroupTopic, gatewayOwner } from "../../core/topics.ts";
import { upgradeQueryValidator } from "../../http/upgrade-query.ts";
import { CloseCodes } from "../../realtime/close-codes.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { Realtime } from "../../realtime/realtime.ts";
import { wsError } from "./envelope.ts";

/** The wire protocol name of gateway sockets. */
export const GATEWAY_PROTOCOL = "gateway";

/** The seed's group notices: a client came online in a group / went offline. */
export const ONLINE_CODE = 1001;
export const OFFLINE_CODE = 1002;
const ONLINE_TEXT = "客户端上线";
const OFFLINE_TEXT = "客户端下线";

/**
 * `?systemId=` as the HTTP API validates it (1–128 characters without whitespace). Empty counts
 * as missing; anything else that fails is an invalid system id. Other parameters are ignored.
 */
const UpgradeQuery = Type.Object({
  systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: "^[^\\s]+$" })),
});

/** Renders a core event as a gateway frame (`{messageId, sendUserId, code, msg, data}`). */
export function renderGatewayEvent(e: CoreEvent): string | null {
  switch (e.type) {
    case "gw.push":
      return JSON.stringify({
        messageId: e.messageId,
        sendUserId: e.sendUserId,
        code: e.code,
        msg: e.msg,
        data: e.data,
      });
    case "gw.presence":
      return JSON.stringify({
        messageId: e.messageId,
        sendUserId: e.userId,
        code: e.change === "online" ? ONLINE_CODE : OFFLINE_CODE,
        msg: e.change === "online" ? ONLINE_TEXT : OFFLINE_TEXT,
        data: JSON.stringify({ clientId: e.clientId, userId: e.userId, extend: e.extend }),
      });
    // the other surfaces' events never reach gateway sockets
    case "session.revoked":
    case "user.muted":
    case "qr.confirmed":
    case "friend.request":
    case "friend.removed":
    case "message.new":
    case "message.changed":
    case "message.read":
    // chat rooms are chat33 only
    case "chatroom.status":
    case "chatroom.muted":
    case "chatroom.removed":
    case "group.joined":
    case "group.left":
    case "group.dissolved":
    case "group.application":
    case "group.muted":
    case "group.online":
    case "group.read":
    // cluster-admin pushes reach user sockets only
    case "im.push":
    case "im.online":
      return null;
    default:
      return assertNever(e);
  }
}

const stateOf = (conn: Connection) => conn.state as GatewayClientState | null;

/** The gateway client socket `<mount>/ws?systemId=` (docs/gateway.md "Connecting a client"). */
export function installGatewaySocket(realtime: Realtime, gateway: GatewayService, mount: string): void {
  const checkQuery = upgradeQueryValidator<{ systemId?: string }>(UpgradeQuery, `${mount}/ws`);

  realtime.registerProtocol<CoreEvent>(GATEWAY_PROTOCOL, {
    render: renderGatewayEvent,
    onClose(conn) {
      const state = stateOf(conn);
      if (state) gateway.detach(state);
    },
    onBind(conn, _topic, meta, subscribe) {
      const state = stateOf(conn);
      return state ? gateway.bound(state, meta, subscribe, () => conn.closing) : Promise.resolve(false);
    },
  });

  // Node operations of the previous version (before the generic conn.bind / conn.close), so its
  // nodes can still bind and close clients of this one during a rolling upgrade.
  realtime.registerOp("gw.bind", (p) => {
    const systemId = String(p.systemId);
    const group = String(p.group);
    return realtime.bind(
      { nodeId: realtime.nodeId, connId: Number(p.connId) },
      gatewayOwner(systemId),
      gatewayGroupTopic(systemId, group),
      { group, userId: String(p.userId ?? ""), extend: String(p.extend ?? "") },
    );
  });
  realtime.registerOp("gw.close", (p) =>
    realtime.closeRemote(
      { nodeId: realtime.nodeId, connId: Number(p.connId) },
      gatewayOwner(String(p.systemId)),
      CloseCodes.NORMAL,
      "closed by system",
    ),
  );

  realtime.route(`${mount}/ws`, async (_req, url) => {
    const query = checkQuery(url);
    const systemId = url.searchParams.get("systemId") ?? "";
    const system = query.ok && systemId ? await gateway.findSystem(systemId) : null;
    return {
      accept: true,
      protocol: GATEWAY_PROTOCOL,
      onOpen(conn) {
        if (!system) {
          realtime.sendText(conn, wsError(systemId ? "系统ID无效" : "系统ID不能为空"));
          realtime.close(conn, CloseCodes.POLICY, systemId ? "invalid systemId" : "systemId required");
          return;
        }
        const { state, listed } = gateway.attach({ nodeId: realtime.nodeId, connId: conn.id }, system.systemId);
        conn.state = state;
        conn.owner = state.owner;
        // the client id goes out once the client is in the online list (a closed socket drops it)
        void listed.then(() =>
          realtime.sendText(conn, JSON.stringify({ code: 0, msg: "success", data: { clientId: state.clientId } })),
        );
      },
    };
  });
}

/** `close_client`: closes a client of `system` on any node; a client that is already gone is fine. */
export async function closeClient(
  realtime: Realtime,
  gateway: GatewayService,
  system: Parameters<GatewayService["owner"]>[0],
  clientId: string,
): Promise<void> {
  const addr = gateway.clientAddress(system, clientId);
  try {
    await realtime.closeRemote(addr, gateway.owner(system), CloseCodes.NORMAL, "closed by system");
  } catch {
    // the client's node is unreachable: it is gone with its node
  }
}
