/**
 * The chat-room aggregate's storage port (core **Chatroom**; chat33 calls it a "group", 003 a
 * "room" — SPEC §2). Rooms, their mutes, their blacklist and the reports users file. Who is in a
 * room right now is not stored: that is the ephemeral audience (hub presence, core/chatrooms/audience.ts).
 * Chat-room messages live in the shared messages table (conversation kind `chatroom`, key
 * `c:<roomId>`); this port only prunes them for retention.
 *
 * Guarantees (both SQL backends, test/chatrooms.contract.test.ts):
 * - ids are positive integers, never reused;
 * - `setStatus` is one statement: the status and its time stamp change together;
 * - a mute or blacklist entry is one row per (room, user): setting it again replaces it.
 */

export type ChatroomStatus = "open" | "closed" | "deleted";

export interface Chatroom {
  id: number;
  name: string;
  avatar: string;
  description: string;
  status: ChatroomStatus;
  createdAt: number;
  /** Last time the room was opened (its creation, or a reopening). */
  openedAt: number;
  /** Last time the room was closed; 0 = never. */
  closedAt: number;
  /** Audience shard size for fan-out; null = the configured default. */
  shardSize: number | null;
}

export interface NewChatroom {
  name: string;
  avatar: string;
  description: string;
  createdAt: number;
}

export interface ChatroomFilter {
  statuses: readonly ChatroomStatus[];
  /** Substring of the name (case-sensitive, literal: `%` and `_` are not wildcards). */
  nameContains?: string;
  /** Created at or after (ms). */
  createdFrom?: number;
  /** Created at or before (ms). */
  createdTo?: number;
  /** Most rooms returned (oldest first). */
  limit: number;
}

/** `userId` 0 = the whole room. `until` ms; 0 or past = not muted. */
export interface ChatroomMute {
  roomId: number;
  userId: number;
  until: number;
  /** When the mute was set (the chat33 "mutedTime"). */
  at: number;
}

export interface ChatroomReport {
  id: number;
  roomId: number | null;
  reporterId: number;
  targetId: number;
  logId: string;
  createdAt: number;
}

export interface ChatroomRepo {
  create(room: NewChatroom): Promise<Chatroom>;
  get(id: number): Promise<Chatroom | null>;
  list(filter: ChatroomFilter): Promise<Chatroom[]>;
  /** Changes the given fields of a room that is not deleted; false when there is none. */
  update(id: number, patch: Partial<Pick<Chatroom, "name" | "avatar" | "description" | "shardSize">>): Promise<boolean>;
  /**
   * Sets the status of a room that is not deleted (a deleted room stays deleted); opening stamps
   * `openedAt`, closing `closedAt`. The room after the change, or null when there is none.
   */
  setStatus(id: number, status: ChatroomStatus, at: number): Promise<Chatroom | null>;
  setMute(mute: ChatroomMute): Promise<void>;
  /** The room-wide mute (`userId` 0) and the user's own, when set. */
  mutesOf(roomId: number, userId: number): Promise<{ room: ChatroomMute | null; user: ChatroomMute | null }>;
  /** Every mute of one user in any room, newest first (the deprecated chat33 /group/userInfo). */
  userMutes(userId: number): Promise<ChatroomMute[]>;
  blacklist(roomId: number, userId: number, at: number): Promise<void>;
  unblacklist(roomId: number, userId: number): Promise<boolean>;
  isBlacklisted(roomId: number, userId: number): Promise<boolean>;
  /** The blacklisted user ids of a room, oldest entry first (admin API). */
  blacklisted(roomId: number): Promise<number[]>;
  /** The mutes of a room still in force at `now` (the room-wide one has `userId` 0) (admin API). */
  roomMutes(roomId: number, now: number): Promise<ChatroomMute[]>;
  addReport(r: Omit<ChatroomReport, "id">): Promise<number>;
  /** Newest first. */
  reports(limit: number): Promise<ChatroomReport[]>;
  /**
   * Retention: deletes the messages of conversation `conversationId` with seq ≤ `maxSeq`, or
   * created before `before` (ms). Returns how many were deleted.
   */
  pruneMessages(conversationId: number, maxSeq: number, before: number): Promise<number>;
}
