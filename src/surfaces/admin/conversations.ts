import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ChatroomCard } from "../../core/chatrooms/events.ts";
import { notFound } from "../../core/errors.ts";
import type { MemberView } from "../../core/groups/group-service.ts";
import { bearerToken } from "../../http/auth.ts";
import type { User } from "../../ports/storage/accounts.ts";
import type { Group, GroupRole } from "../../ports/storage/groups.ts";
import type { Conversation, Message } from "../../ports/storage/messages.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { envelope, MUTE_MAX_MS } from "./schemas.ts";

const strict = { additionalProperties: false };
const Id = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
/** An id in a query string (text, coerced). */
const QueryId = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
const LogId = Type.Union(
  [Type.String({ pattern: "^[1-9][0-9]{0,15}$" }), Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })],
  { description: "message id (logId), as text or a number" },
);
const Duration = Type.Integer({ minimum: 0, maximum: MUTE_MAX_MS, description: "ms from now; 0 lifts the mute" });
const Nullable = (s: TSchema) => Type.Union([s, Type.Null()]);

const UserRef = Type.Object({
  id: Type.String(),
  uid: Type.String(),
  nickname: Type.String(),
  username: Nullable(Type.String()),
});
const GroupOut = Type.Object({
  id: Type.Integer(),
  markId: Type.String(),
  name: Type.String(),
  avatar: Type.String(),
  ownerId: Type.String(),
  members: Type.Integer({ description: "member count (0 for a dissolved group)" }),
  capacity: Type.Integer(),
  muteAll: Type.Boolean({ description: "gagged for everyone but owner and admins" }),
  joinPermission: Type.Integer({ description: "1 approval, 2 free, 3 closed" }),
  canAddFriend: Type.Boolean(),
  createdAt: Type.Integer(),
  dissolvedAt: Nullable(Type.Integer()),
});
const MemberOut = Type.Object({
  user: UserRef,
  role: Type.Integer({ description: "1 member, 2 admin, 3 owner" }),
  groupNickname: Type.String(),
  mutedUntil: Type.Integer({ description: "ms since epoch; 0 = not muted" }),
  speakExempt: Type.Boolean(),
  joinedAt: Type.Integer(),
});
const RoomOut = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  avatar: Type.String(),
  description: Type.String(),
  status: Type.String({ description: "open | closed | deleted" }),
  users: Type.Integer({ description: "users in the audience now" }),
  guests: Type.Integer({ description: "guests in the audience now" }),
  shardSize: Type.Integer({ description: "the fan-out shard size in force (分组容量)" }),
  ownShardSize: Type.Boolean({ description: "true: set for this room; false: the cluster default" }),
  createdAt: Type.Integer(),
  openedAt: Type.Integer(),
  closedAt: Type.Integer(),
});
const MessageOut = Type.Object({
  logId: Type.String(),
  conversationId: Type.Integer(),
  conversationKind: Type.String({ description: "direct | group | chatroom" }),
  groupId: Nullable(Type.Integer({ description: "group or chat-room id (null for direct)" })),
  participants: Nullable(Type.Array(Type.String(), { description: "direct: the two user ids" })),
  sender: Nullable(UserRef),
  senderId: Type.String(),
  kind: Type.String(),
  content: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.Integer(),
  recalledAt: Nullable(Type.Integer()),
  deletedAt: Nullable(Type.Integer()),
});

