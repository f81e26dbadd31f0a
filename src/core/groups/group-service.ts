import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Hub, Presence } from "../../ports/hub.ts";
import type { RateLimiter } from "../../ports/rate-limit.ts";
import type {
  Group,
  GroupApplication,
  GroupMember,
  GroupRepo,
  GroupRole,
  JoinPermission,
  MemberPatch,
} from "../../ports/storage/groups.ts";
import { ROLE_ADMIN, ROLE_MEMBER, ROLE_OWNER } from "../../ports/storage/groups.ts";
import type { Conversation, Repos, Transactional, User } from "../../ports/storage.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import { AppError, conflict, forbidden, invalid, notFound } from "../errors.ts";
import type { CoreEvents } from "../events.ts";
import { contentOrThrow } from "../messages/content.ts";
import type { MessageService, MessageView } from "../messages/message-service.ts";
import { GROUPS_CHANGED_TOPIC, groupOnlineSet, groupTopic, userTopic } from "../topics.ts";
import type { GroupApplicationEvent, GroupCard, GroupEvent } from "./events.ts";
import { GroupPolicy } from "./group-policy.ts";
import {
  canKick,
  invitationMode,
  isManager,
  noPermission,
  notMember,
  requireManager,
  requireMayLeave,
  requireMember,
  requireMutable,
  requireOwner,
} from "./policy.ts";

export interface GroupsOptions {
  /** Capacity of a new group. */
  defaultCapacity: number;
  /** Largest capacity one group may be given. */
  maxCapacity: number;
  /** At most one online-count notice per group per this many ms (per node). */
  onlineNoticeMs: number;
  /**
   * A cached group (members, roles, mutes: what every check reads) is reloaded after this many ms
   * even when no `groups.changed` invalidation arrived (a lost pub/sub message is stale for at
   * most this long). Config `groups.cacheTtlMs`, default 5000.
   */
  cacheTtlMs: number;
  /** Groups one user may create per minute, cluster-wide (0 = no limit). */
  createsPerMinute: number;
  /** Applications (and link joins) one user may make per minute, cluster-wide (0 = no limit). */
  appliesPerMinute: number;
}

/** A group with its members, as cached per node (dropped on every change, on every node). */
interface GroupState {
  group: Group;
  members: Map<number, GroupMember>;
  /** When it was read from storage (ms); older than `cacheTtlMs` is reloaded. */
  loadedAt: number;
}

export interface MemberView {
  member: GroupMember;
  user: User;
}

const CACHE_MAX = 20_000;
/** Most messages one receipt notice looks at (their senders hear about their newest one). */
const RECEIPT_SCAN_MAX = 500;
const APPLY_LIST_MAX = 100;
/** Longest default name built from the first members' nicknames. */
const DEFAULT_NAME_MAX = 32;

/**
 * Groups (core Group; chat33 calls it "room", enterprise 1101): membership, roles, applications
 * and invitations, blacklist, mutes, capacity, and group messages through the shared message
 * pipeline under the `group` conversation policy. Every rule lives in policy.ts and is applied
 * here, never in a surface.
 *
 * Hot path: a group and its members are cached per node (two queries on first use), so a message
 * to a hot group reads no membership from storage; every change drops the entry here and, through
 * the hub topic `groups.changed`, on every other node. Pub/sub is lossy, so an entry also expires
 * after `cacheTtlMs` (a few seconds): a lost invalidation is stale for at most that long.
 */
export class GroupService {
  private readonly repo: GroupRepo;
  private readonly cache = new Map<number, GroupState>();
  /** Bumped on every invalidation: a load that started before it does not fill the cache. */
  private readonly generation = new Map<number, number>();
  /** This node's live sockets per (group, user): presence is added on 0→1 and removed on 1→0. */
  private readonly localOnline = new Map<string, number>();
  private readonly onlineTimers = new Map<number, NodeJS.Timeout>();
  /** Read-cursor moves per group waiting for their coalesced receipt notice. */
  private readonly receipts = new Map<number, { from: number; to: number; readers: Set<number> }>();
  private stopped = false;

  /**
   * `storage.transaction` groups the writes of one operation (approve, blacklist, setMutedList);
   * events are published after it commits.
   */
  constructor(
    private readonly storage: Pick<Repos, "groups"> & Transactional,
    private readonly messages: MessageService,
    private readonly events: CoreEvents,
    private readonly hub: Hub,
    private readonly presence: Presence,
    private readonly users: UserCache,
    private readonly opts: GroupsOptions,
    private readonly log: Logger,
    private readonly limiter: RateLimiter,
  ) {
    this.repo = storage.groups;
    hub.onMessage((topic, payload) => {
      if (topic !== GROUPS_CHANGED_TOPIC || typeof payload !== "object" || payload === null || Array.isArray(payload))
        return;
      const id = Number(payload.groupId);
      if (Number.isSafeInteger(id)) this.drop(id);
    });
    messages.registerPolicy(new GroupPolicy({ live: (id) => this.state(id) }, messages.directory));
  }

  /** Subscribes to cross-node invalidations; resolves once they will arrive. */
  async start(): Promise<void> {
    await this.hub.subscribe(GROUPS_CHANGED_TOPIC);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.onlineTimers.values()) clearTimeout(t);
    this.onlineTimers.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // cache

  private drop(groupId: number): void {
    this.cache.delete(groupId);
    this.generation.set(groupId, (this.generation.get(groupId) ?? 0) + 1);
  }

  /** Drops the group here at once and on the other nodes through the hub. */
  private async changed(groupId: number): Promise<void> {
    this.drop(groupId);
    await this.hub
      .publish(GROUPS_CHANGED_TOPIC, { groupId })
      .catch((err: unknown) => this.log.warn({ err }, "group invalidation publish failed"));
  }

