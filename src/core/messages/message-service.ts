import type { Logger } from "pino";
import type { Json } from "../../ports/hub.ts";
import type { Conversation, ConversationKind, Message, MessageKind, Storage, User } from "../../ports/storage.ts";
import type { Realtime } from "../../realtime/realtime.ts";
import { userTopic } from "../accounts/account-service.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import { forbidden, invalid, notFound } from "../errors.ts";
import type { FriendService } from "../friends/friend-service.ts";
import { BatchWriter } from "./batch-writer.ts";

export interface MessagesOptions {
  /** How long after sending a user may recall their own message. */
  recallWindowMs: number;
  maxBatch?: number;
}

/** A message as every surface presents it (surfaces rename fields and map `kind`). */
export interface MessageView {
  logId: string;
  conversationId: number;
  conversationKind: ConversationKind;
  seq: number;
  fromId: number;
  /** Direct: the recipient's user id; group/chat room: the group/room id. */
  targetId: number;
  clientMsgId: string;
  kind: MessageKind;
  content: { [key: string]: Json };
  datetime: number;
  recalled: boolean;
  senderInfo: { nickname: string; avatar: string };
  [key: string]: Json;
}

/** Published to the users of a conversation after a message committed. */
export type MessageNewEvent = { type: "message.new"; message: MessageView };
/** Published when a message was recalled or deleted (chat33 event 10). */
export type MessageChangedEvent = {
  type: "message.changed";
  op: "recall" | "delete";
  logId: string;
  conversationId: number;
  conversationKind: ConversationKind;
  operatorId: number;
  operatorName: string;
};
/** Published when a user's read cursor moved (enterprise 1006). */
export type MessageReadEvent = {
  type: "message.read";
  conversationId: number;
  conversationKind: ConversationKind;
  readerId: number;
  /** The other participant of a direct conversation. */
  peerId: number;
  seq: number;
  logId: string;
};

export const directKey = (a: number, b: number) => (a < b ? `d:${a}:${b}` : `d:${b}:${a}`);

/**
 * Who may read a conversation kind, who may moderate it (recall or delete anyone's message), and
 * which topics receive its events. `direct` is built in; groups register theirs
 * (core/groups/group-service.ts). The pipeline itself (seq, dedupe, unread, publish after commit)
 * is the same for every kind.
 */
export interface ConversationPolicy {
  canRead(userId: number, conv: Conversation): Promise<boolean>;
  /** May recall or delete other members' messages (group owner / admin). */
  canModerate(userId: number, conv: Conversation): Promise<boolean>;
  /** Topics that receive new messages, recalls and deletions. */
  topics(conv: Conversation): Promise<string[]>;
  /** Topics that receive a member's read-cursor move (empty: nobody is told). */
  readTopics(conv: Conversation, readerId: number): Promise<string[]>;
}

export interface SendInput {
  clientMsgId: string;
  kind: MessageKind;
  content: { [key: string]: Json };
}

/**
 * The message pipeline every conversation type reuses: policy checks, group-committed writes with
 * per-conversation gapless seq and idempotent client ids, publication after commit, history,
 * recall/delete, read cursors and unread counts. Direct conversations are defined here; groups and
 * chat rooms add their own membership rules on top.
 */
export class MessageService {
  private readonly writer: BatchWriter;
  /** Conversations by key: their identity never changes, so one lookup per key is enough. */
  private readonly conversations = new Map<string, Conversation>();
  private readonly byId = new Map<number, Conversation>();
  private readonly policies = new Map<ConversationKind, ConversationPolicy>();

  constructor(
    private readonly storage: Storage,
    private readonly realtime: Realtime,
    private readonly friends: FriendService,
    private readonly opts: MessagesOptions,
    private readonly log: Logger,
    private readonly userCache: UserCache,
  ) {
    this.writer = new BatchWriter(storage.messages, opts.maxBatch, () => realtime.holdWrites());
    const participants = (conv: Conversation) => Promise.resolve(this.participants(conv).map(userTopic));
    this.policies.set("direct", {
      canRead: async (userId, conv) => this.isParticipant(userId, conv),
      canModerate: async () => false,
      topics: participants,
      readTopics: participants,
    });
  }

