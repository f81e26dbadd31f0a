import { Type } from "@sinclair/typebox";
import { UserId } from "./schemas.ts";

/** Longest friend remark (备注), in characters. */
export const REMARK_MAX = 64;
/** Longest friend-request reason (申请理由). */
export const REASON_MAX = 256;
/** Most records one history/apply page returns (`number` above this is -1001). */
export const PAGE_MAX = 100;
/** Most entries `/friend/requestList` returns (newest first; page with `/chat33/applyList`). */
export const REQUEST_LIST_MAX = 100;

const OnOff = (description: string) => Type.Integer({ minimum: 1, maximum: 2, description });

const Remark = Type.String({ maxLength: REMARK_MAX, description: `at most ${REMARK_MAX} characters` });
const LogId = Type.String({ minLength: 1, maxLength: 32, description: "message id (string)" });
const Count = Type.Integer({ minimum: 1, maximum: PAGE_MAX, description: `1 to ${PAGE_MAX}` });

export const FriendAddBody = Type.Object({
  id: UserId,
  remark: Type.Optional(Remark),
  reason: Type.Optional(Type.String({ maxLength: REASON_MAX, description: `at most ${REASON_MAX} characters` })),
  roomId: Type.Optional(
    Type.String({
      maxLength: 64,
      description:
        "group the request comes from (the typo rootId is accepted): both must be members, and the group must allow adding friends",
    }),
  ),
  sourceType: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 5,
      description: "the later clients': 1 search, 2 QR scan, 3 share, 4 group (sourceId = its id), 5 none",
    }),
  ),
  sourceId: Type.Optional(Type.String({ maxLength: 64 })),
  answer: Type.Optional(
    Type.String({ maxLength: 128, description: "the answer to the user's question, if they ask one" }),
  ),
});

export const FriendResponseBody = Type.Object({ id: UserId, agree: OnOff("1 agree, 2 refuse") });

export const FriendIdBody = Type.Object({ id: UserId });

export const FriendListBody = Type.Object({
  type: Type.Integer({ minimum: 1, maximum: 3, description: "1 普通, 2 常用, 3 全部" }),
  time: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "ms; only friendships changed after it, ended ones included",
    }),
  ),
});

export const SetRemarkBody = Type.Object({ id: UserId, remark: Remark });
export const SetNoDisturbingBody = Type.Object({ id: UserId, setNoDisturbing: OnOff("1 on, 2 off") });
export const StickyOnTopBody = Type.Object({ id: UserId, stickyOnTop: OnOff("1 on, 2 off") });
export const CommonlyUsedBody = Type.Object({ id: UserId, commonlyUsed: OnOff("1 普通, 2 常用") });

export const ChatLogBody = Type.Object({
  id: UserId,
  startId: Type.Optional(
    Type.String({ maxLength: 32, description: "newest logId to return (inclusive); empty = the latest" }),
  ),
  number: Count,
});

export const ApplyListBody = Type.Object({
  id: Type.String({ maxLength: 32, description: 'newest record to return (inclusive); "" or "0" = the latest' }),
  number: Count,
});

export const SearchBody = Type.Object({
  markId: Type.String({ minLength: 1, maxLength: 64, description: "a group's markId or a user's uid" }),
});

export const MsgOpBody = Type.Object({
  logId: LogId,
  type: OnOff("1 group message, 2 friend message"),
});

export const MarkReadBody = Type.Object({
  type: OnOff("1 group, 2 friend"),
  id: UserId,
  logId: Type.Optional(LogId),
});

export const ReadStateBody = Type.Object({ id: UserId });

export const ReadStateData = Type.Object({
  readSeq: Type.Integer({ description: "the seq you have read up to in the conversation with id (0 = none)" }),
  peerReadSeq: Type.Integer({ description: "the seq the other user has read up to: your messages up to it are read" }),
});

// --- answers (documentation) ---

const Card = Type.Object({ id: Type.String(), name: Type.String(), avatar: Type.String(), position: Type.String() });

export const Log = Type.Object({
  channelType: Type.Integer({ description: "3 friend" }),
  datetime: Type.Integer({ description: "ms" }),
  fromId: Type.String(),
  logId: Type.String(),
  msgId: Type.String({ description: "extension: the sender's client message id" }),
  msg: Type.Object({}, { additionalProperties: true }),
  msgType: Type.Integer(),
  remark: Type.String({ description: "the viewer's remark for the friend" }),
  senderInfo: Type.Object({ nickname: Type.String(), avatar: Type.String() }),
  targetId: Type.String(),
  recalled: Type.Optional(Type.Integer({ description: "1 = recalled (then msgType is 6 and msg a notice)" })),
  isSnap: Type.Integer({ description: "1 burn after reading, 2 normal (the later clients')" }),
  ext: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
    description: "the sender's ext, as sent",
  }),
});

export const ChatLogData = Type.Object({
  logs: Type.Array(Log),
  nextLog: Type.String({ description: 'next older logId, "-1" when none' }),
});

export const UnreadData = Type.Object({
  infos: Type.Array(Type.Object({ id: Type.String(), number: Type.Integer(), lastLog: Log })),
});

export const FriendListData = Type.Object({
  userList: Type.Array(
    Type.Object({
      addTime: Type.Integer(),
      id: Type.String(),
      name: Type.String(),
      avatar: Type.String(),
      position: Type.String(),
      remark: Type.String(),
      noDisturbing: Type.Integer({ description: "1 on, 2 off" }),
      commonlyUsed: Type.Integer({ description: "1 普通, 2 常用" }),
      onTop: Type.Integer({ description: "1 on top, 2 not" }),
      isDelete: Type.Integer({ description: "1 friend, 2 ended" }),
      isBlocked: Type.Integer({ description: "1 blocked, 2 not" }),
      uid: Type.String(),
    }),
  ),
});

export const RequestListData = Type.Array(
  Type.Object({
    avatar: Type.String(),
    id: Type.String({ description: "the other user" }),
    reason: Type.String(),
    sex: Type.Integer(),
    status: Type.Integer({ description: "1 waiting, 2 refused, 3 accepted" }),
    time: Type.String({ description: "ms, as a string" }),
    username: Type.String(),
    isSender: Type.Integer({ description: "extension: 1 sent by the viewer, 2 received" }),
  }),
);

export const ApplyItem = Type.Object({
  senderInfo: Card,
  receiveInfo: Card,
  id: Type.Integer(),
  type: Type.Integer({ description: "1 group, 2 friend" }),
  applyReason: Type.String(),
  status: Type.Integer({ description: "1 waiting, 2 refused, 3 accepted" }),
  datetime: Type.Integer(),
});

export const ApplyListData = Type.Object({
  applyList: Type.Array(ApplyItem),
  totalNumber: Type.Integer(),
  nextId: Type.String({ description: 'next older record id, "-1" when none' }),
});

export const SearchData = Type.Object({
  type: Type.Integer({ description: "1 group (roomInfo), 2 user (userInfo)" }),
  roomInfo: Type.Optional(
    Type.Object({
      id: Type.String(),
      markId: Type.String({ description: "extension" }),
      name: Type.String(),
      avatar: Type.String(),
      canAddFriend: Type.Integer({ description: "1 yes, 2 no" }),
      joinPermission: Type.Integer({ description: "1 approval, 2 free, 3 closed" }),
    }),
  ),
  userInfo: Type.Optional(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      avatar: Type.String(),
      position: Type.String(),
      remark: Type.String(),
    }),
  ),
});