  /** The live group with its members, or null (absent or dissolved). */
  private async state(groupId: number): Promise<GroupState | null> {
    const hit = this.cache.get(groupId);
    const now = Date.now();
    if (hit && now - hit.loadedAt < this.opts.cacheTtlMs) return hit;
    const gen = this.generation.get(groupId) ?? 0;
    const [group, members] = await Promise.all([this.repo.find(groupId), this.repo.members(groupId)]);
    if (!group || group.dissolvedAt !== null) {
      if ((this.generation.get(groupId) ?? 0) === gen) this.cache.delete(groupId);
      return null;
    }
    const state: GroupState = { group, members: new Map(members.map((m) => [m.userId, m])), loadedAt: now };
    if ((this.generation.get(groupId) ?? 0) === gen) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(groupId, state);
    }
    return state;
  }

  /** The actor's membership of a live group, or "not found". */
  private async membership(actor: User, groupId: number): Promise<{ s: GroupState; me: GroupMember }> {
    const s = await this.state(groupId);
    const me = s?.members.get(actor.id) ?? null;
    requireMember(s?.group ?? null, me);
    return { s: s as GroupState, me };
  }

  /** Per-user limits on the writes that fan out (a create notifies every member, an application every manager). */
  private async limit(kind: "create" | "apply", userId: number): Promise<void> {
    const max = kind === "create" ? this.opts.createsPerMinute : this.opts.appliesPerMinute;
    if (max <= 0) return;
    if (!(await this.limiter.hit(`groups:${kind}:user:${userId}`, max, 60_000)).ok)
      throw new AppError("rate_limited", "group_rate_limited", "too many group requests, try again later");
  }

  // ---------------------------------------------------------------------------------------------
  // publication

  private async publish(topics: string[], event: GroupEvent): Promise<void> {
    await Promise.all(
      topics.map((t) =>
        this.events.publish(t, event).catch((err: unknown) => this.log.warn({ err }, "group event publish failed")),
      ),
    );
  }

  private toUsers(ids: Iterable<number>, event: GroupEvent): Promise<void> {
    return this.publish([...new Set(ids)].map(userTopic), event);
  }

  /**
   * Event 20, O(N) publishes for N joiners (one user per event, as the seed's frame):
   * - an existing group: each join once to the group's topic (the members before it);
   * - each joiner hears of its own join on its own topic — after the group-topic copies, since
   *   its sockets subscribe to the group on seeing it, so those copies cannot reach it twice; it
   *   reads the member list (`/room/userList`) for the others;
   * - on create, the creator (`creatorId`) hears of every member on its own topic.
   */
  private async announceJoins(groupId: number, joined: number[], existing: boolean, creatorId?: number): Promise<void> {
    const datetime = Date.now();
    const joinOf = (userId: number): GroupEvent => ({ type: "group.joined", groupId, userId, datetime });
    if (existing) for (const userId of joined) await this.publish([groupTopic(groupId)], joinOf(userId));
    await Promise.all(joined.map((userId) => this.toUsers([userId], joinOf(userId))));
    if (creatorId !== undefined)
      for (const userId of joined) if (userId !== creatorId) await this.toUsers([creatorId], joinOf(userId));
  }

  private card(g: Group): GroupCard {
    return { id: g.id, name: g.name, avatar: g.avatar };
  }

  private async announceApplication(g: Group, a: GroupApplication, to: Iterable<number>): Promise<void> {
    const applicant = await this.users.get(a.userId);
    const event: GroupApplicationEvent = {
      type: "group.application",
      id: a.id,
      groupId: g.id,
      status: a.status,
      reason: a.reason,
      datetime: a.updatedAt,
      sender: { id: a.userId, name: applicant?.nickname ?? "", avatar: applicant?.avatar ?? "" },
      receiver: this.card(g),
    };
    await this.toUsers(to, event);
  }

  private managers(s: GroupState): number[] {
    return [...s.members.values()].filter((m) => m.role >= ROLE_ADMIN).map((m) => m.userId);
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  /** A live group by id for anyone (search, QR join): never its members. */
  async publicInfo(groupId: number): Promise<Group | null> {
    return (await this.state(groupId))?.group ?? null;
  }

  async findByMarkId(markId: string): Promise<Group | null> {
    const g = await this.repo.findByMarkId(markId);
    return g && g.dissolvedAt === null ? g : null;
  }

  /** The actor's groups with the actor's membership, newest joined first. */
  list(actor: User): Promise<Array<{ group: Group; member: GroupMember }>> {
    return this.repo.groupsOf(actor.id);
  }

  /** Ids of the actor's live groups (sockets subscribe to their topics). */
  async groupIdsOf(userId: number): Promise<number[]> {
    return (await this.repo.groupsOf(userId)).map((r) => r.group.id);
  }

  /** The group, the actor's membership and every member with its user (owner, admins, members). */
  async info(actor: User, groupId: number): Promise<{ group: Group; me: GroupMember; members: MemberView[] }> {
    const { s, me } = await this.membership(actor, groupId);
    return { group: s.group, me, members: await this.withUsers([...s.members.values()]) };
  }

  private async withUsers(members: GroupMember[]): Promise<MemberView[]> {
    const users = await this.users.getMany(members.map((m) => m.userId));
    const out: MemberView[] = [];
    for (const m of members.sort((a, b) => b.role - a.role || a.joinedAt - b.joinedAt || a.userId - b.userId)) {
      const user = users.get(m.userId);
      if (user) out.push({ member: m, user });
    }
    return out;
  }

  async memberInfo(actor: User, groupId: number, userId: number): Promise<MemberView> {
    const { s } = await this.membership(actor, groupId);
    const m = s.members.get(userId);
    const [view] = m ? await this.withUsers([m]) : [];
    if (!view) throw notFound("group_member_not_found", "not a member of this group");
    return view;
  }

  /** Members whose nickname, group nickname or username contains `query` (case-insensitive). */
  async searchMembers(actor: User, groupId: number, query: string): Promise<MemberView[]> {
    const { s } = await this.membership(actor, groupId);
    const q = query.trim().toLowerCase();
    const all = await this.withUsers([...s.members.values()]);
    return all.filter(
      ({ member, user }) =>
        member.nickname.toLowerCase().includes(q) ||
        user.nickname.toLowerCase().includes(q) ||
        (user.username ?? "").toLowerCase().includes(q),
    );
  }

  /** Members with at least one live socket, cluster-wide. */
  async onlineNumber(actor: User, groupId: number): Promise<number> {
    await this.membership(actor, groupId);
    return this.onlineCount(groupId);
  }

  /** Distinct members online on any node (a user with sockets on two nodes counts once). */
  private async onlineCount(groupId: number): Promise<number> {
    return new Set(await this.presence.members(onlineSet(groupId))).size;
  }

  memberCount(group: Group): Promise<number> {
    return this.repo.countMembers(group.id);
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  private async liveUsers(ids: readonly number[]): Promise<User[]> {
    const users = await this.users.getMany(ids);
    for (const id of ids) {
      const u = users.get(id);
      if (!u || u.disabled) throw notFound("user_not_found", "user does not exist");
    }
    return ids.map((id) => users.get(id) as User);
  }

  /** Creates a group: the actor is its owner, `userIds` its first members (event 20 to all). */
  async create(actor: User, input: { name?: string; avatar?: string; userIds: number[] }): Promise<Group> {
    await this.limit("create", actor.id);
    const others = [...new Set(input.userIds)].filter((id) => id !== actor.id);
    const invited = await this.liveUsers(others);
    let name = input.name?.trim() ?? "";
    if (!name)
      name = [actor, ...invited.slice(0, 2)]
        .map((u) => u.nickname)
        .join("、")
        .slice(0, DEFAULT_NAME_MAX);
    const group = await this.repo.create(
      {
        name,
        avatar: input.avatar ?? "",
        ownerId: actor.id,
        canAddFriend: true,
        joinPermission: 1,
        capacity: this.opts.defaultCapacity,
        muteAll: false,
        createdAt: Date.now(),
      },
      [{ userId: actor.id, role: ROLE_OWNER }, ...others.map((userId) => ({ userId, role: ROLE_MEMBER }))],
    );
    await this.announceJoins(group.id, [actor.id, ...others], false, actor.id);
    return group;
  }

  /** Owner only: dissolves the group (event 22 to every member). */
  async dissolve(actor: User, groupId: number): Promise<void> {
    const s = await this.state(groupId);
    requireOwner(s?.group ?? null, s?.members.get(actor.id) ?? null, "dissolve the group");
    if (!(await this.repo.dissolve(groupId, Date.now()))) throw notMember();
    await this.changed(groupId);
    await this.publish([groupTopic(groupId)], { type: "group.dissolved", groupId, datetime: Date.now() });
  }

  /** Removes members (event 21 type 2, to them and the remaining members). */
  async kick(actor: User, groupId: number, userIds: number[]): Promise<number[]> {
    const { s, me } = await this.membership(actor, groupId);
    if (!isManager(me)) throw noPermission("remove members");
    const targets: GroupMember[] = [];
    for (const id of new Set(userIds)) {
      if (id === actor.id) throw invalid("self_operation", "use loginOut to leave");
      const t = s.members.get(id);
      if (!t) continue; // not (or no longer) a member: nothing to do
      if (!canKick(me, t)) throw forbidden("group_no_permission", "you may only remove members below your role");
      targets.push(t);
    }
    const removed = await this.repo.removeMembers(
      groupId,
      targets.map((t) => t.userId),
    );
    if (!removed.length) return [];
    await this.changed(groupId);
    await this.announceRemoved(groupId, removed);
    return removed;
  }

  /** Event 21 type 2 for each removed member, to the group's topic (they are still subscribed). */
  private async announceRemoved(groupId: number, removed: number[]): Promise<void> {
    const names = await this.users.getMany(removed);
    for (const userId of removed)
      await this.publish([groupTopic(groupId)], {
        type: "group.left",
        groupId,
        userId,
        reason: 2,
        content: `${names.get(userId)?.nickname ?? ""} 被移出了群聊`,
        datetime: Date.now(),
      });
  }

  /** The actor leaves (event 21 type 1). The owner must transfer or dissolve first. */
  async leave(actor: User, groupId: number): Promise<void> {
    const { me } = await this.membership(actor, groupId);
    requireMayLeave(me);
    if (!(await this.repo.removeMembers(groupId, [actor.id])).length) throw notMember();
    await this.changed(groupId);
    await this.publish([groupTopic(groupId)], {
      type: "group.left",
      groupId,
      userId: actor.id,
      reason: 1,
      content: `${actor.nickname} 退出了群聊`,
      datetime: Date.now(),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // settings

  private async patchGroup(groupId: number, patch: Parameters<GroupRepo["update"]>[1]): Promise<Group> {
    const g = await this.repo.update(groupId, patch, Date.now());
    if (!g) throw notMember();
    await this.changed(groupId);
    return g;
  }

  /** Owner/admin: `canAddFriend`, `joinPermission`. */
  async setPermission(
    actor: User,
    groupId: number,
    p: { canAddFriend?: boolean; joinPermission?: JoinPermission },
  ): Promise<Group> {
    const s = await this.state(groupId);
    requireManager(s?.group ?? null, s?.members.get(actor.id) ?? null, "change the group's permissions");
    return this.patchGroup(groupId, p);
  }

  /** Owner/admin: rename or change the avatar (later chat33's /room/setName, /room/setAvatar). */
  async setProfile(actor: User, groupId: number, p: { name?: string; avatar?: string }): Promise<Group> {
    const s = await this.state(groupId);
    requireManager(s?.group ?? null, s?.members.get(actor.id) ?? null, "change the group's name or avatar");
    return this.patchGroup(groupId, p);
  }

  /** Owner only: the group's capacity, between its member count and `groups.maxCapacity`. */
  async setCapacity(actor: User, groupId: number, capacity: number): Promise<Group> {
    const { s, me } = await this.membership(actor, groupId);
    if (me.role !== ROLE_OWNER) throw forbidden("group_no_permission", "only the owner may change the capacity");
    if (!Number.isSafeInteger(capacity) || capacity < s.members.size || capacity > this.opts.maxCapacity)
      throw invalid("bad_capacity", `capacity must be ${s.members.size}..${this.opts.maxCapacity}`);
    return this.patchGroup(groupId, { capacity });
  }

  /**
   * Owner only: level 1 member, 2 admin, 3 owner (transfers ownership: the old owner becomes an
   * admin). Nobody changes their own level.
   */
  async setLevel(actor: User, groupId: number, userId: number, level: GroupRole): Promise<void> {
    const s = await this.state(groupId);
    requireOwner(s?.group ?? null, s?.members.get(actor.id) ?? null, "set member levels");
    if (userId === actor.id) throw invalid("self_operation", "cannot change your own level");
    if (!s?.members.has(userId)) throw notFound("group_member_not_found", "not a member of this group");
    if (level === ROLE_OWNER) {
      if (!(await this.repo.transferOwnership(groupId, actor.id, userId, Date.now()))) throw notMember();
    } else await this.repo.updateMember(groupId, userId, { role: level });
    await this.changed(groupId);
  }

  /** The actor's own settings in the group: do-not-disturb, sticky-on-top, group nickname. */
  async setMySettings(
    actor: User,
    groupId: number,
    patch: Pick<MemberPatch, "noDisturbing" | "stickyOnTop" | "nickname">,
  ): Promise<void> {
    await this.membership(actor, groupId);
    if (!(await this.repo.updateMember(groupId, actor.id, patch))) throw notMember();
    await this.changed(groupId);
  }

  // ---------------------------------------------------------------------------------------------
  // mutes

  /**
   * Owner/admin, chat33's `/room/setMutedList`: `listType` 1 everyone may speak (lifts every
   * mute), 2 the listed members are muted until `deadline`, 3 only the listed members may speak,
   * 4 everyone is muted. Owners and admins always may speak and cannot be listed.
   */
  async setMutedList(
    actor: User,
    groupId: number,
    listType: 1 | 2 | 3 | 4,
    userIds: number[],
    deadline: number,
  ): Promise<void> {
    const { s, me } = await this.membership(actor, groupId);
    if (!isManager(me)) throw noPermission("mute members");
    const targets = [...new Set(userIds)].map((id) => s.members.get(id) ?? null);
    for (const t of targets) requireMutable(t);
    const ids = targets.map((t) => (t as GroupMember).userId);
    const now = Date.now();
    if (listType === 2 && deadline <= now) throw invalid("bad_deadline", "deadline must be in the future");
    // all of it or nothing (one transaction); the events go out after it committed
    await this.storage.transaction(async ({ groups }) => {
      if (listType === 1) {
        await groups.updateAllMembers(groupId, { mutedUntil: 0, speakExempt: false });
        if (!(await groups.update(groupId, { muteAll: false }, now))) throw notMember();
      } else if (listType === 2) {
        for (const id of ids) await groups.updateMember(groupId, id, { mutedUntil: deadline });
      } else {
        await groups.updateAllMembers(groupId, { speakExempt: false });
        if (listType === 3) for (const id of ids) await groups.updateMember(groupId, id, { speakExempt: true });
        if (!(await groups.update(groupId, { muteAll: true }, now))) throw notMember();
      }
    });
    await this.changed(groupId);
    if (listType === 2)
      await Promise.all(
        ids.map((userId) =>
          this.toUsers([userId], { type: "group.muted", groupId, userId, mutedUntil: deadline, datetime: now }),
        ),
      );
    else
      await this.publish([groupTopic(groupId)], {
        type: "group.muted",
        groupId,
        userId: 0,
        mutedUntil: listType === 1 ? 0 : MUTED_FOREVER,
        datetime: now,
      });
  }

  /** Owner/admin, chat33's `/room/setMutedSingle`: one member until `deadline` (ms; 0 lifts it). */
  async setMutedSingle(actor: User, groupId: number, userId: number, deadline: number): Promise<void> {
    const { s, me } = await this.membership(actor, groupId);
    if (!isManager(me)) throw noPermission("mute members");
    const target = s.members.get(userId) ?? null;
    requireMutable(target);
    const now = Date.now();
    const mutedUntil = deadline > now ? deadline : 0;
    await this.repo.updateMember(groupId, userId, { mutedUntil });
    await this.changed(groupId);
    await this.toUsers([userId], { type: "group.muted", groupId, userId, mutedUntil, datetime: now });
  }

  // ---------------------------------------------------------------------------------------------
  // joining

  /** Adds users and announces them; the caller checked the rules. */
  private async admit(s: GroupState, userIds: number[]): Promise<number[]> {
    const added = await this.repo.addMembers(s.group.id, userIds, ROLE_MEMBER, Date.now());
    if (!added.length) return [];
    await this.changed(s.group.id);
    await this.announceJoins(s.group.id, added, true);
    return added;
  }

  /** One query for all of `userIds` (addMembers checks again inside its transaction). */
  private async refuseBlacklisted(groupId: number, userIds: number[]): Promise<void> {
    if (userIds.length && (await this.repo.blacklistedAmong(groupId, userIds)).length)
      throw forbidden("group_blacklisted", "a blacklisted user cannot join this group");
  }

  /**
   * Invites users. Owner/admin (or anyone in a free group): they join at once. A plain member of
   * a group that needs approval: each invitee becomes a waiting application (event 23 to owner
   * and admins). Nobody but owner/admins brings anyone into a closed group. Blacklisted invitees
   * refuse the whole invitation (the blacklist wins).
   */
  async invite(actor: User, groupId: number, userIds: number[]): Promise<{ joined: number[]; pending: number[] }> {
    const { s, me } = await this.membership(actor, groupId);
    const fresh = [...new Set(userIds)].filter((id) => !s.members.has(id));
    await this.liveUsers(fresh);
    await this.refuseBlacklisted(groupId, fresh);
    if (invitationMode(s.group, me) === "join") return { joined: await this.admit(s, fresh), pending: [] };
    if (s.members.size + fresh.length > s.group.capacity) throw invalid("group_full", "the group is full");
    const pending: number[] = [];
    for (const userId of fresh) {
      const a = await this.applyFor(s, userId, actor.id, "");
      pending.push(a.userId);
    }
    return { joined: [], pending };
  }

  /** A waiting application (idempotent: a user's waiting one is returned, announced only once). */
  private async applyFor(s: GroupState, userId: number, inviterId: number | null, reason: string) {
    const now = Date.now();
    const { application: a, created } = await this.repo.createApplication({
      groupId: s.group.id,
      userId,
      inviterId,
      reason,
      status: 1,
      handledBy: null,
      createdAt: now,
      updatedAt: now,
    });
    if (created) await this.announceApplication(s.group, a, [...this.managers(s), userId]);
    return a;
  }

  /**
   * The actor asks to join: a free group admits at once (event 20), one that needs approval gets a
   * waiting application (event 23 to owner/admins and the applicant), a closed group refuses.
   */
  async apply(actor: User, groupId: number, reason: string): Promise<"joined" | "pending"> {
    const s = await this.state(groupId);
    if (!s) throw notMember();
    if (s.members.has(actor.id)) throw conflict("group_already_member", "already a member");
    await this.limit("apply", actor.id);
    await this.refuseBlacklisted(groupId, [actor.id]);
    if (s.group.joinPermission === 3) throw forbidden("group_closed", "this group admits nobody");
    if (s.group.joinPermission === 2) {
      await this.admit(s, [actor.id]);
      return "joined";
    }
    if (s.members.size >= s.group.capacity) throw invalid("group_full", "the group is full");
    await this.applyFor(s, actor.id, null, reason);
    return "pending";
  }

  /** A member makes a group-join QR code's target: checks the actor may share the group. */
  async requireMemberOf(actor: User, groupId: number): Promise<Group> {
    return (await this.membership(actor, groupId)).s.group;
  }

  /**
   * Joining through a QR link (enterprise `cnbi_scan`): a link made by the owner or an admin is
   * their invitation (joins at once); one made by a plain member is an application by the person
   * who opened it (free group: joins; approval: waiting application; closed: refused). The
   * blacklist wins either way.
   */
  async joinByLink(actor: User, groupId: number, createdBy: number | null): Promise<"joined" | "pending" | "member"> {
    const s = await this.state(groupId);
    if (!s) throw notMember();
    if (s.members.has(actor.id)) return "member";
    const maker = createdBy === null ? null : (s.members.get(createdBy) ?? null);
    if (maker && isManager(maker)) {
      await this.refuseBlacklisted(groupId, [actor.id]);
      await this.admit(s, [actor.id]);
      return "joined";
    }
    return this.apply(actor, groupId, "");
  }

  /** Owner/admin answers the waiting application of `userId` (event 23 to the applicant; 20 if agreed). */
  async approve(actor: User, groupId: number, userId: number, agree: boolean): Promise<void> {
    const s = await this.state(groupId);
    requireManager(s?.group ?? null, s?.members.get(actor.id) ?? null, "answer applications");
    const state = s as GroupState;
    const a = await this.repo.pendingApplication(groupId, userId);
    if (!a) throw notFound("group_application_not_found", "no waiting application from this user");
    if (agree && !state.members.has(userId)) {
      await this.refuseBlacklisted(groupId, [userId]);
      await this.liveUsers([userId]);
      if (state.members.size >= state.group.capacity) throw invalid("group_full", "the group is full");
    }
    const now = Date.now();
    // answer and join in one transaction: a full group (capacity checked under the group's lock)
    // rolls the answer back, so nobody is told "agreed" without being a member
    const added = await this.storage.transaction(async ({ groups }) => {
      if (!(await groups.resolveApplication(a.id, agree ? 3 : 2, actor.id, now)))
        throw conflict("group_application_handled", "the application was answered already");
      return agree ? groups.addMembers(groupId, [userId], ROLE_MEMBER, now, actor.id) : [];
    });
    if (added.length) await this.changed(groupId);
    const done: GroupApplication = { ...a, status: agree ? 3 : 2, handledBy: actor.id, updatedAt: now };
    await this.announceApplication(state.group, done, [userId]);
    if (added.length) await this.announceJoins(groupId, added, true);
  }

  /** Owner/admin: the group's waiting applications, newest first, with the applicants. */
  async pendingApplications(actor: User, groupId: number) {
    const s = await this.state(groupId);
    requireManager(s?.group ?? null, s?.members.get(actor.id) ?? null, "see applications");
    const list = await this.repo.pendingOf(groupId, APPLY_LIST_MAX);
    const users = await this.users.getMany(list.flatMap((a) => [a.userId, a.inviterId ?? a.userId]));
    return {
      group: (s as GroupState).group,
      list: list.map((a) => ({ application: a, user: users.get(a.userId) ?? null })),
    };
  }

  /** Applications the actor may see (managed groups' and the actor's own), with users and groups. */
  async applications(actor: User, beforeId: number | null, limit: number) {
    const { total, list } = await this.repo.applicationsFor(actor.id, beforeId, limit);
    const [users, groups] = await Promise.all([
      this.users.getMany(list.map((a) => a.userId)),
      Promise.all([...new Set(list.map((a) => a.groupId))].map((id) => this.repo.find(id))),
    ]);
    const byId = new Map(groups.filter((g): g is Group => g !== null).map((g) => [g.id, g]));
    return {
      total,
      list: list.flatMap((a) => {
        const user = users.get(a.userId);
        const group = byId.get(a.groupId);
        return user && group ? [{ application: a, user, group }] : [];
      }),
    };
  }

  /** Waiting applications in the groups the user owns or administers (enterprise 群助手 count). */
  pendingCount(userId: number): Promise<number> {
    return this.repo.pendingCountFor(userId);
  }

  /** Owner/admin: bars a user (removing them when a member: event 21 type 2). */
  async blacklist(actor: User, groupId: number, userId: number): Promise<void> {
    const { s, me } = await this.membership(actor, groupId);
    if (!isManager(me)) throw noPermission("blacklist users");
    const target = s.members.get(userId);
    if (target && !canKick(me, target))
      throw forbidden("group_no_permission", "you may only bar members below your role");
    const now = Date.now();
    // bar, refuse the waiting application and remove the member in one transaction
    const removed = await this.storage.transaction(async ({ groups }) => {
      await groups.blacklist(groupId, userId, now);
      const pending = await groups.pendingApplication(groupId, userId);
      if (pending) await groups.resolveApplication(pending.id, 2, actor.id, now);
      return target ? groups.removeMembers(groupId, [userId]) : [];
    });
    await this.changed(groupId);
    if (removed.length) await this.announceRemoved(groupId, removed);
  }

  async unblacklist(actor: User, groupId: number, userId: number): Promise<void> {
    const { me } = await this.membership(actor, groupId);
    if (!isManager(me)) throw noPermission("blacklist users");
    await this.repo.unblacklist(groupId, userId);
  }

  /** `/friend/add` from a group: the group must exist, hold both users, and allow it. */
  async mayBefriendVia(actor: User, groupId: number, targetId: number): Promise<void> {
    const s = await this.state(groupId);
    if (!s?.members.has(actor.id) || !s.members.has(targetId)) throw notMember();
    if (!s.group.canAddFriend) throw forbidden("group_no_add_friend", "this group does not allow adding friends");
  }

  // ---------------------------------------------------------------------------------------------
  // messages

  private async conversationOf(actor: User, groupId: number): Promise<{ s: GroupState; conv: Conversation }> {
    const { s } = await this.membership(actor, groupId);
    const conv = await this.messages.conversationById(s.group.conversationId);
    if (!conv) throw notMember();
    return { s, conv };
  }

  /**
   * Owner/admin posts an announcement (群公告, the later chat33's `/room/sendSystemMsgs`): a
   * `system` message in the group, through the pipeline (every member's sockets get it).
   */
  async announce(actor: User, groupId: number, content: string): Promise<MessageView> {
    const { me } = await this.membership(actor, groupId);
    if (!isManager(me)) throw noPermission("post announcements");
    const clientMsgId = `notice-${randomBytes(12).toString("hex")}`;
    const input = { clientMsgId, content: contentOrThrow("system", { content }) };
    return (await this.messages.send("group", actor, groupId, input, { systemKinds: true })).view;
  }

  /** Members only: announcements newest first from `beforeId` (inclusive), with who posted them. */
  async announcements(actor: User, groupId: number, beforeId: number | null, limit: number) {
    const { s, conv } = await this.conversationOf(actor, groupId);
    const { total, list } = await this.repo.announcements(conv.id, beforeId, limit + 1);
    const page = list.slice(0, limit);
    const users = await this.users.getMany(page.map((a) => a.senderId));
    return {
      total,
      list: page.map((a) => ({
        ...a,
        senderName: s.members.get(a.senderId)?.nickname || users.get(a.senderId)?.nickname || "",
      })),
      nextId: list.length > limit ? list[limit].id : null,
    };
  }

  /** Members only: history newest first from `beforeId` (inclusive). */
  async history(actor: User, groupId: number, beforeId: number | null, limit: number) {
    const { conv } = await this.conversationOf(actor, groupId);
    return this.messages.historyOf(conv, beforeId, limit);
  }

  /**
   * Members only: page `page` (from 1), newest first (enterprise find_group_msg), with the
   * actor's read cursor. Reading the newest page is opening the conversation: it marks it read.
   */
  async page(actor: User, groupId: number, page: number, size: number) {
    const { s, conv } = await this.conversationOf(actor, groupId);
    if (page === 1) await this.markRead(actor, groupId, null);
    const [result, cursor] = await Promise.all([
      this.messages.pageOf(conv, page, size),
      this.messages.cursorOf(conv, actor.id),
    ]);
    return { group: s.group, cursor, ...result };
  }

  /**
   * The first `max` members' names of each group (owner, admins, then by join time) joined by
   * "," — the enterprise `otherName` of a group conversation. From the cache: no member query.
   */
  async memberNames(groupIds: readonly number[], max = 10): Promise<Map<number, string>> {
    const states = (await Promise.all(groupIds.map((id) => this.state(id)))).filter((x): x is GroupState => x !== null);
    const firsts = states.map((st) =>
      [...st.members.values()]
        .sort((a, b) => b.role - a.role || a.joinedAt - b.joinedAt || a.userId - b.userId)
        .slice(0, max),
    );
    const users = await this.users.getMany(firsts.flat().map((m) => m.userId));
    return new Map(
      states.map((st, i) => [
        st.group.id,
        firsts[i]
          .map((m) => m.nickname || users.get(m.userId)?.nickname || "")
          .filter(Boolean)
          .join(","),
      ]),
    );
  }

  /** The actor's groups with their last message and unread count (three queries in all). */
  async summaries(actor: User) {
    const rows = await this.repo.groupsOf(actor.id);
    const convs = (await Promise.all(rows.map((r) => this.messages.conversationById(r.group.conversationId)))).filter(
      (c): c is Conversation => c !== null,
    );
    const sums = await this.messages.summariesOf(actor, convs);
    return rows.map((r) => ({ ...r, ...(sums.get(r.group.conversationId) ?? { last: null, unread: 0 }) }));
  }

  /** Members only: moves the actor's read cursor to `logId` (or the newest message). */
  async markRead(actor: User, groupId: number, logId: number | null): Promise<void> {
    const { conv } = await this.conversationOf(actor, groupId);
    let target = logId;
    if (target === null) {
      const last = (await this.messages.historyOf(conv, null, 1)).views[0];
      if (!last) return;
      target = Number(last.logId);
    }
    const { message } = await this.messages.visibleMessage(actor, target);
    if (message.conversationId !== conv.id) throw notFound("message_not_found", "message not found");
    const before = await this.messages.cursorOf(conv, actor.id);
    const { seq } = await this.messages.markRead(actor, target);
    if (seq > before) this.receiptsChanged(groupId, actor.id, before, seq);
  }

  /**
   * Read receipts, coalesced: the read cursors of a group moved over (from, to]; at most once per
   * `onlineNoticeMs` the senders of those messages hear the new counts of their newest message in
   * that range (one event per sender, not one per message or per reader).
   */
  private receiptsChanged(groupId: number, readerId: number, from: number, to: number): void {
    const pending = this.receipts.get(groupId);
    if (pending) {
      pending.from = Math.min(pending.from, from);
      pending.to = Math.max(pending.to, to);
      pending.readers.add(readerId);
      return;
    }
    this.receipts.set(groupId, { from, to, readers: new Set([readerId]) });
    const timer = setTimeout(() => {
      const range = this.receipts.get(groupId);
      this.receipts.delete(groupId);
      if (range && !this.stopped)
        this.sendReceipts(groupId, range.from, range.to, range.readers).catch((err: unknown) =>
          this.log.warn({ err }, "group receipts failed"),
        );
    }, this.opts.onlineNoticeMs);
    timer.unref();
  }

  private async sendReceipts(groupId: number, from: number, to: number, movedBy: Set<number>): Promise<void> {
    const s = await this.state(groupId);
    const conv = s ? await this.messages.conversationById(s.group.conversationId) : null;
    if (!s || !conv) return;
    const rows = (await this.messages.afterSeq(conv, from, RECEIPT_SCAN_MAX)).filter((m) => m.seq <= to);
    const newest = new Map<number, (typeof rows)[number]>();
    for (const m of rows) newest.set(m.senderId, m);
    for (const m of newest.values()) {
      // a sender reading past their own messages changes nobody's count
      if (!s.members.has(m.senderId) || (movedBy.size === 1 && movedBy.has(m.senderId))) continue;
      const readers = await this.repo.readersOf(groupId, conv.id, m.seq, m.senderId);
      const others = s.members.size - 1;
      await this.toUsers([m.senderId], {
        type: "group.read",
        groupId,
        senderId: m.senderId,
        logId: String(m.id),
        readCount: readers.length,
        unreadCount: Math.max(0, others - readers.length),
        datetime: Date.now(),
      });
    }
  }

  /**
   * Read receipts without per-message rows: how many members other than the sender have read
   * `logId` (their read cursor reached its seq). Owners, admins and the sender also get who.
   */
  async readInfo(actor: User, groupId: number, logId: number) {
    const { s, conv } = await this.conversationOf(actor, groupId);
    const { message } = await this.messages.visibleMessage(actor, logId);
    if (message.conversationId !== conv.id) throw notFound("message_not_found", "message not found");
    const readers = await this.repo.readersOf(groupId, conv.id, message.seq, message.senderId);
    const others = [...s.members.keys()].filter((id) => id !== message.senderId);
    const read = new Set(readers);
    const me = s.members.get(actor.id) as GroupMember;
    const lists = isManager(me) || actor.id === message.senderId;
    return {
      readCount: readers.length,
      unreadCount: others.filter((id) => !read.has(id)).length,
      readers: lists ? readers : null,
      unreaders: lists ? others.filter((id) => !read.has(id)) : null,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // operator actions (the admin token: cluster-admin /im/group/*), on the same rules and events

  /** A live group for an operator, else `group_not_found`. */
  private async operated(groupId: number): Promise<GroupState> {
    const s = await this.state(groupId);
    if (!s) throw notMember();
    return s;
  }

  /** Bars a user (removed at once when a member, event 21 type 2; a waiting application is refused). */
  async operatorBlacklist(groupId: number, userId: number): Promise<void> {
    const s = await this.operated(groupId);
    const target = s.members.get(userId);
    if (target?.role === ROLE_OWNER) throw forbidden("group_no_permission", "the owner cannot be blacklisted");
    const now = Date.now();
    // bar, refuse the waiting application and remove the member in one transaction (as blacklist)
    const removed = await this.storage.transaction(async ({ groups }) => {
      await groups.blacklist(groupId, userId, now);
      const pending = await groups.pendingApplication(groupId, userId);
      if (pending) await groups.resolveApplication(pending.id, 2, null, now);
      return target ? groups.removeMembers(groupId, [userId]) : [];
    });
    await this.changed(groupId);
    if (removed.length) await this.announceRemoved(groupId, removed);
  }

  async operatorUnblacklist(groupId: number, userId: number): Promise<void> {
    await this.operated(groupId);
    await this.repo.unblacklist(groupId, userId);
  }

  /** The blacklisted user ids of a live group. */
  async operatorBlacklisted(groupId: number): Promise<number[]> {
    await this.operated(groupId);
    return this.repo.blacklisted(groupId);
  }

  /**
   * Gags one member (`userId`) until lifted, or everyone (`userId` null: only owner and admins
   * may speak); `on` false lifts it (for everyone: every member's gag too). Event 3 as chat33's
   * own mutes.
   */
  async operatorGag(groupId: number, userId: number | null, on: boolean): Promise<void> {
    const s = await this.operated(groupId);
    const now = Date.now();
    if (userId === null) {
      if (!on) await this.repo.updateAllMembers(groupId, { mutedUntil: 0, speakExempt: false });
      await this.repo.update(groupId, { muteAll: on }, now);
      await this.changed(groupId);
      await this.publish([groupTopic(groupId)], {
        type: "group.muted",
        groupId,
        userId: 0,
        mutedUntil: on ? MUTED_FOREVER : 0,
        datetime: now,
      });
      return;
    }
    if (!s.members.has(userId)) throw notFound("group_member_not_found", "not a member of this group");
    const mutedUntil = on ? MUTED_FOREVER : 0;
    await this.repo.updateMember(groupId, userId, { mutedUntil });
    await this.changed(groupId);
    await this.toUsers([userId], { type: "group.muted", groupId, userId, mutedUntil, datetime: now });
  }

  /** Who is gagged now: 0 first when the whole group is, then the gagged members. */
  async operatorGagged(groupId: number): Promise<number[]> {
    const s = await this.operated(groupId);
    const now = Date.now();
    const ids = [...s.members.values()].filter((m) => m.mutedUntil > now).map((m) => m.userId);
    return s.group.muteAll ? [0, ...ids] : ids;
  }

  /** Dissolves the group (event 22 to every member). */
  async operatorDissolve(groupId: number): Promise<void> {
    await this.operated(groupId);
    if (!(await this.repo.dissolve(groupId, Date.now()))) throw notMember();
    await this.changed(groupId);
    await this.publish([groupTopic(groupId)], { type: "group.dissolved", groupId, datetime: Date.now() });
  }

  /** The group's member capacity, between its member count and `groups.maxCapacity`. */
  async operatorSetCapacity(groupId: number, capacity: number): Promise<Group> {
    const s = await this.operated(groupId);
    if (!Number.isSafeInteger(capacity) || capacity < s.members.size || capacity > this.opts.maxCapacity)
      throw invalid("bad_capacity", `capacity must be ${s.members.size}..${this.opts.maxCapacity}`);
    return this.patchGroup(groupId, { capacity });
  }

  async operatorCapacity(groupId: number): Promise<number> {
    return (await this.operated(groupId)).group.capacity;
  }

  /** Groups newest first with their member counts (admin API); dissolved ones only when asked. */
  async operatorList(
    query: string,
    dissolved: boolean,
    offset: number,
    limit: number,
  ): Promise<{ total: number; list: Array<{ group: Group; members: number }> }> {
    const { total, list } = await this.repo.search(query, dissolved, offset, limit);
    const counts = await Promise.all(list.map((g) => (g.dissolvedAt === null ? this.repo.countMembers(g.id) : 0)));
    return { total, list: list.map((group, i) => ({ group, members: counts[i] ?? 0 })) };
  }

  /** A live group with every member and its user (owner, admins, members), and the barred user ids (admin API). */
  async operatorDetail(groupId: number): Promise<{ group: Group; members: MemberView[]; blacklisted: number[] }> {
    const s = await this.operated(groupId);
    const [members, blacklisted] = await Promise.all([
      this.withUsers([...s.members.values()]),
      this.repo.blacklisted(groupId),
    ]);
    return { group: s.group, members, blacklisted };
  }

  /**
   * Sets a member's role (admin API): 1 member, 2 admin, 3 owner — making someone the owner
   * transfers ownership (the old owner becomes an admin); the owner's own role cannot be lowered
   * (transfer it instead).
   */
  async operatorSetRole(groupId: number, userId: number, role: GroupRole): Promise<void> {
    const s = await this.operated(groupId);
    const target = s.members.get(userId);
    if (!target) throw notFound("group_member_not_found", "not a member of this group");
    if (target.role === role) return;
    if (target.role === ROLE_OWNER)
      throw forbidden("group_no_permission", "the owner's role changes only by making another member the owner");
    if (role === ROLE_OWNER) {
      if (!(await this.repo.transferOwnership(groupId, s.group.ownerId, userId, Date.now()))) throw notMember();
    } else await this.repo.updateMember(groupId, userId, { role });
    await this.changed(groupId);
  }

  /**
   * Mutes one plain member until `until` (ms since epoch; 0 or a past time lifts it) — the timed
   * mute owners and admins have (chat33 event 3), for operators (admin API).
   */
  async operatorMuteUntil(groupId: number, userId: number, until: number): Promise<number> {
    const s = await this.operated(groupId);
    requireMutable(s.members.get(userId) ?? null);
    const now = Date.now();
    const mutedUntil = until > now ? until : 0;
    await this.repo.updateMember(groupId, userId, { mutedUntil });
    await this.changed(groupId);
    await this.toUsers([userId], { type: "group.muted", groupId, userId, mutedUntil, datetime: now });
    return mutedUntil;
  }

  // ---------------------------------------------------------------------------------------------
  // online members (event 24)

  /** A socket of `userId` subscribed to the group (call once per socket and group). */
  socketJoined(groupId: number, userId: number): void {
    const key = `${groupId}:${userId}`;
    const n = (this.localOnline.get(key) ?? 0) + 1;
    this.localOnline.set(key, n);
    if (n === 1)
      this.presence.add(onlineSet(groupId), String(userId)).then(
        () => this.onlineChanged(groupId),
        (err: unknown) => this.log.warn({ err }, "group presence add failed"),
      );
  }

  /** The socket left the group (closed, or the user left it). */
  socketLeft(groupId: number, userId: number): void {
    const key = `${groupId}:${userId}`;
    const n = (this.localOnline.get(key) ?? 0) - 1;
    if (n > 0) {
      this.localOnline.set(key, n);
      return;
    }
    if (!this.localOnline.delete(key)) return;
    this.presence.remove(onlineSet(groupId), String(userId)).then(
      () => this.onlineChanged(groupId),
      (err: unknown) => this.log.warn({ err }, "group presence remove failed"),
    );
  }

  /** Coalesces: at most one event 24 per group per `onlineNoticeMs` from this node. */
  private onlineChanged(groupId: number): void {
    if (this.stopped || this.onlineTimers.has(groupId)) return;
    const timer = setTimeout(() => {
      this.onlineTimers.delete(groupId);
      if (this.stopped) return;
      this.onlineCount(groupId).then(
        (number) =>
          this.publish([groupTopic(groupId)], { type: "group.online", groupId, number, datetime: Date.now() }),
        (err: unknown) => this.log.warn({ err }, "group online count failed"),
      );
    }, this.opts.onlineNoticeMs);
    timer.unref();
    this.onlineTimers.set(groupId, timer);
  }
}

/** chat33's "muted forever" deadline (year 2200), as its later server uses it. */
export const MUTED_FOREVER = 7258089600000;

const onlineSet = groupOnlineSet;
