import type { Kysely, Selectable } from "kysely";
import type { FriendRepo, FriendRequest, FriendRules, Friendship } from "../../ports/storage.ts";
import { atomic } from "./atomic.ts";
import { inChunks } from "./chunks.ts";
import type { Database, FriendRequestsTable, FriendsTable } from "./schema.ts";

const nullableNum = (v: number | null) => (v === null ? null : Number(v));

function toFriendship(r: Selectable<FriendsTable>): Friendship {
  return {
    userId: Number(r.user_id),
    friendId: Number(r.friend_id),
    remark: r.remark,
    noDisturbing: r.no_disturbing === 1,
    stickyOnTop: r.sticky_on_top === 1,
    commonlyUsed: r.commonly_used === 1,
    addedAt: Number(r.added_at),
    deletedAt: nullableNum(r.deleted_at),
    updatedAt: Number(r.updated_at),
    extRemark: r.ext_remark ?? "",
  };
}

function toRequest(r: Selectable<FriendRequestsTable>): FriendRequest {
  return {
    id: Number(r.id),
    fromId: Number(r.from_id),
    toId: Number(r.to_id),
    reason: r.reason,
    remark: r.remark,
    roomId: r.room_id,
    status: r.status as 1 | 2 | 3,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class SqlFriends implements FriendRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async get(userId: number, friendId: number): Promise<Friendship | null> {
    const r = await this.db
      .selectFrom("friends")
      .selectAll()
      .where("user_id", "=", userId)
      .where("friend_id", "=", friendId)
      .executeTakeFirst();
    return r ? toFriendship(r) : null;
  }

  async getMany(userId: number, friendIds: readonly number[]): Promise<Map<number, Friendship>> {
    const rows = await inChunks(friendIds, (chunk) =>
      this.db.selectFrom("friends").selectAll().where("user_id", "=", userId).where("friend_id", "in", chunk).execute(),
    );
    return new Map(rows.map((r) => [Number(r.friend_id), toFriendship(r)]));
  }

  async befriend(a: number, b: number, remarkOfA: string, remarkOfB: string, at: number): Promise<void> {
    await atomic(this.db, async (tx) => {
      for (const [u, f, remark] of [
        [a, b, remarkOfA],
        [b, a, remarkOfB],
      ] as const) {
        await tx
          .insertInto("friends")
          .values({
            user_id: u,
            friend_id: f,
            remark,
            no_disturbing: 0,
            sticky_on_top: 0,
            commonly_used: 0,
            added_at: at,
            deleted_at: null,
            updated_at: at,
          })
          .onConflict((oc) =>
            oc
              .columns(["user_id", "friend_id"])
              .doUpdateSet({ remark, added_at: at, deleted_at: null, updated_at: at }),
          )
          .execute();
      }
    });
  }

  async unfriend(a: number, b: number, at: number): Promise<void> {
    await this.db
      .updateTable("friends")
      .set({ deleted_at: at, updated_at: at })
      .where((eb) =>
        eb.or([
          eb.and([eb("user_id", "=", a), eb("friend_id", "=", b)]),
          eb.and([eb("user_id", "=", b), eb("friend_id", "=", a)]),
        ]),
      )
      .where("deleted_at", "is", null)
      .execute();
  }

  async update(
    userId: number,
    friendId: number,
    patch: Partial<Pick<Friendship, "remark" | "noDisturbing" | "stickyOnTop" | "commonlyUsed">>,
    at: number,
  ): Promise<boolean> {
    const set: Partial<Omit<FriendsTable, "user_id" | "friend_id" | "ext_remark">> = { updated_at: at };
    if (patch.remark !== undefined) set.remark = patch.remark;
    if (patch.noDisturbing !== undefined) set.no_disturbing = patch.noDisturbing ? 1 : 0;
    if (patch.stickyOnTop !== undefined) set.sticky_on_top = patch.stickyOnTop ? 1 : 0;
    if (patch.commonlyUsed !== undefined) set.commonly_used = patch.commonlyUsed ? 1 : 0;
    const r = await this.db
      .updateTable("friends")
      .set(set)
      .where("user_id", "=", userId)
      .where("friend_id", "=", friendId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async list(userId: number, since: number | null): Promise<Friendship[]> {
    let q = this.db.selectFrom("friends").selectAll().where("user_id", "=", userId);
    q = since === null ? q.where("deleted_at", "is", null) : q.where("updated_at", ">", since);
    return (await q.orderBy("added_at", "desc").execute()).map(toFriendship);
  }

  async createRequest(r: Omit<FriendRequest, "id">): Promise<FriendRequest> {
    const row = await this.db
      .insertInto("friend_requests")
      .values({
        from_id: r.fromId,
        to_id: r.toId,
        reason: r.reason,
        remark: r.remark,
        room_id: r.roomId,
        status: r.status,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRequest(row);
  }

  async request(id: number): Promise<FriendRequest | null> {
    const r = await this.db.selectFrom("friend_requests").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toRequest(r) : null;
  }

  async pendingBetween(fromId: number, toId: number): Promise<FriendRequest | null> {
    return this.between(fromId, toId, true);
  }

  async latestBetween(fromId: number, toId: number): Promise<FriendRequest | null> {
    return this.between(fromId, toId, false);
  }

  private async between(fromId: number, toId: number, waitingOnly: boolean): Promise<FriendRequest | null> {
    let q = this.db.selectFrom("friend_requests").selectAll().where("from_id", "=", fromId).where("to_id", "=", toId);
    if (waitingOnly) q = q.where("status", "=", 1);
    const r = await q.orderBy("id", "desc").limit(1).executeTakeFirst();
    return r ? toRequest(r) : null;
  }

  async resolveRequest(id: number, status: 2 | 3, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable("friend_requests")
      .set({ status, updated_at: at })
      .where("id", "=", id)
      .where("status", "=", 1)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async requestsOf(userId: number, beforeId: number | null, limit: number) {
    const base = this.db
      .selectFrom("friend_requests")
      .where((eb) => eb.or([eb("to_id", "=", userId), eb("from_id", "=", userId)]));
    let page = base.selectAll();
    if (beforeId !== null) page = page.where("id", "<", beforeId);
    const [{ n }, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      page.orderBy("id", "desc").limit(limit).execute(),
    ]);
    return { total: Number(n), list: rows.map(toRequest) };
  }

  async pendingCountFor(userId: number): Promise<number> {
    const { n } = await this.db
      .selectFrom("friend_requests")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("to_id", "=", userId)
      .where("status", "=", 1)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async setExtRemark(userId: number, friendId: number, extRemark: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable("friends")
      .set({ ext_remark: extRemark, updated_at: at })
      .where("user_id", "=", userId)
      .where("friend_id", "=", friendId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async block(userId: number, blockedId: number, at: number): Promise<void> {
    await this.db
      .insertInto("friend_blocks")
      .values({ user_id: userId, blocked_id: blockedId, created_at: at })
      .onConflict((oc) => oc.columns(["user_id", "blocked_id"]).doNothing())
      .execute();
  }

  async unblock(userId: number, blockedId: number): Promise<void> {
    await this.db
      .deleteFrom("friend_blocks")
      .where("user_id", "=", userId)
      .where("blocked_id", "=", blockedId)
      .execute();
  }

  async isBlocked(userId: number, otherId: number): Promise<boolean> {
    const r = await this.db
      .selectFrom("friend_blocks")
      .select("user_id")
      .where("user_id", "=", userId)
      .where("blocked_id", "=", otherId)
      .executeTakeFirst();
    return r !== undefined;
  }

  async blockedBy(userId: number): Promise<Array<{ blockedId: number; at: number }>> {
    const rows = await this.db
      .selectFrom("friend_blocks")
      .select(["blocked_id", "created_at"])
      .where("user_id", "=", userId)
      .orderBy("created_at", "desc")
      .orderBy("blocked_id", "desc")
      .execute();
    return rows.map((r) => ({ blockedId: Number(r.blocked_id), at: Number(r.created_at) }));
  }

  async rules(userId: number): Promise<FriendRules> {
    const r = await this.db.selectFrom("friend_rules").selectAll().where("user_id", "=", userId).executeTakeFirst();
    if (!r) return { needConfirm: true, needAnswer: false, question: "", answer: "" };
    return {
      needConfirm: r.need_confirm === 1,
      needAnswer: r.need_answer === 1,
      question: r.question,
      answer: r.answer,
    };
  }

  async saveRules(userId: number, rules: FriendRules, at: number): Promise<void> {
    const row = {
      need_confirm: rules.needConfirm ? 1 : 0,
      need_answer: rules.needAnswer ? 1 : 0,
      question: rules.question,
      answer: rules.answer,
      updated_at: at,
    };
    await this.db
      .insertInto("friend_rules")
      .values({ user_id: userId, ...row })
      .onConflict((oc) => oc.column("user_id").doUpdateSet(row))
      .execute();
  }
}
