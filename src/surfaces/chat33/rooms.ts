import type { Static, TSchema } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { invalid, notFound } from "../../core/errors.ts";
import type { GroupRole, JoinPermission } from "../../ports/groups.ts";
import type { User } from "../../ports/storage.ts";
import type { SurfaceDeps } from "../deps.ts";
import { AVATAR_RE } from "./accounts.ts";
import { requireUser } from "./auth.ts";
import { logView } from "./friend-presenters.ts";
import { ApplyListData } from "./friend-schemas.ts";
import { checkText } from "./friends.ts";
import { postRoute } from "./http.ts";
import { logIdOf, parseId } from "./ids.ts";
import { NO_MORE } from "./messages.ts";
import { groupApplyItem, memberView, mutedType, roomListItem } from "./room-presenters.ts";
import {
  ApplyBody,
  ApproveBody,
  ChatLogBody,
  CreateBody,
  CreateData,
  MemberData,
  OnlineData,
  ReadInfoBody,
  ReadInfoData,
  RoomChatLogData,
  RoomIdBody,
  RoomInfoData,
  RoomListBody,
  RoomListData,
  RoomUnreadData,
  RoomUserBody,
  RoomUsersBody,
  SearchMemberBody,
  SendSystemMsgsBody,
  SetAvatarBody,
  SetLevelBody,
  SetMemberNicknameBody,
  SetMutedListBody,
  SetMutedSingleBody,
  SetNameBody,
  SetNoDisturbingBody,
  SetPermissionBody,
  StickyOnTopBody,
  SystemMsgsBody,
  SystemMsgsData,
  UserListData,
} from "./room-schemas.ts";
import { Empty, NoBody } from "./schemas.ts";

/** A group id string → its number; a string that cannot be an id is a group nobody is in (-3001). */
export function roomIdOf(s: string): number {
  const n = parseId(s);
  if (n === null) throw notFound("group_not_found", "no such group");
  return n;
}

/** User id strings → numbers; one that cannot be an id is -2001 用户不存在. */
function userIdsOf(ids: readonly string[]): number[] {
  return ids.map((s) => {
    const n = parseId(s);
    if (n === null) throw notFound("user_not_found", "user does not exist");
    return n;
  });
}

function checkAvatar(avatar: string | undefined): void {
  if (avatar && !AVATAR_RE.test(avatar))
    throw invalid("bad_avatar", "avatar must be an http(s) URL or a /path of at most 1024 characters");
}

/**
 * The group routes of seed 002 (群有关接口: chat33 calls a core Group a "room"), the older paths
 * of its table of contents as aliases, and the later chat33 server's routes for what the seed
 * lacks (mutes, name, avatar, the application list). Every rule is the core's (core/groups).
 */