  /** Installs the policy of a conversation kind (groups, chat rooms). */
  registerPolicy(kind: ConversationKind, policy: ConversationPolicy): void {
    this.policies.set(kind, policy);
  }

  private policy(conv: Conversation): ConversationPolicy | null {
    return this.policies.get(conv.kind) ?? null;
  }

  /** A conversation by id (cached: a conversation's identity never changes). */
  async conversationById(id: number): Promise<Conversation | null> {
    const hit = this.byId.get(id);
    if (hit) return hit;
    const conv = await this.storage.messages.conversation(id);
    if (conv) {
      if (this.byId.size >= 100_000) this.byId.clear();
      this.byId.set(id, conv);
    }
    return conv;
  }

  /**
   * Stores a message in a conversation whose policy checks the caller made already (group
   * membership, mutes) and publishes it to the policy's topics after the commit. A retry with the
   * same client id returns the original and publishes nothing.
   */
  async sendInConversation(
    sender: User,
    conv: Conversation,
    input: SendInput,
  ): Promise<{ view: MessageView; duplicate: boolean; published: boolean }> {
    const policy = this.policy(conv);
    if (!policy) throw notFound("conversation_not_found", "conversation not found");
    const { message, duplicate } = await this.writer.submit({
      conversationId: conv.id,
      senderId: sender.id,
      clientMsgId: input.clientMsgId,
      kind: input.kind,
      content: input.content,
      createdAt: Date.now(),
    });
    // a retry of a message first sent to another conversation is that message, wherever it went
    const stored = message.conversationId === conv.id ? conv : await this.conversationById(message.conversationId);
    const view = this.view(message, stored ?? conv, sender);
    const published =
      !duplicate && (await this.publishTopics(await policy.topics(conv), { type: "message.new", message: view }));
    return { view, duplicate, published };
  }

  /** The stored message a sender's earlier send with `clientMsgId` produced, as a view. */
  async priorSend(sender: User, clientMsgId: string): Promise<MessageView | null> {
    const prior = await this.storage.messages.bySenderClientId(sender.id, clientMsgId);
    const conv = prior ? await this.conversationById(prior.conversationId) : null;
    return prior && conv ? this.view(prior, conv, sender) : null;
  }

  /** SPEC §2: friends, and colleagues of the same company, may talk directly. */
  async canDirect(a: User, b: User): Promise<boolean> {
    if (a.companyId !== null && a.companyId === b.companyId) return true;
    return this.friends.areFriends(a.id, b.id);
  }

  private async peer(actor: User, peerId: number): Promise<User> {
    if (peerId === actor.id) throw invalid("self_operation", "cannot message yourself");
    const peer = await this.userCache.get(peerId);
    if (!peer) throw notFound("user_not_found", "user does not exist");
    return peer;
  }

  private async conversationFor(key: string, fields: Omit<Conversation, "id" | "lastSeq" | "lastMessageAt" | "key">) {
    let conv = this.conversations.get(key);
    if (!conv) {
      conv = await this.storage.messages.ensureConversation({ ...fields, key });
      if (this.conversations.size >= 100_000) this.conversations.clear();
      this.conversations.set(key, conv);
    }
    return conv;
  }

  /** The direct conversation of two users, or null when they never talked. */
  async findDirect(a: number, b: number): Promise<Conversation | null> {
    return this.storage.messages.conversationByKey(directKey(a, b));
  }

  view(m: Message, conv: Conversation, sender: User | null): MessageView {
    // group and chat-room keys are `g:<groupId>` / `c:<roomId>`: the target is that id
    const targetId =
      conv.kind === "direct"
        ? conv.userA === m.senderId
          ? (conv.userB as number)
          : (conv.userA as number)
        : Number(conv.key.slice(2)) || 0;
    return {
      logId: String(m.id),
      conversationId: conv.id,
      conversationKind: conv.kind,
      seq: m.seq,
      fromId: m.senderId,
      targetId,
      clientMsgId: m.clientMsgId,
      kind: m.kind,
      content: m.content as { [key: string]: Json },
      datetime: m.createdAt,
      recalled: m.recalledAt !== null,
      senderInfo: { nickname: sender?.nickname ?? "", avatar: sender?.avatar ?? "" },
    };
  }

