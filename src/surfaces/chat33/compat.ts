import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError, invalid, notFound, unavailable } from "../../core/errors.ts";
import { contentOrThrow } from "../../core/messages/content.ts";
import { FORWARD_MAX_LOGS, FORWARD_MAX_TARGETS, ForwardService } from "../../core/messages/forward.ts";
import type { MessageView } from "../../core/messages/message-service.ts";
import type { User } from "../../ports/storage/accounts.ts";
import type { MessageKind } from "../../ports/storage/messages.ts";
import { requireUser } from "./auth.ts";
import type { Chat33Deps } from "./deps.ts";
import { friendView, logView } from "./friend-presenters.ts";
import { FriendListData, Log, PAGE_MAX, REMARK_MAX } from "./friend-schemas.ts";
import { checkText } from "./friends.ts";
import { friendshipBetween } from "./friendship.ts";
import { postRoute } from "./http.ts";
import { logIdOf, parseId, userById } from "./ids.ts";
import { chat33MsgType } from "./kinds.ts";
import { NO_MORE } from "./messages.ts";
import { userInfoView } from "./presenters.ts";
import { Empty, NoBody, UserId } from "./schemas.ts";

/**
 * Routes the later chat33 clients call that seed 002 lacks (33cn/chat33-pc `src/config/urls.ts`,
 * answered with the shapes of oofpgDLD/chat33 `api/*.go`; docs/chat33.md "Compatibility"):
 * pending-application count, burn-after-reading, forwarding, batch file recall, file and photo
 * history, blocks, friend-request rules, user lookups by uid, logout — and the routes that need
 * the original's external services, answered with -9002 暂未开放.
 */

const Id = Type.String({ minLength: 1, maxLength: 32 });
const Type12 = Type.Integer({ minimum: 1, maximum: 2, description: "1 group, 2 friend" });
const Count = Type.Integer({ minimum: 1, maximum: PAGE_MAX, description: `1 to ${PAGE_MAX}` });
const Short = (max: number) => Type.String({ maxLength: max });

const ReadSnapBody = Type.Object({ logId: Id, type: Type12 });
const ForwardBody = Type.Object({
  sourceId: Id,
  type: Type12,
  forwardType: Type.Integer({ minimum: 1, maximum: 2, description: "1 one by one, 2 merged" }),
  logArray: Type.Array(Id, { minItems: 1, maxItems: FORWARD_MAX_LOGS }),
  targetRooms: Type.Array(Id, { maxItems: FORWARD_MAX_TARGETS }),
  targetUsers: Type.Array(Id, { maxItems: FORWARD_MAX_TARGETS }),
});
const ForwardData = Type.Object({
  failsNumber: Type.Integer(),
  roomFails: Type.Array(Type.String()),
  userFails: Type.Array(Type.String()),
});
const RevokeFilesBody = Type.Object({ logs: Type.Array(Id, { minItems: 1, maxItems: 100 }), type: Type12 });
const RevokeFilesData = Type.Object({ failsNumber: Type.Integer(), fails: Type.Array(Type.String()) });
const HistoryBody = Type.Object({
  id: Id,
  startId: Type.Optional(Short(32)),
  number: Count,
  query: Type.Optional(Short(128)),
  owner: Type.Optional(Short(32)),
});
const HistoryData = Type.Object({ logs: Type.Array(Log), nextLog: Type.String() });
const ExtRemarkBody = Type.Object({
  id: UserId,
  remark: Type.String({ maxLength: REMARK_MAX }),
  telephones: Type.Optional(
    Type.Array(Type.Object({ remark: Type.Optional(Short(64)), phone: Short(32) }), { maxItems: 10 }),
  ),
  description: Type.Optional(Short(512)),
  pictures: Type.Optional(Type.Array(Short(1024), { maxItems: 10 })),
  encrypt: Type.Optional(Short(4096)),
});
const BlockBody = Type.Object({ userId: UserId });
const ConfirmBody = Type.Object({
  tp: Type.Integer({ minimum: 1, maximum: 2, description: "1 need approval, 2 not" }),
});
const QuestionBody = Type.Object({
  tp: Type.Integer({ minimum: 0, maximum: 2, description: "0 edit, 1 ask the question, 2 do not" }),
  question: Type.Optional(Short(128)),
  answer: Type.Optional(Short(128)),
});
const CheckAnswerBody = Type.Object({ friendId: UserId, answer: Type.Optional(Short(128)) });
const UsersInfoBody = Type.Object({ uids: Type.Array(Short(64), { maxItems: 100 }) });
const UidBody = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64 }) });
const PrintScreenBody = Type.Object({ id: UserId });
const AnyData = Type.Object({}, { additionalProperties: true });
const UserList = Type.Object({ userList: Type.Array(AnyData) });

