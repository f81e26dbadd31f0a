import type { Logger } from "pino";
import type { Chatroom, ChatroomMute, ChatroomRepo, ChatroomStatus } from "../../ports/chatrooms.ts";
import type { Hub } from "../../ports/hub.ts";
import type { MessageRepo, User } from "../../ports/storage.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import { forbidden, invalid, notFound } from "../errors.ts";
import type { CoreEvents } from "../events.ts";
import type { MessageService, MessageView } from "../messages/message-service.ts";
import { CHATROOMS_CHANGED_TOPIC, chatroomOfTopic, chatroomTopic, userTopic } from "../topics.ts";
import type { AudienceMember, ChatroomAudience } from "./audience.ts";
import type { ChatroomCard } from "./events.ts";
import { ChatroomPolicy, type ChatroomRules, chatroomKey } from "./policy.ts";

export interface ChatroomOptions {
  /** Default audience shard size for fan-out (`chatrooms.shardSize`). */
  shardSize: number;
  /** History retention: newest messages kept per room. */
  historyMaxCount: number;
  /** History retention: age (ms) after which messages are dropped. */
  historyMaxAgeMs: number;
  /**
   * A cached room (its row and room-wide mute) or a cached (room, user) moderation answer is
   * re-read after this many ms even when no `chatrooms.changed` invalidation arrived (config
   * `chatrooms.cacheTtlMs`, default 5000): a lost pub/sub message is stale for at most this long.
   */
  cacheTtlMs: number;
}

/** Most entries of each send cache (rooms; (room, user) pairs) before it is emptied. */
const SEND_CACHE_MAX = 100_000;
const memberKey = (roomId: number, userId: number) => `${roomId}:${userId}`;

/** What a send needs of a room, cached per node (`ChatroomService.roomForSend`). */
interface RoomEntry {
  room: Chatroom | null;
  /** The room-wide mute's end (ms); 0 = none. Compared with the clock at each check. */
  roomMuteUntil: number;
  at: number;
}

/** What a send needs of one user in a room, cached per node. */
interface MemberEntry {
  blacklisted: boolean;
  /** The user's own mute's end (ms); 0 = none. Compared with the clock at each check. */
  muteUntil: number;
  at: number;
}

/**
 * Who manages rooms (issue 12 item 6): the admin token, or a logged-in admin user. Anyone else
 * gets `no_chatroom_permission` (chat33 -3000).
 */
export type ChatroomManager = { adminToken: true } | { user: User };

export type ChatroomListFilter = {
  /** "all" = open and closed (never deleted ones). */
  status: "open" | "closed" | "all";
  nameContains?: string;
  createdFrom?: number;
  createdTo?: number;
};

/** How long a node trusts its copy of a room's shard size before re-reading it (ms). */
export const SHARD_SIZE_TTL_MS = 5000;

/** Most rooms one list returns. */
export const LIST_MAX = 1000;

/**
 * Chat rooms (core Chatroom; chat33 `/group/*`, 003 rooms): rooms and their status, the live
 * audience (audience.ts), history with retention, room mutes and the blacklist, reports.
 * Messages go through the shared pipeline with the `chatroom` policy (policy.ts), registered on
 * the MessageService by the constructor. Notices are published after each change commits.
 *
 * Send path cache: a chat-room send checks the room (exists, open), the room-wide mute and the
 * sender's blacklist entry and own mute. Those come from two per-node caches — per room (the row
 * and the room-wide mute's end) and per (room, user) (blacklisted, the user's mute's end) — so a
 * repeated send reads none of `chatrooms`, `chatroom_mutes`, `chatroom_blacklist`. Mute ends are
 * stored and compared with `Date.now()` at each check, so a timed mute stops applying at its end
 * while cached. Every write here (create, edit, open/close/delete, mute/unmute, blacklist,
 * unblacklist) drops the affected entry on this node and publishes `chatrooms.changed` (awaited)
 * before it answers; the other nodes drop it when the message arrives (milliseconds). Pub/sub is
 * lossy, so an entry also expires after `cacheTtlMs`. A load that started before a drop of its
 * room never fills the cache (a generation per room). `require`, `join`, history and the admin
 * reads keep reading storage.
 */
export class ChatroomService implements ChatroomRules {
  readonly policy: ChatroomPolicy;

