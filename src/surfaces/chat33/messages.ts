import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { invalid, notFound } from "../../core/errors.ts";
import type { User } from "../../ports/storage.ts";
import type { SurfaceDeps } from "../deps.ts";
import { requireUser } from "./auth.ts";
import { applyItem, logView, visiblePosition } from "./friend-presenters.ts";
import {
  ApplyListBody,
  ApplyListData,
  ChatLogBody,
  ChatLogData,
  MarkReadBody,
  MsgOpBody,
  SearchBody,
  SearchData,
  UnreadData,
} from "./friend-schemas.ts";
import { postRoute } from "./http.ts";
import { logIdOf, parseId, userById } from "./ids.ts";
import { Empty, NoBody } from "./schemas.ts";

/** No more records: the `nextLog` / `nextId` of the last page. */
export const NO_MORE = "-1";

/** `type` of the message operations: 1 group message, 2 friend message. */
const GROUP = 1;

/** Paths of the delete / recall operations: the document leaves them empty (SPEC §4.3 names them). */
export const DELETE_PATHS = ["/chat33/deleteMsg", "/deleteMsg"] as const;
export const REVOKE_PATHS = ["/chat33/revokeMsg", "/withdrawMsg", "/chat33/RevokeMessage"] as const;

/**
 * Message routes over HTTP: friend history and unread counts, delete / recall, mark read, plus
 * the two `/chat33/*` lookups (applyList, search). Sending is WebSocket event 0 (socket.ts).
 */
export function messageRoutes(api: FastifyInstance, deps: SurfaceDeps): void {
  const { accounts, friends, messages } = deps;
  const me = async (req: FastifyRequest) => (await requireUser(accounts, req.headers)).user;
  const remarkFor = async (userId: number, friendId: number) =>
    (await friends.friendship(userId, friendId))?.remark ?? "";

  postRoute<Static<typeof ChatLogBody>>(api, {
    path: "/friend/chatLog",
    summary: '获取好友消息记录 — newest first from startId (inclusive); nextLog = next older logId or "-1"',
    body: ChatLogBody,
    data: ChatLogData,
    handler: async (req) => {
      const user = await me(req);
      const { id, startId, number } = req.body;
      const peer = await userById(deps, id, { includeDisabled: true });
      if (startId === NO_MORE) return { logs: [], nextLog: NO_MORE };
      const before = startId ? logIdOf(startId) : null;
      const { views, nextId } = await messages.directHistory(user, peer.id, before, number);
      const remark = await remarkFor(user.id, peer.id);
      return { logs: views.map((v) => logView(v, remark)), nextLog: nextId ?? NO_MORE };
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/friend/unread",
    summary: "获取所有好友未读消息统计 — conversations with unread messages: count and last message",
    body: NoBody,
    data: UnreadData,
    handler: async (req) => {
      const user = await me(req);
      const unread = (await messages.directSummaries(user)).filter((s) => s.unread > 0 && s.last);
      // the viewer's remarks of every listed friend in one query (not one per conversation)
      const remarks = await friends.remarks(
        user.id,
        unread.map((s) => s.peer.id),
      );
      const infos = unread.map((s) => ({
        id: String(s.peer.id),
        number: s.unread,
        lastLog: logView(s.last as NonNullable<typeof s.last>, remarks.get(s.peer.id) ?? ""),
      }));
      return { infos };
    },
  });

  // Delete and recall share body, checks and answer; only the core operation differs.
  const ops = [
    {
      paths: DELETE_PATHS,
      summary: "删除指定的一条消息 — the sender deletes it for everyone (event 10, operateType 2)",
      run: (user: User, logId: number) => messages.delete(user, logId),
    },
    {
      paths: REVOKE_PATHS,
      summary: "撤回指定的一条消息 — own message within messages.recallWindowMs (event 10, operateType 1)",
      run: (user: User, logId: number) => messages.recall(user, logId),
    },
  ];
  for (const op of ops)
    for (const path of op.paths)
      postRoute<Static<typeof MsgOpBody>>(api, {
        path,
        summary: op.summary,
        body: MsgOpBody,
        data: Empty,
        handler: async (req) => {
          const user = await me(req);
          const logId = logIdOf(req.body.logId);
          // groups are not built yet: no group message exists that one could delete or recall
          if (req.body.type === GROUP) throw notFound("message_not_found", "message not found");
          await op.run(user, logId);
          return {};
        },
      });

  postRoute<Static<typeof MarkReadBody>>(api, {
    path: "/chat33/markRead",
    summary: "标记已读 (Parley extension) — move the read cursor to logId (all when absent)",
    body: MarkReadBody,
    data: Empty,
    handler: async (req) => {
      const user = await me(req);
      const { type, id, logId } = req.body;
      if (type === GROUP) throw notFound("group_not_found", "no such group");
      const peer = await userById(deps, id, { includeDisabled: true });
      if (logId === undefined) {
        await messages.markDirectRead(user, peer.id);
        return {};
      }
      // the message must belong to the conversation with `id` (and be visible to the user)
      await messages.markDirectReadUpTo(user, peer.id, logIdOf(logId));
      return {};
    },
  });

  postRoute<Static<typeof ApplyListBody>>(api, {
    path: "/chat33/applyList",
    summary: "获取入群/好友申请列表 — friend requests (type 2) sent or received, newest first, from `id` (inclusive)",
    body: ApplyListBody,
    data: ApplyListData,
    handler: async (req) => {
      const user = await me(req);
      const { id, number } = req.body;
      let before: number | null = null;
      if (id === NO_MORE)
        before = 1; // past the oldest record: an empty page (with the total)
      else if (id !== "" && id !== "0") {
        const n = parseId(id);
        if (n === null) throw invalid("bad_apply_id", "id must be a record id");
        before = n + 1; // the storage pages with "id < before"; the document's id is inclusive
      }
      const { total, list } = await friends.requests(user, before, number + 1);
      const page = list.slice(0, number);
      return {
        applyList: page.map(({ request, from, to }) => applyItem(user, request, from, to)),
        totalNumber: total,
        nextId: list.length > number ? String(list[number].request.id) : NO_MORE,
      };
    },
  });

  postRoute<Static<typeof SearchBody>>(api, {
    path: "/chat33/search",
    summary: "精确搜索用户/群 — a user by markId (its uid); groups later",
    body: SearchBody,
    data: SearchData,
    handler: async (req) => {
      const user = await me(req);
      const found = await accounts.findByUid(req.body.markId.trim());
      if (!found || found.disabled) throw notFound("user_not_found", "user does not exist");
      const remark = found.id === user.id ? "" : await remarkFor(user.id, found.id);
      return {
        type: 2,
        userInfo: {
          id: String(found.id),
          name: found.nickname,
          avatar: found.avatar,
          position: visiblePosition(user, found),
          remark,
        },
      };
    },
  });
}
