import { randomBytes } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import { conflict } from "../../ports/errors.ts";
import type {
  NewUser,
  QrCode,
  QrRepo,
  Session,
  SessionRepo,
  SmsCode,
  SmsRepo,
  User,
  UserPatch,
  UserRepo,
} from "../../ports/storage.ts";
import { inChunks } from "./chunks.ts";
import { mapErrors } from "./errors.ts";
import type { Database, SessionsTable, SmsCodesTable, UsersTable } from "./schema.ts";

const bool = (n: number) => n === 1;
const int = (b: boolean) => (b ? 1 : 0);

function toUser(r: Selectable<UsersTable>): User {
  return {
    id: Number(r.id),
    uid: r.uid,
    mobile: r.mobile,
    username: r.username,
    passwordHash: r.password_hash,
    nickname: r.nickname,
    avatar: r.avatar,
    sex: r.sex,
    position: r.position,
    description: r.description,
    email: r.email,
    birthday: r.birthday,
    sign: r.sign,
    level: r.level,
    isAdmin: bool(r.is_admin),
    verified: bool(r.verified),
    mutedUntil: Number(r.muted_until),
    companyId: r.company_id === null ? null : Number(r.company_id),
    deptId: r.dept_id === null ? null : Number(r.dept_id),
    roleId: r.role_id === null ? null : Number(r.role_id),
    disabled: bool(r.disabled),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

type UserColumns = Omit<UsersTable, "id" | "uid">;

function toColumns(u: UserPatch): Partial<UserColumns> {
  const c: Partial<UserColumns> = {};
  if (u.mobile !== undefined) c.mobile = u.mobile;
  if (u.username !== undefined) c.username = u.username;
  if (u.passwordHash !== undefined) c.password_hash = u.passwordHash;
  if (u.nickname !== undefined) c.nickname = u.nickname;
  if (u.avatar !== undefined) c.avatar = u.avatar;
  if (u.sex !== undefined) c.sex = u.sex;
  if (u.position !== undefined) c.position = u.position;
  if (u.description !== undefined) c.description = u.description;
  if (u.email !== undefined) c.email = u.email;
  if (u.birthday !== undefined) c.birthday = u.birthday;
  if (u.sign !== undefined) c.sign = u.sign;
  if (u.level !== undefined) c.level = u.level;
  if (u.isAdmin !== undefined) c.is_admin = int(u.isAdmin);
  if (u.verified !== undefined) c.verified = int(u.verified);
  if (u.mutedUntil !== undefined) c.muted_until = u.mutedUntil;
  if (u.companyId !== undefined) c.company_id = u.companyId;
  if (u.deptId !== undefined) c.dept_id = u.deptId;
  if (u.roleId !== undefined) c.role_id = u.roleId;
  if (u.disabled !== undefined) c.disabled = int(u.disabled);
  if (u.updatedAt !== undefined) c.updated_at = u.updatedAt;
  return c;
}

/** Public ids are 100000 + the row id: short, unique, numeric like the original's. */
const UID_BASE = 100000;

export class SqlUsers implements UserRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(u: NewUser): Promise<User> {
    return mapErrors(
      () =>
        this.db.transaction().execute(async (tx) => {
          const cols = toColumns(u) as UserColumns;
          const { id } = await tx
            .insertInto("users")
            .values({ ...cols, created_at: u.createdAt, uid: `tmp-${randomBytes(8).toString("hex")}` })
            .returning("id")
            .executeTakeFirstOrThrow();
          const row = await tx
            .updateTable("users")
            .set({ uid: String(UID_BASE + Number(id)) })
            .where("id", "=", id)
            .returningAll()
            .executeTakeFirstOrThrow();
          return toUser(row);
        }),
      () => conflict("user_exists", "mobile or username already registered"),
    );
  }

  private async one(column: "id" | "mobile" | "username" | "uid", value: string | number): Promise<User | null> {
    const row = await this.db.selectFrom("users").selectAll().where(column, "=", value).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  findById(id: number) {
    return this.one("id", id);
  }
  async findByIds(ids: readonly number[]): Promise<User[]> {
    const rows = await inChunks(ids, (chunk) =>
      this.db.selectFrom("users").selectAll().where("id", "in", chunk).execute(),
    );
    return rows.map(toUser);
  }
  findByMobile(mobile: string) {
    return this.one("mobile", mobile);
  }
  findByUsername(username: string) {
    return this.one("username", username);
  }
  findByUid(uid: string) {
    return this.one("uid", uid);
  }

  async update(id: number, patch: UserPatch): Promise<User | null> {
    const cols = toColumns({ ...patch, updatedAt: patch.updatedAt ?? Date.now() });
    const row = await mapErrors(
      () => this.db.updateTable("users").set(cols).where("id", "=", id).returningAll().executeTakeFirst(),
      () => conflict("user_exists", "mobile or username already registered"),
    );
    return row ? toUser(row) : null;
  }

  async list(query: string, offset: number, limit: number): Promise<{ total: number; list: User[] }> {
    let q = this.db.selectFrom("users");
    if (query) {
      const like = `%${query.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb("mobile", "like", sql<string>`${like} escape '\\'`),
          eb("username", "like", sql<string>`${like} escape '\\'`),
          eb("nickname", "like", sql<string>`${like} escape '\\'`),
          eb("uid", "like", sql<string>`${like} escape '\\'`),
        ]),
      );
    }
    const [{ n }, rows] = await Promise.all([
      q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      q.selectAll().orderBy("id", "desc").offset(offset).limit(limit).execute(),
    ]);
    return { total: Number(n), list: rows.map(toUser) };
  }
}

function toSession(r: Selectable<SessionsTable>): Session {
  return {
    id: r.id,
    userId: Number(r.user_id),
    tokenHash: r.token_hash,
    device: r.device,
    deviceId: r.device_id,
    platform: r.platform,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    revokeReason: r.revoke_reason,
  };
}

export class SqlSessions implements SessionRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(s: Session): Promise<void> {
    await this.db
      .insertInto("sessions")
      .values({
        id: s.id,
        user_id: s.userId,
        token_hash: s.tokenHash,
        device: s.device,
        device_id: s.deviceId,
        platform: s.platform,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        revoked_at: s.revokedAt,
        revoke_reason: s.revokeReason,
      })
      .execute();
  }

  async findByTokenHash(tokenHash: string): Promise<Session | null> {
    const r = await this.db.selectFrom("sessions").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    return r ? toSession(r) : null;
  }

  async findById(id: string): Promise<Session | null> {
    const r = await this.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toSession(r) : null;
  }

  async findByIds(ids: readonly string[]): Promise<Session[]> {
    const rows = await inChunks(ids, (chunk) =>
      this.db.selectFrom("sessions").selectAll().where("id", "in", chunk).execute(),
    );
    return rows.map(toSession);
  }

  async listLive(userId: number, now: number): Promise<Session[]> {
    const rows = await this.db
      .selectFrom("sessions")
      .selectAll()
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now)
      .orderBy("created_at", "asc")
      .execute();
    return rows.map(toSession);
  }

  async revoke(ids: string[], reason: string, now: number): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db
      .updateTable("sessions")
      .set({ revoked_at: now, revoke_reason: reason })
      .where("id", "in", ids)
      .where("revoked_at", "is", null)
      .returning("id")
      .execute();
    return rows.map((r) => r.id);
  }
}

function toSms(r: Selectable<SmsCodesTable>): SmsCode {
  return {
    id: Number(r.id),
    mobile: r.mobile,
    codeHash: r.code_hash,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    attempts: r.attempts,
    usedAt: r.used_at === null ? null : Number(r.used_at),
  };
}

export class SqlSms implements SmsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(c: Omit<SmsCode, "id">): Promise<SmsCode> {
    const row = await this.db
      .insertInto("sms_codes")
      .values({
        mobile: c.mobile,
        code_hash: c.codeHash,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        attempts: c.attempts,
        used_at: c.usedAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSms(row);
  }

  async latest(mobile: string): Promise<SmsCode | null> {
    const r = await this.db
      .selectFrom("sms_codes")
      .selectAll()
      .where("mobile", "=", mobile)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return r ? toSms(r) : null;
  }

  async countSince(mobile: string, since: number): Promise<number> {
    const { n } = await this.db
      .selectFrom("sms_codes")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("mobile", "=", mobile)
      .where("created_at", ">=", since)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async addAttempt(id: number): Promise<number> {
    const r = await this.db
      .updateTable("sms_codes")
      .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
      .where("id", "=", id)
      .returning("attempts")
      .executeTakeFirst();
    return r?.attempts ?? 0;
  }

  async markUsed(id: number, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable("sms_codes")
      .set({ used_at: now })
      .where("id", "=", id)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async remove(id: number): Promise<void> {
    await this.db.deleteFrom("sms_codes").where("id", "=", id).execute();
  }

  async outboxAdd(e: { mobile: string; code: string; sentAt: number }): Promise<void> {
    await this.db.insertInto("sms_outbox").values({ mobile: e.mobile, code: e.code, sent_at: e.sentAt }).execute();
  }

  async outboxList(mobile: string | null, limit: number) {
    let q = this.db.selectFrom("sms_outbox").select(["mobile", "code", "sent_at"]);
    if (mobile) q = q.where("mobile", "=", mobile);
    const rows = await q.orderBy("id", "desc").limit(limit).execute();
    return rows.map((r) => ({ mobile: r.mobile, code: r.code, sentAt: Number(r.sent_at) }));
  }
}

export class SqlQr implements QrRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(c: QrCode): Promise<void> {
    await this.db
      .insertInto("qr_codes")
      .values({
        code_hash: c.codeHash,
        kind: c.kind,
        device_id: c.deviceId,
        platform: c.platform,
        target_id: c.targetId,
        created_by: c.createdBy,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        used_at: c.usedAt,
      })
      .execute();
  }

  async find(codeHash: string): Promise<QrCode | null> {
    const r = await this.db.selectFrom("qr_codes").selectAll().where("code_hash", "=", codeHash).executeTakeFirst();
    if (!r) return null;
    return {
      codeHash: r.code_hash,
      kind: r.kind === "group" ? "group" : "login",
      deviceId: r.device_id,
      platform: r.platform,
      targetId: r.target_id,
      createdBy: r.created_by === null ? null : Number(r.created_by),
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
      usedAt: r.used_at === null ? null : Number(r.used_at),
    };
  }

  async consume(codeHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable("qr_codes")
      .set({ used_at: now })
      .where("code_hash", "=", codeHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
