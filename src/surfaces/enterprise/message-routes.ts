import type { Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { forbidden, invalid, notFound } from "../../core/errors.ts";
import { isMedia } from "../../core/files/sniff.ts";
import { kindFromEnterprise } from "../../core/messages/kinds.ts";
import type { Json } from "../../ports/hub.ts";
import type { MessageKind, StoredFile, User } from "../../ports/storage.ts";
import { type EnterpriseContext, publicBase, routeWith405 } from "./context.ts";
import { type Envelope, ok } from "./envelope.ts";
import { fileUrls } from "./file-routes.ts";
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
  const { messages, friends, groups, files, storage, config, mount } = ctx.deps;

  /** The canonical content of an enterprise message (SPEC §2: one JSON shape per kind). */
  function canonicalContent(
    kind: MessageKind,
    text: string,
    file: StoredFile | null,
    base: string,
  ): { [key: string]: Json } {
    if (kind === "text") return { content: text };
    if (!file) throw invalid("missing_file");
    const { hdUrl } = fileUrls(base, mount, file);
    const content: { [key: string]: Json } = { content: text, fileId: file.id };
    if (kind === "image") {
      if (!file.mime.startsWith("image/")) throw invalid("file_kind_mismatch");
      return { ...content, imageUrl: hdUrl, width: file.width ?? 0, height: file.height ?? 0 };
    }
    if (kind === "audio" || kind === "video") {
      if (!isMedia(file.mime)) throw invalid("file_kind_mismatch");
      return { ...content, mediaUrl: hdUrl };
    }
    return { ...content, fileUrl: hdUrl, name: file.name, size: file.size };
  }

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
      let content: { [key: string]: Json };
      try {
        if (kind === "text" && p.content.trim() === "") throw invalid("missing_parameter", "content is empty");
        const file = kind !== "text" && p.fileId ? await files.owned(user, p.fileId) : null;
        content = canonicalContent(kind, p.content, file, publicBase(config.publicUrl, req));
      } catch (e) {
        // A retry answers like the first send even if the content check would now fail (file
        // gone…): the core returns the stored original for a known client id. Only on this
        // failure path do we look — a send in the normal case costs no extra query.
        if (!(await storage.messages.bySenderClientId(user.id, p.id))) throw e;
        content = {};
      }
      const { view } = await messages.sendDirect(user, p.receiverId, { clientMsgId: p.id, kind, content });
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
      const conv = await messages.findDirect(user.id, peerId);
      // Reading the newest page is what "opening the conversation" means: it marks the peer's
      // messages read (and publishes 1006 to the peer) — only when something was unread.
      if (conv && page === 1 && (await storage.messages.unreadCount(conv.id, user.id)) > 0)
        await messages.markDirectRead(user, peerId);
      const { total, views } = await messages.directPage(user, peerId, page, size);
      const [mine, theirs] = conv
        ? await Promise.all([
            storage.messages.readCursor(conv.id, user.id),
            storage.messages.readCursor(conv.id, peerId),
          ])
        : [0, 0];
      const data = views.map((v) => {
        const cursor = v.fromId === user.id ? theirs : mine;
        return singleMsgVo(v, v.seq <= cursor ? 2 : 0);
      });
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
        messages.directSummaries(user),
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
        conversations.push(directSessionVo(s.last, s.peer, await lastState(user, s), s.unread));
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
  async function lastState(
    user: User,
    s: { conv: { id: number }; peer: User; last: { fromId: number; seq: number } | null; unread: number },
  ): Promise<ReadState> {
    if (!s.last) return 0;
    if (s.last.fromId !== user.id) return s.unread === 0 ? 2 : 0;
    return (await storage.messages.readCursor(s.conv.id, s.peer.id)) >= s.last.seq ? 2 : 0;
  }
}