  constructor(
    private readonly rooms: ChatroomRepo,
    private readonly messageRepo: Pick<MessageRepo, "conversationByKey" | "conversation" | "history">,
    private readonly messages: MessageService,
    readonly audience: ChatroomAudience,
    private readonly events: CoreEvents,
    private readonly users: UserCache,
    private readonly opts: ChatroomOptions,
    private readonly log: Logger,
    /** Cross-node invalidations; without a hub (one node) only this node's changes drop entries. */
    private readonly hub?: Hub,
  ) {
    this.policy = new ChatroomPolicy(this, audience, messages.directory);
    messages.registerPolicy(this.policy);
    this.hub?.onMessage((topic, payload) => {
      if (
        topic !== CHATROOMS_CHANGED_TOPIC ||
        typeof payload !== "object" ||
        payload === null ||
        Array.isArray(payload)
      )
        return;
      const roomId = Number(payload.roomId);
      const userId = payload.userId === null ? null : Number(payload.userId);
      if (!Number.isSafeInteger(roomId) || (userId !== null && !Number.isSafeInteger(userId))) return;
      this.drop(roomId, userId);
      // another node edited the room (maybe its shard size): re-read it on the next fan-out
      const known = this.shardSizes.get(roomId);
      if (known) known.at = 0;
    });
  }

  /** Subscribes to other nodes' chat-room invalidations; resolves once they will arrive. */
  async start(): Promise<void> {
    await this.hub?.subscribe(CHATROOMS_CHANGED_TOPIC);
  }

  // ---------------------------------------------------------------------------------------------
  // the send path cache (see the class comment)

  private readonly roomEntries = new Map<number, RoomEntry>();
  private readonly memberEntries = new Map<string, MemberEntry>();
  /** Bumped on every drop of a room (or of one of its users): a load that started before fills nothing. */
  private readonly generation = new Map<number, number>();
  private epoch = 0;

  /** Drops the room's entry (`userId` null: the row, the room-wide mute) or one user's entry. */
  private drop(roomId: number, userId: number | null): void {
    if (userId === null) this.roomEntries.delete(roomId);
    else this.memberEntries.delete(memberKey(roomId, userId));
    this.generation.set(roomId, (this.generation.get(roomId) ?? 0) + 1);
    if (this.generation.size >= SEND_CACHE_MAX) {
      // forgetting the generations would let an older load fill the cache: move the epoch instead
      this.generation.clear();
      this.roomEntries.clear();
      this.memberEntries.clear();
      this.epoch++;
    }
  }

  /** A change of the room (`userId` null) or of one user in it committed: drop it here and everywhere. */
  private async changed(roomId: number, userId: number | null): Promise<void> {
    this.drop(roomId, userId);
    await this.hub
      ?.publish(CHATROOMS_CHANGED_TOPIC, { roomId, userId })
      .catch((err: unknown) => this.log.warn({ err, roomId }, "chat-room invalidation publish failed"));
  }

  private async roomEntry(roomId: number): Promise<RoomEntry> {
    const now = Date.now();
    const hit = this.roomEntries.get(roomId);
    if (hit && now - hit.at < this.opts.cacheTtlMs) return hit;
    const gen = this.generation.get(roomId) ?? 0;
    const epoch = this.epoch;
    const [room, mutes] = await Promise.all([this.rooms.get(roomId), this.rooms.mutesOf(roomId, 0)]);
    const entry: RoomEntry = { room, roomMuteUntil: mutes.room?.until ?? 0, at: now };
    if ((this.generation.get(roomId) ?? 0) === gen && this.epoch === epoch) {
      if (this.roomEntries.size >= SEND_CACHE_MAX) this.roomEntries.clear();
      this.roomEntries.set(roomId, entry);
    }
    return entry;
  }

  private async memberEntry(roomId: number, userId: number): Promise<MemberEntry> {
    const k = memberKey(roomId, userId);
    const now = Date.now();
    const hit = this.memberEntries.get(k);
    if (hit && now - hit.at < this.opts.cacheTtlMs) return hit;
    const gen = this.generation.get(roomId) ?? 0;
    const epoch = this.epoch;
    const [blacklisted, mutes] = await Promise.all([
      this.rooms.isBlacklisted(roomId, userId),
      this.rooms.mutesOf(roomId, userId),
    ]);
    const entry: MemberEntry = { blacklisted, muteUntil: mutes.user?.until ?? 0, at: now };
    if ((this.generation.get(roomId) ?? 0) === gen && this.epoch === epoch) {
      if (this.memberEntries.size >= SEND_CACHE_MAX) this.memberEntries.clear();
      this.memberEntries.set(k, entry);
    }
    return entry;
  }

