import type SQLite from "better-sqlite3";
import type { Kysely, Selectable } from "kysely";
import type {
  Conversation,
  ConversationKind,
  FriendRepo,
  FriendRequest,
  Friendship,
  Message,
  MessageKind,
  MessageRepo,
  NewMessage,
} from "../../ports/storage.ts";
import { inChunks } from "./chunks.ts";
import { isUniqueViolation } from "./errors.ts";
import { pgAppendBatch } from "./pg-message-writer.ts";
import type { ConversationsTable, Database, FriendRequestsTable, FriendsTable, MessagesTable } from "./schema.ts";
import { SqliteMessageWriter } from "./sqlite-message-writer.ts";

const nullableNum = (v: number | null) => (v === null ? null : Number(v));

function toConversation(r: Selectable<ConversationsTable>): Conversation {
  return {
    id: Number(r.id),
    kind: r.kind as ConversationKind,
    key: r.key,
    userA: nullableNum(r.user_a),
    userB: nullableNum(r.user_b),
    lastSeq: Number(r.last_seq),
    lastMessageAt: Number(r.last_message_at),
    createdAt: Number(r.created_at),
  };
}

function toMessage(r: Selectable<MessagesTable>): Message {
  let content: { [key: string]: unknown } = {};
  try {
    content = JSON.parse(r.content) as { [key: string]: unknown };
  } catch {
    // stored by us: always JSON
  }
  return {
    id: Number(r.id),
    conversationId: Number(r.conversation_id),
    seq: Number(r.seq),
    senderId: Number(r.sender_id),
    clientMsgId: r.client_msg_id,
    kind: r.kind as MessageKind,
    content,
    createdAt: Number(r.created_at),
    recalledAt: nullableNum(r.recalled_at),
    deletedAt: nullableNum(r.deleted_at),
  };
}

