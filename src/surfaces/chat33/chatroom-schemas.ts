import { Type } from "@sinclair/typebox";
import { UserId } from "./schemas.ts";

/** Longest chat-room name, in characters. */
export const ROOM_NAME_MAX = 64;
/** Most history records one page returns. */
export const HISTORY_MAX = 100;
/** Longest mute (ms): one year. */
export const ROOM_MUTE_MAX_MS = 365 * 24 * 3600 * 1000;

const GroupId = Type.String({ minLength: 1, maxLength: 32, description: "chat-room id (string)" });
const Name = Type.String({ minLength: 1, maxLength: ROOM_NAME_MAX, description: `1 to ${ROOM_NAME_MAX} characters` });
const Avatar = Type.String({ maxLength: 1024, description: "http(s) URL or a path on this server; may be empty" });
const Time = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "ms" });

export const ListBody = Type.Object({
  groupStatus: Type.Integer({ minimum: 1, maximum: 3, description: "1 open, 2 closed, 3 all" }),
  groupName: Type.Optional(Type.String({ maxLength: ROOM_NAME_MAX, description: "substring of the name" })),
  startTime: Type.Optional(Time),
  endTime: Type.Optional(Time),
});
export const GroupIdBody = Type.Object({ groupId: GroupId });
export const HistoryBody = Type.Object({
  id: GroupId,
  startId: Type.Optional(
    Type.String({ maxLength: 32, description: "newest logId to return (inclusive); empty = the latest" }),
  ),
  number: Type.Integer({ minimum: 1, maximum: HISTORY_MAX, description: `1 to ${HISTORY_MAX}` }),
});
export const AddBody = Type.Object({ groupName: Name, avatar: Type.Optional(Avatar) });
export const EditAvatarBody = Type.Object({ groupId: GroupId, avatar: Avatar });
export const SetStatusBody = Type.Object({
  groupId: GroupId,
  type: Type.Integer({ minimum: 0, maximum: 2, description: "0 open, 1 close, 2 delete" }),
});
export const EditNameBody = Type.Object({ groupId: GroupId, groupName: Name });
export const UserListBody = Type.Object({
  groupId: GroupId,
  queryUserName: Type.Optional(Type.String({ maxLength: 64 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
  number: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
});
export const UserInfoBody = Type.Object({ id: UserId });
export const MutedBody = Type.Object({
  id: UserId,
  mutedTime: Type.Integer({ minimum: 0, maximum: ROOM_MUTE_MAX_MS, description: "ms from now; 0 lifts it" }),
  groupId: Type.Optional(GroupId),
});
export const ReportBody = Type.Object({
  id: UserId,
  msgId: Type.String({ minLength: 1, maxLength: 128 }),
  groupId: Type.Optional(GroupId),
});

const Room = Type.Object({
  groupId: Type.String(),
  groupName: Type.String(),
  avatar: Type.String(),
  description: Type.String(),
  createTime: Type.Integer(),
  openTime: Type.Integer(),
  closeTime: Type.Integer(),
  status: Type.Integer({ description: "1 open, 2 closed" }),
  totalNumber: Type.Integer(),
  userNumber: Type.Integer(),
  visitorNumber: Type.Integer(),
});
export const ListData = Type.Object({ groups: Type.Array(Room) });
export const InfoData = Room;
export const HistoryData = Type.Object({
  logs: Type.Array(Type.Object({}, { additionalProperties: true })),
  nextLog: Type.String({ description: "logId of the next (older) page; empty when there is none" }),
});
export const OnlineData = Type.Object({ totalNumber: Type.Integer() });
export const AddData = Type.Object({ groupId: Type.String({ description: "extension: the new room's id" }) });
export const UserListData = Type.Object({
  totalnum: Type.Integer(),
  userList: Type.Array(Type.Object({}, { additionalProperties: true })),
});
export const UserInfoData = Type.Object({}, { additionalProperties: true });
