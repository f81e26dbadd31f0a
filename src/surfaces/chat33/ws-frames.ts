import {
  assertNever,
  type ChatroomCard,
  type CoreEvent,
  type FriendRemovedEvent,
  type FriendRequestEvent,
  type GroupEvent,
  imPushText,
} from "../../core/events.ts";
import type { MessageView } from "../../core/messages/message-service.ts";
import { Codes, MESSAGES } from "./envelope.ts";
import { CHANNEL_TYPE } from "./friend-presenters.ts";
import { chat33MsgType } from "./kinds.ts";

/**
 * The chat33 WebSocket wire format (document "webSocket接口"). Every server→client frame is built
 * here; `renderEvent` is the protocol's `render`, called once per core event and node, whatever
 * the number of recipients.
 */

/** `eventType` values. -1 is Parley's: a frame about the connection itself, not about one event. */
export const EventTypes = {
  connection: -1,
  message: 0,
  joinChatroom: 1,
  leaveChatroom: 2,
  muted: 3,
  chatroomClosed: 4,
  chatroomDeleted: 5,
  chatroomOpened: 7,
  messageChanged: 10,
  joinedGroup: 20,
  leftGroup: 21,
  groupDissolved: 22,
  groupApplication: 23,
  groupOnline: 24,
  friendRequest: 31,
  /** The later clients' (33cn/chat33-pc): a friendship ended. */
  friendRemoved: 32,
  /** c→s: start fetching group session keys; s→c 29 when done (Parley has no encrypted groups). */
  startGroupKeys: 27,
  groupKeysDone: 29,
  /** s→c: missed messages in batches — 40 (a new device: shown as read), 41 (shown as unread). */
  batchRead: 40,
  batchUnread: 41,
  /** c→s: sync the messages missed since `time`; s→c 43 when the batches are done. */
  sync: 42,
  syncDone: 43,
  /** The later dialect (`/ws/`): another device logged in; a group mute. */
  otherDevice: 9,
  laterGroupMuted: 25,
  /** Parley extension: the read count of a group message you sent changed. */
  groupReceipt: 60,
  /** Parley extension: a user's read cursor in a friend conversation moved (both users hear it). */
  friendRead: 61,
} as const;

/** chat33 `isSnap`: 1 burn after reading, 2 normal. */
export const isSnapOf = (v: MessageView): 1 | 2 => (v.snap ? 1 : 2);

/** A message as a batch (events 40/41) lists it: event 0's fields without `eventType`. */
export function batchItem(v: MessageView) {
  return {
    msgId: v.clientMsgId,
    logId: v.logId,
    fromId: String(v.fromId),
    channelType: CHANNEL_TYPE[v.conversationKind],
    isSnap: isSnapOf(v),
    targetId: String(v.targetId),
    msgType: chat33MsgType(v.kind),
    msg: v.content,
    ext: v.ext,
    datetime: v.datetime,
    senderInfo: { nickname: v.senderInfo.nickname, avatar: v.senderInfo.avatar },
  };
}

/** Events 40/41: `{eventType, list}`. */
export const batchFrame = (eventType: 40 | 41, views: readonly MessageView[]): string =>
  JSON.stringify({ eventType, list: views.map(batchItem) });

export const SYNC_DONE_FRAME = JSON.stringify({ eventType: EventTypes.syncDone });
export const GROUP_KEYS_DONE_FRAME = JSON.stringify({ eventType: EventTypes.groupKeysDone });

/** Event 32: `{eventType, senderInfo, receiveInfo, datetime}` — `senderInfo` ended the friendship. */
export function friendRemovedFrame(e: FriendRemovedEvent): string {
  const card = (u: FriendRemovedEvent["sender"]) => ({
    id: String(u.id),
    name: u.name,
    avatar: u.avatar,
    position: "",
  });
  return JSON.stringify({
    eventType: EventTypes.friendRemoved,
    senderInfo: card(e.sender),
    receiveInfo: card(e.receiver),
    datetime: e.datetime,
  });
}

/** Event 0 as the document's "消息发送成功时返回": the success echo and what every recipient gets. */
export function messageFrame(v: MessageView): string {
  return JSON.stringify({
    eventType: EventTypes.message,
    msgId: v.clientMsgId,
    channelType: CHANNEL_TYPE[v.conversationKind],
    fromId: String(v.fromId),
    targetId: String(v.targetId),
    datetime: v.datetime,
    logId: v.logId,
    msgType: chat33MsgType(v.kind),
    msg: v.content,
    senderInfo: { nickname: v.senderInfo.nickname, avatar: v.senderInfo.avatar },
    // the later clients' fields (33cn/chat33-pc): burn after reading, the client's ext
    isSnap: isSnapOf(v),
    ext: v.ext,
    // Parley extension: the conversation's gapless sequence number (the web SDK's gap detection)
    seq: v.seq,
  });
}

