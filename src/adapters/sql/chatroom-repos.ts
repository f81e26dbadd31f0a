import { type Generated, type Kysely, type Selectable, sql } from "kysely";
import type {
  Chatroom,
  ChatroomFilter,
  ChatroomMute,
  ChatroomRepo,
  ChatroomReport,
  ChatroomStatus,
  NewChatroom,
} from "../../ports/chatrooms.ts";
import type { Database, MessagesTable } from "./schema.ts";

/** The chat-room tables (migration `0008_chatrooms`), kept with their repository. */
export type ChatroomTables = {
  chatrooms: {
    id: Generated<number>;
    name: string;
    avatar: string;
    description: string;
    /** 1 open, 2 closed, 3 deleted. */
    status: number;
    created_at: number;
    opened_at: number;
    closed_at: number;
    shard_size: number | null;
  };
  chatroom_mutes: { room_id: number; user_id: number; until: number; at: number };
  chatroom_blacklist: { room_id: number; user_id: number; at: number };
  chatroom_reports: {
    id: Generated<number>;
    room_id: number | null;
    reporter_id: number;
    target_id: number;
    log_id: string;
    created_at: number;
  };
  messages: MessagesTable;
};

const STATUS_NUM: Record<ChatroomStatus, number> = { open: 1, closed: 2, deleted: 3 };
const STATUS_OF: Record<number, ChatroomStatus> = { 1: "open", 2: "closed", 3: "deleted" };

function toRoom(r: Selectable<ChatroomTables["chatrooms"]>): Chatroom {
  return {
    id: Number(r.id),
    name: r.name,
    avatar: r.avatar,
    description: r.description,
    status: STATUS_OF[Number(r.status)] ?? "deleted",
    createdAt: Number(r.created_at),
    openedAt: Number(r.opened_at),
    closedAt: Number(r.closed_at),
    shardSize: r.shard_size === null ? null : Number(r.shard_size),
  };
}

const toMute = (r: Selectable<ChatroomTables["chatroom_mutes"]>): ChatroomMute => ({
  roomId: Number(r.room_id),
  userId: Number(r.user_id),
  until: Number(r.until),
  at: Number(r.at),
});