  /**
   * Sends a direct message. Resolves after the commit with the stored message; a retry with the
   * same client id resolves with the original and publishes nothing.
   */
  async sendDirect(
    sender: User,
    peerId: number,
    input: SendInput,
  ): Promise<{ view: MessageView; duplicate: boolean; published: boolean }> {
    if (!input.clientMsgId || input.clientMsgId.length > 128)
      throw invalid("bad_msg_id", "msgId must be 1..128 characters");
    let peer: User;
    try {
      if (sender.mutedUntil > Date.now()) throw forbidden("user_muted", "you are muted");
      peer = await this.peer(sender, peerId);
      if (!(await this.canDirect(sender, peer))) throw forbidden("not_friends", "not your friend");
    } catch (e) {
      // A retry of a message stored before (say) a mute still returns the original.
      const prior = await this.storage.messages.bySenderClientId(sender.id, input.clientMsgId);
      const conv = prior ? await this.storage.messages.conversation(prior.conversationId) : null;
      if (prior && conv) return { view: this.view(prior, conv, sender), duplicate: true, published: false };
      throw e;
    }
    const now = Date.now();
    const conv = await this.conversationFor(directKey(sender.id, peer.id), {
      kind: "direct",
      userA: Math.min(sender.id, peer.id),
      userB: Math.max(sender.id, peer.id),
      createdAt: now,
    });
    const { message, duplicate } = await this.writer.submit({
      conversationId: conv.id,
      senderId: sender.id,
      clientMsgId: input.clientMsgId,
      kind: input.kind,
      content: input.content,
      createdAt: now,
    });
    const view = this.view(message, conv, sender);
    const published =
      !duplicate && (await this.publishTo([sender.id, peer.id], { type: "message.new", message: view }));
    return { view, duplicate, published };
  }

  /**
   * Publishes to each user's topic. Pub/sub is best effort: false when any publish failed (the
   * message is stored either way; clients recover it from history), so a caller that relies on
   * the publication for its ack can answer directly instead.
   */
  private publishTo(userIds: number[], event: { type: string; [key: string]: Json }): Promise<boolean> {
    return this.publishTopics(userIds.map(userTopic), event);
  }

  private async publishTopics(topics: string[], event: { type: string; [key: string]: Json }): Promise<boolean> {
    const results = await Promise.all(
      topics.map((topic) =>
        this.realtime.publish(topic, event).then(
          () => true,
          (err: unknown) => {
            this.log.warn({ err }, "message publish failed");
            return false;
          },
        ),
      ),
    );
    return results.every(Boolean);
  }

  /** Loads a message the actor may see; anything else is "not found" (never "forbidden"). */
  private async visible(actor: User, logId: number): Promise<{ message: Message; conv: Conversation }> {
    const message = await this.storage.messages.message(logId);
    const conv = message ? await this.conversationById(message.conversationId) : null;
    const policy = conv ? this.policy(conv) : null;
    if (!message || !conv || !policy || message.deletedAt !== null || !(await policy.canRead(actor.id, conv)))
      throw notFound("message_not_found", "message not found");
    return { message, conv };
  }

  /** A message the actor may see (any conversation kind), or "not found". */
  async visibleMessage(actor: User, logId: number): Promise<{ message: Message; conv: Conversation }> {
    return this.visible(actor, logId);
  }

  isParticipant(userId: number, conv: Conversation): boolean {
    return conv.kind === "direct" && (conv.userA === userId || conv.userB === userId);
  }

  private participants(conv: Conversation): number[] {
    return conv.kind === "direct" ? [conv.userA as number, conv.userB as number] : [];
  }

  /** Own message within the recall window; a moderator (group owner/admin) recalls any, any time. */
  async recall(actor: User, logId: number): Promise<void> {
    const { message, conv } = await this.visible(actor, logId);
    const moderator = message.senderId !== actor.id && (await this.policy(conv)?.canModerate(actor.id, conv));
    if (!moderator) {
      if (message.senderId !== actor.id) throw forbidden("not_sender", "only the sender may recall");
      if (Date.now() - message.createdAt > this.opts.recallWindowMs)
        throw forbidden("recall_window", "too late to recall");
    }
    if (!(await this.storage.messages.markRecalled(message.id, Date.now())))
      throw notFound("message_not_found", "already recalled");
    await this.changed(actor, conv, message, "recall");
  }

