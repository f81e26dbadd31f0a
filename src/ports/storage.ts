/**
 * Storage ports: one repository interface per aggregate. Implementations (SQLite, PostgreSQL) live
 * in `src/adapters/sql` and must pass the same contract suite (`test/storage.contract.test.ts`).
 * Database errors never leak: a unique violation surfaces as `AppError("conflict")`.
 */

import type { GroupRepo } from "./groups.ts";

export interface GatewaySystem {
  systemId: string;
  /** sha256 hex of the system's secret; null when the system was registered without one. */
  secretHash: string | null;
  createdAt: number;
}

export interface GatewaySystemRepo {
  /** Inserts a system. Throws `conflict` (reason `system_exists`) when the id is taken. */
  create(system: GatewaySystem): Promise<void>;
  /** The system, or null when unknown. */
  find(systemId: string): Promise<GatewaySystem | null>;
}

export interface SettingsRepo {
  get(key: string): Promise<string | null>;
  /**
   * Stores `value` unless the key already has one, and returns the value that is stored afterwards.
   * Safe when several nodes race: exactly one value wins and every caller sees it.
   */
  getOrInit(key: string, value: string): Promise<string>;
  set(key: string, value: string): Promise<void>;
}

export type StorageKind = "sqlite" | "postgres";

export interface Storage {
  readonly kind: StorageKind;
  readonly settings: SettingsRepo;
  readonly gatewaySystems: GatewaySystemRepo;
  readonly users: UserRepo;
  readonly sessions: SessionRepo;
  readonly sms: SmsRepo;
  readonly org: OrgRepo;
  readonly qr: QrRepo;
  readonly messages: MessageRepo;
  readonly friends: FriendRepo;
  readonly files: FileRepo;
  /** Groups (src/ports/groups.ts). */
  readonly groups: GroupRepo;
  /** Applies pending migrations; returns the names applied. Idempotent. */
  migrate(): Promise<string[]>;
  /** Cheap liveness check for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Accounts

export interface User {
  id: number;
  /** Short public id (chat33 `uid` / `markId`), unique. */
  uid: string;
  mobile: string | null;
  username: string | null;
  passwordHash: string;
  nickname: string;
  avatar: string;
  /** 0 unset, 1 male, 2 female. */
  sex: number;
  position: string;
  description: string;
  email: string;
  birthday: string | null;
  sign: string | null;
  /** 0 guest, 1 user, 2 customer service. */
  level: number;
  isAdmin: boolean;
  verified: boolean;
  /** ms since epoch; 0 = not muted. */
  mutedUntil: number;
  companyId: number | null;
  deptId: number | null;
  roleId: number | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type NewUser = Omit<User, "id" | "uid">;
export type UserPatch = Partial<Omit<User, "id" | "uid" | "createdAt">>;

export interface UserRepo {
  /** Inserts a user and assigns `id` and `uid`. Throws `conflict` (`user_exists`) on a taken mobile/username. */
  create(user: NewUser): Promise<User>;
  findById(id: number): Promise<User | null>;
  /** The users that exist among `ids`, in no particular order (one query per 500 ids). */
  findByIds(ids: readonly number[]): Promise<User[]>;
  findByMobile(mobile: string): Promise<User | null>;
  findByUsername(username: string): Promise<User | null>;
  findByUid(uid: string): Promise<User | null>;
  /** Applies the patch (and `updatedAt`); returns the updated user or null when it does not exist. */
  update(id: number, patch: UserPatch): Promise<User | null>;
  /** Newest first; `query` matches mobile, username, nickname or uid (substring). */
  list(query: string, offset: number, limit: number): Promise<{ total: number; list: User[] }>;
}

export interface Session {
  /** The session id (`sid`), random, also used by later surfaces. */
  id: string;
  userId: number;
  /** sha256 hex of the bearer token. */
  tokenHash: string;
  /** Canonical device type: web | android | ios | pc. */
  device: string;
  /** Client-side device identifier (enterprise `device`), may be empty. */
  deviceId: string;
  /** Free-form platform text (enterprise `platform`). */
  platform: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
}

export interface SessionRepo {
  create(session: Session): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<Session | null>;
  findById(id: string): Promise<Session | null>;
  /** The sessions that exist among `ids` (one query per 500 ids). */
  findByIds(ids: readonly string[]): Promise<Session[]>;
  /** Live (not revoked, not expired at `now`) sessions of a user. */
  listLive(userId: number, now: number): Promise<Session[]>;
  /** Revokes the given live sessions; returns the ids actually revoked by this call. */
  revoke(ids: string[], reason: string, now: number): Promise<string[]>;
}

export interface SmsCode {
  id: number;
  mobile: string;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  attempts: number;
  usedAt: number | null;
}

export interface SmsRepo {
  insert(code: Omit<SmsCode, "id">): Promise<SmsCode>;
  /** The newest code sent to `mobile`, or null. */
  latest(mobile: string): Promise<SmsCode | null>;
  /** Codes sent to `mobile` since `since` (for the daily cap). */
  countSince(mobile: string, since: number): Promise<number>;
  /** Adds one failed attempt unless the code is used; returns the new count. */
  addAttempt(id: number): Promise<number>;
  /** Marks the code used if it still is unused; false when another request used it first. */
  markUsed(id: number, now: number): Promise<boolean>;
  /** Deletes a code (one the provider failed to deliver: it must not count toward any limit). */
  remove(id: number): Promise<void>;
  /** The `log` sender's outbox. */
  outboxAdd(entry: { mobile: string; code: string; sentAt: number }): Promise<void>;
  outboxList(mobile: string | null, limit: number): Promise<Array<{ mobile: string; code: string; sentAt: number }>>;
}

// ---------------------------------------------------------------------------------------------
// Organisation directory (enterprise surface)

/** Extra documented fields of an org entity that Parley stores but does not interpret. */
export type Attrs = { [key: string]: string | number | boolean | null };

export interface Company {
  id: number;
  text: string;
  avatar: string;
  note: string;
  enable: boolean;
  licenseId: number | null;
  code: string;
  /** Parent company id ("pid"), as text like the original. */
  pid: string;
  level: number;
  url: string;
  attrs: Attrs;
  createdAt: number;
}

export interface Department {
  id: number;
  companyId: number;
  /** Parent department id; null for a root department. */
  parentId: number | null;
  text: string;
  note: string;
  code: string;
  ownerId: number | null;
  level: number;
  createdAt: number;
}

export interface Role {
  id: number;
  companyId: number;
  text: string;
  admin: boolean;
  note: string;
}

export interface License {
  id: number;
  text: string;
  maxlevel: number;
  single: number;
  userCount: number;
}

export interface DictEntry {
  id: number;
  type: string;
  text: string;
  code: string;
  url: string | null;
}

export interface OrgRepo {
  createCompany(c: Omit<Company, "id">): Promise<Company>;
  createDepartment(d: Omit<Department, "id">): Promise<Department>;
  createRole(r: Omit<Role, "id">): Promise<Role>;
  createLicense(l: Omit<License, "id">): Promise<License>;
  createDict(d: Omit<DictEntry, "id">): Promise<DictEntry>;
  company(id: number): Promise<Company | null>;
  department(id: number): Promise<Department | null>;
  role(id: number): Promise<Role | null>;
  license(id: number): Promise<License | null>;
  companies(): Promise<Company[]>;
  departments(companyId: number): Promise<Department[]>;
  roles(companyId: number | null): Promise<Role[]>;
  licenses(): Promise<License[]>;
  dict(type: string): Promise<DictEntry[]>;
  /** Users per department of a company (for `userCount`). */
  departmentUserCounts(companyId: number): Promise<Map<number, number>>;
}

// ---------------------------------------------------------------------------------------------
// One-time codes (QR login, group join links)

export interface QrCode {
  /** sha256 hex of the code that travels in the URL. */
  codeHash: string;
  kind: "login" | "group";
  /** The waiting PC socket's device id (login) or empty. */
  deviceId: string;
  platform: string;
  /** Group id for `group` codes. */
  targetId: string;
  createdBy: number | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface QrRepo {
  create(code: QrCode): Promise<void>;
  find(codeHash: string): Promise<QrCode | null>;
  /** Marks a code used iff it is unused and unexpired at `now`; false otherwise (single use). */
  consume(codeHash: string, now: number): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Conversations and messages

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
export type MessageKind = "system" | "text" | "audio" | "image" | "redpacket" | "video" | "notice" | "file";

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
  /** The newest non-deleted message of a conversation. */
  lastMessage(conversationId: number): Promise<Message | null>;
  /** `lastMessage` for several conversations at once: conversation id → its last undeleted message. */
  lastMessages(conversationIds: readonly number[]): Promise<Map<number, Message>>;
  /** `unreadCount` for several conversations at once: conversation id → count (absent = 0). */
  unreadCounts(conversationIds: readonly number[], userId: number): Promise<Map<number, number>>;
  /** Read cursor: moves forward only; returns the cursor after the call. */
  setReadCursor(conversationId: number, userId: number, seq: number, at: number): Promise<number>;
  readCursor(conversationId: number, userId: number): Promise<number>;
  /**
   * The read cursors of `userIds` in `conversationIds`, in one query per chunk of ids:
   * conversation id → user id → seq (a user without a cursor is absent, i.e. 0).
   */
  readCursors(
    conversationIds: readonly number[],
    userIds: readonly number[],
  ): Promise<Map<number, Map<number, number>>>;
  /** Messages from others after the user's read cursor, not deleted. */
  unreadCount(conversationId: number, userId: number): Promise<number>;
}

export interface Friendship {
  userId: number;
  friendId: number;
  remark: string;
  noDisturbing: boolean;
  stickyOnTop: boolean;
  commonlyUsed: boolean;
  addedAt: number;
  /** Set when the friendship ended (kept for incremental `/friend/list?time=`). */
  deletedAt: number | null;
  updatedAt: number;
}

export interface FriendRequest {
  id: number;
  fromId: number;
  toId: number;
  reason: string;
  remark: string;
  roomId: string | null;
  /** 1 waiting, 2 rejected, 3 accepted. */
  status: 1 | 2 | 3;
  createdAt: number;
  updatedAt: number;
}

export interface FriendRepo {
  /** The user's view of the friendship (also returns ended ones, with `deletedAt`). */
  get(userId: number, friendId: number): Promise<Friendship | null>;
  /** `get` for several friends at once: friend id → the user's view (ended ones included). */
  getMany(userId: number, friendIds: readonly number[]): Promise<Map<number, Friendship>>;
  /** Creates or revives both directions at once. */
  befriend(a: number, b: number, remarkOfA: string, remarkOfB: string, at: number): Promise<void>;
  /** Ends both directions. */
  unfriend(a: number, b: number, at: number): Promise<void>;
  update(
    userId: number,
    friendId: number,
    patch: Partial<Pick<Friendship, "remark" | "noDisturbing" | "stickyOnTop" | "commonlyUsed">>,
    at: number,
  ): Promise<boolean>;
  /** Friendships of a user changed after `since` (incremental) or all live ones (since null). */
  list(userId: number, since: number | null): Promise<Friendship[]>;
  createRequest(r: Omit<FriendRequest, "id">): Promise<FriendRequest>;
  request(id: number): Promise<FriendRequest | null>;
  /** The newest waiting request from `fromId` to `toId`. */
  pendingBetween(fromId: number, toId: number): Promise<FriendRequest | null>;
  /** The newest request from `fromId` to `toId`, whatever its status. */
  latestBetween(fromId: number, toId: number): Promise<FriendRequest | null>;
  /** Sets the status iff the request is still waiting; false when it was handled already. */
  resolveRequest(id: number, status: 2 | 3, at: number): Promise<boolean>;
  /** Requests sent to or by the user, newest first; `beforeId` pages. */
  requestsOf(userId: number, beforeId: number | null, limit: number): Promise<{ total: number; list: FriendRequest[] }>;
  pendingCountFor(userId: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Uploaded files (the bytes live in the FileStore port; this is one row per upload)

export interface StoredFile {
  id: number;
  ownerId: number;
  /** FileStore key of the bytes. Several uploads may share one. */
  sha256: string;
  /** FileStore key of the thumbnail (images), or null. */
  thumbSha256: string | null;
  thumbMime: string | null;
  /** The client's file name, sanitised (no path, no control characters, ≤ 200 characters). */
  name: string;
  /** The detected content type. */
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  createdAt: number;
}

export interface FileRepo {
  insert(f: Omit<StoredFile, "id">): Promise<StoredFile>;
  byId(id: number): Promise<StoredFile | null>;
  /**
   * The content type of the blob `sha256` as stored: the mime of the oldest upload with these
   * bytes, else the thumbnail mime of the oldest upload whose thumbnail it is; null when no row
   * refers to it (then it is not served).
   */
  blobType(sha256: string): Promise<{ mime: string; thumbnail: boolean } | null>;
}
