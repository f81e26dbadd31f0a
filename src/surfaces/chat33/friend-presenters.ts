import type { MessageView } from "../../core/messages/message-service.ts";
import type { User } from "../../ports/storage/accounts.ts";
import type { FriendRequest, Friendship } from "../../ports/storage/friends.ts";
import type { ConversationKind } from "../../ports/storage/messages.ts";
import { chat33MsgType } from "./kinds.ts";
import { sameCompany, yesNo } from "./presenters.ts";

/** chat33 `channelType`: 1 chat room (core Chatroom), 2 group (core Group, chat33 "room"), 3 friend. */
export const CHANNEL_TYPE: Record<ConversationKind, 1 | 2 | 3> = { chatroom: 1, group: 2, direct: 3 };

/** msgType of the notice a recalled message turns into in history (6 通知消息). */
export const RECALLED_MSG_TYPE = 6;

/**
 * `position` follows the rule of `/user/userInfo` everywhere: visible between colleagues of the
 * same company and to oneself, `""` otherwise (the field is always present in these shapes).
 */
export const visiblePosition = (viewer: User, u: User): string =>
  viewer.id === u.id || sameCompany(viewer, u) ? u.position : "";

/** A user card `{id, name, avatar, position}` (applyList, search, event 31). */
export const cardView = (viewer: User, u: User) => ({
  id: String(u.id),
  name: u.nickname,
  avatar: u.avatar,
  position: visiblePosition(viewer, u),
});

/**
 * One message of `/friend/chatLog` and `/friend/unread` (`lastLog`). `remark` is the viewer's
 * remark for the friend. A recalled message keeps its logId, sender and time, but its content is
 * gone: it reads as a notice (msgType 6) "<nickname> 撤回了一条消息" with `recalled: 1`.
 * `msgId` (the sender's client id) is a Parley extension that lets a client match its own sends;
 * `seq` (the conversation's gapless sequence number) one that lets it find gaps (web/sdk).
 */
export function logView(v: MessageView, remark: string) {
  return {
    channelType: CHANNEL_TYPE[v.conversationKind],
    datetime: v.datetime,
    fromId: String(v.fromId),
    logId: v.logId,
    msgId: v.clientMsgId,
    msg: v.recalled ? { content: `${v.senderInfo.nickname} 撤回了一条消息` } : v.content,
    msgType: v.recalled ? RECALLED_MSG_TYPE : chat33MsgType(v.kind),
    remark,
    senderInfo: { nickname: v.senderInfo.nickname, avatar: v.senderInfo.avatar },
    targetId: String(v.targetId),
    // the later clients' fields: burn after reading (1 yes, 2 no) and the client's ext
    isSnap: v.snap ? 1 : 2,
    ext: v.ext,
    seq: v.seq,
    ...(v.recalled ? { recalled: 1 } : {}),
  };
}

/** One entry of `/friend/list`. */
export function friendView(viewer: User, f: Friendship, u: User) {
  return {
    addTime: f.addedAt,
    id: String(u.id),
    name: u.nickname,
    avatar: u.avatar,
    position: visiblePosition(viewer, u),
    remark: f.remark,
    noDisturbing: yesNo(f.noDisturbing),
    /** The document: 1 普通 (ordinary), 2 常用 (commonly used) — not the usual 1 yes / 2 no. */
    commonlyUsed: f.commonlyUsed ? 2 : 1,
    onTop: yesNo(f.stickyOnTop),
    /** 1 live, 2 ended (only `time` queries return ended friendships). */
    isDelete: f.deletedAt === null ? 1 : 2,
    /** The later clients': 1 blocked by the viewer, 2 not (blocked friends leave the full list). */
    isBlocked: 2,
    uid: u.uid,
  };
}

/** One entry of `/friend/requestList`: the other user of the request. */
export function requestItem(viewer: User, r: FriendRequest, other: User) {
  return {
    avatar: other.avatar,
    id: String(other.id),
    reason: r.reason,
    sex: other.sex,
    status: r.status,
    time: String(r.updatedAt),
    username: other.nickname,
    /** Extension: 1 the viewer sent this request, 2 the viewer received it. */
    isSender: yesNo(r.fromId === viewer.id),
  };
}

/** One entry of `/chat33/applyList` (friend requests are `type: 2`). */
export function applyItem(viewer: User, r: FriendRequest, from: User, to: User) {
  return {
    senderInfo: cardView(viewer, from),
    receiveInfo: cardView(viewer, to),
    id: r.id,
    type: 2,
    applyReason: r.reason,
    status: r.status,
    datetime: r.updatedAt,
  };
}
