import type { FriendService } from "../../core/friends/friend-service.ts";

/** What a user has set for a friend (chat33 `/friend/*` settings). */
export interface Friendship {
  /** Friend's messages do not notify (免打扰). */
  noDisturbing: boolean;
  /** Conversation pinned on top (置顶). */
  stickyOnTop: boolean;
  /** When the friendship began, ms. */
  addTime: number;
  /** The viewer's remark (备注) for the friend. */
  remark: string;
}

/**
 * The viewer's friendship with `targetId`, or null when they are not (mutual) friends. Drives
 * `isFriend` and the friend-only fields of `/user/userInfo`.
 */
export async function friendshipBetween(
  friends: FriendService,
  viewerId: number,
  targetId: number,
): Promise<Friendship | null> {
  if (viewerId === targetId || !(await friends.areFriends(viewerId, targetId))) return null;
  const f = await friends.friendship(viewerId, targetId);
  return f ? { noDisturbing: f.noDisturbing, stickyOnTop: f.stickyOnTop, addTime: f.addedAt, remark: f.remark } : null;
}