const GroupsQuery = Type.Object(
  {
    query: Type.Optional(Type.String({ maxLength: 64, description: "substring of the name or the markId" })),
    dissolved: Type.Optional(
      Type.Boolean({ default: false, description: "true: dissolved groups instead of live ones" }),
    ),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  },
  strict,
);
const IdQuery = Type.Object({ id: QueryId("group or chat-room id") }, strict);
const RoleBody = Type.Object(
  {
    id: Id("group id"),
    userId: Id("member's user id"),
    role: Type.Integer({ minimum: 1, maximum: 3, description: "1 member, 2 admin, 3 owner (transfers ownership)" }),
  },
  strict,
);
const GroupMuteBody = Type.Object(
  { id: Id("group id"), userId: Id("a plain member's user id"), durationMs: Duration },
  strict,
);
const RoomsQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal("all"), Type.Literal("open"), Type.Literal("closed")], { default: "all" }),
    ),
    query: Type.Optional(Type.String({ maxLength: 64, description: "substring of the name" })),
  },
  strict,
);
const RoomCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    avatar: Type.Optional(Type.String({ maxLength: 1024 })),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  strict,
);
const RoomStatusBody = Type.Object(
  {
    id: Id("chat-room id"),
    status: Type.Union([Type.Literal("open"), Type.Literal("closed"), Type.Literal("deleted")], {
      description: "deleted is final",
    }),
  },
  strict,
);
const RoomMuteBody = Type.Object(
  {
    id: Id("chat-room id"),
    userId: Type.Optional(Id("one user; absent = the whole room")),
    durationMs: Duration,
  },
  strict,
);
const RoomBlacklistBody = Type.Object(
  {
    id: Id("chat-room id"),
    userId: Id("the user"),
    blacklisted: Type.Boolean({
      description: "true bars the user (removed from the audience, may not rejoin); false lets it back",
    }),
  },
  strict,
);
const RoomDetailQuery = Type.Object(
  {
    id: QueryId("chat-room id"),
    limit: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1000, default: 200, description: "audience users listed (at most)" }),
    ),
  },
  strict,
);
const ReportsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) },
  strict,
);
const LogIdQuery = Type.Object(
  { logId: Type.String({ pattern: "^[1-9][0-9]{0,15}$", description: "message id (logId)" }) },
  strict,
);
const LogIdBody = Type.Object({ logId: LogId }, strict);

const userRef = (u: User) => ({ id: String(u.id), uid: u.uid, nickname: u.nickname, username: u.username });
const presentGroup = (g: Group, members: number) => ({
  id: g.id,
  markId: g.markId,
  name: g.name,
  avatar: g.avatar,
  ownerId: String(g.ownerId),
  members,
  capacity: g.capacity,
  muteAll: g.muteAll,
  joinPermission: g.joinPermission,
  canAddFriend: g.canAddFriend,
  createdAt: g.createdAt,
  dissolvedAt: g.dissolvedAt,
});
const presentMember = ({ member, user }: MemberView) => ({
  user: userRef(user),
  role: member.role,
  groupNickname: member.nickname,
  mutedUntil: member.mutedUntil,
  speakExempt: member.speakExempt,
  joinedAt: member.joinedAt,
});

/**
 * Groups, chat rooms and message moderation for operators (docs/admin.md "Conversations"): what
 * the console lists and shows; the blacklist, gag, close/open, dissolve and capacity operations
 * of `/im/group/config` and `/im/room/config` (docs/cluster-admin.md) stay there.
 */
