import type { Kysely } from "kysely";
import type { ReadCursorRepo } from "../../ports/storage.ts";
import { inChunks } from "./chunks.ts";
import type { Database } from "./schema.ts";

export class SqlReadCursors implements ReadCursorRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async advance(conversationId: number, userId: number, seq: number, at: number): Promise<number> {
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
    return this.get(conversationId, userId);
  }

  async get(conversationId: number, userId: number): Promise<number> {
    const r = await this.db
      .selectFrom("read_cursors")
      .select("seq")
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return r ? Number(r.seq) : 0;
  }

  async getMany(
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

  async unreadCount(conversationId: number, userId: number): Promise<number> {
    return (await this.unreadCounts([conversationId], userId)).get(conversationId) ?? 0;
  }
}
