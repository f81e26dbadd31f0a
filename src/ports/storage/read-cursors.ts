/**
 * Read state: one cursor per (conversation, user), the seq of the last message the user read, and
 * the unread counts it defines. A user without a cursor has read nothing (cursor 0).
 */
export interface ReadCursorRepo {
  /** Moves the cursor forward only (never back); returns the cursor after the call. */
  advance(conversationId: number, userId: number, seq: number, at: number): Promise<number>;
  /** The user's cursor in the conversation (0 when none). */
  get(conversationId: number, userId: number): Promise<number>;
  /**
   * The cursors of `userIds` in `conversationIds`, in one query per chunk of ids:
   * conversation id → user id → seq (a user without a cursor is absent, i.e. 0).
   */
  getMany(conversationIds: readonly number[], userIds: readonly number[]): Promise<Map<number, Map<number, number>>>;
  /** Unread = messages from others with seq above the user's cursor, not deleted. */
  unreadCount(conversationId: number, userId: number): Promise<number>;
  /** `unreadCount` for several conversations at once: conversation id → count (absent = 0). */
  unreadCounts(conversationIds: readonly number[], userId: number): Promise<Map<number, number>>;
}