/** `%`, `_` and the escape character itself, escaped for a LIKE pattern with `ESCAPE '\'`. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class SqlChatrooms implements ChatroomRepo {
  private readonly db: Kysely<ChatroomTables>;

  /** Any Kysely instance on the migrated database (the storage's, seen with these tables). */
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<ChatroomTables>() as unknown as Kysely<ChatroomTables>;
  }

  async create(room: NewChatroom): Promise<Chatroom> {
    const row = await this.db
      .insertInto("chatrooms")
      .values({
        name: room.name,
        avatar: room.avatar,
        description: room.description,
        status: STATUS_NUM.open,
        created_at: room.createdAt,
        opened_at: room.createdAt,
        closed_at: 0,
        shard_size: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRoom(row);
  }

  async get(id: number): Promise<Chatroom | null> {
    const row = await this.db.selectFrom("chatrooms").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toRoom(row) : null;
  }

  async list(f: ChatroomFilter): Promise<Chatroom[]> {
    if (f.statuses.length === 0) return [];
    let q = this.db
      .selectFrom("chatrooms")
      .selectAll()
      .where(
        "status",
        "in",
        f.statuses.map((s) => STATUS_NUM[s]),
      );
    if (f.createdFrom !== undefined) q = q.where("created_at", ">=", f.createdFrom);
    if (f.createdTo !== undefined) q = q.where("created_at", "<=", f.createdTo);
    const name = f.nameContains;
    if (!name) return (await q.orderBy("id").limit(f.limit).execute()).map(toRoom);
    // LIKE narrows the rows (SQLite's LIKE ignores ASCII case, PostgreSQL's does not); the exact,
    // case-sensitive substring test below decides, the same on both engines.
    const pattern = `%${likeLiteral(name)}%`;
    const rows = await q.where(sql<boolean>`name like ${pattern} escape '\\'`).orderBy("id").execute();
    return rows
      .filter((r) => r.name.includes(name))
      .slice(0, f.limit)
      .map(toRoom);
  }

  async update(
    id: number,
    patch: Partial<Pick<Chatroom, "name" | "avatar" | "description" | "shardSize">>,
  ): Promise<boolean> {
    const set: Partial<{ name: string; avatar: string; description: string; shard_size: number | null }> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.avatar !== undefined) set.avatar = patch.avatar;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.shardSize !== undefined) set.shard_size = patch.shardSize;
    if (Object.keys(set).length === 0) {
      const room = await this.get(id);
      return room !== null && room.status !== "deleted";
    }
    const r = await this.db
      .updateTable("chatrooms")
      .set(set)
      .where("id", "=", id)
      .where("status", "<>", STATUS_NUM.deleted)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async setStatus(id: number, status: ChatroomStatus, at: number): Promise<Chatroom | null> {
    const set: { status: number; opened_at?: number; closed_at?: number } = { status: STATUS_NUM[status] };
    if (status === "open") set.opened_at = at;
    if (status === "closed") set.closed_at = at;
    const row = await this.db
      .updateTable("chatrooms")
      .set(set)
      .where("id", "=", id)
      .where("status", "<>", STATUS_NUM.deleted)
      .returningAll()
      .executeTakeFirst();
    return row ? toRoom(row) : null;
  }

  async setMute(m: ChatroomMute): Promise<void> {
    await this.db
      .insertInto("chatroom_mutes")
      .values({ room_id: m.roomId, user_id: m.userId, until: m.until, at: m.at })
      .onConflict((oc) => oc.columns(["room_id", "user_id"]).doUpdateSet({ until: m.until, at: m.at }))
      .execute();
  }

  async mutesOf(roomId: number, userId: number): Promise<{ room: ChatroomMute | null; user: ChatroomMute | null }> {
    const rows = await this.db
      .selectFrom("chatroom_mutes")
      .selectAll()
      .where("room_id", "=", roomId)
      .where("user_id", "in", [0, userId])
      .execute();
    const mutes = rows.map(toMute);
    return {
      room: mutes.find((m) => m.userId === 0) ?? null,
      user: userId === 0 ? null : (mutes.find((m) => m.userId === userId) ?? null),
    };
  }

  async userMutes(userId: number): Promise<ChatroomMute[]> {
    const rows = await this.db
      .selectFrom("chatroom_mutes")
      .selectAll()
      .where("user_id", "=", userId)
      .orderBy("at", "desc")
      .execute();
    return rows.map(toMute);
  }

  async blacklist(roomId: number, userId: number, at: number): Promise<void> {
    await this.db
      .insertInto("chatroom_blacklist")
      .values({ room_id: roomId, user_id: userId, at })
      .onConflict((oc) => oc.columns(["room_id", "user_id"]).doUpdateSet({ at }))
      .execute();
  }

  async unblacklist(roomId: number, userId: number): Promise<boolean> {
    const r = await this.db
      .deleteFrom("chatroom_blacklist")
      .where("room_id", "=", roomId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async blacklisted(roomId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom("chatroom_blacklist")
      .select("user_id")
      .where("room_id", "=", roomId)
      .orderBy("at")
      .orderBy("user_id")
      .execute();
    return rows.map((r) => Number(r.user_id));
  }

  async roomMutes(roomId: number, now: number): Promise<ChatroomMute[]> {
    const rows = await this.db
      .selectFrom("chatroom_mutes")
      .selectAll()
      .where("room_id", "=", roomId)
      .where("until", ">", now)
      .orderBy("user_id")
      .execute();
    return rows.map(toMute);
  }

  async isBlacklisted(roomId: number, userId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom("chatroom_blacklist")
      .select("user_id")
      .where("room_id", "=", roomId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async addReport(r: Omit<ChatroomReport, "id">): Promise<number> {
    const row = await this.db
      .insertInto("chatroom_reports")
      .values({
        room_id: r.roomId,
        reporter_id: r.reporterId,
        target_id: r.targetId,
        log_id: r.logId,
        created_at: r.createdAt,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async reports(limit: number): Promise<ChatroomReport[]> {
    const rows = await this.db.selectFrom("chatroom_reports").selectAll().orderBy("id", "desc").limit(limit).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      roomId: r.room_id === null ? null : Number(r.room_id),
      reporterId: Number(r.reporter_id),
      targetId: Number(r.target_id),
      logId: r.log_id,
      createdAt: Number(r.created_at),
    }));
  }

  async pruneMessages(conversationId: number, maxSeq: number, before: number): Promise<number> {
    const r = await this.db
      .deleteFrom("messages")
      .where("conversation_id", "=", conversationId)
      .where((eb) => eb.or([eb("seq", "<=", maxSeq), eb("created_at", "<", before)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
