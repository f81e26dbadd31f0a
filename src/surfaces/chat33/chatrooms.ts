import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ChatroomManager } from "../../core/chatrooms/chatroom-service.ts";
import { AppError, forbidden, notFound } from "../../core/errors.ts";
import { bearerToken } from "../../http/auth.ts";
import type { User } from "../../ports/storage/accounts.ts";
import { AVATAR_RE } from "./accounts.ts";
import { readCredentials, requireUser } from "./auth.ts";
import {
  AddBody,
  AddData,
  EditAvatarBody,
  EditNameBody,
  GroupIdBody,
  HistoryBody,
  HistoryData,
  InfoData,
  ListBody,
  ListData,
  MutedBody,
  OnlineData,
  ReportBody,
  SetStatusBody,
  UserInfoBody,
  UserInfoData,
  UserListBody,
  UserListData,
} from "./chatroom-schemas.ts";
import type { Chat33Deps } from "./deps.ts";
import { logView } from "./friend-presenters.ts";
import { checkText } from "./friends.ts";
import { postRoute } from "./http.ts";
import { parseId, userById } from "./ids.ts";
import { accountOf } from "./presenters.ts";
import { Empty } from "./schemas.ts";
import { chatroomFields } from "./ws-frames.ts";

const STATUS_BY_TYPE = ["open", "closed", "deleted"] as const;