/** Kinds of the file and photo histories (chat33 msgType 9; 3 and 5). */
const FILE_KINDS: readonly MessageKind[] = ["file"];
const PHOTO_KINDS: readonly MessageKind[] = ["image", "video"];

/**
 * Routes of the later clients that need the original's external services (its wallet chain,
 * OTC trading, payment passwords, end-to-end key material, praise/rewards): -9002 暂未开放.
 */
export const NOT_SUPPORTED_PATHS = [
  "/chat33/encryptForward",
  "/chat33/uploadSecretKey",
  "/chat33/roomSessionKey",
  "/user/isSetPayPwd",
  "/user/setPayPwd",
  "/user/checkPayPwd",
  "/user/isChain",
  "/user/set-device-token",
  "/pay/payment",
  "/praise/like",
  "/praise/list",
  "/praise/details",
  "/praise/detailList",
] as const;

/** The hosted-account service's voice code (the PC client's TG_SEND_VOICE), when pointed at Parley. */
export const NOT_SUPPORTED_PUBLIC = ["/v1/send/voice"] as const;

export function compatRoutes(api: FastifyInstance, deps: Chat33Deps): void {
  const { accounts, friends, messages, groups } = deps;
  const me = async (req: FastifyRequest) => (await requireUser(accounts, req.headers)).user;
  const forwarding = new ForwardService(messages, groups);
  const groupId = (s: string) => {
    const n = parseId(s);
    if (n === null) throw notFound("group_not_found", "no such group");
    return n;
  };

  postRoute<Static<typeof NoBody>>(api, {
    path: "/chat33/unreadApplyNumber",
    summary: "获取未处理申请数量 — friend requests to the caller and applications to groups they manage, still waiting",
    body: NoBody,
    data: Type.Object({ number: Type.Integer() }),
    handler: async (req) => {
      const user = await me(req);
      const [f, g] = await Promise.all([friends.pendingCount(user.id), groups.pendingCount(user.id)]);
      return { number: f + g };
    },
  });

  postRoute<Static<typeof ReadSnapBody>>(api, {
    path: "/chat33/readSnapMsg",
    summary:
      "阅读阅后即焚消息 — the recipient read a burn-after-reading friend message: deleted for both, a notice (msgType 6, type 15) to both",
    body: ReadSnapBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      if (req.body.type === 1) throw invalid("snap_in_group", "burn-after-reading messages are friend messages");
      await messages.readSnap(user, logIdOf(req.body.logId));
      return {};
    },
  });

  postRoute<Static<typeof ForwardBody>>(api, {
    path: "/chat33/forward",
    summary:
      "转发消息 — forward messages of a group (type 1) or friend (type 2) one by one (forwardType 1) or merged (2, msgType 8) to groups and friends; each target is checked like a send",
    body: ForwardBody,
    data: ForwardData,
    handler: async (req) => {
      const user = await me(req);
      const b = req.body;
      const sourceId =
        b.type === 1 ? groupId(b.sourceId) : (await userById(deps, b.sourceId, { includeDisabled: true })).id;
      // unparsable targets cannot receive: they are failures, like the original's
      const ids = (list: string[]) => list.map(parseId).filter((n): n is number => n !== null);
      const bad = {
        rooms: b.targetRooms.filter((r) => parseId(r) === null),
        users: b.targetUsers.filter((u) => parseId(u) === null),
      };
      const result = await forwarding.forward(user, {
        source: { kind: b.type === 1 ? "group" : "direct", id: sourceId },
        mode: b.forwardType === 1 ? "single" : "merge",
        logIds: b.logArray.map(logIdOf),
        groups: ids(b.targetRooms),
        users: ids(b.targetUsers),
        msgTypeOf: chat33MsgType,
      });
      const roomFails = [...bad.rooms, ...result.roomFails.map(String)];
      const userFails = [...bad.users, ...result.userFails.map(String)];
      return { failsNumber: roomFails.length + userFails.length, roomFails, userFails };
    },
  });

  postRoute<Static<typeof RevokeFilesBody>>(api, {
    path: "/chat33/RevokeFiles",
    summary:
      "批量撤回文件消息 — recall several file messages (msgType 9) of a group (type 1) or friend (type 2); the ones that cannot be recalled are listed",
    body: RevokeFilesBody,
    data: RevokeFilesData,
    handler: async (req) => {
      const user = await me(req);
      const fails: string[] = [];
      for (const raw of req.body.logs) {
        try {
          const logId = logIdOf(raw);
          const { message, conv } = await messages.visibleMessage(user, logId);
          if (message.kind !== "file" || (conv.kind === "group") !== (req.body.type === 1))
            throw notFound("message_not_found", "not a file message");
          await messages.recall(user, logId);
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          fails.push(raw);
        }
      }
      return { failsNumber: fails.length, fails };
    },
  });

  /** One page of a file/photo history, with the `owner` (sender) and `query` filters applied. */
  const historyPage = (views: MessageView[], nextId: string | null, remark: string, b: Static<typeof HistoryBody>) => {
    const q = b.query?.trim();
    const kept = views.filter(
      (v) =>
        (!b.owner || String(v.fromId) === b.owner) &&
        (!q || v.senderInfo.nickname.includes(q) || (typeof v.content.name === "string" && v.content.name.includes(q))),
    );
    return { logs: kept.map((v) => logView(v, remark)), nextLog: nextId ?? NO_MORE };
  };
  const startOf = (startId: string | undefined) => (startId && startId !== "0" ? logIdOf(startId) : null);

  for (const [path, kinds, what] of [
    ["/friend/historyFiles", FILE_KINDS, "文件 (msgType 9)"],
    ["/friend/historyPhotos", PHOTO_KINDS, "图片/视频 (msgType 3, 5)"],
  ] as const)
    postRoute<Static<typeof HistoryBody>>(api, {
      path,
      summary: `好友${what}记录 — newest first from startId (inclusive); burn-after-reading messages are left out; owner/query filter the page`,
      body: HistoryBody,
      data: HistoryData,
      handler: async (req) => {
        const user = await me(req);
        const b = req.body;
        if (b.startId === NO_MORE) return { logs: [], nextLog: NO_MORE };
        const peer = await userById(deps, b.id, { includeDisabled: true });
        const { views, nextId } = await messages.directHistoryOfKinds(
          user,
          peer.id,
          kinds,
          startOf(b.startId),
          b.number,
        );
        const remark = (await friends.remarks(user.id, [peer.id])).get(peer.id) ?? "";
        return historyPage(views, nextId, remark, b);
      },
    });

  for (const [path, kinds, what] of [
    ["/room/historyFiles", FILE_KINDS, "文件 (msgType 9)"],
    ["/room/historyPhotos", PHOTO_KINDS, "图片/视频 (msgType 3, 5)"],
  ] as const)
    postRoute<Static<typeof HistoryBody>>(api, {
      path,
      summary: `群${what}记录 — members only; newest first from startId (inclusive); owner/query filter the page`,
      body: HistoryBody,
      data: HistoryData,
      handler: async (req) => {
        const user = await me(req);
        const b = req.body;
        const group = await groups.requireMemberOf(user, groupId(b.id));
        if (b.startId === NO_MORE) return { logs: [], nextLog: NO_MORE };
        const conv = await messages.conversationById(group.conversationId);
        if (!conv) return { logs: [], nextLog: NO_MORE };
        const { views, nextId } = await messages.historyOfKinds(conv, kinds, startOf(b.startId), b.number);
        return historyPage(views, nextId, "", b);
      },
    });

  postRoute<Static<typeof ExtRemarkBody>>(api, {
    path: "/friend/setExtRemark",
    summary:
      "修改好友详细备注 — the remark plus telephones, description, pictures (shown as extRemark by /user/userInfo)",
    body: ExtRemarkBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const b = req.body;
      checkText(b.remark, b.description, ...(b.telephones ?? []).flatMap((t) => [t.remark, t.phone]));
      const friend = await userById(deps, b.id, { includeDisabled: true });
      if (friend.id === user.id) throw invalid("self_operation", "cannot do this to yourself");
      const ext = JSON.stringify({
        telephones: b.telephones ?? [],
        description: b.description ?? "",
        pictures: b.pictures ?? [],
        encrypt: b.encrypt ?? "",
      });
      await friends.setExtRemark(user, friend.id, b.remark.trim(), ext);
      return {};
    },
  });

  postRoute<Static<typeof BlockBody>>(api, {
    path: "/friend/block",
    summary: "加入黑名单 — the user can no longer message you or send you friend requests (-2032)",
    body: BlockBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const other = await userById(deps, req.body.userId, { includeDisabled: true });
      await friends.block(user, other.id);
      return {};
    },
  });

  postRoute<Static<typeof BlockBody>>(api, {
    path: "/friend/unblock",
    summary: "移出黑名单",
    body: BlockBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const other = await userById(deps, req.body.userId, { includeDisabled: true });
      await friends.unblock(user, other.id);
      return {};
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/friend/blocked-list",
    summary: "黑名单列表 — blocked users, newest first, as /friend/list entries (ended or no friendship included)",
    body: NoBody,
    data: FriendListData,
    handler: async (req) => {
      const user = await me(req);
      const rows = await friends.blocked(user);
      return {
        userList: rows.map(({ user: u, friendship, at }) => ({
          ...friendView(
            user,
            friendship ?? {
              userId: user.id,
              friendId: u.id,
              remark: "",
              noDisturbing: false,
              stickyOnTop: false,
              commonlyUsed: false,
              addedAt: at,
              deletedAt: at,
              updatedAt: at,
              extRemark: "",
            },
            u,
          ),
          isBlocked: 1,
        })),
      };
    },
  });

  postRoute<Static<typeof ConfirmBody>>(api, {
    path: "/friend/confirm",
    summary: "设置加好友是否需要验证 — 1 requests need your approval, 2 they are accepted at once",
    body: ConfirmBody,
    data: Empty,
    handler: async (req) => {
      await friends.setNeedConfirm(await me(req), req.body.tp === 1);
      return {};
    },
  });

  postRoute<Static<typeof QuestionBody>>(api, {
    path: "/friend/question",
    summary: "设置加好友问题 — tp 0 edit the question/answer, 1 require the answer, 2 do not (/friend/add answer)",
    body: QuestionBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const { tp, question = "", answer = "" } = req.body;
      checkText(question, answer);
      await friends.setQuestion(user, tp as 0 | 1 | 2, question.trim(), answer.trim());
      return {};
    },
  });

  postRoute<Static<typeof CheckAnswerBody>>(api, {
    path: "/friend/checkAnswer",
    summary: "校验加好友答案 — whether `answer` is the user's answer (true when they ask no question)",
    body: CheckAnswerBody,
    data: Type.Object({ success: Type.Boolean() }),
    handler: async (req) => {
      await me(req);
      const target = await userById(deps, req.body.friendId);
      const rules = await friends.rules(target.id);
      return { success: !rules.needAnswer || (req.body.answer ?? "").trim() === rules.answer };
    },
  });

  /** `/user/userInfo`'s view plus the later clients' fields (uid, blocks, friend-request rules). */
  const userCard = async (viewer: User, target: User) => {
    const [friendship, blocked, rules, full] = await Promise.all([
      friendshipBetween(friends, viewer.id, target.id),
      friends.isBlocked(viewer.id, target.id),
      friends.rules(target.id),
      friends.friendship(viewer.id, target.id),
    ]);
    let extRemark: unknown = {};
    try {
      if (full?.extRemark) extRemark = JSON.parse(full.extRemark);
    } catch {
      // written by us: always JSON
    }
    return {
      ...userInfoView(viewer, target, friendship),
      uid: target.uid,
      mark_id: target.uid,
      isBlocked: blocked ? 1 : 2,
      extRemark,
      needConfirm: rules.needConfirm ? 1 : 2,
      needAnswer: rules.needAnswer ? 1 : 2,
      question: rules.question,
    };
  };

  postRoute<Static<typeof UsersInfoBody>>(api, {
    path: "/user/usersInfo",
    summary: "批量获取用户详情 — by uid; unknown uids are left out",
    body: UsersInfoBody,
    data: UserList,
    handler: async (req) => {
      const viewer = await me(req);
      const userList = [];
      for (const uid of req.body.uids) {
        const u = await accounts.findByUid(uid);
        if (u && !u.disabled) userList.push(await userCard(viewer, u));
      }
      return { userList };
    },
  });

  postRoute<Static<typeof UidBody>>(api, {
    path: "/user/userInfoByUid",
    summary: "通过uid获取用户信息 — /user/userInfo by uid (-2001 when unknown)",
    body: UidBody,
    data: AnyData,
    handler: async (req) => {
      const viewer = await me(req);
      const u = await accounts.findByUid(req.body.uid.trim());
      if (!u || u.disabled) throw notFound("user_not_found", "user does not exist");
      return userCard(viewer, u);
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/user/logout",
    summary: "退出登录 — ends this session (its sockets are closed); the cookie is cleared",
    body: NoBody,
    data: Empty,
    handler: async (req, reply) => {
      const ctx = await requireUser(accounts, req.headers);
      await accounts.logout(ctx.session);
      reply.header("set-cookie", "FZM-AUTH-TOKEN=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
      return {};
    },
  });

  postRoute<Static<typeof PrintScreenBody>>(api, {
    path: "/friend/printScreen",
    summary: "阅后即焚截屏通知 — a notice (msgType 6, type 16) to both: the caller took a screenshot",
    body: PrintScreenBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const friend = await userById(deps, req.body.id);
      if (!(await messages.canDirect(user, friend))) throw new AppError("forbidden", "not_friends", "not your friend");
      await messages.postDirectNotice(
        user,
        friend.id,
        contentOrThrow("notice", { type: 16, operator: String(user.id), content: `${user.nickname} 截屏了` }),
      );
      return {};
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/open",
    summary: "应用启动 (埋点) — the client's start-up ping; nothing is recorded",
    body: Type.Object({}, { additionalProperties: true }),
    data: Empty,
    handler: async (req) => {
      await me(req);
      return {};
    },
  });

  for (const path of NOT_SUPPORTED_PUBLIC)
    postRoute<unknown>(api, {
      path,
      summary: "暂未开放 (-9002) — voice verification codes need the original's SMS provider (docs/chat33.md)",
      body: Type.Object({}, { additionalProperties: true }),
      data: Empty,
      handler: async () => {
        throw unavailable("not_supported", "not supported by Parley");
      },
    });

  for (const path of NOT_SUPPORTED_PATHS)
    postRoute<unknown>(api, {
      path,
      summary: "暂未开放 (-9002) — needs the original's external services (docs/chat33.md)",
      body: Type.Object({}, { additionalProperties: true }),
      data: Empty,
      handler: async (req) => {
        await me(req);
        throw unavailable("not_supported", "not supported by Parley");
      },
    });
}
