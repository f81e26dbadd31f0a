/** Accounts: users, their sessions, and SMS codes. */

export interface User {
  id: number;
  /** Short public id (chat33 `uid` / `markId`), unique. */
  uid: string;
  mobile: string | null;
  username: string | null;
  passwordHash: string;
  nickname: string;
  avatar: string;
  /** 0 unset, 1 male, 2 female. */
  sex: number;
  position: string;
  description: string;
  email: string;
  birthday: string | null;
  sign: string | null;
  /** 0 guest, 1 user, 2 customer service. */
  level: number;
  isAdmin: boolean;
  verified: boolean;
  /** ms since epoch; 0 = not muted. */
  mutedUntil: number;
  companyId: number | null;
  deptId: number | null;
  roleId: number | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type NewUser = Omit<User, "id" | "uid">;
export type UserPatch = Partial<Omit<User, "id" | "uid" | "createdAt">>;

export interface UserRepo {
  /** Inserts a user and assigns `id` and `uid`. Throws `conflict` (`user_exists`) on a taken mobile/username. */
  create(user: NewUser): Promise<User>;
  findById(id: number): Promise<User | null>;
  /** The users that exist among `ids`, in no particular order (one query per 500 ids). */
  findByIds(ids: readonly number[]): Promise<User[]>;
  findByMobile(mobile: string): Promise<User | null>;
  findByUsername(username: string): Promise<User | null>;
  findByUid(uid: string): Promise<User | null>;
  /** Applies the patch (and `updatedAt`); returns the updated user or null when it does not exist. */
  update(id: number, patch: UserPatch): Promise<User | null>;
  /** Newest first; `query` matches mobile, username, nickname or uid (substring). */
  list(query: string, offset: number, limit: number): Promise<{ total: number; list: User[] }>;
}

export interface Session {
  /** The session id (`sid`), random, also used by later surfaces. */
  id: string;
  userId: number;
  /** sha256 hex of the bearer token. */
  tokenHash: string;
  /** Canonical device type: web | android | ios | pc. */
  device: string;
  /** Client-side device identifier (enterprise `device`), may be empty. */
  deviceId: string;
  /** Free-form platform text (enterprise `platform`). */
  platform: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
}

export interface SessionRepo {
  create(session: Session): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<Session | null>;
  findById(id: string): Promise<Session | null>;
  /** The sessions that exist among `ids` (one query per 500 ids). */
  findByIds(ids: readonly string[]): Promise<Session[]>;
  /** Live (not revoked, not expired at `now`) sessions of a user. */
  listLive(userId: number, now: number): Promise<Session[]>;
  /** Revokes the given live sessions; returns the ids actually revoked by this call. */
  revoke(ids: string[], reason: string, now: number): Promise<string[]>;
}

export interface SmsCode {
  id: number;
  mobile: string;
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  attempts: number;
  usedAt: number | null;
}

export interface SmsRepo {
  insert(code: Omit<SmsCode, "id">): Promise<SmsCode>;
  /** The newest code sent to `mobile`, or null. */
  latest(mobile: string): Promise<SmsCode | null>;
  /** Codes sent to `mobile` since `since` (for the daily cap). */
  countSince(mobile: string, since: number): Promise<number>;
  /** Adds one failed attempt unless the code is used; returns the new count. */
  addAttempt(id: number): Promise<number>;
  /** Marks the code used if it still is unused; false when another request used it first. */
  markUsed(id: number, now: number): Promise<boolean>;
  /** Deletes a code (one the provider failed to deliver: it must not count toward any limit). */
  remove(id: number): Promise<void>;
  /** The `log` sender's outbox. */
  outboxAdd(entry: { mobile: string; code: string; sentAt: number }): Promise<void>;
  outboxList(mobile: string | null, limit: number): Promise<Array<{ mobile: string; code: string; sentAt: number }>>;
}
