import { Type } from "@sinclair/typebox";
import { Log, PAGE_MAX } from "./friend-schemas.ts";
import { UserId } from "./schemas.ts";

/**
 * Request and answer schemas of the group routes (chat33 "room", `/room/*`). `rootId` (the
 * document's typo) is rewritten to `roomId` before validation (http.ts).
 */

/** Most users one create / invite / kick / mute request may name. */
export const USERS_MAX = 200;
/** Longest group name and member nickname, in characters. */
export const ROOM_NAME_MAX = 32;
export const ROOM_NICKNAME_MAX = 32;
export const APPLY_REASON_MAX = 256;

export const RoomId = Type.String({ minLength: 1, maxLength: 32, description: "group id (string)" });
const OnOff = (description: string) => Type.Integer({ minimum: 1, maximum: 2, description });
const Users = Type.Array(UserId, { minItems: 1, maxItems: USERS_MAX, description: `1 to ${USERS_MAX} user ids` });
const Avatar = Type.String({ maxLength: 1024, description: "http(s) URL or a path on this server" });

export const RoomListBody = Type.Object({
  type: Type.Integer({ minimum: 1, maximum: 3, description: "1 普通, 2 常用, 3 全部" }),
});
export const RoomIdBody = Type.Object({ roomId: RoomId });
export const RoomUserBody = Type.Object({ roomId: RoomId, userId: UserId });
export const SearchMemberBody = Type.Object({
  roomId: RoomId,
  query: Type.String({ minLength: 1, maxLength: 64, description: "nickname, group nickname or username" }),
});
export const CreateBody = Type.Object({
  roomName: Type.Optional(Type.String({ maxLength: ROOM_NAME_MAX })),
  roomAvatar: Type.Optional(Avatar),
  users: Type.Array(UserId, { maxItems: USERS_MAX, description: `the first members (at most ${USERS_MAX})` }),
});
export const RoomUsersBody = Type.Object({ roomId: RoomId, users: Users });
export const SetPermissionBody = Type.Object({
  roomId: RoomId,
  canAddFriend: Type.Optional(OnOff("1 members may add each other as friends, 2 not")),
  joinPermission: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 3, description: "1 needs approval, 2 free, 3 closed" }),
  ),
});
export const SetLevelBody = Type.Object({
  roomId: RoomId,
  userId: UserId,
  level: Type.Integer({ minimum: 1, maximum: 3, description: "1 member, 2 admin, 3 owner (transfers ownership)" }),
});
export const SetNoDisturbingBody = Type.Object({ roomId: RoomId, setNoDisturbing: OnOff("1 on, 2 off") });
export const StickyOnTopBody = Type.Object({ roomId: RoomId, stickyOnTop: OnOff("1 on top, 2 not") });
export const SetMemberNicknameBody = Type.Object({
  roomId: RoomId,
  nickname: Type.String({ maxLength: ROOM_NICKNAME_MAX, description: '"" clears it' }),
});
export const ApplyBody = Type.Object({
  roomId: RoomId,
  applyReason: Type.Optional(Type.String({ maxLength: APPLY_REASON_MAX })),
});
export const ApproveBody = Type.Object({ roomId: RoomId, userId: UserId, agree: OnOff("1 agree, 2 refuse") });
export const ChatLogBody = Type.Object({
  id: RoomId,
  startId: Type.Optional(
    Type.String({ maxLength: 32, description: "newest logId to return (inclusive); empty = the latest" }),
  ),
  number: Type.Integer({ minimum: 1, maximum: PAGE_MAX, description: `1 to ${PAGE_MAX}` }),
});
export const SetMutedListBody = Type.Object({
  roomId: RoomId,
  listType: Type.Integer({
    minimum: 1,
    maximum: 4,
    description: "1 everyone speaks, 2 listed members muted until deadline, 3 only listed members speak, 4 all muted",
  }),
  users: Type.Optional(Type.Array(UserId, { maxItems: USERS_MAX })),
  deadline: Type.Optional(
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "ms since epoch (listType 2)" }),
  ),
});
export const SetMutedSingleBody = Type.Object({
  roomId: RoomId,
  userId: UserId,
  deadline: Type.Integer({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: "muted until (ms since epoch); 0 or past = lift",
  }),
});
export const SetNameBody = Type.Object({
  roomId: RoomId,
  name: Type.String({ minLength: 1, maxLength: ROOM_NAME_MAX }),
});
export const SetAvatarBody = Type.Object({ roomId: RoomId, avatar: Type.String({ minLength: 1, maxLength: 1024 }) });
export const ReadInfoBody = Type.Object({
  roomId: RoomId,
  logId: Type.String({ minLength: 1, maxLength: 32, description: "a message of the group" }),
});