/** The document's failure frame `{eventType, msgId, code, content}` (content = the code's message). */
export function failureFrame(eventType: number, msgId: string, code: number, content?: string): string {
  return JSON.stringify({ eventType, msgId, code, content: content ?? MESSAGES[code] ?? "操作失败" });
}

/** A frame about the connection (bad token, kicked, expired): `{eventType: -1, code, content}`. */
export function connectionFrame(code: number, content?: string): string {
  return JSON.stringify({ eventType: EventTypes.connection, code, content: content ?? MESSAGES[code] ?? "操作失败" });
}

export const KICKED_FRAME = connectionFrame(Codes.otherTerminal);
export const EXPIRED_FRAME = connectionFrame(Codes.loginExpired);
export const DISABLED_FRAME = connectionFrame(Codes.noPermission, "账号已被禁用");

/** The frame telling a socket its session ended, by revocation reason. */
export function revokedFrame(reason: string): string {
  if (reason === "replaced") return KICKED_FRAME;
  if (reason === "disabled") return DISABLED_FRAME;
  return EXPIRED_FRAME;
}

/** Renders a core event for chat33 sockets; null = chat33 has no frame for it. */
export function renderEvent(e: CoreEvent): string | null {
  switch (e.type) {
    case "message.new":
      return messageFrame(e.message);
    case "message.changed":
      return JSON.stringify({
        eventType: EventTypes.messageChanged,
        logType: e.conversationKind === "direct" ? 2 : 1,
        logId: e.logId,
        operateType: e.op === "recall" ? 1 : 2,
        userName: e.operatorName,
      });
    case "friend.request": {
      // position: "" — a pushed frame is the same for both users, and position is only shown
      // between colleagues (see docs/chat33.md); /chat33/applyList has it per viewer.
      const card = (u: FriendRequestEvent["sender"]) => ({
        id: String(u.id),
        name: u.name,
        avatar: u.avatar,
        position: "",
      });
      return JSON.stringify({
        eventType: EventTypes.friendRequest,
        senderInfo: card(e.sender),
        receiveInfo: card(e.receiver),
        id: e.id,
        type: 2,
        applyReason: e.reason,
        status: e.status,
        datetime: e.datetime,
      });
    }
    case "friend.removed":
      return friendRemovedFrame(e);
    case "user.muted": {
      const now = Date.now();
      return JSON.stringify({
        eventType: EventTypes.muted,
        mutedTime: now,
        mutedLastTime: Math.max(0, e.mutedUntil - now),
        datetime: now,
      });
    }
    case "session.revoked":
      return revokedFrame(e.reason);
    case "chatroom.status":
      return chatroomStatusFrame(e.room, e.at);
    case "chatroom.muted":
      return JSON.stringify({
        eventType: EventTypes.muted,
        groupId: String(e.roomId),
        mutedTime: e.at,
        mutedLastTime: e.durationMs,
        datetime: e.at,
      });
    // only the removed user's sockets hear of it (socket.ts onEvent)
    case "chatroom.removed":
      return null;
    case "group.joined":
    case "group.left":
    case "group.dissolved":
    case "group.application":
    case "group.muted":
    case "group.online":
    case "group.read":
      return groupFrame(e);
    // chat33 has no frame for these (QR login and the gateway are other surfaces' events); reads:
    // only sockets that asked for event 61 (`renderWithReads`)
    case "message.read":
    case "qr.confirmed":
    case "gw.push":
    case "gw.presence":
    case "im.online":
      return null;
    // a cluster-admin push reaches the user's chat33 sockets as its exact body (docs/cluster-admin.md)
    case "im.push":
      return imPushText(e);
    default:
      return assertNever(e);
  }
}

/**
 * `/ws?readEvents=1` (Parley extension, the web client's): everything as `/ws`, plus event 61 when
 * a read cursor of a friend conversation moves — to both users' sockets, so the sender shows
 * "read" and the reader's other devices learn it. Plain `/ws` and `/ws/` never get it.
 */
export function renderWithReads(e: CoreEvent): string | null {
  if (e.type !== "message.read") return renderEvent(e);
  if (e.conversationKind !== "direct") return null;
  return JSON.stringify({
    eventType: EventTypes.friendRead,
    channelType: 3,
    fromId: String(e.readerId),
    targetId: String(e.peerId),
    logId: e.logId,
    seq: e.seq,
    datetime: Date.now(),
  });
}

/**
 * The later clients' dialect (sockets opened at `/ws/`, as 33cn/chat33-pc does; docs/chat33.md
 * "Compatibility"): where their numbering differs from the seed's, they get the later server's
 * frames — a recall or delete is a notice message (event 0, msgType 6, `type` 1) instead of
 * event 10, a replaced session is event 9, a group mute is event 25. Everything else as `/ws`.
 */
