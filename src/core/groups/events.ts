import type { Json } from "../../ports/hub.ts";

/**
 * Group events, joined into the core's event union (core/events.ts). Messages, recalls, leaves,
 * dissolutions, mute-all and online counts go to the group's topic (`groupTopic`, core/topics.ts:
 * every connection of a member subscribes to it — one publish per event, whatever the group's
 * size); joins, applications, single mutes and read receipts go to the users' own topics.
 */

/** A user joined (chat33 event 20): on create, accepted invitation, approved application, free join. */
export type GroupJoinedEvent = {
  type: "group.joined";
  groupId: number;
  userId: number;
  datetime: number;
};

/** A member left (chat33 event 21): `reason` 1 quit, 2 kicked. */
export type GroupLeftEvent = {
  type: "group.left";
  groupId: number;
  userId: number;
  reason: 1 | 2;
  /** What clients show, e.g. "张三 退出了群聊" / "张三 被移出了群聊". */
  content: string;
  datetime: number;
};

/** The owner dissolved the group (chat33 event 22). */
export type GroupDissolvedEvent = { type: "group.dissolved"; groupId: number; datetime: number };

export interface GroupCard {
  id: number;
  name: string;
  avatar: string;
  [key: string]: Json;
}

/**
 * An application to join, or its answer (chat33 event 23): to the owner and admins when made, to
 * the applicant when answered. `receiver` is the group.
 */
export type GroupApplicationEvent = {
  type: "group.application";
  id: number;
  groupId: number;
  status: 1 | 2 | 3;
  reason: string;
  datetime: number;
  sender: GroupCard;
  receiver: GroupCard;
};

/**
 * A mute changed (chat33 event 3): one member's (`userId` set) or everyone's (`userId` 0, the
 * group was muted or unmuted for all). `mutedUntil` 0 = lifted.
 */
export type GroupMutedEvent = {
  type: "group.muted";
  groupId: number;
  userId: number;
  mutedUntil: number;
  datetime: number;
};

/** The number of online members changed (chat33 event 24), coalesced per group. */
export type GroupOnlineEvent = { type: "group.online"; groupId: number; number: number; datetime: number };

/** The read count of a message changed (read receipts, extension), to its sender; coalesced. */
export type GroupReadEvent = {
  type: "group.read";
  groupId: number;
  senderId: number;
  logId: string;
  readCount: number;
  unreadCount: number;
  datetime: number;
};

export type GroupEvent =
  | GroupJoinedEvent
  | GroupLeftEvent
  | GroupDissolvedEvent
  | GroupApplicationEvent
  | GroupMutedEvent
  | GroupOnlineEvent
  | GroupReadEvent;
