/**
 * Storage port of the admin sessions (docs/admin.md "Signing in as an admin user"): a session an
 * administrator user opened at `POST /admin/api/session`, usable as the admin credential until it
 * expires or is revoked. Kept apart from the users' own sessions (`sessions`) on purpose: an admin
 * session is never a chat33 / enterprise login, does not take part in the multi-login policy and
 * does not count as the user's online time. Implemented by `src/adapters/sql/admin-session-repo.ts`
 * (migration `0014_admin_sessions`, SQLite and PostgreSQL).
 */
export interface AdminSession {
  /** Random id, shown to operators (never the token). */
  id: string;
  userId: number;
  /** sha256 hex of the bearer token; the token itself is never stored. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  /** The client address that signed in, and its User-Agent (≤ 256 characters). */
  ip: string;
  userAgent: string;
  revokedAt: number | null;
  revokeReason: string | null;
}

export interface AdminSessionRepo {
  create(s: AdminSession): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<AdminSession | null>;
  findById(id: string): Promise<AdminSession | null>;
  /** Live (not revoked, not expired at `now`) sessions, newest first; of one user when `userId` is given. */
  listLive(now: number, userId?: number): Promise<AdminSession[]>;
  /** Revokes the given live sessions; returns the ids this call revoked. */
  revoke(ids: readonly string[], reason: string, now: number): Promise<string[]>;
  /** Deletes sessions that ended (expired or revoked) before `before`; returns how many. */
  prune(before: number): Promise<number>;
}
