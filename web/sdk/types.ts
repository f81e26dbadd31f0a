/**
 * The chat33 wire (seed 002 as Parley serves it, docs/chat33.md) as TypeScript types. Ids are
 * strings, times are milliseconds, `1`/`2` flags are 1 on / 2 off unless said otherwise.
 */

export type Device = "Web" | "Android" | "iOS" | "PC";

/** `channelType`: 1 chat room (`/group/*`), 2 group (`/room/*`), 3 friend. */
export type ChannelType = 1 | 2 | 3;
export const Channel = { chatroom: 1, group: 2, friend: 3 } as const;

/** `msgType`: 0 system, 1 text, 2 audio, 3 image, 4 red packet, 5 video, 6 notice, 9 file. */
export type MsgType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 9;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type MsgBody = { [key: string]: Json };

/** The answer of `/user/pwdLogin`, `/user/register` (with `token`) and `/user/tokenLogin` (without). */
export interface LoginInfo {
  account: string;
  avatar: string;
  id: string;
  uid: string;
  user_level: number;
  username: string;
  verified: number;
  token?: string;
}

/** `/chat33/upload`: an image stored on the server. */
export interface UploadedImage {
  id: string;
  /** A path on the server (`/chat33/files/<sha256>`), for `msg.imageUrl`. */
  imageUrl: string;
  thumbUrl: string;
  /** `imageUrl` as an absolute URL. */
  url: string;
  width: number;
  height: number;
  size: number;
  mime: string;
}

/** `/red-packet/record` (seed 002 查询用户红包收发记录). */
export interface RedPacketRecord {
  receive_num: number;
  receive_amount: number;
  send_num: number;
  send_amount: number;
  receive: Array<{
    red_packet_id: string;
    type: number;
    amount: number;
    receive_time: number;
    coin: number;
    username: string;
  }>;
  send: Array<{ red_packet_id: string; type: number; amount: number; send_time: number; coin: number }>;
}

/** `/chat33/readState`: read cursors of a friend conversation (seq). */
export interface ReadState {
  readSeq: number;
  peerReadSeq: number;
}

/** Event 61 (extension): a read cursor of a friend conversation moved. */
export interface FriendReadFrame {
  eventType: 61;
  channelType: 3;
  /** The reader. */
  fromId: string;
  targetId: string;
  logId: string;
  seq: number;
  datetime: number;
}

export interface UserInfo {
  id: string;
  sex: number;
  name: string;
  avatar: string;
  isFriend: 1 | 2;
  position?: string;
  noDisturbing?: 1 | 2;
  stickyOnTop?: 1 | 2;
  addTime?: number;
  remark?: string;
  uid?: string;
  account?: string;
}

export interface Friend {
  addTime: number;
  id: string;
  name: string;
  avatar: string;
  position: string;
  remark: string;
  noDisturbing: 1 | 2;
  commonlyUsed: 1 | 2;
  onTop: 1 | 2;
  isDelete: 1 | 2;
}

export interface FriendRequest {
  avatar: string;
  id: string;
  reason: string;
  sex: number;
  /** 1 waiting, 2 refused, 3 accepted. */
  status: 1 | 2 | 3;
  time: string;
  username: string;
  /** 1 you sent it, 2 you received it. */
  isSender: 1 | 2;
}

export interface Card {
  id: string;
  name: string;
  avatar: string;
  position: string;
}

/** An item of `/chat33/applyList` and the body of events 23 (type 1) and 31 (type 2). */
export interface Apply {
  senderInfo: Card;
  receiveInfo: Card;
  id: number;
  /** 1 group application, 2 friend request. */
  type: 1 | 2;
  applyReason: string;
  status: 1 | 2 | 3;
  datetime: number;
}

/** A stored message as history shows it (`/friend/chatLog`, `/room/chatLog`, …) — the "log object". */
export interface Log {
  channelType: ChannelType;
  datetime: number;
  fromId: string;
  logId: string;
  msgId: string;
  msg: MsgBody;
  msgType: MsgType;
  remark?: string;
  senderInfo: { nickname: string; avatar: string };
  targetId: string;
  /** Parley extension: the conversation's gapless sequence number. */
  seq: number;
  recalled?: 1;
}

export interface Page {
  logs: Log[];
  /** The `startId` of the next older page; `"-1"` (or `""` for chat rooms) when there is none. */
  nextLog: string;
}

export interface Unread {
  id: string;
  number: number;
  lastLog: Log;
}

export interface SearchResult {
  type: 1 | 2;
  userInfo?: { id: string; name: string; avatar: string; position: string; remark: string };
  roomInfo?: {
    id: string;
    markId: string;
    name: string;
    avatar: string;
    canAddFriend: 1 | 2;
    joinPermission: 1 | 2 | 3;
  };
}

