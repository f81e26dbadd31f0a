import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Json } from "../../ports/hub.ts";
import type { RateLimiter } from "../../ports/rate-limit.ts";
import type { Conversation, ConversationKind, Message, MessageKind, Repos, User } from "../../ports/storage.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import { AppError, forbidden, invalid, notFound } from "../errors.ts";
import type { CoreEvent, CoreEvents } from "../events.ts";
import type { FriendService } from "../friends/friend-service.ts";
import { BatchWriter } from "./batch-writer.ts";
import { adminOnlyKind, contentOrThrow, type MessageContent, validClientMsgId } from "./content.ts";
import { type ConversationDirectory, type ConversationPolicy, DirectPolicy, directKey } from "./policy.ts";

export interface MessagesOptions {
  /** How long after sending a user may recall their own message. */
  recallWindowMs: number;
  maxBatch?: number;
  /** Group-commit writer lanes (`messages.writeLanes`; 1 on SQLite): see `BatchWriter`. */
  writeLanes?: number;
  /** Messages one user may send per second, over every surface, device and node (`messages.sendRatePerUser`). */
  sendRatePerUser: number;
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
  /** Burn after reading (chat33 `isSnap` 1). */
  snap: boolean;
  /** The client's `ext` as sent (chat33), null when none. */
  ext: { [key: string]: Json } | null;
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
  /** The conversation as the operator addresses it: direct, the other user; else the group/room id. */
  targetId: number;
  /** The message's sender (a moderator may recall someone else's). */
  senderId: number;
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

export { directKey } from "./policy.ts";

export interface SendInput {
  clientMsgId: string;
  /** Validated and serialised at the edge (content.ts); its `kind` is the message's kind. */
  content: MessageContent;
  /** Burn after reading (chat33 `isSnap` 1): direct conversations only. */
  snap?: boolean;
  /** The client's `ext`, validated and serialised at the edge like `content` (content.ts `canonicalExt`). */
  ext?: { value: { [key: string]: Json }; json: string } | null;
}

export interface SendOptions {
  /**
   * The caller's own rule allowed a `system` message although the sender is no administrator (a
   * group announcement by the group's owner or admin).
   */
  systemKinds?: boolean;
  /** A notice the server posts on a user's behalf (a red-packet claim): not rate-limited as the user's. */
  internal?: boolean;
  /**
   * Called once the message holds its place in the commit order (submitted to the group commit;
   * not called when the send ends before that). A caller that must keep its sends in order (a
   * socket) may start its next send from here instead of waiting for this one's commit: sends
   * submitted in order get their seqs in that order.
   */
  onQueued?: () => void;
}

/** What `syncSince` returns: the missed messages, oldest first, and whether the limit cut them. */
export interface SyncResult {
  views: MessageView[];
  truncated: boolean;
}

/**
 * The message pipeline, the same for every conversation kind: per-user send rate limit, admin-only
 * kinds, user mute, the kind's policy (who may send / read, which topics receive — policy.ts),
 * group-committed writes with per-conversation gapless seq and idempotent client ids, publication
 * after commit, history, recall/delete, read cursors and unread counts. `direct` is registered
 * here; other kinds plug in with `registerPolicy`.
 */
export class MessageService {
  private readonly writer: BatchWriter;
  /** Conversations by key: their identity never changes, so one lookup per key is enough. */
  private readonly conversations = new Map<string, Conversation>();
  /** The same conversations by id (identity never changes). */
  private readonly byId = new Map<number, Conversation>();
  private readonly policies = new Map<ConversationKind, ConversationPolicy>();
  readonly direct: DirectPolicy;
  /** Conversations by key, created on first use and cached: what a kind's policy resolves them with. */
  readonly directory: ConversationDirectory = { ensure: (key, fields) => this.ensureConversation(key, fields) };

  constructor(
    private readonly storage: Pick<Repos, "messages" | "readCursors">,
    private readonly events: CoreEvents,
    private readonly friends: FriendService,
    private readonly opts: MessagesOptions,
    private readonly log: Logger,
    private readonly userCache: UserCache,
    private readonly limiter: RateLimiter,
  ) {
    this.writer = new BatchWriter(storage.messages, opts.maxBatch, () => events.afterCommit(), opts.writeLanes ?? 1);
    this.direct = new DirectPolicy(userCache, friends, this.directory);
    this.registerPolicy(this.direct);
  }

