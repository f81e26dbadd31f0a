/**
 * Every topic name (and presence-set name) the core publishes to or a socket subscribes to is
 * built here and nowhere else, so two features can never collide on a name by accident.
 *
 * Rules: a topic is `<namespace>:<key>`; a key that is free text (a gateway system id, a group
 * name) is length-prefixed so `a:b` + `c` and `a` + `b:c` cannot produce the same name.
 */

/** One session: its revocation reaches every socket of that session. */
export const sessionTopic = (sid: string) => `sess:${sid}`;

/** One user: messages, friend requests, mutes — every socket of that user on every surface. */
export const userTopic = (userId: number) => `user:${userId}`;

/** A waiting (not yet logged-in) enterprise PC socket: QR-login confirmations. */
export const deviceTopic = (deviceId: string) => `device:${deviceId}`;

/** A gateway system's namespace (length-prefixed system id). */
const gatewaySystem = (systemId: string) => `gw:${systemId.length}:${systemId}`;

/** A named group of a gateway system: a hub topic and the presence set of its clients. */
export const gatewayGroupTopic = (systemId: string, group: string) => `${gatewaySystem(systemId)}:g:${group}`;

/** The presence set of every client of a gateway system (no topic is published on it). */
export const gatewayAllSet = (systemId: string) => `${gatewaySystem(systemId)}:all`;

/**
 * The owner key of a gateway client socket: node operations on a connection (bind, close) name
 * it, so one system can never bind or close another system's client, nor a socket of another
 * surface, even with a forged address.
 */
export const gatewayOwner = (systemId: string) => gatewaySystem(systemId);

/** One chat room (core Chatroom, chat33 `/group/*`): every connection in its live audience. */
export const chatroomTopic = (roomId: number) => `room:${roomId}`;

/** The room id of a `chatroomTopic`, or null when `topic` is not a chat room's. */
export const chatroomOfTopic = (topic: string): number | null => {
  if (!topic.startsWith("room:")) return null;
  const id = Number(topic.slice(5));
  return Number.isSafeInteger(id) && id > 0 && String(id) === topic.slice(5) ? id : null;
};

/** The presence set of a chat room's logged-in audience (members `u:<userId>`: a person once). */
export const chatroomUsersSet = (roomId: number) => `room:${roomId}:users`;

/** The presence set of a chat room's guests (members `g:<uuid>`). */
export const chatroomGuestsSet = (roomId: number) => `room:${roomId}:guests`;
/** One group (chat33 room, enterprise 1101): its messages and membership events reach every member's sockets. */
export const groupTopic = (groupId: number) => `group:${groupId}`;

/** Hub topic telling every node that a group's membership or settings changed (drop cached copies). */
export const GROUPS_CHANGED_TOPIC = "groups.changed";

/** Hub topic telling every node that two users' friendship or blocks changed (drop the cached pair). */
export const FRIENDS_CHANGED_TOPIC = "friends.changed";

/** Hub topic telling every node that a chat room, its mutes or its blacklist changed (drop cached copies). */
export const CHATROOMS_CHANGED_TOPIC = "chatrooms.changed";

/** The presence set of a group's members with a live socket (chat33 event 24, `/room/info` onlineNumber). */
export const groupOnlineSet = (groupId: number) => `grp-online:${groupId}`;

/** One cluster-admin (003) access session: its connection(s) (a newer `online` kicks older ones). */
export const imSessionTopic = (sid: number) => `im:sid:${sid}`;

/** Access connections that went online with this `app` (003 `dim=appid`). */
export const imAppTopic = (app: string) => `im:app:${app.length}:${app}`;

/** Access connections that went online with this `app` and `version` (003 `dim=appid&version`). */
export const imAppVersionTopic = (app: string, version: string) => `im:appv:${app.length}:${app}:${version}`;

/** Hub topic of 003 `dim=broadcast`: each node delivers it to its own user connections. */
export const IM_BROADCAST_TOPIC = "im.broadcast";

/** Presence set of users with an online access session (members: uid). */
export const imUsersSet = "im:users";

/** Presence set of a user's online access sessions (members: sid). */
export const imUserSidsSet = (uid: number) => `im:u:${uid}:sids`;

/** Presence set of the chat rooms a user's access connections joined (members: rid). */
export const imUserRoomsSet = (uid: number) => `im:u:${uid}:rooms`;
