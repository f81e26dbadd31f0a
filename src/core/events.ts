import type { EventPublisher } from "../ports/events.ts";
import type { Json } from "../ports/hub.ts";
import type { ChatroomMutedEvent, ChatroomRemovedEvent, ChatroomStatusEvent } from "./chatrooms/events.ts";
import type { GroupEvent } from "./groups/events.ts";
import type { MessageChangedEvent, MessageNewEvent, MessageReadEvent } from "./messages/message-service.ts";

/**
 * Every event the core publishes, as one discriminated union on `type`. Surfaces render them in
 * their own wire formats with an exhaustive `switch` ending in `assertNever`, so adding a member
 * here fails `tsc` until every surface has decided what to do with it (render it, or return null).
 *
 * Where a new event goes: add its type here (payload = plain JSON: it crosses nodes), publish it
 * from a core service through `CoreEvents` after commit, on a topic from `core/topics.ts`.
 */

/** A session ended (logout, newer login, admin, disabled account); topic: the session. */
export type SessionRevokedEvent = {
  type: "session.revoked";
  sid: string;
  reason: "replaced" | "logout" | "admin" | "disabled";
};

/** A user was muted (or the mute lifted: `mutedUntil` 0); topic: the user. */
export type UserMutedEvent = { type: "user.muted"; userId: number; mutedUntil: number };

/** A phone confirmed a QR login; topic: the waiting device. The socket's node opens the session. */
export type QrConfirmedEvent = { type: "qr.confirmed"; deviceId: string; userId: number; platform: string };

type UserCard = { id: number; name: string; avatar: string; position: string };

/** A friend request was made or answered; topic: both users. */
export type FriendRequestEvent = {
  type: "friend.request";
  id: number;
  status: 1 | 2 | 3;
  reason: string;
  datetime: number;
  sender: UserCard;
  receiver: UserCard;
};

/** A friendship ended (chat33 event 32); topic: both users. `sender` ended it. */
export type FriendRemovedEvent = {
  type: "friend.removed";
  datetime: number;
  sender: UserCard;
  receiver: UserCard;
};

// Chat-room events, defined with the chat rooms (core/chatrooms/events.ts).
export type {
  ChatroomCard,
  ChatroomMutedEvent,
  ChatroomRemovedEvent,
  ChatroomStatusEvent,
} from "./chatrooms/events.ts";
// The group events (chat33 20–24, 3, 60) are defined with the group module and joined here.
export type {
  GroupApplicationEvent,
  GroupDissolvedEvent,
  GroupEvent,
  GroupJoinedEvent,
  GroupLeftEvent,
  GroupMutedEvent,
  GroupOnlineEvent,
  GroupReadEvent,
} from "./groups/events.ts";
// The message events (message.new / message.changed / message.read) are defined with the
// message pipeline that emits them and joined into the union here.
export type { MessageChangedEvent, MessageNewEvent, MessageReadEvent } from "./messages/message-service.ts";

/** A gateway push (seed 000); topic: a gateway group, or sent to single clients. */
export type GatewayPushEvent = {
  type: "gw.push";
  messageId: string;
  sendUserId: string;
  code: number;
  msg: string;
  data: Json;
};

/**
 * A gateway client joined (`online`) or left (`offline`) a group; topic: the group. The surface
 * turns it into the seed's 1001/1002 notice.
 */
export type GatewayPresenceEvent = {
  type: "gw.presence";
  change: "online" | "offline";
  messageId: string;
  clientId: string;
  userId: string;
  extend: string;
};

/**
 * A cluster-admin (003) push: `body` is the pushed request body, delivered byte for byte as one
 * text frame to every connection of the topic it is published on (user, group, chat room,
 * session, app). `expireMs` ≥ 0: not delivered once `at + expireMs` is reached (room pushes; 0 =
 * already expired); -1 = no expiry.
 */
export type ImPushEvent = { type: "im.push"; body: string; at: number; expireMs: number };

/** An access connection went online for session `sid` (topic: the session); `conn` = "<node>/<id>". */
export type ImOnlineEvent = { type: "im.online"; sid: number; conn: string };

/** The text of an `im.push` for a socket now, or null when it expired (shared by every surface). */
export function imPushText(e: ImPushEvent, now = Date.now()): string | null {
  return e.expireMs >= 0 && now >= e.at + e.expireMs ? null : e.body;
}

export type CoreEvent =
  | SessionRevokedEvent
  | UserMutedEvent
  | QrConfirmedEvent
  | FriendRequestEvent
  | FriendRemovedEvent
  | MessageNewEvent
  | MessageChangedEvent
  | MessageReadEvent
  | GatewayPushEvent
  | GatewayPresenceEvent
  | ChatroomStatusEvent
  | ChatroomMutedEvent
  | ChatroomRemovedEvent
  | GroupEvent
  | ImPushEvent
  | ImOnlineEvent;

export type CoreEventType = CoreEvent["type"];

/** The events port as core services receive it. */
export type CoreEvents = EventPublisher<CoreEvent>;

/**
 * The end of an exhaustive `switch (event.type)`: `tsc` rejects the call when a member of the
 * union was not handled above it. At run time an unknown event (an older/newer node of a rolling
 * upgrade) is simply not rendered.
 */
export function assertNever(event: never): null {
  void event;
  return null;
}