export function renderLaterEvent(e: CoreEvent): string | null {
  switch (e.type) {
    case "message.changed": {
      const now = Date.now();
      const content =
        e.operatorId === e.senderId ? `${e.operatorName} 撤回了一条消息` : `${e.operatorName} 撤回了一条成员消息`;
      return JSON.stringify({
        eventType: EventTypes.message,
        msgId: "",
        channelType: CHANNEL_TYPE[e.conversationKind],
        fromId: String(e.operatorId),
        targetId: String(e.targetId),
        datetime: now,
        logId: "",
        msgType: 6,
        msg: { type: 1, logId: e.logId, operator: String(e.operatorId), name: e.operatorName, content },
        senderInfo: { nickname: e.operatorName, avatar: "" },
        isSnap: 2,
        ext: null,
      });
    }
    case "session.revoked":
      return laterRevokedFrame(e.reason);
    case "group.muted":
      return JSON.stringify({
        eventType: EventTypes.laterGroupMuted,
        roomId: String(e.groupId),
        userId: String(e.userId),
        deadline: e.mutedUntil,
        datetime: e.datetime,
      });
    default:
      return renderEvent(e);
  }
}

/** The later dialect's end of a session: event 9 when another login replaced it, else as `/ws`. */
export function laterRevokedFrame(reason: string): string {
  if (reason === "replaced")
    return JSON.stringify({
      eventType: EventTypes.otherDevice,
      content: MESSAGES[Codes.otherTerminal],
      datetime: Date.now(),
    });
  return revokedFrame(reason);
}

/** Events 4 (closed), 5 (deleted) and 7 (opened, with the room's fields and counts). */
export function chatroomStatusFrame(room: ChatroomCard, at: number): string {
  if (room.status === "closed")
    return JSON.stringify({ eventType: EventTypes.chatroomClosed, groupId: String(room.id), datetime: at });
  if (room.status === "deleted")
    return JSON.stringify({ eventType: EventTypes.chatroomDeleted, groupId: String(room.id), datetime: at });
  return JSON.stringify({ eventType: EventTypes.chatroomOpened, ...chatroomFields(room) });
}

/** A room as `/group/list`, `/group/info` and event 7 show it (counts as numbers; see docs/chat33.md). */
export function chatroomFields(room: ChatroomCard) {
  return {
    groupId: String(room.id),
    groupName: room.name,
    avatar: room.avatar,
    description: room.description,
    createTime: room.createdAt,
    openTime: room.openedAt,
    closeTime: room.closedAt,
    status: room.status === "open" ? 1 : 2,
    totalNumber: room.users + room.guests,
    userNumber: room.users,
    visitorNumber: room.guests,
  };
}

/** Event 3 to a user removed from a room (blacklisted): "踢出聊天室". */
export function removedFrame(roomId: number, at: number): string {
  return JSON.stringify({
    eventType: EventTypes.muted,
    groupId: String(roomId),
    removed: true,
    mutedTime: at,
    mutedLastTime: 0,
    datetime: at,
  });
}

/** The group (chat33 "room") events 20–24, 3 (group mutes) and the receipt extension. */
export function groupFrame(e: GroupEvent): string {
  switch (e.type) {
    case "group.joined":
      return JSON.stringify({
        eventType: EventTypes.joinedGroup,
        roomId: String(e.groupId),
        userId: String(e.userId),
        datetime: e.datetime,
      });
    case "group.left":
      return JSON.stringify({
        eventType: EventTypes.leftGroup,
        roomId: String(e.groupId),
        userId: String(e.userId),
        type: e.reason,
        content: e.content,
        datetime: e.datetime,
      });
    case "group.dissolved":
      return JSON.stringify({ eventType: EventTypes.groupDissolved, roomId: String(e.groupId), datetime: e.datetime });
    case "group.application": {
      const card = (c: { id: number; name: string; avatar: string }) => ({
        id: String(c.id),
        name: c.name,
        avatar: c.avatar,
        position: "",
      });
      return JSON.stringify({
        eventType: EventTypes.groupApplication,
        senderInfo: card(e.sender),
        receiveInfo: card(e.receiver),
        id: e.id,
        type: 1,
        applyReason: e.reason,
        status: e.status,
        datetime: e.datetime,
      });
    }
    case "group.muted":
      // event 3 as the document has it, plus which group (and member; "0" = everyone)
      return JSON.stringify({
        eventType: EventTypes.muted,
        mutedTime: e.datetime,
        mutedLastTime: Math.max(0, e.mutedUntil - e.datetime),
        datetime: e.datetime,
        channelType: 2,
        roomId: String(e.groupId),
        userId: String(e.userId),
      });
    case "group.online":
      return JSON.stringify({
        eventType: EventTypes.groupOnline,
        roomId: String(e.groupId),
        number: String(e.number),
        datetime: e.datetime,
      });
    case "group.read":
      return JSON.stringify({
        eventType: EventTypes.groupReceipt,
        roomId: String(e.groupId),
        logId: e.logId,
        readNumber: e.readCount,
        unreadNumber: e.unreadCount,
        datetime: e.datetime,
      });
  }
}
