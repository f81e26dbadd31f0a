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