  /**
   * Adds (or replaces) the policy of a conversation kind, e.g. in the composition root:
   * `messages.registerPolicy(new GroupPolicy(groups, messages.directory))` (docs/ARCHITECTURE.md).
   */
  registerPolicy(policy: ConversationPolicy): void {
    this.policies.set(policy.kind, policy);
  }

  private policy(kind: ConversationKind): ConversationPolicy | null {
    return this.policies.get(kind) ?? null;
  }

  /** SPEC §2: friends, and colleagues of the same company, may talk directly. */
  canDirect(a: User, b: User): Promise<boolean> {
    return this.direct.canTalk(a, b);
  }

  private async ensureConversation(
    key: string,
    fields: Omit<Conversation, "id" | "lastSeq" | "lastMessageAt" | "key">,
  ): Promise<Conversation> {
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
    return {
      logId: String(m.id),
      conversationId: conv.id,
      conversationKind: conv.kind,
      seq: m.seq,
      fromId: m.senderId,
      targetId: this.policy(conv.kind)?.targetId(conv, m.senderId) ?? 0,
      clientMsgId: m.clientMsgId,
      kind: m.kind,
      content: m.content as { [key: string]: Json },
      datetime: m.createdAt,
      recalled: m.recalledAt !== null,
      senderInfo: { nickname: sender?.nickname ?? "", avatar: sender?.avatar ?? "" },
      snap: m.snap === true,
      ext: (m.ext ?? null) as { [key: string]: Json } | null,
    };
  }

  /** `view` with the sender loaded (cached users). */
  async viewWithSender(m: Message, conv: Conversation): Promise<MessageView> {
    return this.view(m, conv, await this.userCache.get(m.senderId));
  }

  /** Sends a direct message to `peerId` (see `send`). */
  sendDirect(sender: User, peerId: number, input: SendInput) {
    return this.send("direct", sender, peerId, input);
  }

  /**
   * Sends a message into the conversation of `kind` that `sender` addresses as `targetId`.
   * Resolves after the commit with the stored message; a retry with the same client id resolves
   * with the original and publishes nothing. `published` is false when a publication failed
   * (the message is stored either way).
   */
  async send(
    kind: ConversationKind,
    sender: User,
    targetId: number,
    input: SendInput,
    opts: SendOptions = {},
  ): Promise<{ view: MessageView; duplicate: boolean; published: boolean }> {
    if (!validClientMsgId(input.clientMsgId))
      throw invalid("bad_msg_id", "msgId must be 1..128 characters of text without NUL");
    // Before anything else, retries included: the limit bounds what one user costs the node.
    // `internal`: a notice the server posts on a user's behalf (a red-packet claim) is not the user's sending.
    if (!opts.internal && !(await this.withinSendRate(sender.id)))
      throw new AppError("rate_limited", "msg_rate_limited", "too many messages");
    return this.asOneSend(kind, sender.id, targetId, () => this.sendChecked(kind, sender, targetId, input, opts));
  }