export class SqlMessages implements MessageRepo {
  /** SQLite: the synchronous fast path for appends, prepared on first use (after migrations). */
  private fast: SqliteMessageWriter | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rawSqlite: SQLite.Database | null = null,
    /** SQLite: told after every message batch committed (wakes the WAL checkpointer thread). */
    private readonly afterCommit: () => void = () => {},
  ) {}

  async ensureConversation(c: Omit<Conversation, "id" | "lastSeq" | "lastMessageAt">): Promise<Conversation> {
    const existing = await this.conversationByKey(c.key);
    if (existing) return existing;
    await this.db
      .insertInto("conversations")
      .values({
        kind: c.kind,
        key: c.key,
        user_a: c.userA,
        user_b: c.userB,
        last_seq: 0,
        last_message_at: 0,
        created_at: c.createdAt,
      })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
    const row = await this.conversationByKey(c.key);
    if (!row) throw new Error(`conversation ${c.key} vanished`);
    return row;
  }

  async conversation(id: number): Promise<Conversation | null> {
    const r = await this.db.selectFrom("conversations").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toConversation(r) : null;
  }

  async conversationByKey(key: string): Promise<Conversation | null> {
    const r = await this.db.selectFrom("conversations").selectAll().where("key", "=", key).executeTakeFirst();
    return r ? toConversation(r) : null;
  }

  async directConversationsOf(userId: number): Promise<Conversation[]> {
    const rows = await this.db
      .selectFrom("conversations")
      .selectAll()
      .where("kind", "=", "direct")
      .where((eb) => eb.or([eb("user_a", "=", userId), eb("user_b", "=", userId)]))
      .where("last_seq", ">", 0)
      .orderBy("last_message_at", "desc")
      .execute();
    return rows.map(toConversation);
  }

  async appendBatch(batch: NewMessage[]): Promise<Array<{ message: Message; duplicate: boolean }>> {
    if (!batch.length) return [];
    if (this.rawSqlite) {
      this.fast ??= new SqliteMessageWriter(this.rawSqlite, toMessage);
      const fast = this.fast;
      // Holding Kysely's connection keeps every other statement out of our transaction.
      const out = await this.db.connection().execute(async () => fast.append(batch));
      this.afterCommit();
      return out;
    }
    try {
      return await pgAppendBatch(this.db, batch, toMessage);
    } catch (e) {
      if (!isUniqueViolation(e) && (e as { code?: string }).code !== "40P01") throw e;
      // Another node stored one of these (sender, clientMsgId) between our check and our insert,
      // or a deadlock was broken; the transaction rolled back. Retry one by one: the check now
      // finds a stored original, so every message still has exactly one stored copy.
      const out: Array<{ message: Message; duplicate: boolean }> = [];
      for (const m of batch) out.push(...(await pgAppendBatch(this.db, [m], toMessage)));
      return out;
    }
  }

  async message(id: number): Promise<Message | null> {
    const r = await this.db.selectFrom("messages").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toMessage(r) : null;
  }

  async bySenderClientId(senderId: number, clientMsgId: string): Promise<Message | null> {
    const r = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("sender_id", "=", senderId)
      .where("client_msg_id", "=", clientMsgId)
      .executeTakeFirst();
    return r ? toMessage(r) : null;
  }

  async history(conversationId: number, beforeId: number | null, limit: number): Promise<Message[]> {
    let q = this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conversationId)
      .where("deleted_at", "is", null);
    if (beforeId !== null) {
      const bound = await this.lastSeqAtOrBefore(conversationId, beforeId);
      if (bound === 0) return [];
      q = q.where("seq", "<=", bound);
    }
    return (await q.orderBy("seq", "desc").limit(limit).execute()).map(toMessage);
  }

  /**
   * The seq of the conversation's last message whose id is ≤ `id` (0 when none). Within one
   * conversation ids grow with seq, so history pages by the `(conversation_id, seq)` index alone
   * (a second index on `(conversation_id, id)` cost every insert more than it saved here). The
   * usual `id` is a message of this conversation (a page's `nextLog`): one primary-key lookup.
   * Any other id is placed by binary search over the gapless seqs (≈ log₂ n index lookups).
   */
  private async lastSeqAtOrBefore(conversationId: number, id: number): Promise<number> {
    const hit = await this.db
      .selectFrom("messages")
      .select(["conversation_id", "seq"])
      .where("id", "=", id)
      .executeTakeFirst();
    if (hit && Number(hit.conversation_id) === conversationId) return Number(hit.seq);
    const conv = await this.conversation(conversationId);
    if (!conv) return 0;
    const idAt = async (seq: number) => {
      const r = await this.db
        .selectFrom("messages")
        .select("id")
        .where("conversation_id", "=", conversationId)
        .where("seq", "=", seq)
        .executeTakeFirst();
      return r ? Number(r.id) : Number.POSITIVE_INFINITY;
    };
    let lo = 0;
    let hi = conv.lastSeq;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((await idAt(mid)) <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async page(conversationId: number, offset: number, limit: number) {
    const base = this.db
      .selectFrom("messages")
      .where("conversation_id", "=", conversationId)
      .where("deleted_at", "is", null);
    const [{ n }, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      base.selectAll().orderBy("seq", "desc").offset(offset).limit(limit).execute(),
    ]);
    return { total: Number(n), list: rows.map(toMessage) };
  }

  async since(conversationId: number, afterSeq: number, limit: number): Promise<Message[]> {
    const rows = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conversationId)
      .where("seq", ">", afterSeq)
      .orderBy("seq", "asc")
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  async markRecalled(id: number, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable("messages")
      .set({ recalled_at: at })
      .where("id", "=", id)
      .where("recalled_at", "is", null)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async markDeleted(id: number, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable("messages")
      .set({ deleted_at: at })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async lastMessage(conversationId: number): Promise<Message | null> {
    const [m] = await this.history(conversationId, null, 1);
    return m ?? null;
  }

  async lastMessages(conversationIds: readonly number[]): Promise<Map<number, Message>> {
    // One correlated "newest undeleted" lookup per conversation, each a walk down the
    // (conversation_id, seq) index from the top, in one statement.
    const rows = await inChunks(conversationIds, (chunk) =>
      this.db
        .selectFrom("messages")
        .selectAll()
        .where("id", "in", (eb) =>
          eb
            .selectFrom("conversations as c")
            .select((c) =>
              c
                .selectFrom("messages as m")
                .select("m.id")
                .whereRef("m.conversation_id", "=", "c.id")
                .where("m.deleted_at", "is", null)
                .orderBy("m.seq", "desc")
                .limit(1)
                .as("last_id"),
            )
            .where("c.id", "in", chunk),
        )
        .execute(),
    );
    return new Map(rows.map((r) => [Number(r.conversation_id), toMessage(r)]));
  }

  async unreadCounts(conversationIds: readonly number[], userId: number): Promise<Map<number, number>> {
    // Unread = from others, after the user's read cursor (0 without one), not deleted.
    const rows = await inChunks(conversationIds, (chunk) =>
      this.db
        .selectFrom("conversations as c")
        .select((eb) => [
          "c.id",
          eb
            .selectFrom("messages as m")
            .select((m) => m.fn.countAll<number>().as("n"))
            .whereRef("m.conversation_id", "=", "c.id")
            .where(
              "m.seq",
              ">",
              eb.fn.coalesce(
                eb
                  .selectFrom("read_cursors as rc")
                  .select("rc.seq")
                  .whereRef("rc.conversation_id", "=", "c.id")
                  .where("rc.user_id", "=", userId),
                eb.lit(0),
              ),
            )
            .where("m.sender_id", "!=", userId)
            .where("m.deleted_at", "is", null)
            .as("n"),
        ])
        .where("c.id", "in", chunk)
        .execute(),
    );
    return new Map(rows.filter((r) => Number(r.n) > 0).map((r) => [Number(r.id), Number(r.n)]));
  }

  async setReadCursor(conversationId: number, userId: number, seq: number, at: number): Promise<number> {
    await this.db
      .insertInto("read_cursors")
      .values({ conversation_id: conversationId, user_id: userId, seq, updated_at: at })
      .onConflict((oc) =>
        oc
          .columns(["conversation_id", "user_id"])
          .doUpdateSet({ seq, updated_at: at })
          .where("read_cursors.seq", "<", seq),
      )
      .execute();
    return this.readCursor(conversationId, userId);
  }

  async readCursor(conversationId: number, userId: number): Promise<number> {
    const r = await this.db
      .selectFrom("read_cursors")
      .select("seq")
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return r ? Number(r.seq) : 0;
  }

  async readCursors(
    conversationIds: readonly number[],
    userIds: readonly number[],
  ): Promise<Map<number, Map<number, number>>> {
    const out = new Map<number, Map<number, number>>();
    const users = [...new Set(userIds)];
    if (!users.length) return out;
    const rows = await inChunks(conversationIds, (chunk) =>
      inChunks(users, (userChunk) =>
        this.db
          .selectFrom("read_cursors")
          .select(["conversation_id", "user_id", "seq"])
          .where("conversation_id", "in", chunk)
          .where("user_id", "in", userChunk)
          .execute(),
      ),
    );
    for (const r of rows) {
      const conv = Number(r.conversation_id);
      const m = out.get(conv) ?? new Map<number, number>();
      out.set(conv, m);
      m.set(Number(r.user_id), Number(r.seq));
    }
    return out;
  }

  async unreadCount(conversationId: number, userId: number): Promise<number> {
    return (await this.unreadCounts([conversationId], userId)).get(conversationId) ?? 0;
  }
}

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
    await this.db.transaction().execute(async (tx) => {
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
    const set: Partial<Omit<FriendsTable, "user_id" | "friend_id">> = { updated_at: at };
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
}
