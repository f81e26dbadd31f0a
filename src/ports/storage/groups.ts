/**
 * Group storage port (core Group = chat33 "room" = enterprise group 1101; SPEC §2). Implemented
 * in `src/adapters/sql/group-repos.ts` for SQLite and PostgreSQL and proven by
 * `test/storage-groups.contract.test.ts` on both.
 *
 * Guarantees:
 * - `create` and `addMembers` never let a group exceed its capacity, even when several calls race
 *   (the member count is checked and the rows inserted under one lock on the group row).
 * - Role changes that move ownership (`transferOwnership`) are one transaction: a group always has
 *   exactly one owner while it is live.
 * - Applications move from waiting (1) to refused (2) or accepted (3) once (`resolveApplication`).
 * - A user has at most one waiting application per group (a partial unique index): a second
 *   `createApplication` while one waits returns that one (`created: false`), even when racing.
 * - `addMembers` is one transaction that also refuses blacklisted users, starts the new members'
 *   read cursors and accepts their waiting applications.
 * - Dissolving removes every member, blacklist entry and waiting application in one transaction.
 */

/** chat33 `memberLevel`: 1 member, 2 admin, 3 owner. */
export type GroupRole = 1 | 2 | 3;
export const ROLE_MEMBER: GroupRole = 1;
export const ROLE_ADMIN: GroupRole = 2;
export const ROLE_OWNER: GroupRole = 3;

/** chat33 `joinPermission`: 1 needs approval, 2 free, 3 closed. */
export type JoinPermission = 1 | 2 | 3;

export interface Group {
  id: number;
  /** Public id for search and display; never equal to any user's `uid` (it starts with "0"). */
  markId: string;
  name: string;
  avatar: string;
  ownerId: number;
  /** Members may add each other as friends from the group (`/friend/add` with `roomId`). */
  canAddFriend: boolean;
  joinPermission: JoinPermission;
  /** Most members the group may have. */
  capacity: number;
  /** Only owner and admins may send while set. */
  muteAll: boolean;
  /** The group's conversation (key `g:<id>`), created with the group in the same transaction. */
  conversationId: number;
  createdAt: number;
  updatedAt: number;
  /** Set when the owner dissolved the group; a dissolved group has no members. */
  dissolvedAt: number | null;
}

export interface GroupMember {
  groupId: number;
  userId: number;
  role: GroupRole;
  /** The member's nickname in this group (`roomNickname`); "" = none. */
  nickname: string;
  noDisturbing: boolean;
  stickyOnTop: boolean;
  /** ms since epoch; 0 = not muted. */
  mutedUntil: number;
  /** May speak while the group is muted for all (chat33's whitelist, `listType` 3). */
  speakExempt: boolean;
  joinedAt: number;
}

/** 1 waiting, 2 refused, 3 accepted (the seed's `status`). */
export type ApplicationStatus = 1 | 2 | 3;

/** A request to join: by the user itself (`inviterId` null) or an invitation by a member. */
export interface GroupApplication {
  id: number;
  groupId: number;
  /** Who would join. */
  userId: number;
  inviterId: number | null;
  reason: string;
  status: ApplicationStatus;
  /** Owner/admin who answered, or null. */
  handledBy: number | null;
  createdAt: number;
  updatedAt: number;
}

export type NewGroup = Omit<Group, "id" | "markId" | "conversationId" | "updatedAt" | "dissolvedAt">;
export type GroupPatch = Partial<
  Pick<Group, "name" | "avatar" | "canAddFriend" | "joinPermission" | "capacity" | "muteAll">
>;
export type MemberPatch = Partial<
  Pick<GroupMember, "role" | "nickname" | "noDisturbing" | "stickyOnTop" | "mutedUntil" | "speakExempt">
>;

export interface GroupRepo {
  /**
   * Creates the group with its first members (the owner among them, role 3) and assigns `id` and
   * `markId`. Throws `invalid_argument` (`group_full`) when the members exceed `capacity`.
   */
  create(group: NewGroup, members: ReadonlyArray<{ userId: number; role: GroupRole }>): Promise<Group>;
  /** A live or dissolved group by id, or null. */
  find(id: number): Promise<Group | null>;
  findByMarkId(markId: string): Promise<Group | null>;
  /**
   * Groups newest first (admin API): `query` matches a substring of the name or the markId;
   * dissolved groups only when `dissolved` is true.
   */
  search(query: string, dissolved: boolean, offset: number, limit: number): Promise<{ total: number; list: Group[] }>;
  /** Applies the patch to a live group; the group after it, or null when absent or dissolved. */
  update(id: number, patch: GroupPatch, at: number): Promise<Group | null>;
  /** Marks the group dissolved and removes members, blacklist and waiting applications; false if already. */
  dissolve(id: number, at: number): Promise<boolean>;

