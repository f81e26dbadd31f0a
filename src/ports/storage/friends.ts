/** Friendships (both directions stored) and friend requests. */

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
  /** chat33 detailed remark (`/friend/setExtRemark`) as JSON text; "" = none. */
  extRemark: string;
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

/** A user's rules for friend requests sent to them (chat33 `/friend/confirm`, `/friend/question`). */
export interface FriendRules {
  /** Requests need approval (default true); false = accepted at once. */
  needConfirm: boolean;
  /** Requests must carry the answer to `question` (default false). */
  needAnswer: boolean;
  question: string;
  answer: string;
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
  /** Sets the detailed remark of a live friendship; false when they are not friends. */
  setExtRemark(userId: number, friendId: number, extRemark: string, at: number): Promise<boolean>;
  /** `userId` blocks `blockedId` (idempotent). */
  block(userId: number, blockedId: number, at: number): Promise<void>;
  /** Lifts the block (idempotent). */
  unblock(userId: number, blockedId: number): Promise<void>;
  /** Has `userId` blocked `otherId`? */
  isBlocked(userId: number, otherId: number): Promise<boolean>;
  /** Whom `userId` blocked, newest first. */
  blockedBy(userId: number): Promise<Array<{ blockedId: number; at: number }>>;
  /** The user's friend-request rules (defaults when never set). */
  rules(userId: number): Promise<FriendRules>;
  saveRules(userId: number, rules: FriendRules, at: number): Promise<void>;
}
