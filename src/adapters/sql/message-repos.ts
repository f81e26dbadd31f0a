import type SQLite from "better-sqlite3";
import type { Kysely, Selectable } from "kysely";
import type {
  Conversation,
  ConversationKind,
  Message,
  MessageKind,
  MessageRepo,
  NewMessage,
} from "../../ports/storage.ts";
import { inChunks } from "./chunks.ts";
import { isUniqueViolation } from "./errors.ts";
import { pgAppendBatch } from "./pg-message-writer.ts";
import type { ConversationsTable, Database, MessagesTable } from "./schema.ts";
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

export function toMessage(r: Selectable<MessagesTable>): Message {
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
    snap: Number(r.snap ?? 0) === 1,
    ext: parseExt(r.ext ?? null),
  };
}

/** The stored `ext` (JSON text written by us), or null. */
function parseExt(text: string | null): { [key: string]: unknown } | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as { [key: string]: unknown }) : null;
  } catch {
    return null;
  }
}

/** SQLite: the synchronous message writer of the storage's one connection (shared by every handle). */
export interface SqliteFastPath {
  writer(): SqliteMessageWriter;
  /** Told after every committed message batch (wakes the WAL checkpointer thread). */
  committed(): void;
}

/** `SqliteFastPath` for a raw better-sqlite3 connection; the writer is prepared on first use (after migrations). */
export function sqliteFastPath(raw: SQLite.Database, committed: () => void): SqliteFastPath {
  let fast: SqliteMessageWriter | null = null;
  return {
    writer: () => {
      fast ??= new SqliteMessageWriter(raw, toMessage);
      return fast;
    },
    committed,
  };
}

export class SqlMessages implements MessageRepo {
  constructor(
    /** The storage's Kysely instance, or a transaction's (then every write joins it). */
    private readonly db: Kysely<Database>,
    /** SQLite only: the synchronous path for appends. */
    private readonly sqlite: SqliteFastPath | null = null,
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
    if (this.sqlite) {
      const fast = this.sqlite.writer();
      // Inside a transaction (which holds the connection and began with BEGIN IMMEDIATE) the
      // writer's own transaction becomes a savepoint of it; the storage wakes the checkpointer
      // when the transaction commits.
      if (this.db.isTransaction) return fast.append(batch);
      // Holding Kysely's connection keeps every other statement out of our transaction.
      const out = await this.db.connection().execute(async () => fast.append(batch));
      this.sqlite.committed();
      return out;
    }
    // Inside a transaction a failure aborts it: the transaction's retry (serialisation failures,
    // deadlocks) runs the batch again from the start.
    if (this.db.isTransaction) return pgAppendBatch(this.db, batch, toMessage);
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

  async createdAfter(
    conversationIds: readonly number[],
    afterTime: number,
    limit: number,
    fromTimes?: ReadonlyMap<number, number>,
  ): Promise<Message[]> {
    if (!conversationIds.length || limit <= 0) return [];
    // one query per chunk of conversations, each bounded by `limit`; merged oldest first
    const rows = await inChunks(conversationIds, (chunk) =>
      this.db
        .selectFrom("messages")
        .selectAll()
        .where("conversation_id", "in", chunk)
        .where("created_at", ">", afterTime)
        .where("deleted_at", "is", null)
        .orderBy("created_at", "asc")
        .orderBy("id", "asc")
        .limit(limit + 1)
        .execute(),
    );
    return rows
      .map(toMessage)
      .filter((m) => m.createdAt >= (fromTimes?.get(m.conversationId) ?? 0))
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
      .slice(0, limit);
  }

  async historyOfKinds(
    conversationId: number,
    kinds: readonly MessageKind[],
    beforeId: number | null,
    limit: number,
  ): Promise<Message[]> {
    if (!kinds.length) return [];
    let q = this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", conversationId)
      .where("kind", "in", [...kinds])
      .where("deleted_at", "is", null)
      .where("snap", "=", 0);
    if (beforeId !== null) q = q.where("id", "<=", beforeId);
    return (await q.orderBy("id", "desc").limit(limit).execute()).map(toMessage);
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
}
