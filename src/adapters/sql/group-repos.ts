import { randomBytes } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import { forbidden, invalid, notFound } from "../../ports/errors.ts";
import type {
  ApplicationStatus,
  Group,
  GroupApplication,
  GroupMember,
  GroupPatch,
  GroupRepo,
  GroupRole,
  JoinPermission,
  MemberPatch,
  NewGroup,
} from "../../ports/storage/groups.ts";
import type { StorageKind } from "../../ports/storage.ts";
import { atomic } from "./atomic.ts";
import { inChunks } from "./chunks.ts";
import type { Database, GroupApplicationsTable, GroupMembersTable, GroupsTable } from "./schema.ts";

/**
 * Group markIds are "0" + (100000 + id): user uids are 100000 + id and never start with "0", so a
 * markId and a uid can never be equal and `/chat33/search` is unambiguous.
 */
const MARK_BASE = 100000;

const int = (b: boolean) => (b ? 1 : 0);

function toGroup(r: Selectable<GroupsTable>): Group {
  return {
    id: Number(r.id),
    markId: r.mark_id,
    name: r.name,
    avatar: r.avatar,
    ownerId: Number(r.owner_id),
    canAddFriend: r.can_add_friend === 1,
    joinPermission: r.join_permission as JoinPermission,
    capacity: Number(r.capacity),
    muteAll: r.mute_all === 1,
    conversationId: Number(r.conversation_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    dissolvedAt: r.dissolved_at === null ? null : Number(r.dissolved_at),
  };
}

function toMember(r: Selectable<GroupMembersTable>): GroupMember {
  return {
    groupId: Number(r.group_id),
    userId: Number(r.user_id),
    role: r.role as GroupRole,
    nickname: r.nickname,
    noDisturbing: r.no_disturbing === 1,
    stickyOnTop: r.sticky_on_top === 1,
    mutedUntil: Number(r.muted_until),
    speakExempt: r.speak_exempt === 1,
    joinedAt: Number(r.joined_at),
  };
}

function toApplication(r: Selectable<GroupApplicationsTable>): GroupApplication {
  return {
    id: Number(r.id),
    groupId: Number(r.group_id),
    userId: Number(r.user_id),
    inviterId: r.inviter_id === null ? null : Number(r.inviter_id),
    reason: r.reason,
    status: r.status as ApplicationStatus,
    handledBy: r.handled_by === null ? null : Number(r.handled_by),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function memberColumns(p: MemberPatch): Partial<Selectable<GroupMembersTable>> {
  const set: Partial<Selectable<GroupMembersTable>> = {};
  if (p.role !== undefined) set.role = p.role;
  if (p.nickname !== undefined) set.nickname = p.nickname;
  if (p.noDisturbing !== undefined) set.no_disturbing = int(p.noDisturbing);
  if (p.stickyOnTop !== undefined) set.sticky_on_top = int(p.stickyOnTop);
  if (p.mutedUntil !== undefined) set.muted_until = p.mutedUntil;
  if (p.speakExempt !== undefined) set.speak_exempt = int(p.speakExempt);
  return set;
}

/** The row of a member who has just joined: no nickname, no settings, not muted or exempt. */
function newMemberRow(groupId: number, userId: number, role: GroupRole, joinedAt: number) {
  return {
    group_id: groupId,
    user_id: userId,
    role,
    nickname: "",
    no_disturbing: 0,
    sticky_on_top: 0,
    muted_until: 0,
    speak_exempt: 0,
    joined_at: joinedAt,
  };
}

const memberOrder = (a: GroupMember, b: GroupMember) =>
  b.role - a.role || a.joinedAt - b.joinedAt || a.userId - b.userId;

export class SqlGroups implements GroupRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: StorageKind,
  ) {}

  /**
   * Locks a live group row for the rest of the transaction (PostgreSQL `FOR UPDATE`; SQLite has
   * one writer connection, and Kysely runs a transaction alone on it). Null when absent/dissolved.
   */
  private async lockLive(tx: Kysely<Database>, groupId: number): Promise<Selectable<GroupsTable> | null> {
    let q = tx.selectFrom("groups").selectAll().where("id", "=", groupId).where("dissolved_at", "is", null);
    if (this.kind === "postgres") q = q.forUpdate();
    return (await q.executeTakeFirst()) ?? null;
  }

  private async count(tx: Kysely<Database>, groupId: number): Promise<number> {
    const r = await tx
      .selectFrom("group_members")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("group_id", "=", groupId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async create(g: NewGroup, members: ReadonlyArray<{ userId: number; role: GroupRole }>): Promise<Group> {
    const unique = new Map(members.map((m) => [m.userId, m.role]));
    if (unique.size > g.capacity) throw invalid("group_full", "the group is full");
    return atomic(this.db, async (tx) => {
      const tmp = `tmp-${randomBytes(8).toString("hex")}`;
      const conv = await tx
        .insertInto("conversations")
        .values({
          kind: "group",
          key: tmp,
          user_a: null,
          user_b: null,
          last_seq: 0,
          last_message_at: 0,
          created_at: g.createdAt,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const { id } = await tx
        .insertInto("groups")
        .values({
          mark_id: tmp,
          name: g.name,
          avatar: g.avatar,
          owner_id: g.ownerId,
          can_add_friend: int(g.canAddFriend),
          join_permission: g.joinPermission,
          capacity: g.capacity,
          mute_all: int(g.muteAll),
          conversation_id: Number(conv.id),
          created_at: g.createdAt,
          updated_at: g.createdAt,
          dissolved_at: null,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await tx
        .updateTable("conversations")
        .set({ key: `g:${id}` })
        .where("id", "=", Number(conv.id))
        .execute();
      const row = await tx
        .updateTable("groups")
        .set({ mark_id: `0${MARK_BASE + Number(id)}` })
        .where("id", "=", Number(id))
        .returningAll()
        .executeTakeFirstOrThrow();
      if (unique.size)
        await tx
          .insertInto("group_members")
          .values([...unique].map(([userId, role]) => newMemberRow(Number(id), userId, role, g.createdAt)))
          .execute();
      return toGroup(row);
    });
  }

  async find(id: number): Promise<Group | null> {
    const r = await this.db.selectFrom("groups").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toGroup(r) : null;
  }

  async search(
    query: string,
    dissolved: boolean,
    offset: number,
    limit: number,
  ): Promise<{ total: number; list: Group[] }> {
    let q = this.db.selectFrom("groups");
    q = dissolved ? q.where("dissolved_at", "is not", null) : q.where("dissolved_at", "is", null);
    if (query) {
      const like = `%${query.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb("name", "like", sql<string>`${like} escape '\\'`),
          eb("mark_id", "like", sql<string>`${like} escape '\\'`),
        ]),
      );
    }
    const [{ n }, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      q.selectAll().orderBy("id", "desc").offset(offset).limit(limit).execute(),
    ]);
    return { total: Number(n), list: rows.map(toGroup) };
  }

  async findByMarkId(markId: string): Promise<Group | null> {
    const r = await this.db.selectFrom("groups").selectAll().where("mark_id", "=", markId).executeTakeFirst();
    return r ? toGroup(r) : null;
  }

  async update(id: number, p: GroupPatch, at: number): Promise<Group | null> {
    const set: Partial<Selectable<GroupsTable>> = { updated_at: at };
    if (p.name !== undefined) set.name = p.name;
    if (p.avatar !== undefined) set.avatar = p.avatar;
    if (p.canAddFriend !== undefined) set.can_add_friend = int(p.canAddFriend);
    if (p.joinPermission !== undefined) set.join_permission = p.joinPermission;
    if (p.capacity !== undefined) set.capacity = p.capacity;
    if (p.muteAll !== undefined) set.mute_all = int(p.muteAll);
    const r = await this.db
      .updateTable("groups")
      .set(set)
      .where("id", "=", id)
      .where("dissolved_at", "is", null)
      .returningAll()
      .executeTakeFirst();
    return r ? toGroup(r) : null;
  }

  async dissolve(id: number, at: number): Promise<boolean> {
    return atomic(this.db, async (tx) => {
      if (!(await this.lockLive(tx, id))) return false;
      await tx.updateTable("groups").set({ dissolved_at: at, updated_at: at }).where("id", "=", id).execute();
      await tx.deleteFrom("group_members").where("group_id", "=", id).execute();
      await tx.deleteFrom("group_blacklist").where("group_id", "=", id).execute();
      await tx
        .updateTable("group_applications")
        .set({ status: 2, updated_at: at })
        .where("group_id", "=", id)
        .where("status", "=", 1)
        .execute();
      return true;
    });
  }

  async member(groupId: number, userId: number): Promise<GroupMember | null> {
    const r = await this.db
      .selectFrom("group_members")
      .selectAll()
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return r ? toMember(r) : null;
  }

  async members(groupId: number): Promise<GroupMember[]> {
    const rows = await this.db.selectFrom("group_members").selectAll().where("group_id", "=", groupId).execute();
    return rows.map(toMember).sort(memberOrder);
  }

  async membersAmong(groupId: number, userIds: readonly number[]): Promise<GroupMember[]> {
    const rows = await inChunks(userIds, (chunk) =>
      this.db
        .selectFrom("group_members")
        .selectAll()
        .where("group_id", "=", groupId)
        .where("user_id", "in", chunk)
        .execute(),
    );
    return rows.map(toMember).sort(memberOrder);
  }

  countMembers(groupId: number): Promise<number> {
    return this.count(this.db, groupId);
  }

  async groupsOf(userId: number): Promise<Array<{ group: Group; member: GroupMember }>> {
    const rows = await this.db
      .selectFrom("group_members as m")
      .innerJoin("groups as g", "g.id", "m.group_id")
      .selectAll("g")
      .select([
        "m.group_id",
        "m.user_id",
        "m.role",
        "m.nickname",
        "m.no_disturbing",
        "m.sticky_on_top",
        "m.muted_until",
        "m.speak_exempt",
        "m.joined_at",
      ])
      .where("m.user_id", "=", userId)
      .where("g.dissolved_at", "is", null)
      .orderBy("m.joined_at", "desc")
      .orderBy("g.id", "desc")
      .execute();
    return rows.map((r) => ({ group: toGroup(r), member: toMember(r) }));
  }

  async addMembers(
    groupId: number,
    userIds: readonly number[],
    role: GroupRole,
    at: number,
    handledBy: number | null = null,
  ): Promise<number[]> {
    const wanted = [...new Set(userIds)];
    if (!wanted.length) return [];
    return atomic(this.db, async (tx) => {
      const g = await this.lockLive(tx, groupId);
      if (!g) throw notFound("group_not_found", "no such group");
      // they are members after this call: their own waiting applications are answered (accepted)
      await inChunks(wanted, (chunk) =>
        tx
          .updateTable("group_applications")
          .set({ status: 3, handled_by: handledBy, updated_at: at })
          .where("group_id", "=", groupId)
          .where("user_id", "in", chunk)
          .where("status", "=", 1)
          .execute(),
      );
      const existing = new Set(
        (
          await inChunks(wanted, (chunk) =>
            tx
              .selectFrom("group_members")
              .select("user_id")
              .where("group_id", "=", groupId)
              .where("user_id", "in", chunk)
              .execute(),
          )
        ).map((r) => Number(r.user_id)),
      );
      const fresh = wanted.filter((id) => !existing.has(id));
      if (!fresh.length) return [];
      const barred = await inChunks(fresh, (chunk) =>
        tx
          .selectFrom("group_blacklist")
          .select("user_id")
          .where("group_id", "=", groupId)
          .where("user_id", "in", chunk)
          .limit(1)
          .execute(),
      );
      if (barred.length) throw forbidden("group_blacklisted", "a blacklisted user cannot join this group");
      if ((await this.count(tx, groupId)) + fresh.length > Number(g.capacity))
        throw invalid("group_full", "the group is full");
      await tx
        .insertInto("group_members")
        .values(fresh.map((userId) => newMemberRow(groupId, userId, role, at)))
        .execute();
      // a new member has read everything before they joined: their cursor starts at the
      // conversation's last seq, in this transaction (a message committed later is unread).
      // PostgreSQL: the row is locked (FOR UPDATE), so no message is stored between this read and
      // the commit — one stored then would count as read though it came after the membership
      // began, or as unread though it came before (test/groups-join-cursor.test.ts). A SQLite
      // transaction holds the write lock anyway.
      let lastSeq = tx.selectFrom("conversations").select("last_seq").where("id", "=", g.conversation_id);
      if (this.kind === "postgres") lastSeq = lastSeq.forUpdate();
      const conv = await lastSeq.executeTakeFirst();
      const seq = Number(conv?.last_seq ?? 0);
      if (seq > 0)
        await inChunks(fresh, (chunk) =>
          tx
            .insertInto("read_cursors")
            .values(
              chunk.map((userId) => ({ conversation_id: g.conversation_id, user_id: userId, seq, updated_at: at })),
            )
            .onConflict((oc) =>
              oc
                .columns(["conversation_id", "user_id"])
                .doUpdateSet({ seq, updated_at: at })
                .where("read_cursors.seq", "<", seq),
            )
            .execute(),
        );
      return fresh;
    });
  }

  async removeMembers(groupId: number, userIds: readonly number[]): Promise<number[]> {
    const rows = await inChunks(userIds, (chunk) =>
      this.db
        .deleteFrom("group_members")
        .where("group_id", "=", groupId)
        .where("user_id", "in", chunk)
        .where("role", "<>", 3)
        .returning("user_id")
        .execute(),
    );
    return rows.map((r) => Number(r.user_id));
  }

  async updateMember(groupId: number, userId: number, p: MemberPatch): Promise<boolean> {
    const set = memberColumns(p);
    if (!Object.keys(set).length) return (await this.member(groupId, userId)) !== null;
    const r = await this.db
      .updateTable("group_members")
      .set(set)
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async updateAllMembers(groupId: number, p: MemberPatch): Promise<number> {
    const set = memberColumns(p);
    if (!Object.keys(set).length) return 0;
    const r = await this.db.updateTable("group_members").set(set).where("group_id", "=", groupId).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async transferOwnership(groupId: number, fromId: number, toId: number, at: number): Promise<boolean> {
    return atomic(this.db, async (tx) => {
      const g = await this.lockLive(tx, groupId);
      if (!g || Number(g.owner_id) !== fromId || fromId === toId) return false;
      const target = await tx
        .selectFrom("group_members")
        .select("user_id")
        .where("group_id", "=", groupId)
        .where("user_id", "=", toId)
        .executeTakeFirst();
      if (!target) return false;
      await tx
        .updateTable("group_members")
        .set({ role: 2 })
        .where("group_id", "=", groupId)
        .where("user_id", "=", fromId)
        .execute();
      await tx
        .updateTable("group_members")
        .set({ role: 3 })
        .where("group_id", "=", groupId)
        .where("user_id", "=", toId)
        .execute();
      await tx.updateTable("groups").set({ owner_id: toId, updated_at: at }).where("id", "=", groupId).execute();
      return true;
    });
  }

  async createApplication(
    a: Omit<GroupApplication, "id">,
  ): Promise<{ application: GroupApplication; created: boolean }> {
    // a second waiting application of the same user hits the partial unique index (0012): no-op
    const r = await this.db
      .insertInto("group_applications")
      .values({
        group_id: a.groupId,
        user_id: a.userId,
        inviter_id: a.inviterId,
        reason: a.reason,
        status: a.status,
        handled_by: a.handledBy,
        created_at: a.createdAt,
        updated_at: a.updatedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (r) return { application: toApplication(r), created: true };
    const existing = a.status === 1 ? await this.pendingApplication(a.groupId, a.userId) : null;
    if (!existing) throw new Error("group application insert conflicted with no waiting application");
    return { application: existing, created: false };
  }

  async application(id: number): Promise<GroupApplication | null> {
    const r = await this.db.selectFrom("group_applications").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toApplication(r) : null;
  }

  async pendingApplication(groupId: number, userId: number): Promise<GroupApplication | null> {
    const r = await this.db
      .selectFrom("group_applications")
      .selectAll()
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .where("status", "=", 1)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return r ? toApplication(r) : null;
  }

  async resolveApplication(id: number, status: 2 | 3, handledBy: number | null, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable("group_applications")
      .set({ status, handled_by: handledBy, updated_at: at })
      .where("id", "=", id)
      .where("status", "=", 1)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Groups the user owns or administers. */
  private managed(userId: number) {
    return this.db.selectFrom("group_members").select("group_id").where("user_id", "=", userId).where("role", ">=", 2);
  }

  async applicationsFor(
    userId: number,
    beforeId: number | null,
    limit: number,
  ): Promise<{ total: number; list: GroupApplication[] }> {
    const base = this.db
      .selectFrom("group_applications")
      .where((eb) =>
        eb.or([eb("group_id", "in", this.managed(userId)), eb("user_id", "=", userId), eb("inviter_id", "=", userId)]),
      );
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      (beforeId === null ? base : base.where("id", "<", beforeId))
        .selectAll()
        .orderBy("id", "desc")
        .limit(limit)
        .execute(),
    ]);
    return { total: Number(count.n), list: rows.map(toApplication) };
  }

  async pendingCountFor(userId: number): Promise<number> {
    const r = await this.db
      .selectFrom("group_applications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", 1)
      .where("group_id", "in", this.managed(userId))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async pendingOf(groupId: number, limit: number): Promise<GroupApplication[]> {
    const rows = await this.db
      .selectFrom("group_applications")
      .selectAll()
      .where("group_id", "=", groupId)
      .where("status", "=", 1)
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toApplication);
  }

  async blacklist(groupId: number, userId: number, at: number): Promise<void> {
    await this.db
      .insertInto("group_blacklist")
      .values({ group_id: groupId, user_id: userId, created_at: at })
      .onConflict((oc) => oc.columns(["group_id", "user_id"]).doNothing())
      .execute();
  }

  async unblacklist(groupId: number, userId: number): Promise<boolean> {
    const r = await this.db
      .deleteFrom("group_blacklist")
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async isBlacklisted(groupId: number, userId: number): Promise<boolean> {
    const r = await this.db
      .selectFrom("group_blacklist")
      .select("user_id")
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return r !== undefined;
  }

  async blacklistedAmong(groupId: number, userIds: readonly number[]): Promise<number[]> {
    const rows = await inChunks(userIds, (chunk) =>
      this.db
        .selectFrom("group_blacklist")
        .select("user_id")
        .where("group_id", "=", groupId)
        .where("user_id", "in", chunk)
        .execute(),
    );
    return rows.map((r) => Number(r.user_id));
  }

  async blacklisted(groupId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom("group_blacklist")
      .select("user_id")
      .where("group_id", "=", groupId)
      .orderBy("created_at")
      .execute();
    return rows.map((r) => Number(r.user_id));
  }

  async announcements(conversationId: number, beforeId: number | null, limit: number) {
    const base = this.db
      .selectFrom("messages")
      .where("conversation_id", "=", conversationId)
      .where("kind", "=", "system")
      .where("deleted_at", "is", null);
    const [count, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      (beforeId === null ? base : base.where("id", "<=", beforeId))
        .select(["id", "sender_id", "content", "created_at"])
        .orderBy("id", "desc")
        .limit(limit)
        .execute(),
    ]);
    return {
      total: Number(count.n),
      list: rows.map((r) => {
        let content = "";
        try {
          const v = JSON.parse(r.content) as { content?: unknown };
          if (typeof v.content === "string") content = v.content;
        } catch {
          // stored by us: always JSON
        }
        return { id: Number(r.id), senderId: Number(r.sender_id), content, createdAt: Number(r.created_at) };
      }),
    };
  }

  async readersOf(groupId: number, conversationId: number, seq: number, senderId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom("group_members as m")
      .innerJoin("read_cursors as r", (j) =>
        j.onRef("r.user_id", "=", "m.user_id").on("r.conversation_id", "=", conversationId),
      )
      .select("m.user_id")
      .where("m.group_id", "=", groupId)
      .where("m.user_id", "<>", senderId)
      .where("r.seq", ">=", seq)
      .orderBy("m.user_id")
      .execute();
    return rows.map((r) => Number(r.user_id));
  }
}