// --- answers (documentation) ---

const Member = Type.Object({
  id: Type.String(),
  nickname: Type.String(),
  roomNickname: Type.String(),
  avatar: Type.String(),
  memberLevel: Type.Integer({ description: "1 member, 2 admin, 3 owner" }),
});

export const RoomListData = Type.Object({
  roomList: Type.Array(
    Type.Object({
      id: Type.String(),
      markId: Type.String(),
      name: Type.String(),
      avatar: Type.String(),
      noDisturbing: Type.Integer({ description: "1 on, 2 off" }),
      commonlyUsed: Type.Integer({ description: "1 普通 (Parley has no 常用 groups)" }),
      onTop: Type.Integer({ description: "1 on top, 2 not" }),
    }),
  ),
});

export const RoomUnreadData = Type.Object({
  infos: Type.Array(Type.Object({ id: Type.String(), number: Type.Integer(), lastLog: Log })),
});

export const RoomInfoData = Type.Object({
  id: Type.String(),
  markId: Type.String(),
  name: Type.String(),
  avatar: Type.String(),
  onlineNumber: Type.Integer(),
  memberNumber: Type.Integer(),
  noDisturbing: Type.Integer(),
  onTop: Type.Integer({ description: "extension: the caller's sticky-on-top" }),
  memberLevel: Type.Integer({ description: "the caller's level" }),
  canAddFriend: Type.Integer(),
  joinPermission: Type.Integer(),
  mutedType: Type.Integer({ description: "extension: 1 everyone speaks, 4 muted for all (3 with exemptions)" }),
  users: Type.Array(Member),
});

export const UserListData = Type.Object({ userList: Type.Array(Member) });
export const MemberData = Member;
export const OnlineData = Type.Object({ onlineNumber: Type.Integer() });
export const CreateData = Type.Object({ roomId: Type.String({ description: "extension: the new group's id" }) });
export const RoomChatLogData = Type.Object({
  logs: Type.Array(Log),
  nextLog: Type.String({ description: 'next older logId, "-1" when none' }),
});
export const ReadInfoData = Type.Object({
  readNumber: Type.Integer(),
  unreadNumber: Type.Integer(),
  readList: Type.Optional(Type.Array(Type.String(), { description: "owner, admins and the sender only" })),
  unreadList: Type.Optional(Type.Array(Type.String(), { description: "owner, admins and the sender only" })),
});

export const SendSystemMsgsBody = Type.Object({
  roomId: RoomId,
  content: Type.String({ minLength: 1, maxLength: 2000, description: "the announcement" }),
});
export const SystemMsgsBody = Type.Object({
  roomId: RoomId,
  startId: Type.Optional(
    Type.String({ maxLength: 32, description: "newest announcement id (inclusive); empty = the latest" }),
  ),
  number: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, description: `1 to ${PAGE_MAX} (default 20)` })),
});
export const SystemMsgsData = Type.Object({
  number: Type.Integer({ description: "all announcements of the group" }),
  list: Type.Array(
    Type.Object({ id: Type.String(), senderName: Type.String(), content: Type.String(), datetime: Type.Integer() }),
  ),
  nextLog: Type.String({ description: 'next older announcement id, "-1" when none' }),
});
