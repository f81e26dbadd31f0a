import type { Kysely, Selectable } from "kysely";
import type { AdminSession, AdminSessionRepo } from "../../ports/storage/admin-sessions.ts";
import type { Database } from "./schema.ts";

/** The admin-session table (migration `0014_admin_sessions`), kept with its repository. */
export type AdminSessionTables = {
  admin_sessions: {
    id: string;
    user_id: number;
    token_hash: string;
    created_at: number;
    expires_at: number;
    ip: string;
    user_agent: string;
    revoked_at: number | null;
    revoke_reason: string | null;
  };
};

type Row = Selectable<AdminSessionTables["admin_sessions"]>;

const toSession = (r: Row): AdminSession => ({
  id: r.id,
  userId: Number(r.user_id),
  tokenHash: r.token_hash,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  ip: r.ip,
  userAgent: r.user_agent,
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  revokeReason: r.revoke_reason,
});

export class SqlAdminSessions implements AdminSessionRepo {
  private readonly db: Kysely<AdminSessionTables>;

  /** Any Kysely instance on the migrated database (the storage's, seen with this table). */
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<AdminSessionTables>() as unknown as Kysely<AdminSessionTables>;
  }

  async create(s: AdminSession): Promise<void> {
    await this.db
      .insertInto("admin_sessions")
      .values({
        id: s.id,
        user_id: s.userId,
        token_hash: s.tokenHash,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        ip: s.ip,
        user_agent: s.userAgent,
        revoked_at: s.revokedAt,
        revoke_reason: s.revokeReason,
      })
      .execute();
  }

  async findByTokenHash(tokenHash: string): Promise<AdminSession | null> {
    const r = await this.db
      .selectFrom("admin_sessions")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .executeTakeFirst();
    return r ? toSession(r) : null;
  }

  async findById(id: string): Promise<AdminSession | null> {
    const r = await this.db.selectFrom("admin_sessions").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toSession(r) : null;
  }

  async listLive(now: number, userId?: number): Promise<AdminSession[]> {
    let q = this.db
      .selectFrom("admin_sessions")
      .selectAll()
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now);
    if (userId !== undefined) q = q.where("user_id", "=", userId);
    const rows = await q.orderBy("created_at", "desc").orderBy("id").execute();
    return rows.map(toSession);
  }

  async revoke(ids: readonly string[], reason: string, now: number): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db
      .updateTable("admin_sessions")
      .set({ revoked_at: now, revoke_reason: reason })
      .where("id", "in", [...ids])
      .where("revoked_at", "is", null)
      .returning("id")
      .execute();
    return rows.map((r) => r.id);
  }

  async prune(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom("admin_sessions")
      .where((eb) => eb.or([eb("expires_at", "<", before), eb("revoked_at", "<", before)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
