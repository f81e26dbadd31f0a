import type { Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { forbidden, invalid, notFound } from "../../core/errors.ts";
import { contentFromUpload, type MessageContent } from "../../core/messages/content.ts";
import type { MessageKind, User } from "../../ports/storage.ts";
import { type EnterpriseContext, publicBase, routeWith405 } from "./context.ts";
import { type Envelope, ok } from "./envelope.ts";
import { fileUrls } from "./file-routes.ts";
import { kindFromEnterprise } from "./kinds.ts";
import {
  directSessionVo,
  groupMsgVo,
  groupSessionVo,
  type ReadState,
  type SessionVo,
  SYSTEM_ENTRIES,
  savedMsgVo,
  singleMsgVo,
  systemEntryVo,
} from "./message-presenters.ts";
import {
  FindGroupMsgParams,
  FindSingleMsgParams,
  MessageResponses,
  MySessionParams,
  SaveSingleMsgParams,
} from "./message-schemas.ts";

const tags = ["enterprise (001)"];

/**
 * Direct messages and the conversation list (seed 001 "消息操作接口", `my_session`). Parameters
 * as in auth-routes.ts: query, form or JSON, merged.
 */
export function registerMessageRoutes(api: FastifyInstance, ctx: EnterpriseContext): void {
  const { messages, friends, groups, files, config, mount } = ctx.deps;

  routeWith405(api, {
    method: "POST",
    url: "/api/save_single_msg",
    schema: {
      summary: "发送 单聊消息 — send a direct message (idempotent by `id`)",
      tags,
      querystring: SaveSingleMsgParams,
      response: MessageResponses.save,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof SaveSingleMsgParams>;
      const { user } = await ctx.auth(req);
      if (p.senderId !== user.id) throw forbidden("not_self", "senderId must be the caller");
      const kind = kindFromEnterprise(p.type) as MessageKind; // 1–5 all map (schema)
      let content: MessageContent;
      try {
        // 001's parameter rule: a text message needs non-blank `content` (a caption may be empty)
        if (kind === "text" && p.content.trim() === "") throw invalid("missing_parameter", "content is empty");
        const file = kind !== "text" && p.fileId ? await files.owned(user, p.fileId) : null;
        const url = file ? fileUrls(publicBase(config.publicUrl, req), mount, file).hdUrl : "";
        // the canonical content rules (core/messages/content.ts), serialised once, here
        content = contentFromUpload(kind, p.content, file, url);
      } catch (e) {
        // A retry answers like the first send even if the content check would now fail (file
        // gone…): the stored original for a known client id. Only on this failure path do we
        // look — a send in the normal case costs no extra query.
        const prior = await messages.findSent(user, p.id);
        if (!prior) throw e;
        return ok(savedMsgVo(prior), "消息发送成功");
      }
      const { view } = await messages.sendDirect(user, p.receiverId, { clientMsgId: p.id, content });
      return ok(savedMsgVo(view), "消息发送成功");
    },
  });

  routeWith405(api, {
    method: "POST",
    url: "/api/find_single_msg",
    schema: {
      summary: "获取 单聊消息 — a page of a direct conversation, newest first (page 1 marks it read)",
      tags,
      querystring: FindSingleMsgParams,
      response: MessageResponses.findSingle,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof FindSingleMsgParams>;
      const { user } = await ctx.auth(req);
      const page = p.page ?? 1;
      const size = p.size ?? 20;
      // Only a participant may read a conversation; to anyone else it does not exist.
      if (p.senderId !== user.id && p.receiverId !== user.id) throw notFound("conversation_not_found");
      const peerId = p.senderId === user.id ? p.receiverId : p.senderId;
      if (peerId === user.id) throw notFound("conversation_not_found");
      // Reading the newest page is what "opening the conversation" means: it marks the peer's
      // messages read (and publishes 1006 to the peer) — only when something was unread.
      const { total, items } = await messages.openDirectPage(user, peerId, page, size);
      const data = items.map((it) => singleMsgVo(it.view, it.readByRecipient ? 2 : 0));
      return ok({ totalElements: total, totalPages: Math.ceil(total / size), data }, "操作成功！");
    },
  });

  routeWith405(api, {
    method: "POST",
    url: "/api/find_group_msg",
    schema: {
      summary: "获取 群聊消息 — a page of a group's history, newest first, members only (page 1 marks it read)",
      tags,
      querystring: FindGroupMsgParams,
      response: MessageResponses.findGroup,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof FindGroupMsgParams>;
      const { user } = await ctx.auth(req);
      if (p.userId !== undefined && p.userId !== user.id) throw forbidden("not_self", "userId must be the caller");
      const size = p.size ?? 20;
      // non-members (and unknown groups) get 404 群组不存在
      const { total, views, cursor } = await groups.page(user, p.groupId, p.page ?? 1, size);
      const data = views.map((v) => groupMsgVo(v, v.fromId === user.id || v.seq <= cursor ? 2 : 0));
      return ok({ totalElements: total, totalPages: Math.ceil(total / size), data }, "操作成功！");
    },
  });

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/api/my_session",
    schema: {
      summary: "我的消息会话列表 MY_SESSION — system entries, then conversations newest first",
      tags,
      querystring: MySessionParams,
      response: MessageResponses.mySession,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof MySessionParams>;
      const { user } = await ctx.auth(req);
      if (p.userId !== undefined && p.userId !== user.id) throw forbidden("not_self", "userId must be the caller");
      const [pending, applications, summaries, groupRows] = await Promise.all([
        friends.pendingCount(user.id),
        groups.pendingCount(user.id),
        messages.directSummaries(user, { peerCursors: true }),
        groups.summaries(user),
      ]);
      const list: SessionVo[] = [
        systemEntryVo(SYSTEM_ENTRIES.newFriends, pending),
        systemEntryVo(SYSTEM_ENTRIES.groupHelper, applications),
        systemEntryVo(SYSTEM_ENTRIES.analysis, 0),
      ];
      const conversations: SessionVo[] = [];
      for (const s of summaries) {
        if (!s.last) continue;
        conversations.push(directSessionVo(s.last, s.peer, lastState(user, s), s.unread));
      }
      const withMessages = groupRows.filter((g) => g.last !== null);
      const names = await groups.memberNames(withMessages.map((g) => g.group.id));
      for (const g of withMessages)
        if (g.last)
          conversations.push(
            groupSessionVo(g.last, g.group, names.get(g.group.id) ?? "", g.unread === 0 ? 2 : 0, g.unread),
          );
      // direct and group conversations together, newest first
      conversations.sort((a, b) => (b.sendTime ?? 0) - (a.sendTime ?? 0));
      list.push(...conversations);
      return ok(list, "查询成功");
    },
  });

  /** Read state of a conversation's last message, from its recipient's cursor. */
  function lastState(
    user: User,
    s: { last: { fromId: number; seq: number } | null; unread: number; peerReadSeq: number },
  ): ReadState {
    if (!s.last) return 0;
    if (s.last.fromId !== user.id) return s.unread === 0 ? 2 : 0;
    return s.peerReadSeq >= s.last.seq ? 2 : 0;
  }
}
