import type { FastifyBaseLogger } from "fastify";
import type { AudienceMember } from "../../core/chatrooms/audience.ts";
import type { ChatroomService } from "../../core/chatrooms/chatroom-service.ts";
import { AppError } from "../../core/errors.ts";
import type { CoreEvent } from "../../core/events.ts";
import { chatroomTopic } from "../../core/topics.ts";
import { throttledWarn } from "../../log.ts";
import type { Connection } from "../../realtime/connection.ts";
import type { Realtime } from "../../realtime/realtime.ts";
import { Codes, fromAppError } from "./envelope.ts";
import { parseId } from "./ids.ts";
import { EventTypes, failureFrame, removedFrame } from "./ws-frames.ts";

/** Most chat rooms one connection may be in at once (more → -1001). */
export const MAX_ROOMS_PER_CONNECTION = 32;

/** What a chat33 socket keeps about its chat rooms (part of its state in socket.ts). */
export interface RoomState {
  userId: number | null;
  /** A guest's `FZM-UUID` (null for users). */
  uuid: string | null;
  /** Rooms this connection joined (null until the first join: idle sockets stay small). */
  rooms: Set<number> | null;
}

const memberOf = (s: RoomState): AudienceMember => (s.userId !== null ? { userId: s.userId } : { guest: s.uuid ?? "" });

/**
 * chat33 WebSocket events 1 (join) and 2 (leave) and the per-connection side of chat-room
 * notices (docs/chat33.md "Chat rooms"): a connection joins the room's audience (core) and its
 * topic (realtime); it leaves on event 2, on close, when the room is deleted (event 5) and when
 * its user is blacklisted (event 3 with `removed`). A connection may be in several rooms.
 */
export function chatroomSocket(
  chatrooms: ChatroomService,
  realtime: Realtime,
  send: (conn: Connection, text: string) => void,
  log: FastifyBaseLogger,
) {
  const reply = (conn: Connection, eventType: number, msgId: string, code: number, content: string) =>
    send(conn, JSON.stringify({ eventType, msgId, code, content }));

  const warnUnavailable = throttledWarn(log, "chat33 chat-room frames refused: a service is unavailable");
  const fail = (conn: Connection, eventType: number, msgId: string, e: unknown) => {
    if (e instanceof AppError) {
      // storage or Redis unreachable: the client is told to try again; the operator needs the cause
      if (e.code === "unavailable") warnUnavailable({ err: e, eventType });
      const { body } = fromAppError(e);
      return send(conn, failureFrame(eventType, msgId, body.result, body.message));
    }
    log.error({ err: e }, "chat33 chat-room frame failed");
    send(conn, failureFrame(eventType, msgId, Codes.internal));
  };

  const roomIdOf = (body: Record<string, unknown>): number | null => {
    const raw = typeof body.groupId === "number" ? String(body.groupId) : body.groupId;
    return typeof raw === "string" ? parseId(raw) : null;
  };

  /** Drops the connection from one room (topic and audience). */
  async function drop(conn: Connection, state: RoomState, roomId: number): Promise<void> {
    if (!state.rooms?.delete(roomId)) return;
    realtime.unsubscribe(conn, chatroomTopic(roomId));
    await chatrooms.leave(roomId, memberOf(state));
  }

  return {
    /** Event 1: `{eventType: 1, msgId, groupId}` → `{eventType: 1, msgId, code: 0, content}`. */
    async join(conn: Connection, state: RoomState, msgId: string, body: Record<string, unknown>): Promise<void> {
      const roomId = roomIdOf(body);
      if (roomId === null) return send(conn, failureFrame(EventTypes.joinChatroom, msgId, Codes.chatroomNotFound));
      try {
        if (state.rooms?.has(roomId)) return reply(conn, EventTypes.joinChatroom, msgId, 0, "已在聊天室中");
        if ((state.rooms?.size ?? 0) >= MAX_ROOMS_PER_CONNECTION)
          return send(
            conn,
            failureFrame(
              EventTypes.joinChatroom,
              msgId,
              Codes.paramError,
              `参数错误: 最多同时进入${MAX_ROOMS_PER_CONNECTION}个聊天室`,
            ),
          );
        await chatrooms.join(roomId, memberOf(state));
        if (conn.closing) return void (await chatrooms.leave(roomId, memberOf(state)));
        state.rooms ??= new Set();
        state.rooms.add(roomId);
        await realtime.subscribe(conn, chatroomTopic(roomId));
        reply(conn, EventTypes.joinChatroom, msgId, 0, "操作成功");
      } catch (e) {
        fail(conn, EventTypes.joinChatroom, msgId, e);
      }
    },

    /** Event 2: leave; answered with eventType 2 (see docs/chat33.md for the seed's "1"). */
    async leave(conn: Connection, state: RoomState, msgId: string, body: Record<string, unknown>): Promise<void> {
      const roomId = roomIdOf(body);
      if (roomId === null) return send(conn, failureFrame(EventTypes.leaveChatroom, msgId, Codes.chatroomNotFound));
      if (!state.rooms?.has(roomId)) {
        const room = await chatrooms.room(roomId).catch(() => null);
        const code = !room || room.status === "deleted" ? Codes.chatroomNotFound : Codes.notInChatroom;
        return send(conn, failureFrame(EventTypes.leaveChatroom, msgId, code));
      }
      await drop(conn, state, roomId);
      reply(conn, EventTypes.leaveChatroom, msgId, 0, "操作成功");
    },

    /** Whether this connection is in the room (a channelType 1 send needs it: -5001 otherwise). */
    inRoom(state: RoomState, roomId: number): boolean {
      return state.rooms?.has(roomId) ?? false;
    },

    /** After a chat-room event's frame went out: leave a deleted room; the removed user leaves. */
    onEvent(conn: Connection, state: RoomState, event: CoreEvent): void {
      if (event.type === "chatroom.status" && event.room.status === "deleted") {
        drop(conn, state, event.room.id).catch((err: unknown) => log.warn({ err }, "chat-room leave failed"));
      } else if (event.type === "chatroom.removed" && state.userId === event.userId && state.rooms?.has(event.roomId)) {
        send(conn, removedFrame(event.roomId, event.at));
        drop(conn, state, event.roomId).catch((err: unknown) => log.warn({ err }, "chat-room leave failed"));
      }
    },

    /** The connection closed (any way, abrupt included): it leaves every room's audience. */
    onClose(state: RoomState): void {
      if (!state.rooms) return;
      const member = memberOf(state);
      for (const roomId of state.rooms)
        chatrooms.leave(roomId, member).catch((err: unknown) => log.warn({ err }, "chat-room leave failed"));
      state.rooms = null;
    },
  };
}