  /** The sender (or a moderator: group owner/admin) deletes a message for everyone. */
  async delete(actor: User, logId: number): Promise<void> {
    const { message, conv } = await this.visible(actor, logId);
    if (message.senderId !== actor.id && !(await this.policy(conv)?.canModerate(actor.id, conv)))
      throw forbidden("not_sender", "only the sender may delete");
    if (!(await this.storage.messages.markDeleted(message.id, Date.now())))
      throw notFound("message_not_found", "already deleted");
    await this.changed(actor, conv, message, "delete");
  }

  private async changed(actor: User, conv: Conversation, message: Message, op: "recall" | "delete"): Promise<void> {
    const event: MessageChangedEvent = {
      type: "message.changed",
      op,
      logId: String(message.id),
      conversationId: conv.id,
      conversationKind: conv.kind,
      operatorId: actor.id,
      operatorName: actor.nickname,
    };
    await this.publishTopics((await this.policy(conv)?.topics(conv)) ?? [], event);
  }

  /** Moves the actor's read cursor up to the message `logId` (never backwards). */
  async markRead(actor: User, logId: number): Promise<{ seq: number }> {
    const { message, conv } = await this.visible(actor, logId);
    const seq = await this.storage.messages.setReadCursor(conv.id, actor.id, message.seq, Date.now());
    const peerId = this.participants(conv).find((id) => id !== actor.id) ?? 0;
    const event: MessageReadEvent = {
      type: "message.read",
      conversationId: conv.id,
      conversationKind: conv.kind,
      readerId: actor.id,
      peerId,
      seq,
      logId: String(message.id),
    };
    await this.publishTopics((await this.policy(conv)?.readTopics(conv, actor.id)) ?? [], event);
    return { seq };
  }

  /** Marks everything in the direct conversation with `peerId` read. */
  async markDirectRead(actor: User, peerId: number): Promise<void> {
    const conv = await this.findDirect(actor.id, peerId);
    if (!conv) return;
    const last = await this.storage.messages.lastMessage(conv.id);
    if (last) await this.markRead(actor, last.id);
  }

  /** History with a peer, newest first, from `beforeId` (inclusive) down; `limit`+1 to tell the next id. */
  async directHistory(actor: User, peerId: number, beforeId: number | null, limit: number) {
    const peer = await this.peer(actor, peerId);
    const conv = await this.findDirect(actor.id, peer.id);
    if (!conv) return { views: [] as MessageView[], nextId: null as string | null, conv: null, peer };
    const rows = await this.storage.messages.history(conv.id, beforeId, limit + 1);
    const page = rows.slice(0, limit);
    const users = await this.users(page.map((m) => m.senderId));
    return {
      views: page.map((m) => this.view(m, conv, users.get(m.senderId) ?? null)),
      nextId: rows.length > limit ? String(rows[limit].id) : null,
      conv,
      peer,
    };
  }

  /** Page `page` (from 1) of the direct conversation with `peerId`, newest first. */
  async directPage(actor: User, peerId: number, page: number, size: number) {
    const peer = await this.peer(actor, peerId);
    const conv = await this.findDirect(actor.id, peer.id);
    if (!conv) return { total: 0, views: [] as MessageView[], peer };
    const { total, list } = await this.storage.messages.page(conv.id, (page - 1) * size, size);
    const users = await this.users(list.map((m) => m.senderId));
    return { total, views: list.map((m) => this.view(m, conv, users.get(m.senderId) ?? null)), peer };
  }

  /** Messages after `afterSeq` in a conversation the actor takes part in (gap recovery). */
  async since(actor: User, conversationId: number, afterSeq: number, limit: number): Promise<MessageView[]> {
    const conv = await this.conversationById(conversationId);
    const policy = conv ? this.policy(conv) : null;
    if (!conv || !policy || !(await policy.canRead(actor.id, conv)))
      throw notFound("conversation_not_found", "conversation not found");
    const rows = await this.storage.messages.since(conv.id, afterSeq, limit);
    const users = await this.users(rows.map((m) => m.senderId));
    return rows.filter((m) => m.deletedAt === null).map((m) => this.view(m, conv, users.get(m.senderId) ?? null));
  }