export function conversationRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { groups, chatrooms, messages, accounts, adminSessions } = deps;
  const manager = { adminToken: true } as const;

  /** Who acts: the admin session's user, or the admin token (id 0, "管理员"). */
  const operatorOf = async (req: FastifyRequest) => {
    const p = await adminSessions.principal(bearerToken(req));
    return p ? { id: p.user.id, nickname: p.user.nickname } : { id: 0, nickname: "管理员" };
  };
  const presentRoom = async (c: ChatroomCard) => {
    const room = await chatrooms.room(c.id);
    return {
      ...c,
      shardSize: room ? chatrooms.shardSize(room) : chatrooms.defaultShardSize,
      ownShardSize: room?.shardSize != null,
    };
  };
  const usersById = async (ids: readonly number[]) => {
    const out = new Map<number, User>();
    for (const id of new Set(ids)) {
      const u = await accounts.cachedUser(id);
      if (u) out.set(id, u);
    }
    return out;
  };
  const presentMessage = async (m: Message, conv: Conversation) => {
    const sender = await accounts.cachedUser(m.senderId);
    return {
      logId: String(m.id),
      conversationId: conv.id,
      conversationKind: conv.kind,
      groupId: conv.kind === "direct" ? null : Number(conv.key.slice(2)),
      participants: conv.kind === "direct" ? [String(conv.userA), String(conv.userB)] : null,
      sender: sender ? userRef(sender) : null,
      senderId: String(m.senderId),
      kind: m.kind,
      content: m.content,
      createdAt: m.createdAt,
      recalledAt: m.recalledAt,
      deletedAt: m.deletedAt,
    };
  };

  // --- groups ---------------------------------------------------------------------------------
  const gtags = ["admin: groups"];

  api.route<{ Querystring: Static<typeof GroupsQuery> }>({
    method: "GET",
    url: "/groups",
    schema: {
      summary: "groups newest first, with member counts",
      tags: gtags,
      querystring: GroupsQuery,
      response: { 200: envelope(Type.Object({ total: Type.Integer(), list: Type.Array(GroupOut) })) },
    },
    handler: async (req) => {
      const { query = "", dissolved = false, page = 1, size = 20 } = req.query;
      const { total, list } = await groups.operatorList(query, dissolved, (page - 1) * size, size);
      return ok({ total, list: list.map((r) => presentGroup(r.group, r.members)) });
    },
  });

  api.route<{ Querystring: Static<typeof IdQuery> }>({
    method: "GET",
    url: "/groups/detail",
    schema: {
      summary: "a live group: its members with roles and mutes, and its blacklist",
      tags: gtags,
      querystring: IdQuery,
      response: {
        200: envelope(
          Type.Object({
            group: GroupOut,
            members: Type.Array(MemberOut, { description: "owner, admins, then members by join time" }),
            blacklist: Type.Array(UserRef),
          }),
        ),
      },
    },
    handler: async (req) => {
      const d = await groups.operatorDetail(req.query.id);
      const barred = await usersById(d.blacklisted);
      return ok({
        group: presentGroup(d.group, d.members.length),
        members: d.members.map(presentMember),
        blacklist: d.blacklisted.flatMap((id) => {
          const u = barred.get(id);
          return u ? [userRef(u)] : [];
        }),
      });
    },
  });

  api.route<{ Body: Static<typeof RoleBody> }>({
    method: "POST",
    url: "/groups/role",
    schema: {
      summary: "set a member's role (3 = make owner: the old owner becomes an admin)",
      tags: gtags,
      body: RoleBody,
      response: { 200: envelope(Type.Object({ id: Type.Integer(), userId: Type.String(), role: Type.Integer() })) },
    },
    handler: async (req) => {
      const { id, userId, role } = req.body;
      await groups.operatorSetRole(id, userId, role as GroupRole);
      return ok({ id, userId: String(userId), role });
    },
  });

  api.route<{ Body: Static<typeof GroupMuteBody> }>({
    method: "POST",
    url: "/groups/mute",
    schema: {
      summary: "mute a plain member of a group for durationMs (0 lifts)",
      tags: gtags,
      body: GroupMuteBody,
      response: {
        200: envelope(Type.Object({ id: Type.Integer(), userId: Type.String(), mutedUntil: Type.Integer() })),
      },
    },
    handler: async (req) => {
      const { id, userId, durationMs } = req.body;
      const mutedUntil = await groups.operatorMuteUntil(id, userId, durationMs === 0 ? 0 : Date.now() + durationMs);
      return ok({ id, userId: String(userId), mutedUntil });
    },
  });

  // --- chat rooms -----------------------------------------------------------------------------
  const rtags = ["admin: chat rooms"];

  api.route<{ Querystring: Static<typeof RoomsQuery> }>({
    method: "GET",
    url: "/rooms",
    schema: {
      summary: "chat rooms (not deleted) with their audience now",
      tags: rtags,
      querystring: RoomsQuery,
      response: { 200: envelope(Type.Array(RoomOut)) },
    },
    handler: async (req) => {
      const { status = "all", query } = req.query;
      const cards = await chatrooms.list({ status, nameContains: query || undefined });
      return ok(await Promise.all(cards.map(presentRoom)));
    },
  });

  api.route<{ Body: Static<typeof RoomCreateBody> }>({
    method: "POST",
    url: "/rooms",
    schema: {
      summary: "create a chat room (open)",
      tags: rtags,
      body: RoomCreateBody,
      response: { 200: envelope(RoomOut) },
    },
    handler: async (req) => {
      const { name, avatar = "", description = "" } = req.body;
      const room = await chatrooms.create(manager, { name, avatar, description });
      return ok(await presentRoom(await chatrooms.card(room)));
    },
  });

  api.route<{ Body: Static<typeof RoomStatusBody> }>({
    method: "POST",
    url: "/rooms/status",
    schema: {
      summary: "open, close or delete a chat room (its audience is told)",
      tags: rtags,
      body: RoomStatusBody,
      response: { 200: envelope(RoomOut) },
    },
    handler: async (req) => ok(await presentRoom(await chatrooms.setStatus(manager, req.body.id, req.body.status))),
  });

  api.route<{ Body: Static<typeof RoomMuteBody> }>({
    method: "POST",
    url: "/rooms/mute",
    schema: {
      summary: "mute one user in a chat room, or the whole room, for durationMs (0 lifts)",
      tags: rtags,
      body: RoomMuteBody,
      response: {
        200: envelope(Type.Object({ id: Type.Integer(), userId: Nullable(Type.String()), until: Type.Integer() })),
      },
    },
    handler: async (req) => {
      const { id, userId, durationMs } = req.body;
      if (userId !== undefined && !(await accounts.cachedUser(userId)))
        throw notFound("user_not_found", "user does not exist");
      const at = Date.now();
      await chatrooms.mute(manager, id, userId ?? null, durationMs);
      return ok({
        id,
        userId: userId === undefined ? null : String(userId),
        until: durationMs === 0 ? 0 : at + durationMs,
      });
    },
  });

  api.route<{ Body: Static<typeof RoomBlacklistBody> }>({
    method: "POST",
    url: "/rooms/blacklist",
    schema: {
      summary: "bar a user from a chat room, or take it off the room's blacklist",
      tags: rtags,
      body: RoomBlacklistBody,
      response: {
        200: envelope(
          Type.Object({
            id: Type.Integer(),
            userId: Type.String(),
            blacklisted: Type.Boolean(),
            changed: Type.Boolean({ description: "false when removing a user that was not on the blacklist" }),
          }),
        ),
      },
    },
    handler: async (req) => {
      const { id, userId, blacklisted } = req.body;
      await chatrooms.require(id); // 404 for an unknown or deleted room
      if (!(await accounts.cachedUser(userId))) throw notFound("user_not_found", "user does not exist");
      let changed = true;
      if (blacklisted) await chatrooms.blacklist(manager, id, userId);
      else changed = await chatrooms.unblacklist(manager, id, userId);
      return ok({ id, userId: String(userId), blacklisted, changed });
    },
  });

  api.route<{ Querystring: Static<typeof RoomDetailQuery> }>({
    method: "GET",
    url: "/rooms/detail",
    schema: {
      summary: "a chat room: its audience now, its blacklist and the mutes in force",
      tags: rtags,
      querystring: RoomDetailQuery,
      response: {
        200: envelope(
          Type.Object({
            room: RoomOut,
            audience: Type.Object({
              users: Type.Array(UserRef, { description: "at most `limit`" }),
              userCount: Type.Integer(),
              guestCount: Type.Integer(),
            }),
            blacklist: Type.Array(UserRef),
            mutes: Type.Array(
              Type.Object({
                userId: Type.String({ description: "0 = the whole room" }),
                nickname: Type.String(),
                until: Type.Integer(),
                at: Type.Integer(),
              }),
            ),
          }),
        ),
      },
    },
    handler: async (req) => {
      const { id, limit = 200 } = req.query;
      const card = await chatrooms.info(id);
      const [aud, mod] = await Promise.all([chatrooms.audienceOf(id), chatrooms.moderation(manager, id)]);
      const named = await usersById([...mod.blacklisted, ...mod.mutes.map((m) => m.userId).filter((x) => x !== 0)]);
      return ok({
        room: await presentRoom(card),
        audience: {
          users: aud.users.slice(0, limit).map(userRef),
          userCount: aud.users.length,
          guestCount: aud.guests.length,
        },
        blacklist: mod.blacklisted.flatMap((uid) => {
          const u = named.get(uid);
          return u ? [userRef(u)] : [];
        }),
        mutes: mod.mutes.map((m) => ({
          userId: String(m.userId),
          nickname: m.userId === 0 ? "" : (named.get(m.userId)?.nickname ?? ""),
          until: m.until,
          at: m.at,
        })),
      });
    },
  });

  api.route<{ Querystring: Static<typeof ReportsQuery> }>({
    method: "GET",
    url: "/rooms/reports",
    schema: {
      summary: "reports made with chat33 /group/report, newest first, with the reported message",
      tags: rtags,
      querystring: ReportsQuery,
      response: {
        200: envelope(
          Type.Array(
            Type.Object({
              id: Type.Integer(),
              roomId: Nullable(Type.Integer()),
              reporter: Nullable(UserRef),
              target: Nullable(UserRef),
              logId: Type.String(),
              createdAt: Type.Integer(),
              message: Type.Union([MessageOut, Type.Null()], {
                description: "null when logId names no stored message",
              }),
            }),
          ),
        ),
      },
    },
    handler: async (req) => {
      const reports = await chatrooms.reports(req.query.limit ?? 50);
      const people = await usersById(reports.flatMap((r) => [r.reporterId, r.targetId]));
      const out = [];
      for (const r of reports) {
        const logId = /^[1-9][0-9]{0,15}$/.test(r.logId) ? Number(r.logId) : null;
        const found = logId !== null && Number.isSafeInteger(logId) ? await messages.operatorFind(logId) : null;
        out.push({
          id: r.id,
          roomId: r.roomId,
          reporter: people.has(r.reporterId) ? userRef(people.get(r.reporterId) as User) : null,
          target: people.has(r.targetId) ? userRef(people.get(r.targetId) as User) : null,
          logId: r.logId,
          createdAt: r.createdAt,
          message: found ? await presentMessage(found.message, found.conv) : null,
        });
      }
      return ok(out);
    },
  });

  // --- message moderation ---------------------------------------------------------------------
  const mtags = ["admin: moderation"];

  api.route<{ Querystring: Static<typeof LogIdQuery> }>({
    method: "GET",
    url: "/messages/detail",
    schema: {
      summary: "one message of any conversation (recalled and deleted ones too)",
      tags: mtags,
      querystring: LogIdQuery,
      response: { 200: envelope(MessageOut) },
    },
    handler: async (req) => {
      const found = await messages.operatorFind(Number(req.query.logId));
      if (!found) throw notFound("message_not_found", "message not found");
      return ok(await presentMessage(found.message, found.conv));
    },
  });

  for (const op of ["recall", "delete"] as const)
    api.route<{ Body: Static<typeof LogIdBody> }>({
      method: "POST",
      url: `/messages/${op}`,
      schema: {
        summary: `${op} any message (the conversation's sockets are told, as for a moderator's ${op})`,
        tags: mtags,
        body: LogIdBody,
        response: { 200: envelope(MessageOut) },
      },
      handler: async (req) => {
        const logId = Number(req.body.logId);
        if (!Number.isSafeInteger(logId)) throw notFound("message_not_found", "message not found");
        await messages.operatorChange(logId, op, await operatorOf(req));
        const found = await messages.operatorFind(logId);
        if (!found) throw notFound("message_not_found", "message not found");
        return ok(await presentMessage(found.message, found.conv));
      },
    });
}
