import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { invalid, notFound } from "../../core/errors.ts";
import { noticeBecameFriends, noticeUnfriended } from "../../core/friends/notices.ts";
import type { Friendship } from "../../ports/storage/friends.ts";
import { requireUser } from "./auth.ts";
import type { Chat33Deps } from "./deps.ts";
import { friendView, requestItem } from "./friend-presenters.ts";
import {
  CommonlyUsedBody,
  FriendAddBody,
  FriendIdBody,
  FriendListBody,
  FriendListData,
  FriendResponseBody,
  REQUEST_LIST_MAX,
  RequestListData,
  SetNoDisturbingBody,
  SetRemarkBody,
  StickyOnTopBody,
} from "./friend-schemas.ts";
import { postRoute } from "./http.ts";
import { parseId, userById } from "./ids.ts";
import { Empty, NoBody } from "./schemas.ts";

const CONTROL_RE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** Remarks and reasons are shown to people: no control or format characters. */
export function checkText(...values: Array<string | undefined>): void {
  for (const v of values) if (v && CONTROL_RE.test(v)) throw invalid("bad_text", "text contains control characters");
}

type Patch = Partial<Pick<Friendship, "remark" | "noDisturbing" | "stickyOnTop" | "commonlyUsed">>;

/** The friend routes of seed 002 (好友有关接口) except the message ones (see messages.ts). */
export function friendRoutes(api: FastifyInstance, deps: Chat33Deps): void {
  const { accounts, friends } = deps;
  const me = async (req: FastifyRequest) => (await requireUser(accounts, req.headers)).user;

  postRoute<Static<typeof FriendAddBody>>(api, {
    path: "/friend/add",
    summary:
      "添加好友申请 — send a friend request (both users get WebSocket event 31); state 1 wrong answer, 2 waiting, 3 friends at once",
    body: FriendAddBody,
    data: Type.Object({ state: Type.Integer({ description: "1 wrong answer, 2 waiting for approval, 3 added" }) }),
    handler: async (req) => {
      const user = await me(req);
      const { id, remark, reason, sourceType, sourceId, answer } = req.body;
      // the later clients say where the request comes from; 4 = a group, whose id is sourceId
      const roomId = req.body.roomId || (sourceType === 4 ? sourceId : undefined);
      checkText(remark, reason, answer);
      const target = await userById(deps, id);
      if (roomId) {
        // from a group: both must be its members, and the group must allow it (canAddFriend 1)
        const room = parseId(roomId);
        if (room === null) throw notFound("group_not_found", "no such group");
        await deps.groups.mayBefriendVia(user, room, target.id);
      }
      const { state } = await friends.requestUnderRules(user, target.id, {
        remark,
        reason,
        roomId: roomId || null,
        answer,
      });
      if (state === "added") await noticeBecameFriends(deps.messages, target, user);
      return { state: state === "wrong_answer" ? 1 : state === "waiting" ? 2 : 3 };
    },
  });

  postRoute<Static<typeof FriendResponseBody>>(api, {
    path: "/friend/response",
    summary: "好友申请处理 — accept (1) or refuse (2) the waiting request from `id` (event 31 to both)",
    body: FriendResponseBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const from = await userById(deps, req.body.id);
      const done = await friends.respond(user, from.id, req.body.agree === 1);
      // the later server's notice in the conversation: "你们已经成为好友了"
      if (done.status === 3) await noticeBecameFriends(deps.messages, user, from);
      return {};
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/friend/requestList",
    summary: `获取好友请求列表 — the newest ${REQUEST_LIST_MAX} requests sent or received, newest first`,
    body: NoBody,
    data: RequestListData,
    handler: async (req) => {
      const user = await me(req);
      const { list } = await friends.requests(user, null, REQUEST_LIST_MAX);
      return list.map(({ request, from, to }) => requestItem(user, request, from.id === user.id ? to : from));
    },
  });

  postRoute<Static<typeof FriendListBody>>(api, {
    path: "/friend/list",
    summary: "获取好友列表 — type 1 普通, 2 常用, 3 全部; `time` = changes after it, ended friendships included",
    body: FriendListBody,
    data: FriendListData,
    handler: async (req) => {
      const user = await me(req);
      const { type, time } = req.body;
      const rows = await friends.list(user, time ?? null);
      const wanted = rows.filter(({ friendship: f }) => type === 3 || f.commonlyUsed === (type === 2));
      // as the later server: the full list leaves blocked friends out (see /friend/blocked-list);
      // a `time` query lists them, with isBlocked 1
      const blocked = await friends.blockedAmong(
        user,
        wanted.map((r) => r.user.id),
      );
      return {
        userList: wanted
          .filter((r) => time !== undefined || !blocked.has(r.user.id))
          .map(({ friendship, user: u }) => ({
            ...friendView(user, friendship, u),
            isBlocked: blocked.has(u.id) ? 1 : 2,
          })),
      };
    },
  });

  postRoute<Static<typeof FriendIdBody>>(api, {
    path: "/friend/delete",
    summary: "删除好友 — end the friendship (both directions); history stays",
    body: FriendIdBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const friend = await userById(deps, req.body.id, { includeDisabled: true });
      if (friend.id === user.id) throw invalid("self_operation", "cannot do this to yourself");
      await friends.remove(user, friend.id);
      // event 32 went to both (core); the notice "对方已经和你解除好友关系" follows in the chat
      await noticeUnfriended(deps.messages, user, friend.id);
      return {};
    },
  });

  /** The per-friend settings: each route patches one field of the viewer's side of the friendship. */
  const setting = <B extends { id: string }>(
    path: string,
    summary: string,
    body: typeof SetRemarkBody | typeof SetNoDisturbingBody | typeof StickyOnTopBody | typeof CommonlyUsedBody,
    patch: (b: B) => Patch,
  ) =>
    postRoute<B>(api, {
      path,
      summary,
      body,
      data: Empty,
      handler: async (req) => {
        const user = await me(req);
        const b = req.body as B;
        const p = patch(b);
        checkText(p.remark);
        const friend = await userById(deps, b.id, { includeDisabled: true });
        if (friend.id === user.id) throw invalid("self_operation", "cannot do this to yourself");
        await friends.setOptions(user, friend.id, p);
        return {};
      },
    });

  setting<Static<typeof SetRemarkBody>>(
    "/friend/setRemark",
    '修改好友备注 — set (or clear with "") the remark for a friend',
    SetRemarkBody,
    (b) => ({ remark: b.remark.trim() }),
  );
  for (const path of ["/friend/setNoDisturbing", "/friend/setDND"])
    setting<Static<typeof SetNoDisturbingBody>>(
      path,
      "设置免打扰 — 1 on, 2 off (/friend/setDND is the document's other name)",
      SetNoDisturbingBody,
      (b) => ({ noDisturbing: b.setNoDisturbing === 1 }),
    );
  setting<Static<typeof StickyOnTopBody>>(
    "/friend/stickyOnTop",
    "设置消息置顶 — 1 on, 2 off",
    StickyOnTopBody,
    (b) => ({ stickyOnTop: b.stickyOnTop === 1 }),
  );
  setting<Static<typeof CommonlyUsedBody>>(
    "/friend/setCommonlyUsed",
    "设置常用好友 (Parley extension) — 1 普通, 2 常用 (what /friend/list type 1/2 filter on)",
    CommonlyUsedBody,
    (b) => ({ commonlyUsed: b.commonlyUsed === 2 }),
  );
}
