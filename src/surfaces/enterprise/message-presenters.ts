import type { MessageReadEvent } from "../../core/events.ts";
import { contentText } from "../../core/messages/content.ts";
import type { MessageView } from "../../core/messages/message-service.ts";
import type { User } from "../../ports/storage/accounts.ts";
import { enterpriseType } from "./kinds.ts";

/**
 * Messages and conversations → the enterprise wire shapes (seed 001 `find_single_msg`,
 * `save_single_msg`, `my_session`, socket 1100/1006). Pure and synchronous, so the socket
 * protocol can render an event once for every recipient.
 */

/** 0 unread / 2 read, as in the seed. */
export type ReadState = 0 | 2;

/** What a recalled message shows instead of its content. */
export const RECALLED_TEXT = "[消息已撤回]";

const orNull = (s: string | null | undefined): string | null => (s ? s : null);

/** The one-line `content` of a message as the enterprise client shows it. */
export const textOf = (v: MessageView): string => (v.recalled ? RECALLED_TEXT : contentText(v.kind, v.content));

/** A `find_single_msg` item; also the `data` of the 1100 socket frame. */
export interface SingleMsgVo {
  senderId: number;
  receiverId: number;
  content: string;
  sendTime: number;
  state: ReadState;
  type: number;
  platform: null;
  name: string;
  avatar: string | null;
  id: string;
  /** Extension: the per-conversation sequence number (gap detection, matches 1006 `seq`). */
  seq: number;
}

export function singleMsgVo(v: MessageView, state: ReadState): SingleMsgVo {
  return {
    senderId: v.fromId,
    receiverId: v.targetId,
    content: textOf(v),
    sendTime: v.datetime,
    state,
    type: enterpriseType(v.kind),
    platform: null,
    name: v.senderInfo.nickname,
    avatar: orNull(v.senderInfo.avatar),
    id: v.clientMsgId,
    seq: v.seq,
  };
}

/**
 * A `find_group_msg` item; also the `data` of the 1101 socket frame: `receiverId` is the group,
 * `state` 2 when the viewer has read it (their own messages always).
 */
export function groupMsgVo(v: MessageView, state: ReadState): SingleMsgVo {
  return singleMsgVo(v, state);
}

/** The default avatar of a group conversation (the seed's `otherAvatar` of 1101 entries). */
export const GROUP_AVATAR = "http://jiaxin365.cn/images/cloud/msg_icon/mes_list_group_mrtx.png";

/**
 * A group conversation (miniType 1101): `name`/`avatar` the last message's sender, `otherName` the
 * members' names joined by "," (as in the seed), `otherAvatar` the group's avatar (or the default).
 */
export function groupSessionVo(
  last: MessageView,
  group: { avatar: string },
  memberNames: string,
  state: ReadState,
  unread: number,
): SessionVo {
  return sessionVo(
    last,
    { otherAvatar: group.avatar || GROUP_AVATAR, otherName: memberNames, miniType: 1101 },
    state,
    unread,
  );
}

/** The `save_single_msg` answer. */
export function savedMsgVo(v: MessageView) {
  const fileId = v.content.fileId;
  return {
    senderId: v.fromId,
    receiverId: v.targetId,
    content: textOf(v),
    sendTime: v.datetime,
    seq: v.seq,
    type: enterpriseType(v.kind),
    fileId: typeof fileId === "number" ? fileId : null,
    atIds: null,
    device: null,
    id: v.clientMsgId,
  };
}

/** The 1006 frame's data: every message from `senderId` to `receiverId` with seq ≤ `seq` is read. */
export function readReceiptVo(e: MessageReadEvent) {
  return {
    miniType: 1100,
    senderId: e.peerId,
    receiverId: e.readerId,
    readerId: e.readerId,
    seq: e.seq,
    logId: e.logId,
    state: 2 as const,
  };
}

/** One entry of `my_session`. */
export interface SessionVo {
  senderId: number | null;
  receiverId: number | null;
  content: string | null;
  sendTime: number | null;
  state: ReadState;
  type: number | null;
  platform: null;
  name: string;
  avatar: string | null;
  otherAvatar: string | null;
  otherName: string | null;
  miniType: number;
  count: number;
  id: string | null;
}

/** The system entries at the top of the list (icons as in the seed). */
export const SYSTEM_ENTRIES = {
  newFriends: {
    name: "新朋友",
    avatar: "http://jiaxin365.cn/images/cloud/msg_icon/message_new%20friends.png",
    miniType: 11016,
    receiverId: null,
  },
  groupHelper: {
    name: "群助手",
    avatar: "http://jiaxin365.cn/images/cloud/msg_icon/message_group.png",
    miniType: 11017,
    receiverId: null,
  },
  analysis: {
    name: "分析助手",
    avatar: "http://jiaxin365.cn/images/cloud/card_icon/home_app_data.png",
    miniType: 11021,
    receiverId: 1,
  },
} as const;

export function systemEntryVo(e: (typeof SYSTEM_ENTRIES)[keyof typeof SYSTEM_ENTRIES], count: number): SessionVo {
  return {
    senderId: null,
    receiverId: e.receiverId,
    content: null,
    sendTime: null,
    state: 0,
    type: null,
    platform: null,
    name: e.name,
    avatar: e.avatar,
    otherAvatar: null,
    otherName: null,
    miniType: e.miniType,
    count,
    id: null,
  };
}

/**
 * A direct conversation: `name`/`avatar` are the sender of the last message (as in the seed),
 * `otherName`/`otherAvatar` the other participant (the seed leaves them null for direct chats and
 * uses them for the group of a 1101 entry; Parley fills them so the client can title the
 * conversation even when the last message is its own).
 */
export function directSessionVo(last: MessageView, peer: User, state: ReadState, unread: number): SessionVo {
  return sessionVo(last, { otherAvatar: orNull(peer.avatar), otherName: peer.nickname, miniType: 1100 }, state, unread);
}

/** A conversation entry: the last message's fields, then who or what it is with (same key order for both kinds). */
function sessionVo(
  last: MessageView,
  other: Pick<SessionVo, "otherAvatar" | "otherName" | "miniType">,
  state: ReadState,
  unread: number,
): SessionVo {
  return {
    senderId: last.fromId,
    receiverId: last.targetId,
    content: textOf(last),
    sendTime: last.datetime,
    state,
    type: enterpriseType(last.kind),
    platform: null,
    name: last.senderInfo.nickname,
    avatar: orNull(last.senderInfo.avatar),
    otherAvatar: other.otherAvatar,
    otherName: other.otherName,
    miniType: other.miniType,
    count: unread,
    id: last.clientMsgId,
  };
}