/** The chat-room routes of seed 002 (聊天室有关接口, `/group/*` — core Chatroom); docs/chat33.md. */
export function chatroomRoutes(api: FastifyInstance, deps: Chat33Deps): void {
  const { accounts, chatrooms, admin, limiter, config } = deps;

  /** At most `max` per minute under `key` (0 = no limit), else -1012. */
  const limit = async (key: string, max: number): Promise<void> => {
    if (max > 0 && !(await limiter.hit(key, max, 60_000)).ok)
      throw new AppError("rate_limited", "chatroom_rate_limited", "too many requests, try again later");
  };
  /** Guests' reads that walk every room's audience are limited per client address. */
  const guestRead = (who: User | null, req: FastifyRequest) =>
    who ? Promise.resolve() : limit(`chat33:guestread:${req.ip}`, config.chatrooms.guestReadsPerMinute);

  /** A room id string → number; anything else is an unknown room (-5000). */
  const roomId = (s: string): number => {
    const n = parseId(s);
    if (n === null) throw notFound("chatroom_not_found", "chat room does not exist");
    return n;
  };

  /** Reading routes: a logged-in user, or a guest (null) with FZM-UUID (no credentials → -1003). */
  const viewer = async (req: FastifyRequest): Promise<User | null> => {
    const cred = readCredentials(req.headers);
    return cred.token || !cred.uuid ? (await requireUser(accounts, req.headers)).user : null;
  };
  /** `uid` and `account` (the mobile) follow `/user/userInfo`: only for the user themself and admins. */
  const privateFields = (who: User | null, u: User) =>
    who && (who.id === u.id || who.isAdmin) ? { uid: u.uid, account: accountOf(u) } : {};

  /** Managing routes: `Authorization: Bearer <admin token>`, or an admin user (core checks: -3000). */
  const manager = async (req: FastifyRequest): Promise<ChatroomManager> => {
    const token = bearerToken(req);
    if (token && admin.verify(token)) return { adminToken: true };
    if (!readCredentials(req.headers).token && token) throw forbidden("no_chatroom_permission", "admin only");
    return { user: (await requireUser(accounts, req.headers)).user };
  };

  const checkAvatar = (avatar: string) => {
    // an empty avatar is allowed here (a room without one)
    if (avatar !== "" && !AVATAR_RE.test(avatar))
      throw new AppError("invalid_argument", "bad_avatar", "bad avatar URL");
  };

  postRoute<Static<typeof ListBody>>(api, {
    path: "/group/list",
    summary: "聊天室列表 — rooms by status (1 open, 2 closed, 3 all), name substring, creation time range",
    body: ListBody,
    data: ListData,
    handler: async (req) => {
      await guestRead(await viewer(req), req);
      const b = req.body;
      const rooms = await chatrooms.list({
        status: b.groupStatus === 1 ? "open" : b.groupStatus === 2 ? "closed" : "all",
        nameContains: b.groupName || undefined,
        createdFrom: b.startTime,
        createdTo: b.endTime,
      });
      return { groups: rooms.map(chatroomFields) };
    },
  });

  postRoute<Static<typeof GroupIdBody>>(api, {
    path: "/group/info",
    summary: "聊天室详情 — one room with its live counts",
    body: GroupIdBody,
    data: InfoData,
    handler: async (req) => {
      await viewer(req);
      return chatroomFields(await chatrooms.info(roomId(req.body.groupId)));
    },
  });

  postRoute<Static<typeof HistoryBody>>(api, {
    path: "/group/getGroupChatHistory",
    summary: "获取聊天室聊天记录 — newest first from startId (inclusive); nextLog starts the next page",
    body: HistoryBody,
    data: HistoryData,
    handler: async (req) => {
      await viewer(req);
      const { id, startId, number } = req.body;
      const start = startId ? parseId(startId) : null;
      if (startId && start === null) throw new AppError("invalid_argument", "bad_log_id", "bad startId");
      const { views, nextLog } = await chatrooms.history(roomId(id), start, number);
      return { logs: views.map((v) => logView(v, "")), nextLog: nextLog ?? "" };
    },
  });

  postRoute<Static<typeof GroupIdBody>>(api, {
    path: "/group/getOnlineNumber",
    summary: "获取聊天室总人数 — people in the room now (users once each, plus guests)",
    body: GroupIdBody,
    data: OnlineData,
    handler: async (req) => {
      await viewer(req);
      const card = await chatrooms.info(roomId(req.body.groupId));
      return { totalNumber: card.users + card.guests };
    },
  });

  postRoute<Static<typeof AddBody>>(api, {
    path: "/group/addGroup",
    summary: "添加聊天室 — admins only; data.groupId is the new room (extension)",
    body: AddBody,
    data: AddData,
    handler: async (req) => {
      const m = await manager(req);
      checkText(req.body.groupName);
      checkAvatar(req.body.avatar ?? "");
      const room = await chatrooms.create(m, { name: req.body.groupName, avatar: req.body.avatar ?? "" });
      return { groupId: String(room.id) };
    },
  });

  postRoute<Static<typeof EditAvatarBody>>(api, {
    path: "/group/editAvatar",
    summary: "聊天室头像编辑 — admins only",
    body: EditAvatarBody,
    data: Empty,
    handler: async (req) => {
      const m = await manager(req);
      checkAvatar(req.body.avatar);
      await chatrooms.edit(m, roomId(req.body.groupId), { avatar: req.body.avatar });
      return {};
    },
  });

  postRoute<Static<typeof SetStatusBody>>(api, {
    path: "/group/setStatus",
    summary: "聊天室状态编辑 — admins only: 0 open (event 7), 1 close (event 4), 2 delete (event 5, empties it)",
    body: SetStatusBody,
    data: Empty,
    handler: async (req) => {
      const m = await manager(req);
      await chatrooms.setStatus(m, roomId(req.body.groupId), STATUS_BY_TYPE[req.body.type]);
      return {};
    },
  });

  postRoute<Static<typeof EditNameBody>>(api, {
    path: "/group/editGroupName",
    summary: "编辑聊天室名称 — admins only",
    body: EditNameBody,
    data: Empty,
    handler: async (req) => {
      const m = await manager(req);
      checkText(req.body.groupName);
      await chatrooms.edit(m, roomId(req.body.groupId), { name: req.body.groupName });
      return {};
    },
  });

  postRoute<Static<typeof UserListBody>>(api, {
    path: "/group/userList",
    summary: "(已弃用) 聊天室用户列表 — who is in the room now (users, then guests), paged",
    body: UserListBody,
    data: UserListData,
    handler: async (req) => {
      const who = await viewer(req);
      await guestRead(who, req);
      const id = roomId(req.body.groupId);
      const { users, guests } = await chatrooms.audienceOf(id);
      const q = req.body.queryUserName ?? "";
      const all = [
        ...users.map((u) => ({
          id: String(u.id),
          name: u.nickname,
          ...privateFields(who, u),
          avatar: u.avatar,
          remark: "",
          verified: 2,
          userLevel: 1,
        })),
        ...guests.map((g) => ({
          id: g,
          name: `游客${g.slice(0, 8)}`,
          avatar: "",
          remark: "",
          verified: 2,
          userLevel: 0,
        })),
      ].filter((u) => !q || u.name.includes(q));
      const size = req.body.number ?? 20;
      const page = req.body.page ?? 1;
      return { totalnum: all.length, userList: all.slice((page - 1) * size, page * size) };
    },
  });

  postRoute<Static<typeof UserInfoBody>>(api, {
    path: "/group/userInfo",
    summary: "(已弃用) 聊天室用户信息 — a user with their latest chat-room mute (logged-in users only)",
    body: UserInfoBody,
    data: UserInfoData,
    handler: async (req) => {
      const { user: who } = await requireUser(accounts, req.headers);
      const u = await userById(deps, req.body.id);
      const mute = (await chatrooms.userMutes(u.id))[0] ?? null;
      return {
        id: String(u.id),
        name: u.nickname,
        avatar: u.avatar,
        ...privateFields(who, u),
        mutedTime: mute?.at ?? 0,
        mutedLastTime: mute ? Math.max(0, mute.until - mute.at) : 0,
        userLevel: 1,
      };
    },
  });

  postRoute<Static<typeof MutedBody>>(api, {
    path: "/group/muted",
    summary:
      "(已弃用) 禁言聊天室用户 — admins only; with groupId in that room, without it everywhere (like /user/muted)",
    body: MutedBody,
    data: Empty,
    handler: async (req) => {
      const m = await manager(req);
      if ("user" in m && !m.user.isAdmin) throw forbidden("no_chatroom_permission", "admin only");
      const target = await userById(deps, req.body.id);
      if (req.body.groupId) await chatrooms.mute(m, roomId(req.body.groupId), target.id, req.body.mutedTime);
      else await accounts.mute(target.id, req.body.mutedTime);
      return {};
    },
  });

  postRoute<Static<typeof ReportBody>>(api, {
    path: "/group/report",
    summary: "(已弃用) 举报聊天室用户 — stored for operators",
    body: ReportBody,
    data: Empty,
    handler: async (req) => {
      const { user } = await requireUser(accounts, req.headers);
      await limit(`chat33:report:user:${user.id}`, config.chatrooms.reportsPerMinute);
      const target = await userById(deps, req.body.id, { includeDisabled: true });
      checkText(req.body.msgId);
      await chatrooms.report(user, target.id, req.body.msgId, req.body.groupId ? roomId(req.body.groupId) : null);
      return {};
    },
  });
}
