import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { invalid, notFound } from "../../core/errors.ts";
import type { User } from "../../ports/storage/accounts.ts";
import { requireUser } from "./auth.ts";
import type { Chat33Deps } from "./deps.ts";
import { applyItem, logView, visiblePosition } from "./friend-presenters.ts";
import {
  ApplyListBody,
  ApplyListData,
  ChatLogBody,
  ChatLogData,
  MarkReadBody,
  MsgOpBody,
  ReadStateBody,
  ReadStateData,
  SearchBody,
  SearchData,
  UnreadData,
} from "./friend-schemas.ts";
import { postRoute } from "./http.ts";
import { logIdOf, parseId, userById } from "./ids.ts";
import { groupApplyItem, roomCard } from "./room-presenters.ts";
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
export function messageRoutes(api: FastifyInstance, deps: Chat33Deps): void {
  const { accounts, friends, messages, groups } = deps;
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
          // `type` says which kind of message the client means: 1 group, 2 friend
          const { conv } = await messages.visibleMessage(user, logId);
          if ((conv.kind === "group") !== (req.body.type === GROUP))
            throw notFound("message_not_found", "message not found");
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
      if (type === GROUP) {
        const roomId = parseId(id);
        if (roomId === null) throw notFound("group_not_found", "no such group");
        await groups.markRead(user, roomId, logId === undefined ? null : logIdOf(logId));
        return {};
      }
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

  postRoute<Static<typeof ReadStateBody>>(api, {
    path: "/chat33/readState",
    summary: "好友会话已读状态 (Parley extension) — both read cursors (seq) of the conversation with id",
    body: ReadStateBody,
    data: ReadStateData,
    handler: async (req) => {
      const user = await me(req);
      const peer = await userById(deps, req.body.id, { includeDisabled: true });
      const { mine, peer: theirs } = await messages.directReadState(user, peer.id);
      return { readSeq: mine, peerReadSeq: theirs };
    },
  });

  postRoute<Static<typeof ApplyListBody>>(api, {
    path: "/chat33/applyList",
    summary:
      "获取入群/好友申请列表 — group applications (type 1) and friend requests (type 2) the caller sees, newest first; nextId is a cursor to pass back as id",
    body: ApplyListBody,
    data: ApplyListData,
    handler: async (req) => {
      const user = await me(req);
      const { id, number } = req.body;
      const cursor = applyCursor(id);
      const [fr, gr] = await Promise.all([
        friends.requests(user, cursor.friend, number + 1),
        groups.applications(user, cursor.group, number + 1),
      ]);
      // merge the two newest-first lists by creation time
      type Item = { at: number; id: number; src: "f" | "g"; item: ReturnType<typeof applyItem> };
      const items: Item[] = [
        ...fr.list.map(({ request, from, to }) => ({
          at: request.createdAt,
          id: request.id,
          src: "f" as const,
          item: applyItem(user, request, from, to),
        })),
        ...gr.list.map(({ application, user: u, group }) => ({
          at: application.createdAt,
          id: application.id,
          src: "g" as const,
          item: groupApplyItem(user, application, u, group),
        })),
      ].sort((a, b) => b.at - a.at || b.id - a.id);
      const page = items.slice(0, number);
      let friendNext = cursor.friend;
      let groupNext = cursor.group;
      for (const x of page) {
        if (x.src === "f") friendNext = x.id;
        else groupNext = x.id;
      }
      return {
        applyList: page.map((x) => x.item),
        totalNumber: fr.total + gr.total,
        // without group applications the cursor stays the document's: the next older record (inclusive)
        nextId:
          items.length <= number
            ? NO_MORE
            : gr.total === 0
              ? String(items[number].id)
              : `${friendNext ?? 0}.${groupNext ?? 0}`,
      };
    },
  });

  postRoute<Static<typeof SearchBody>>(api, {
    path: "/chat33/search",
    summary: "精确搜索用户/群 — a group by its markId (type 1) or a user by its uid (type 2); the two never collide",
    body: SearchBody,
    data: SearchData,
    handler: async (req) => {
      const user = await me(req);
      const markId = req.body.markId.trim();
      const group = await groups.findByMarkId(markId);
      if (group) return { type: 1, roomInfo: roomCard(group) };
      const found = await accounts.findByUid(markId);
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

/**
 * The `/chat33/applyList` cursor. Friend requests and group applications are two id sequences,
 * so the `nextId` Parley hands out is `"<friendBefore>.<groupBefore>"` (exclusive, 0 = from the
 * newest). A plain record id `N` (the document's form) starts both lists at `N` inclusive;
 * `""`/`"0"` is the newest page, `"-1"` past the end.
 */
function applyCursor(id: string): { friend: number | null; group: number | null } {
  if (id === "" || id === "0") return { friend: null, group: null };
  if (id === NO_MORE) return { friend: 1, group: 1 };
  const pair = /^([0-9]{1,15})\.([0-9]{1,15})$/.exec(id);
  if (pair) {
    const f = Number(pair[1]);
    const g = Number(pair[2]);
    return { friend: f === 0 ? null : f, group: g === 0 ? null : g };
  }
  const n = parseId(id);
  if (n === null) throw invalid("bad_apply_id", "id must be a record id");
  return { friend: n + 1, group: n + 1 };
}