  /** The room as a send sees it, from the per-node cache (the policy; see the class comment). */
  async roomForSend(roomId: number): Promise<Chatroom | null> {
    return (await this.roomEntry(roomId)).room;
  }

  private requireManager(m: ChatroomManager): void {
    if ("adminToken" in m) return;
    if (!m.user.isAdmin) throw forbidden("no_chatroom_permission", "only administrators manage chat rooms");
  }

  /** A room that exists and is not deleted, else `chatroom_not_found` (chat33 -5000). */
  async require(roomId: number): Promise<Chatroom> {
    const room = await this.rooms.get(roomId);
    if (!room || room.status === "deleted") throw notFound("chatroom_not_found", "chat room does not exist");
    return room;
  }

  room(roomId: number): Promise<Chatroom | null> {
    return this.rooms.get(roomId);
  }

  /** The shard size fan-out partitions this room's audience by. */
  shardSize(room: Chatroom): number {
    return room.shardSize ?? this.defaultShard ?? this.opts.shardSize;
  }

  /** Room id → its shard size and when it was read (the fan-out asks per event: no I/O there). */
  private readonly shardSizes = new Map<number, { size: number; at: number }>();
  private readonly shardRefresh = new Set<number>();

  private rememberShardSize(room: Chatroom): void {
    if (room.status === "deleted") this.shardSizes.delete(room.id);
    else this.shardSizes.set(room.id, { size: this.shardSize(room), at: Date.now() });
  }

  /**
   * The fan-out shard size of a topic (wired into the realtime layer by the composition root):
   * for a chat room's topic the room's own size or `chatrooms.shardSize`, from memory — refreshed
   * on every join and edit on this node, and re-read in the background when older than
   * `SHARD_SIZE_TTL_MS` (so an override made on another node applies here within that time);
   * null for other topics.
   */
  fanoutShardSize(topic: string): number | null {
    const roomId = chatroomOfTopic(topic);
    if (roomId === null) return null;
    const known = this.shardSizes.get(roomId);
    if ((!known || Date.now() - known.at > SHARD_SIZE_TTL_MS) && !this.shardRefresh.has(roomId)) {
      this.shardRefresh.add(roomId);
      this.rooms
        .get(roomId)
        .then((room) => {
          if (room) this.rememberShardSize(room);
          else this.shardSizes.delete(roomId);
        })
        .catch((err: unknown) => this.log.warn({ err, roomId }, "chat-room shard size refresh failed"))
        .finally(() => this.shardRefresh.delete(roomId));
    }
    return known?.size ?? this.defaultShardSize;
  }

  /** The default shard size now: set by an operator (003 `/im/room/config` cap without rid), else the config's. */
  get defaultShardSize(): number {
    return this.defaultShard ?? this.opts.shardSize;
  }

