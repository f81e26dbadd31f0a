/** The events of chat rooms (joined into `CoreEvent` in core/events.ts). */

/** A room's public fields with its live counts (what chat33 event 7 and `/group/info` show). */
export type ChatroomCard = {
  id: number;
  name: string;
  avatar: string;
  description: string;
  status: "open" | "closed" | "deleted";
  createdAt: number;
  openedAt: number;
  closedAt: number;
  users: number;
  guests: number;
};

/** A room was opened, closed or deleted; topic: the room. Deleting also empties it. */
export type ChatroomStatusEvent = { type: "chatroom.status"; room: ChatroomCard; at: number };

/**
 * A user was muted in a room (`userId` 0: the whole room), or removed from it (blacklisted);
 * topic: the user (a mute of one user) or the room (room-wide mute, removal).
 */
export type ChatroomMutedEvent = {
  type: "chatroom.muted";
  roomId: number;
  userId: number;
  /** When the mute started (ms). */
  at: number;
  /** How long it lasts (ms); 0 = lifted. */
  durationMs: number;
};

/** A user was removed from a room and may not rejoin (blacklist); topic: the room. */
export type ChatroomRemovedEvent = { type: "chatroom.removed"; roomId: number; userId: number; at: number };
