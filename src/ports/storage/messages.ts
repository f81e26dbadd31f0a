/** Conversations (one store for every kind) and their messages. Read state: read-cursors.ts. */

export type ConversationKind = "direct" | "group" | "chatroom";

export interface Conversation {
  id: number;
  kind: ConversationKind;
  /** Unique key: `d:<lowId>:<highId>` for direct, `g:<groupId>`, `c:<roomId>`. */
  key: string;
  /** Direct conversations: the two participants (userA < userB). */
  userA: number | null;
  userB: number | null;
  lastSeq: number;
  lastMessageAt: number;
  createdAt: number;
}

/** Canonical message kinds (SPEC §2); surfaces map them to their own numbers. */
export type MessageKind =
  | "system"
  | "text"
  | "audio"
  | "image"
  | "redpacket"
  | "video"
  | "notice"
  | "file"
  /** Forwarded messages merged into one (chat33 msgType 8); posted by the server only. */
  | "forward";

export interface Message {
  /** Global id (`logId`), serialised as a string on the wire. */
  id: number;
  conversationId: number;
  /** Per-conversation, gapless, from 1. */
  seq: number;
  senderId: number;
  /** The sender's client message id (idempotency key); unique per sender. */
  clientMsgId: string;
  kind: MessageKind;
  /** JSON content as the kind defines it (e.g. `{content}` for text). */
  content: { [key: string]: unknown };
  createdAt: number;
  recalledAt: number | null;
  deletedAt: number | null;
  /** Burn after reading (chat33 `isSnap` 1): deleted for both sides once the recipient read it. */
  snap: boolean;
  /** The client's free-form `ext` (chat33), stored and echoed as sent; null when none. */
  ext: { [key: string]: unknown } | null;
}

export interface NewMessage {
  conversationId: number;
  senderId: number;
  clientMsgId: string;
  kind: MessageKind;
  content: { [key: string]: unknown };
  /**
   * `content` serialised — by the edge, once (core/messages/content.ts). Writers store this text
   * as it is and never serialise client data inside a shared transaction.
   */
  contentJson: string;
  createdAt: number;
  /** Burn after reading (default false). */
  snap?: boolean;
  /** The client's `ext` (default null = none) and the same serialised by the edge, like `content`. */
  ext?: { [key: string]: unknown } | null;
  extJson?: string | null;
}

export interface MessageRepo {
  /** The conversation with `key`, created (with the given fields) when it does not exist yet. */
  ensureConversation(c: Omit<Conversation, "id" | "lastSeq" | "lastMessageAt">): Promise<Conversation>;
  conversation(id: number): Promise<Conversation | null>;
  conversationByKey(key: string): Promise<Conversation | null>;
  /** Direct conversations a user takes part in, newest activity first. */
  directConversationsOf(userId: number): Promise<Conversation[]>;
  /**
   * Stores a batch in ONE transaction: per conversation, seq numbers are allocated in the same
   * transaction as the insert (gapless, UNIQUE(conversation, seq)); a message whose
   * (sender, clientMsgId) already exists is not stored again and the stored original is returned
   * instead (`duplicate: true`). Results are in input order.
   *
   * Called on a transaction's handle (`Storage.transaction`), the batch becomes part of that
   * transaction: it commits or rolls back with it.
   */
  appendBatch(batch: NewMessage[]): Promise<Array<{ message: Message; duplicate: boolean }>>;
  message(id: number): Promise<Message | null>;
  bySenderClientId(senderId: number, clientMsgId: string): Promise<Message | null>;
  /**
   * History, newest first: messages with id ≤ `beforeId` (all when null), `limit` rows, skipping
   * deleted messages.
   */
  history(conversationId: number, beforeId: number | null, limit: number): Promise<Message[]>;
  /** Page of history newest first, skipping deleted messages, with the total. */
  page(conversationId: number, offset: number, limit: number): Promise<{ total: number; list: Message[] }>;
  /** Messages with seq > `afterSeq`, oldest first (gap fetch). */
  since(conversationId: number, afterSeq: number, limit: number): Promise<Message[]>;
  markRecalled(id: number, at: number): Promise<boolean>;
  markDeleted(id: number, at: number): Promise<boolean>;
  /**
   * Undeleted messages of the given conversations created after `afterTime` (ms), oldest first,
   * at most `limit` (chat33 event 42: what a client missed). `fromTimes` raises the bound per
   * conversation (a group member's join time).
   */
  createdAfter(
    conversationIds: readonly number[],
    afterTime: number,
    limit: number,
    fromTimes?: ReadonlyMap<number, number>,
  ): Promise<Message[]>;
  /**
   * History of one conversation restricted to `kinds`, newest first from `beforeId` (inclusive),
   * skipping deleted and burn-after-reading messages (chat33 historyFiles / historyPhotos).
   */
  historyOfKinds(
    conversationId: number,
    kinds: readonly MessageKind[],
    beforeId: number | null,
    limit: number,
  ): Promise<Message[]>;
  /** The newest non-deleted message of a conversation. */
  lastMessage(conversationId: number): Promise<Message | null>;
  /** `lastMessage` for several conversations at once: conversation id → its last undeleted message. */
  lastMessages(conversationIds: readonly number[]): Promise<Map<number, Message>>;
}