  /** Replaces the default shard size on this node (the 003 surface keeps every node in step). */
  setDefaultShardSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 1) throw invalid("bad_shard_size", "shard size must be at least 1");
    this.defaultShard = size;
  }
  private defaultShard: number | null = null;

  async card(room: Chatroom): Promise<ChatroomCard> {
    const { users, guests } = room.status === "deleted" ? { users: 0, guests: 0 } : await this.audience.counts(room.id);
    return {
      id: room.id,
      name: room.name,
      avatar: room.avatar,
      description: room.description,
      status: room.status,
      createdAt: room.createdAt,
      openedAt: room.openedAt,
      closedAt: room.closedAt,
      users,
      guests,
    };
  }

  async list(f: ChatroomListFilter): Promise<ChatroomCard[]> {
    const statuses: ChatroomStatus[] = f.status === "all" ? ["open", "closed"] : [f.status];
    const rooms = await this.rooms.list({
      statuses,
      nameContains: f.nameContains,
      createdFrom: f.createdFrom,
      createdTo: f.createdTo,
      limit: LIST_MAX,
    });
    return Promise.all(rooms.map((r) => this.card(r)));
  }

  async info(roomId: number): Promise<ChatroomCard> {
    return this.card(await this.require(roomId));
  }

  async create(m: ChatroomManager, fields: { name: string; avatar: string; description?: string }): Promise<Chatroom> {
    this.requireManager(m);
    const room = await this.rooms.create({
      name: fields.name,
      avatar: fields.avatar,
      description: fields.description ?? "",
      createdAt: Date.now(),
    });
    // a send to the id before it existed may have cached "no such room"
    await this.changed(room.id, null);
    return room;
  }

  async edit(
    m: ChatroomManager,
    roomId: number,
    patch: Partial<Pick<Chatroom, "name" | "avatar" | "description" | "shardSize">>,
  ): Promise<void> {
    this.requireManager(m);
    if (patch.shardSize !== undefined && patch.shardSize !== null && !(patch.shardSize >= 1))
      throw invalid("bad_shard_size", "shard size must be at least 1");
    if (!(await this.rooms.update(roomId, patch))) throw notFound("chatroom_not_found", "chat room does not exist");
    await this.changed(roomId, null);
    if (patch.shardSize !== undefined) {
      const room = await this.rooms.get(roomId);
      if (room) this.rememberShardSize(room);
    }
  }

  /**
   * Opens, closes or deletes a room and tells its audience (chat33 events 7, 4, 5). Closing keeps
   * the audience (sending is refused until it reopens); deleting also empties it — each node
   * drops its connections from the room when the event reaches them.
   */
  async setStatus(m: ChatroomManager, roomId: number, status: ChatroomStatus): Promise<ChatroomCard> {
    this.requireManager(m);
    const at = Date.now();
    const room = await this.rooms.setStatus(roomId, status, at);
    if (!room) throw notFound("chatroom_not_found", "chat room does not exist");
    await this.changed(room.id, null);
    const card = await this.card(room);
    await this.notify(chatroomTopic(room.id), { type: "chatroom.status", room: card, at });
    return card;
  }

  /**
   * Mutes one user in a room, or everyone (`userId` null), for `durationMs` (0 lifts it); chat33
   * event 3 reaches the user (or the room).
   */
  async mute(m: ChatroomManager, roomId: number, userId: number | null, durationMs: number): Promise<void> {
    this.requireManager(m);
    if (!Number.isSafeInteger(durationMs) || durationMs < 0) throw invalid("bad_duration", "duration must be ≥ 0 ms");
    const room = await this.require(roomId);
    const at = Date.now();
    const mute: ChatroomMute = {
      roomId: room.id,
      userId: userId ?? 0,
      until: durationMs === 0 ? 0 : at + durationMs,
      at,
    };
    await this.rooms.setMute(mute);
    await this.changed(room.id, userId);
    await this.notify(userId === null ? chatroomTopic(room.id) : userTopic(userId), {
      type: "chatroom.muted",
      roomId: room.id,
      userId: userId ?? 0,
      at,
      durationMs,
    });
  }

  /** Blacklists a user: removed from the room's audience on every node, and may not rejoin. */
  async blacklist(m: ChatroomManager, roomId: number, userId: number): Promise<void> {
    this.requireManager(m);
    const room = await this.require(roomId);
    const at = Date.now();
    await this.rooms.blacklist(room.id, userId, at);
    await this.changed(room.id, userId);
    await this.notify(chatroomTopic(room.id), { type: "chatroom.removed", roomId: room.id, userId, at });
  }

  async unblacklist(m: ChatroomManager, roomId: number, userId: number): Promise<boolean> {
    this.requireManager(m);
    const removed = await this.rooms.unblacklist(roomId, userId);
    if (removed) await this.changed(roomId, userId);
    return removed;
  }

  /** From the per-node cache (see the class comment); mute ends are compared with the clock now. */
  async speakProblem(room: Chatroom, user: User): Promise<Error | null> {
    const [roomState, member] = await Promise.all([this.roomEntry(room.id), this.memberEntry(room.id, user.id)]);
    if (member.blacklisted) return forbidden("chatroom_blacklisted", "removed from the room");
    const now = Date.now();
    if (!user.isAdmin && (roomState.roomMuteUntil > now || member.muteUntil > now))
      return forbidden("user_muted", "muted in this chat room");
    return null;
  }

  /** Who is in the room now: the users (loaded) and the guests' uuids. */
  async audienceOf(roomId: number): Promise<{ users: User[]; guests: string[] }> {
    const room = await this.require(roomId);
    const { userIds, guests } = await this.audience.members(room.id);
    const users = await this.users.getMany(userIds);
    return { users: userIds.flatMap((id) => users.get(id) ?? []), guests };
  }

  /** The blacklisted user ids and the mutes in force of a room (admin API). */
  async moderation(m: ChatroomManager, roomId: number): Promise<{ blacklisted: number[]; mutes: ChatroomMute[] }> {
    this.requireManager(m);
    const room = await this.require(roomId);
    const [blacklisted, mutes] = await Promise.all([
      this.rooms.blacklisted(room.id),
      this.rooms.roomMutes(room.id, Date.now()),
    ]);
    return { blacklisted, mutes };
  }

  /** The room-wide and personal mutes of one user (the deprecated /group/userInfo). */
  userMutes(userId: number): Promise<ChatroomMute[]> {
    return this.rooms.userMutes(userId);
  }

  /**
   * Checks that `member` may enter the room (it exists, is not deleted; a blacklisted user may
   * not) and counts one more of its connections in the audience. The caller subscribes the
   * connection to `chatroomTopic(room.id)` and calls `leave` when it leaves or closes.
   */
  async join(roomId: number, member: AudienceMember): Promise<Chatroom> {
    const room = await this.require(roomId);
    if ("userId" in member && (await this.rooms.isBlacklisted(room.id, member.userId)))
      throw forbidden("chatroom_blacklisted", "removed from the room");
    await this.audience.join(room.id, member);
    this.rememberShardSize(room);
    return room;
  }

  leave(roomId: number, member: AudienceMember): Promise<void> {
    return this.audience.leave(roomId, member);
  }

  /**
   * History newest first from `startId` (inclusive; newest when null), `number` messages, within
   * retention (the newest `historyMaxCount`, younger than `historyMaxAgeMs` — applied on read, so
   * it holds before the pruning sweep has run). `nextLog` is the id to start the next page at.
   */
  async history(
    roomId: number,
    startId: number | null,
    count: number,
  ): Promise<{ views: MessageView[]; nextLog: string | null }> {
    await this.require(roomId);
    const conv = await this.messageRepo.conversationByKey(chatroomKey(roomId));
    if (!conv) return { views: [], nextLog: null };
    const fresh = (await this.messageRepo.conversation(conv.id)) ?? conv;
    const minSeq = fresh.lastSeq - this.opts.historyMaxCount;
    const cutoff = Date.now() - this.opts.historyMaxAgeMs;
    const rows = (await this.messageRepo.history(conv.id, startId, count + 1)).filter(
      (m) => m.seq > minSeq && m.createdAt >= cutoff,
    );
    const page = rows.slice(0, count);
    const senders = await this.users.getMany(page.map((m) => m.senderId));
    return {
      views: page.map((m) => this.messages.view(m, fresh, senders.get(m.senderId) ?? null)),
      nextLog: rows.length > count ? String(rows[count].id) : null,
    };
  }

  /** Deletes the messages of every room that fall outside retention; returns how many. */
  async pruneHistory(): Promise<number> {
    let total = 0;
    const rooms = await this.rooms.list({ statuses: ["open", "closed", "deleted"], limit: 1_000_000 });
    const cutoff = Date.now() - this.opts.historyMaxAgeMs;
    for (const room of rooms) {
      const conv = await this.messageRepo.conversationByKey(chatroomKey(room.id));
      if (!conv) continue;
      total += await this.rooms.pruneMessages(conv.id, conv.lastSeq - this.opts.historyMaxCount, cutoff);
    }
    return total;
  }

  /** Stores a report for operators (the deprecated /group/report). */
  report(reporter: User, targetId: number, logId: string, roomId: number | null = null): Promise<number> {
    return this.rooms.addReport({ roomId, reporterId: reporter.id, targetId, logId, createdAt: Date.now() });
  }

  /** The newest reports, for operators. */
  reports(limit: number) {
    return this.rooms.reports(limit);
  }

  private async notify(topic: string, event: Parameters<CoreEvents["publish"]>[1]): Promise<void> {
    await this.events.publish(topic, event).catch((err: unknown) => this.log.warn({ err }, "chat-room notice failed"));
  }
}