export interface GroupListItem {
  id: string;
  markId: string;
  name: string;
  avatar: string;
  noDisturbing: 1 | 2;
  commonlyUsed: 1 | 2;
  onTop: 1 | 2;
}

export interface Member {
  id: string;
  nickname: string;
  roomNickname: string;
  avatar: string;
  /** 1 member, 2 admin, 3 owner. */
  memberLevel: 1 | 2 | 3;
}

export interface GroupInfo {
  id: string;
  markId: string;
  name: string;
  avatar: string;
  onlineNumber: number;
  memberNumber: number;
  noDisturbing: 1 | 2;
  onTop: 1 | 2;
  memberLevel: 1 | 2 | 3;
  canAddFriend: 1 | 2;
  joinPermission: 1 | 2 | 3;
  mutedType: number;
  users: Member[];
}

export interface ReadInfo {
  readNumber: number;
  unreadNumber: number;
  readList?: string[];
  unreadList?: string[];
}

export interface Chatroom {
  groupId: string;
  groupName: string;
  avatar: string;
  description: string;
  createTime: number;
  openTime: number;
  closeTime: number;
  status: 1 | 2;
  totalNumber: number;
  userNumber: number;
  visitorNumber: number;
}

/** `/red-packet/send` (SPEC §4.3). `cType` 0 friend, 1 group; `type` 1 random, 2 equal. */
export interface RedPacketSend {
  cType: 0 | 1;
  toId: string;
  coin: number;
  type: 1 | 2;
  amount: number;
  size: number;
  remark?: string;
}
export interface RedPacketSent {
  packetId: string;
  packetType: number;
  packetUrl: string;
  coin: number;
  remark: string;
}

export interface Balance {
  coin: number;
  amount: number;
}
export interface RedPacketClaim {
  amount: number;
  total: number;
  remain: number;
  coin: number;
}
export interface RedPacketDetail {
  packet_id: string;
  coin: number;
  type: number;
  amount: number;
  size: number;
  remain: number;
  remain_amount: number;
  remark: string;
  /** 1 open, 2 all claimed, 3 expired. */
  status: 1 | 2 | 3;
  sender_id: string;
  sender_name: string;
  sender_avatar: string;
  send_time: number;
  expire_time: number;
  /** What the caller received (0: nothing). */
  my_amount: number;
  receive: Array<{ uid: string; username: string; avatar: string; amount: number; receive_time: number }>;
}

// ---- socket frames (server → client) ----

/** Event 0: a message (also the success acknowledgement of one's own send). */
export interface MessageFrame {
  eventType: 0;
  msgId: string;
  channelType: ChannelType;
  fromId: string;
  targetId: string;
  datetime: number;
  logId: string;
  msgType: MsgType;
  msg: MsgBody;
  senderInfo: { nickname: string; avatar: string };
  seq: number;
}

/** The failure answer to a frame the client sent: `{eventType, msgId, code, content}`. */
export interface FailureFrame {
  eventType: number;
  msgId: string;
  code: number;
  content: string;
}

export interface RecallFrame {
  eventType: 10;
  /** 2 friend message, 1 group message. */
  logType: 1 | 2;
  logId: string;
  /** 1 recalled, 2 deleted. */
  operateType: 1 | 2;
  userName: string;
}

export type ServerFrame =
  | MessageFrame
  | RecallFrame
  | (Apply & { eventType: 23 | 31 })
  | { eventType: 20; roomId: string; userId: string; datetime: number }
  | { eventType: 21; roomId: string; userId: string; type: 1 | 2; content: string; datetime: number }
  | { eventType: 22; roomId: string; datetime: number }
  | { eventType: 24; roomId: string; number: string; datetime: number }
  | { eventType: 3; mutedTime: number; mutedLastTime: number; datetime: number; roomId?: string; groupId?: string }
  | { eventType: 60; roomId: string; logId: string; readNumber: number; unreadNumber: number; datetime: number }
  | FriendReadFrame
  | { eventType: 4 | 5; groupId: string; datetime: number }
  | ({ eventType: 7 } & Chatroom)
  | { eventType: -1; code: number; content: string };

/** What a client sends as event 0. */
export interface OutgoingMessage {
  channelType: ChannelType;
  targetId: string;
  msgType: MsgType;
  msg: MsgBody;
}

/** A chat33 business error: `result` and `message` of the envelope, or a socket failure frame's code. */
export class Chat33Error extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly path = "",
  ) {
    super(message);
    this.name = "Chat33Error";
  }
}