  /**
   * Runs `fn` as one send of `kind` from `senderId` to `targetId`: a direct one is marked in flight
   * for the pair (`FriendService.trackSend`) from before its check until `fn` settled, so a block
   * or an unfriend of the pair answers only after it — stored and published, or refused. `send`
   * runs in it; a service that stores its own message (a red packet: `conversationForSend`, its
   * transaction, `announce`) must run all three in it too.
   */
  async asOneSend<T>(kind: ConversationKind, senderId: number, targetId: number, fn: () => Promise<T>): Promise<T> {
    if (kind !== "direct") return fn();
    const release = this.friends.trackSend(senderId, targetId);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private async sendChecked(
    kind: ConversationKind,
    sender: User,
    targetId: number,
    input: SendInput,
    opts: SendOptions,
  ): Promise<{ view: MessageView; duplicate: boolean; published: boolean }> {
    const policy = this.policy(kind);
    if (!policy) throw notFound(kind === "group" ? "group_not_found" : "chatroom_not_found", `no such ${kind}`);
    if (input.snap && kind !== "direct")
      throw invalid("snap_in_group", "burn-after-reading messages are for direct conversations");
    let conv: Conversation;
    try {
      if (adminOnlyKind(input.content.kind) && !sender.isAdmin && !opts.systemKinds)
        throw forbidden("no_system_permission", "only administrators send system messages");
      if (sender.mutedUntil > Date.now()) throw forbidden("user_muted", "you are muted");
      conv = await policy.conversationFor(sender, targetId);
    } catch (e) {
      // A retry of a message stored before (say) a mute still returns the original.
      const prior = await this.findSent(sender, input.clientMsgId);
      if (prior) return { view: prior, duplicate: true, published: false };
      throw e;
    }
    const stored = this.writer.submit({
      conversationId: conv.id,
      senderId: sender.id,
      clientMsgId: input.clientMsgId,
      kind: input.content.kind,
      content: input.content.value,
      contentJson: input.content.json,
      createdAt: Date.now(),
      snap: input.snap === true,
      ext: input.ext?.value ?? null,
      extJson: input.ext?.json ?? null,
    });
    // its place in the commit order is taken: a caller's next send may be checked and queued now
    opts.onQueued?.();
    const { message, duplicate } = await stored;
    const view = this.view(message, conv, sender);
    const published =
      !duplicate && (await this.publish(await policy.topics(conv), { type: "message.new", message: view }));
    return { view, duplicate, published };
  }

  /**
   * For a service that stores a message inside its own transaction (a red packet: debit, packet
   * and message commit together): the sender's mute and the kind's policy — who may send here —
   * exactly as `send` checks them, and the conversation. Append with `tx.messages.appendBatch`,
   * then call `announce` after the commit — the three inside one `asOneSend`, so that a block or
   * an unfriend of a direct pair waits for them.
   */
  async conversationForSend(kind: ConversationKind, sender: User, targetId: number): Promise<Conversation> {
    const policy = this.policy(kind);
    if (!policy) throw notFound(kind === "group" ? "group_not_found" : "chatroom_not_found", `no such ${kind}`);
    if (sender.mutedUntil > Date.now()) throw forbidden("user_muted", "you are muted");
    return policy.conversationFor(sender, targetId);
  }

  /** Publishes a message stored by `conversationForSend`'s caller (after its commit), as `send` does. */
  async announce(
    conv: Conversation,
    message: Message,
    sender: User,
  ): Promise<{ view: MessageView; published: boolean }> {
    const policy = this.policy(conv.kind);
    const view = this.view(message, conv, sender);
    const published = policy
      ? await this.publish(await policy.topics(conv), { type: "message.new", message: view })
      : false;
    return { view, published };
  }

  /** May `userId` read `conv` (its kind's policy: a direct participant, a group member…)? */
  async mayRead(userId: number, conv: Conversation): Promise<boolean> {
    const policy = this.policy(conv.kind);
    return policy ? await policy.canRead(userId, conv) : false;
  }

  /** The `targetId` `senderId` addresses `conv` by (direct: the other participant; else the group/room id). */
  targetIdOf(conv: Conversation, senderId: number): number {
    return this.policy(conv.kind)?.targetId(conv, senderId) ?? 0;
  }

  /**
   * The per-user send rate limit, one budget over every surface, device and node. A limiter that
   * cannot be reached fails the send (as chat33 always did): the limit is never silently off.
   */
  private async withinSendRate(userId: number): Promise<boolean> {
    return (await this.limiter.hit(`messages:user:${userId}`, this.opts.sendRatePerUser, 1000)).ok;
  }

  /** The message `sender` stored earlier under `clientMsgId`, or null (a retry's answer). */
  async findSent(sender: User, clientMsgId: string): Promise<MessageView | null> {
    if (!validClientMsgId(clientMsgId)) return null; // never stored (and PostgreSQL could not even look it up)
    const prior = await this.storage.messages.bySenderClientId(sender.id, clientMsgId);
    const conv = prior ? await this.storage.messages.conversation(prior.conversationId) : null;
    return prior && conv ? this.view(prior, conv, sender) : null;
  }

  /**
   * Publishes to each topic. Pub/sub is best effort: false when any publish failed (the message
   * is stored either way; clients recover it from history), so a caller that relies on the
   * publication for its ack can answer directly instead.
   */
  private async publish(topics: string[], event: CoreEvent): Promise<boolean> {
    const results = await Promise.all(
      topics.map((topic) =>
        this.events.publish(topic, event).then(
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
  private async visible(
    actor: User,
    logId: number,
  ): Promise<{ message: Message; conv: Conversation; policy: ConversationPolicy }> {
    const message = await this.storage.messages.message(logId);
    const conv = message ? await this.storage.messages.conversation(message.conversationId) : null;
    const policy = conv ? this.policy(conv.kind) : null;
    if (!message || !conv || !policy || message.deletedAt !== null || !(await policy.canRead(actor.id, conv)))
      throw notFound("message_not_found", "message not found");
    return { message, conv, policy };
  }

  /** May `actor` moderate (recall/delete others' messages in) `conv`? */
  private async moderates(actor: User, conv: Conversation, policy: ConversationPolicy): Promise<boolean> {
    return policy.canModerate ? await policy.canModerate(actor.id, conv) : false;
  }

  /** Own message within the recall window; a moderator (group owner/admin) recalls any, any time. */
  async recall(actor: User, logId: number): Promise<void> {
    const { message, conv, policy } = await this.visible(actor, logId);
    if (message.senderId !== actor.id || Date.now() - message.createdAt > this.opts.recallWindowMs) {
      if (!(await this.moderates(actor, conv, policy))) {
        if (message.senderId !== actor.id) throw forbidden("not_sender", "only the sender may recall");
        throw forbidden("recall_window", "too late to recall");
      }
    }
    if (!(await this.storage.messages.markRecalled(message.id, Date.now())))
      throw notFound("message_not_found", "already recalled");
    await this.changed(actor, conv, policy, message, "recall");
  }

  /** The sender (or a moderator: group owner/admin) deletes a message for everyone. */
  async delete(actor: User, logId: number): Promise<void> {
    const { message, conv, policy } = await this.visible(actor, logId);
    if (message.senderId !== actor.id && !(await this.moderates(actor, conv, policy)))
      throw forbidden("not_sender", "only the sender may delete");
    if (!(await this.storage.messages.markDeleted(message.id, Date.now())))
      throw notFound("message_not_found", "already deleted");
    await this.changed(actor, conv, policy, message, "delete");
  }

  private async changed(
    actor: User,
    conv: Conversation,
    policy: ConversationPolicy,
    message: Message,
    op: "recall" | "delete",
  ): Promise<void> {
    const event: MessageChangedEvent = {
      type: "message.changed",
      op,
      logId: String(message.id),
      conversationId: conv.id,
      conversationKind: conv.kind,
      operatorId: actor.id,
      operatorName: actor.nickname,
      targetId: policy.targetId(conv, actor.id),
      senderId: message.senderId,
    };
    await this.publish(await policy.topics(conv), event);
  }

  /** Any message with its conversation, deleted ones included (admin API moderation); null when none. */
  async operatorFind(logId: number): Promise<{ message: Message; conv: Conversation } | null> {
    const message = await this.storage.messages.message(logId);
    const conv = message ? await this.storage.messages.conversation(message.conversationId) : null;
    return message && conv ? { message, conv } : null;
  }

  /**
   * An operator (admin API) recalls or deletes any message of any conversation, at any time; the
   * conversation's sockets are told as for a moderator's recall/delete, with `operator` as who
   * did it (id 0 = the admin token).
   */
  async operatorChange(logId: number, op: "recall" | "delete", operator: { id: number; nickname: string }) {
    const found = await this.operatorFind(logId);
    const policy = found ? this.policy(found.conv.kind) : null;
    if (!found || !policy || found.message.deletedAt !== null) throw notFound("message_not_found", "message not found");
    const { message, conv } = found;
    const now = Date.now();
    const done =
      op === "recall"
        ? await this.storage.messages.markRecalled(message.id, now)
        : await this.storage.messages.markDeleted(message.id, now);
    if (!done) throw notFound("message_not_found", op === "recall" ? "already recalled" : "already deleted");
    const event: MessageChangedEvent = {
      type: "message.changed",
      op,
      logId: String(message.id),
      conversationId: conv.id,
      conversationKind: conv.kind,
      operatorId: operator.id,
      operatorName: operator.nickname,
      targetId: policy.targetId(conv, message.senderId),
      senderId: message.senderId,
    };
    await this.publish(await policy.topics(conv), event);
  }

  /** Moves the actor's read cursor up to the message `logId` (never backwards). */
  async markRead(actor: User, logId: number): Promise<{ seq: number }> {
    const { message, conv, policy } = await this.visible(actor, logId);
    const seq = await this.storage.readCursors.advance(conv.id, actor.id, message.seq, Date.now());
    const peerId = conv.kind === "direct" ? this.direct.targetId(conv, actor.id) : 0;
    const event: MessageReadEvent = {
      type: "message.read",
      conversationId: conv.id,
      conversationKind: conv.kind,
      readerId: actor.id,
      peerId,
      seq,
      logId: String(message.id),
    };
    await this.publish(await (policy.readTopics ? policy.readTopics(conv, actor.id) : policy.topics(conv)), event);
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
    const peer = await this.direct.peer(actor, peerId);
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
    const peer = await this.direct.peer(actor, peerId);
    const conv = await this.findDirect(actor.id, peer.id);
    if (!conv) return { total: 0, views: [] as MessageView[], peer };
    const { total, list } = await this.storage.messages.page(conv.id, (page - 1) * size, size);
    const users = await this.users(list.map((m) => m.senderId));
    return { total, views: list.map((m) => this.view(m, conv, users.get(m.senderId) ?? null)), peer };
  }

  /** Messages after `afterSeq` in a conversation the actor takes part in (gap recovery). */
  async since(actor: User, conversationId: number, afterSeq: number, limit: number): Promise<MessageView[]> {
    const conv = await this.storage.messages.conversation(conversationId);
    const policy = conv ? this.policy(conv.kind) : null;
    if (!conv || !policy || !(await policy.canRead(actor.id, conv)))
      throw notFound("conversation_not_found", "conversation not found");
    const rows = await this.storage.messages.since(conv.id, afterSeq, limit);
    const users = await this.users(rows.map((m) => m.senderId));
    return rows.filter((m) => m.deletedAt === null).map((m) => this.view(m, conv, users.get(m.senderId) ?? null));
  }

  /**
   * Direct conversations of the user, newest first, with the peer, last message and unread count;
   * with `peerCursors`, also the peer's read cursor (`peerReadSeq`, 0 without one). A fixed
   * number of queries whatever the number of conversations (never one per conversation).
   */
  async directSummaries(actor: User, opts: { peerCursors?: boolean } = {}) {
    const convs = await this.storage.messages.directConversationsOf(actor.id);
    const peerOf = (conv: Conversation) => this.direct.targetId(conv, actor.id);
    const ids = convs.map((c) => c.id);
    const peerIds = convs.map(peerOf);
    const [peers, lasts, unread, cursors] = await Promise.all([
      this.userCache.getMany(peerIds),
      this.storage.messages.lastMessages(ids),
      this.storage.readCursors.unreadCounts(ids, actor.id),
      opts.peerCursors ? this.storage.readCursors.getMany(ids, peerIds) : null,
    ]);
    const out: Array<{
      conv: Conversation;
      peer: User;
      last: MessageView | null;
      unread: number;
      peerReadSeq: number;
    }> = [];
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
        peerReadSeq: cursors?.get(conv.id)?.get(peer.id) ?? 0,
      });
    }
    return out;
  }

  /**
   * Opening a direct conversation (enterprise `find_single_msg`): page `page` (from 1) with
   * `peerId`, newest first. Reading page 1 marks the peer's messages read — only when something
   * was unread, so the read event is published only then. Each message says whether its
   * recipient has read it (from both read cursors, one query).
   */
  async openDirectPage(actor: User, peerId: number, page: number, size: number) {
    const peer = await this.direct.peer(actor, peerId);
    const conv = await this.findDirect(actor.id, peer.id);
    if (!conv) return { total: 0, items: [] as Array<{ view: MessageView; readByRecipient: boolean }> };
    if (page === 1 && (await this.storage.readCursors.unreadCount(conv.id, actor.id)) > 0)
      await this.markDirectRead(actor, peer.id);
    const { total, list } = await this.storage.messages.page(conv.id, (page - 1) * size, size);
    const [users, cursors] = await Promise.all([
      this.users(list.map((m) => m.senderId)),
      this.storage.readCursors.getMany([conv.id], [actor.id, peer.id]),
    ]);
    const cursorOf = (userId: number) => cursors.get(conv.id)?.get(userId) ?? 0;
    const items = list.map((m) => ({
      view: this.view(m, conv, users.get(m.senderId) ?? null),
      readByRecipient: m.seq <= cursorOf(m.senderId === actor.id ? peer.id : actor.id),
    }));
    return { total, items };
  }

  /**
   * Both read cursors of the direct conversation with `peerId` (the seq each user has read up
   * to; 0 = nothing, or no conversation yet): the 1:1 read state a client shows on its own
   * messages. Any user the actor may address by id (like the history: friendship ended or not).
   */
  async directReadState(actor: User, peerId: number): Promise<{ mine: number; peer: number }> {
    const peer = await this.direct.peer(actor, peerId);
    const conv = await this.findDirect(actor.id, peer.id);
    if (!conv) return { mine: 0, peer: 0 };
    const cursors = await this.storage.readCursors.getMany([conv.id], [actor.id, peer.id]);
    const of = (id: number) => cursors.get(conv.id)?.get(id) ?? 0;
    return { mine: of(actor.id), peer: of(peer.id) };
  }

  /** `markRead`, for a message that must belong to the direct conversation with `peerId`. */
  async markDirectReadUpTo(actor: User, peerId: number, logId: number): Promise<void> {
    const [message, conv] = await Promise.all([
      this.storage.messages.message(logId),
      this.findDirect(actor.id, peerId),
    ]);
    if (!message || !conv || message.conversationId !== conv.id)
      throw notFound("message_not_found", "message not found");
    await this.markRead(actor, logId);
  }

  /** A message the actor may see (any conversation kind), or "not found". */
  async visibleMessage(actor: User, logId: number): Promise<{ message: Message; conv: Conversation }> {
    const { message, conv } = await this.visible(actor, logId);
    return { message, conv };
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
      this.storage.readCursors.unreadCounts(ids, actor.id),
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
    return this.storage.readCursors.get(conv.id, userId);
  }

  /** Messages after `afterSeq`, oldest first, deleted ones left out (no membership check: the caller's). */
  async afterSeq(conv: Conversation, afterSeq: number, limit: number): Promise<Message[]> {
    return (await this.storage.messages.since(conv.id, afterSeq, limit)).filter((m) => m.deletedAt === null);
  }

  /**
   * A notice the server posts into the direct conversation of `fromId` and `peerId` on behalf of
   * `fromId` (chat33 "你们已经成为好友了", "对方已经和你解除好友关系", a burnt message): stored like
   * any message and published to both users. No friendship check — it is the server speaking
   * about the friendship itself.
   */
  async postDirectNotice(from: User, peerId: number, content: MessageContent): Promise<MessageView> {
    const conv = await this.ensureConversation(directKey(from.id, peerId), {
      kind: "direct",
      userA: Math.min(from.id, peerId),
      userB: Math.max(from.id, peerId),
      createdAt: Date.now(),
    });
    const { message } = await this.writer.submit({
      conversationId: conv.id,
      senderId: from.id,
      clientMsgId: `notice:${randomUUID()}`,
      kind: content.kind,
      content: content.value,
      contentJson: content.json,
      createdAt: Date.now(),
    });
    // a notice is not an unread chat: a participant who had read everything before stays so
    await Promise.all(
      this.direct.participants(conv).map(async (uid) => {
        if ((await this.storage.readCursors.get(conv.id, uid)) >= message.seq - 1)
          await this.storage.readCursors.advance(conv.id, uid, message.seq, Date.now());
      }),
    );
    const view = this.view(message, conv, from);
    await this.publish(this.direct.topics(conv), { type: "message.new", message: view });
    return view;
  }

  /**
   * Burn after reading: the recipient of a direct `snap` message read it. The message is deleted
   * for both sides and a notice `{type: 15, channelType: 3, logId}` (chat33's) tells both. Only
   * the recipient burns; reading it again (already burnt) is a no-op.
   */
  async readSnap(actor: User, logId: number): Promise<{ burnt: boolean }> {
    const message = await this.storage.messages.message(logId);
    const conv = message ? await this.conversationById(message.conversationId) : null;
    if (!message || !conv || conv.kind !== "direct" || !this.direct.canRead(actor.id, conv))
      throw notFound("message_not_found", "message not found");
    if (!message.snap) throw invalid("not_snap", "not a burn-after-reading message");
    if (message.deletedAt !== null || message.senderId === actor.id) return { burnt: false };
    if (!(await this.storage.messages.markDeleted(message.id, Date.now()))) return { burnt: false };
    await this.postDirectNotice(
      actor,
      message.senderId,
      contentOrThrow("notice", { type: 15, channelType: 3, logId: String(message.id), content: "阅后即焚消息已焚毁" }),
    );
    return { burnt: true };
  }

  /**
   * What a reconnecting client missed (chat33 event 42): messages after `since` in the actor's
   * direct conversations and in `groups` (each from the later of `since` and the member's join
   * time), oldest first, at most `limit`. The caller supplies the actor's groups (from the group
   * module, which checks membership); direct conversations are the actor's own.
   */
  async syncSince(
    actor: User,
    since: number,
    groups: ReadonlyArray<{ conversationId: number; from: number }>,
    limit: number,
  ): Promise<SyncResult> {
    const directs = await this.storage.messages.directConversationsOf(actor.id);
    const convs = new Map<number, Conversation>(directs.map((c) => [c.id, c]));
    const fromTimes = new Map<number, number>();
    for (const g of groups) {
      const conv = await this.conversationById(g.conversationId);
      if (!conv) continue;
      convs.set(conv.id, conv);
      fromTimes.set(conv.id, g.from);
    }
    const rows = await this.storage.messages.createdAfter([...convs.keys()], since, limit + 1, fromTimes);
    const page = rows.slice(0, limit);
    const users = await this.users(page.map((m) => m.senderId));
    return {
      views: page.map((m) => this.view(m, convs.get(m.conversationId) as Conversation, users.get(m.senderId) ?? null)),
      truncated: rows.length > limit,
    };
  }

  /**
   * A conversation's messages of some kinds (files; images and videos), newest first from
   * `beforeId` (inclusive), burn-after-reading ones left out; `nextId` is the next older logId.
   * The caller checked the actor may read `conv`.
   */
  async historyOfKinds(conv: Conversation, kinds: readonly MessageKind[], beforeId: number | null, limit: number) {
    const rows = await this.storage.messages.historyOfKinds(conv.id, kinds, beforeId, limit + 1);
    const page = rows.slice(0, limit);
    const users = await this.users(page.map((m) => m.senderId));
    return {
      views: page.map((m) => this.view(m, conv, users.get(m.senderId) ?? null)),
      nextId: rows.length > limit ? String(rows[limit].id) : null,
    };
  }

  /** `historyOfKinds` of the direct conversation with `peerId` (the actor's own). */
  async directHistoryOfKinds(
    actor: User,
    peerId: number,
    kinds: readonly MessageKind[],
    beforeId: number | null,
    limit: number,
  ) {
    const peer = await this.direct.peer(actor, peerId);
    const conv = await this.findDirect(actor.id, peer.id);
    if (!conv) return { views: [] as MessageView[], nextId: null as string | null };
    return this.historyOfKinds(conv, kinds, beforeId, limit);
  }

  private users(ids: number[]): Promise<Map<number, User>> {
    return this.userCache.getMany(ids);
  }
}