  /** Direct conversations of the user, newest first, with the peer, last message and unread count. */
  async directSummaries(actor: User) {
    const convs = await this.storage.messages.directConversationsOf(actor.id);
    const peerOf = (conv: Conversation) => (conv.userA === actor.id ? (conv.userB as number) : (conv.userA as number));
    // Four queries whatever the number of conversations (not three per conversation).
    const ids = convs.map((c) => c.id);
    const [peers, lasts, unread] = await Promise.all([
      this.userCache.getMany(convs.map(peerOf)),
      this.storage.messages.lastMessages(ids),
      this.storage.messages.unreadCounts(ids, actor.id),
    ]);
    const out: Array<{ conv: Conversation; peer: User; last: MessageView | null; unread: number }> = [];
    for (const conv of convs) {
      const peer = peers.get(peerOf(conv));
      if (!peer) continue;
      const last = lasts.get(conv.id) ?? null;
      const sender = last ? (last.senderId === actor.id ? actor : peer) : null;
      out.push({
        conv,
        peer,
        last: last ? this.view(last, conv, sender) : null,
        unread: unread.get(conv.id) ?? 0,
      });
    }
    return out;
  }

  /**
   * History of a conversation whose policy checks the caller made (group membership), newest
   * first from `beforeId` (inclusive) down; `nextId` is the next older logId or null.
   */
  async historyOf(conv: Conversation, beforeId: number | null, limit: number) {
    const rows = await this.storage.messages.history(conv.id, beforeId, limit + 1);
    const page = rows.slice(0, limit);
    const users = await this.users(page.map((m) => m.senderId));
    return {
      views: page.map((m) => this.view(m, conv, users.get(m.senderId) ?? null)),
      nextId: rows.length > limit ? String(rows[limit].id) : null,
    };
  }

  /** Page `page` (from 1) of a conversation the caller checked, newest first, with the total. */
  async pageOf(conv: Conversation, page: number, size: number) {
    const { total, list } = await this.storage.messages.page(conv.id, (page - 1) * size, size);
    const users = await this.users(list.map((m) => m.senderId));
    return { total, views: list.map((m) => this.view(m, conv, users.get(m.senderId) ?? null)) };
  }

  /** Last message and unread count of each conversation, in three queries whatever their number. */
  async summariesOf(actor: User, convs: readonly Conversation[]) {
    const ids = convs.map((c) => c.id);
    const [lasts, unread] = await Promise.all([
      this.storage.messages.lastMessages(ids),
      this.storage.messages.unreadCounts(ids, actor.id),
    ]);
    const senders = await this.users([...lasts.values()].map((m) => m.senderId));
    const out = new Map<number, { last: MessageView | null; unread: number }>();
    for (const conv of convs) {
      const last = lasts.get(conv.id) ?? null;
      out.set(conv.id, {
        last: last ? this.view(last, conv, senders.get(last.senderId) ?? null) : null,
        unread: unread.get(conv.id) ?? 0,
      });
    }
    return out;
  }

  /** A user's read cursor in a conversation (0 = nothing read). */
  cursorOf(conv: Conversation, userId: number): Promise<number> {
    return this.storage.messages.readCursor(conv.id, userId);
  }

  /** Messages after `afterSeq`, oldest first, deleted ones left out (no membership check: the caller's). */
  async afterSeq(conv: Conversation, afterSeq: number, limit: number): Promise<Message[]> {
    return (await this.storage.messages.since(conv.id, afterSeq, limit)).filter((m) => m.deletedAt === null);
  }

  /** Sets a user's read cursor without telling anyone (a new group member starts at the present). */
  async startCursorAt(conv: Conversation, userId: number): Promise<void> {
    const fresh = await this.storage.messages.conversation(conv.id);
    if (fresh && fresh.lastSeq > 0)
      await this.storage.messages.setReadCursor(conv.id, userId, fresh.lastSeq, Date.now());
  }

  private users(ids: number[]): Promise<Map<number, User>> {
    return this.userCache.getMany(ids);
  }
}