  member(groupId: number, userId: number): Promise<GroupMember | null>;
  /** All members, owner first, then admins, then by join time. */
  members(groupId: number): Promise<GroupMember[]>;
  /** The members among `userIds`. */
  membersAmong(groupId: number, userIds: readonly number[]): Promise<GroupMember[]>;
  countMembers(groupId: number): Promise<number>;
  /** Live groups of a user with the user's membership, newest joined first. */
  groupsOf(userId: number): Promise<Array<{ group: Group; member: GroupMember }>>;
  /**
   * Adds members with `role` (1 or 2) to a live group; users already members are skipped.
   * All or nothing, in one transaction (or the caller's `Storage.transaction`): throws
   * `group_full` when the group would exceed its capacity, `group_blacklisted` (forbidden) when
   * one of the new members is on the group's blacklist (one query), and `group_not_found` when it
   * is dissolved. In the same transaction, each new member's read cursor starts at the group
   * conversation's last seq (what was sent before they joined counts as read), and the waiting
   * applications of every listed user are accepted (status 3, `handledBy`). Returns the user ids
   * actually added.
   */
  addMembers(
    groupId: number,
    userIds: readonly number[],
    role: GroupRole,
    at: number,
    handledBy?: number | null,
  ): Promise<number[]>;
  /** Removes members; returns the ids actually removed (the owner is never removed here). */
  removeMembers(groupId: number, userIds: readonly number[]): Promise<number[]>;
  updateMember(groupId: number, userId: number, patch: MemberPatch): Promise<boolean>;
  /** Applies one patch to every member of the group (e.g. clearing all mutes); returns the count. */
  updateAllMembers(groupId: number, patch: MemberPatch): Promise<number>;
  /** Makes `toId` (a member) the owner and `fromId` (the owner) an admin, in one transaction. */
  transferOwnership(groupId: number, fromId: number, toId: number, at: number): Promise<boolean>;

  /** Stores a new application; a waiting one of the same (group, user) is returned instead (`created: false`). */
  createApplication(a: Omit<GroupApplication, "id">): Promise<{ application: GroupApplication; created: boolean }>;
  application(id: number): Promise<GroupApplication | null>;
  /** The newest waiting application for `userId` to join `groupId`. */
  pendingApplication(groupId: number, userId: number): Promise<GroupApplication | null>;
  /** Sets the status iff still waiting; false when handled already. */
  resolveApplication(id: number, status: 2 | 3, handledBy: number | null, at: number): Promise<boolean>;
  /**
   * Applications the user sees, newest first, ids < `beforeId` (all when null): those of groups
   * the user owns or administers, and the user's own (as applicant or inviter).
   */
  applicationsFor(
    userId: number,
    beforeId: number | null,
    limit: number,
  ): Promise<{ total: number; list: GroupApplication[] }>;
  /** Waiting applications of the groups the user owns or administers (群助手 count). */
  pendingCountFor(userId: number): Promise<number>;
  /** Waiting applications of one group (`/room/joinInRoomApplyList`), newest first. */
  pendingOf(groupId: number, limit: number): Promise<GroupApplication[]>;

  blacklist(groupId: number, userId: number, at: number): Promise<void>;
  unblacklist(groupId: number, userId: number): Promise<boolean>;
  isBlacklisted(groupId: number, userId: number): Promise<boolean>;
  /** Those of `userIds` on the group's blacklist (one query per chunk of ids). */
  blacklistedAmong(groupId: number, userIds: readonly number[]): Promise<number[]>;
  blacklisted(groupId: number): Promise<number[]>;

  /**
   * Announcements (群公告) are the group's messages of kind `system`: newest first, ids ≤
   * `beforeId` (all when null), deleted ones left out, with their total.
   */
  announcements(
    conversationId: number,
    beforeId: number | null,
    limit: number,
  ): Promise<{ total: number; list: Array<{ id: number; senderId: number; content: string; createdAt: number }> }>;

  /**
   * Read receipts without per-message rows: among the members other than `senderId`, how many
   * have a read cursor on `conversationId` at or past `seq`, and which.
   */
  readersOf(groupId: number, conversationId: number, seq: number, senderId: number): Promise<number[]>;
}