export function roomRoutes(api: FastifyInstance, deps: SurfaceDeps): void {
  const { accounts, groups } = deps;
  const me = async (req: FastifyRequest) => (await requireUser(accounts, req.headers)).user;

  /** A route under several paths (the document's older names as aliases). */
  const route = <B>(
    paths: string[],
    summary: string,
    body: TSchema,
    data: TSchema,
    handler: (user: User, b: B) => Promise<unknown>,
  ) => {
    for (const path of paths)
      postRoute<B>(api, { path, summary, body, data, handler: async (req) => handler(await me(req), req.body as B) });
  };

  route<Static<typeof RoomListBody>>(
    ["/room/list"],
    "获取群列表 — type 1 普通 / 3 全部: the caller's groups (2 常用: none, Parley keeps no such flag for groups)",
    RoomListBody,
    RoomListData,
    async (user, b) => {
      const rows = b.type === 2 ? [] : await groups.list(user);
      return { roomList: rows.map((r) => roomListItem(r.group, r.member)) };
    },
  );

  route<Static<typeof NoBody>>(
    ["/room/unread"],
    "获取所有群未读消息统计 — groups with unread messages: count and last message",
    NoBody,
    RoomUnreadData,
    async (user) => {
      const infos = [];
      for (const s of await groups.summaries(user))
        if (s.unread > 0 && s.last)
          infos.push({ id: String(s.group.id), number: s.unread, lastLog: logView(s.last, "") });
      return { infos };
    },
  );

  route<Static<typeof RoomIdBody>>(
    ["/room/info"],
    "获取群信息 — members only (others: -3001); memberLevel is the caller's",
    RoomIdBody,
    RoomInfoData,
    async (user, b) => {
      const id = roomIdOf(b.roomId);
      const { group, me: mine, members } = await groups.info(user, id);
      return {
        id: String(group.id),
        markId: group.markId,
        name: group.name,
        avatar: group.avatar,
        onlineNumber: await groups.onlineNumber(user, id),
        memberNumber: members.length,
        noDisturbing: mine.noDisturbing ? 1 : 2,
        onTop: mine.stickyOnTop ? 1 : 2,
        memberLevel: mine.role,
        canAddFriend: group.canAddFriend ? 1 : 2,
        joinPermission: group.joinPermission,
        mutedType: mutedType(group, members),
        users: members.map(memberView),
      };
    },
  );

  route<Static<typeof RoomIdBody>>(
    ["/room/userList"],
    "获取群成员列表 — owner, admins, then members by join time",
    RoomIdBody,
    UserListData,
    async (user, b) => ({ userList: (await groups.info(user, roomIdOf(b.roomId))).members.map(memberView) }),
  );

  route<Static<typeof RoomUserBody>>(
    ["/room/userInfo"],
    "获取群成员信息 — one member (not a member: -1001)",
    RoomUserBody,
    MemberData,
    async (user, b) => {
      const [target] = userIdsOf([b.userId]);
      return memberView(await groups.memberInfo(user, roomIdOf(b.roomId), target));
    },
  );

  route<Static<typeof SearchMemberBody>>(
    ["/room/searchMember"],
    "搜索群成员信息 — members whose nickname, group nickname or username contains `query`",
    SearchMemberBody,
    UserListData,
    async (user, b) => ({ userList: (await groups.searchMembers(user, roomIdOf(b.roomId), b.query)).map(memberView) }),
  );

  route<Static<typeof RoomIdBody>>(
    ["/room/getOnlineNumber"],
    "获取群在线人数 — members with a live socket, on any node",
    RoomIdBody,
    OnlineData,
    async (user, b) => ({ onlineNumber: await groups.onlineNumber(user, roomIdOf(b.roomId)) }),
  );

  route<Static<typeof CreateBody>>(
    ["/room/create"],
    "创建群 — the caller is the owner, `users` the first members (event 20 to all); data.roomId is an extension",
    CreateBody,
    CreateData,
    async (user, b) => {
      checkText(b.roomName);
      checkAvatar(b.roomAvatar);
      const g = await groups.create(user, { name: b.roomName, avatar: b.roomAvatar, userIds: userIdsOf(b.users) });
      return { roomId: String(g.id) };
    },
  );

  route<Static<typeof RoomIdBody>>(
    ["/room/delete"],
    "删除群 — owner only (-3000): dissolves the group (event 22)",
    RoomIdBody,
    Empty,
    async (user, b) => {
      await groups.dissolve(user, roomIdOf(b.roomId));
      return {};
    },
  );

  route<Static<typeof RoomUsersBody>>(
    ["/room/kickOut"],
    "踢出群 — owner/admin, only members below one's own level (event 21 type 2); `rootId` accepted",
    RoomUsersBody,
    Empty,
    async (user, b) => {
      await groups.kick(user, roomIdOf(b.roomId), userIdsOf(b.users));
      return {};
    },
  );

  route<Static<typeof RoomIdBody>>(
    ["/room/loginOut"],
    "成员退出群 — leave (event 21 type 1); the owner must transfer or dissolve first (-3000); `rootId` accepted",
    RoomIdBody,
    Empty,
    async (user, b) => {
      await groups.leave(user, roomIdOf(b.roomId));
      return {};
    },
  );

  route<Static<typeof SetPermissionBody>>(
    ["/room/setPermission"],
    "管理员设置群 — owner/admin: canAddFriend (1/2), joinPermission (1 approval, 2 free, 3 closed)",
    SetPermissionBody,
    Empty,
    async (user, b) => {
      await groups.setPermission(user, roomIdOf(b.roomId), {
        canAddFriend: b.canAddFriend === undefined ? undefined : b.canAddFriend === 1,
        joinPermission: b.joinPermission as JoinPermission | undefined,
      });
      return {};
    },
  );

  route<Static<typeof SetLevelBody>>(
    ["/room/setLevel"],
    "群内用户身份设置 — owner only: 1 member, 2 admin, 3 owner (transfers ownership; the old owner becomes admin)",
    SetLevelBody,
    Empty,
    async (user, b) => {
      const [target] = userIdsOf([b.userId]);
      await groups.setLevel(user, roomIdOf(b.roomId), target, b.level as GroupRole);
      return {};
    },
  );

  route<Static<typeof SetNoDisturbingBody>>(
    ["/room/setNoDisturbing"],
    "群成员设置免打扰 — the caller's own setting: 1 on, 2 off",
    SetNoDisturbingBody,
    Empty,
    async (user, b) => {
      await groups.setMySettings(user, roomIdOf(b.roomId), { noDisturbing: b.setNoDisturbing === 1 });
      return {};
    },
  );

  route<Static<typeof StickyOnTopBody>>(
    ["/room/stickyOnTop"],
    "群成员设置群置顶 — the caller's own setting: 1 on top, 2 not",
    StickyOnTopBody,
    Empty,
    async (user, b) => {
      await groups.setMySettings(user, roomIdOf(b.roomId), { stickyOnTop: b.stickyOnTop === 1 });
      return {};
    },
  );

  route<Static<typeof SetMemberNicknameBody>>(
    ["/room/setMemberNickname"],
    '群成员设置群内昵称 — the caller\'s nickname in the group ("" clears it)',
    SetMemberNicknameBody,
    Empty,
    async (user, b) => {
      checkText(b.nickname);
      await groups.setMySettings(user, roomIdOf(b.roomId), { nickname: b.nickname.trim() });
      return {};
    },
  );

  route<Static<typeof RoomUsersBody>>(
    ["/room/joinRoomInvite", "/room/joinInRoom", "/room/inviteJoinInRoomApply"],
    "邀请入群 — owner/admin (or anyone in a free group): they join (event 20); a member of a group that needs approval: applications (event 23)",
    RoomUsersBody,
    Empty,
    async (user, b) => {
      await groups.invite(user, roomIdOf(b.roomId), userIdsOf(b.users));
      return {};
    },
  );

  route<Static<typeof ApplyBody>>(
    ["/room/joinRoomApply", "/room/joinInRoomApply"],
    "申请入群 — free group: joined at once (event 20); approval: a waiting application (event 23 to owner/admins); closed: -3000",
    ApplyBody,
    Empty,
    async (user, b) => {
      checkText(b.applyReason);
      await groups.apply(user, roomIdOf(b.roomId), b.applyReason?.trim() ?? "");
      return {};
    },
  );

  route<Static<typeof ApproveBody>>(
    ["/room/joinRoomApprove", "/room/joinInRoomApprove"],
    "入群申请处理 — owner/admin answers userId's waiting application: 1 agree (event 20), 2 refuse; event 23 to the applicant",
    ApproveBody,
    Empty,
    async (user, b) => {
      const [target] = userIdsOf([b.userId]);
      await groups.approve(user, roomIdOf(b.roomId), target, b.agree === 1);
      return {};
    },
  );

  route<Static<typeof RoomIdBody>>(
    ["/room/joinInRoomApplyList"],
    "获取入群申请列表 — owner/admin: the group's waiting applications, newest first (at most 100)",
    RoomIdBody,
    ApplyListData,
    async (user, b) => {
      const { group, list } = await groups.pendingApplications(user, roomIdOf(b.roomId));
      const applyList = list.flatMap(({ application, user: u }) =>
        u ? [groupApplyItem(user, application, u, group)] : [],
      );
      return { applyList, totalNumber: applyList.length, nextId: NO_MORE };
    },
  );

  route<Static<typeof ChatLogBody>>(
    ["/room/chatLog"],
    '获取群消息记录 — members only: newest first from startId (inclusive); nextLog = next older logId or "-1"',
    ChatLogBody,
    RoomChatLogData,
    async (user, b) => {
      const id = roomIdOf(b.id);
      if (b.startId === NO_MORE) {
        await groups.info(user, id); // members only, even for an empty page
        return { logs: [], nextLog: NO_MORE };
      }
      const before = b.startId ? logIdOf(b.startId) : null;
      const { views, nextId } = await groups.history(user, id, before, b.number);
      return { logs: views.map((v) => logView(v, "")), nextLog: nextId ?? NO_MORE };
    },
  );

  route<Static<typeof SetMutedListBody>>(
    ["/room/setMutedList"],
    "群设置禁言列表 (later chat33) — owner/admin: listType 1 all speak, 2 listed muted until deadline, 3 only listed speak, 4 all muted",
    SetMutedListBody,
    Empty,
    async (user, b) => {
      if (b.listType === 2 && !b.deadline) throw invalid("bad_deadline", "listType 2 needs a deadline");
      await groups.setMutedList(
        user,
        roomIdOf(b.roomId),
        b.listType as 1 | 2 | 3 | 4,
        userIdsOf(b.users ?? []),
        b.deadline ?? 0,
      );
      return {};
    },
  );

  route<Static<typeof SetMutedSingleBody>>(
    ["/room/setMutedSingle"],
    "单个成员禁言设置 (later chat33) — owner/admin: mute one member until deadline (ms; 0 lifts); event 3 to them",
    SetMutedSingleBody,
    Empty,
    async (user, b) => {
      const [target] = userIdsOf([b.userId]);
      await groups.setMutedSingle(user, roomIdOf(b.roomId), target, b.deadline);
      return {};
    },
  );

  route<Static<typeof SetNameBody>>(
    ["/room/setName"],
    "编辑群名称 (later chat33) — owner/admin",
    SetNameBody,
    Empty,
    async (user, b) => {
      checkText(b.name);
      await groups.setProfile(user, roomIdOf(b.roomId), { name: b.name.trim() });
      return {};
    },
  );

  route<Static<typeof SetAvatarBody>>(
    ["/room/setAvatar"],
    "设置群头像 (later chat33) — owner/admin",
    SetAvatarBody,
    Empty,
    async (user, b) => {
      checkAvatar(b.avatar);
      await groups.setProfile(user, roomIdOf(b.roomId), { avatar: b.avatar });
      return {};
    },
  );

  route<Static<typeof SendSystemMsgsBody>>(
    ["/room/sendSystemMsgs"],
    "发布群公告 (later chat33) — owner/admin: a system message (msgType 0) to the group; every member's sockets get event 0",
    SendSystemMsgsBody,
    Empty,
    async (user, b) => {
      checkText(b.content.replace(/\n/g, " "));
      await groups.announce(user, roomIdOf(b.roomId), b.content);
      return {};
    },
  );

  route<Static<typeof SystemMsgsBody>>(
    ["/room/systemMsgs"],
    '获取群公告记录 (later chat33) — members: announcements newest first from startId (inclusive); nextLog "-1" at the end',
    SystemMsgsBody,
    SystemMsgsData,
    async (user, b) => {
      const id = roomIdOf(b.roomId);
      if (b.startId === NO_MORE) {
        const { total } = await groups.announcements(user, id, null, 1);
        return { number: total, list: [], nextLog: NO_MORE };
      }
      const before = b.startId ? logIdOf(b.startId) : null;
      const { total, list, nextId } = await groups.announcements(user, id, before, b.number ?? 20);
      return {
        number: total,
        list: list.map((a) => ({
          id: String(a.id),
          senderName: a.senderName,
          content: a.content,
          datetime: a.createdAt,
        })),
        nextLog: nextId === null ? NO_MORE : String(nextId),
      };
    },
  );

  route<Static<typeof ReadInfoBody>>(
    ["/room/readInfo"],
    "群消息已读统计 (Parley extension) — members: read/unread counts of a message; owner, admins and its sender also get the lists",
    ReadInfoBody,
    ReadInfoData,
    async (user, b) => {
      const info = await groups.readInfo(user, roomIdOf(b.roomId), logIdOf(b.logId));
      return {
        readNumber: info.readCount,
        unreadNumber: info.unreadCount,
        ...(info.readers ? { readList: info.readers.map(String) } : {}),
        ...(info.unreaders ? { unreadList: info.unreaders.map(String) } : {}),
      };
    },
  );
}
