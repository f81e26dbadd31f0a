import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { User } from "../../ports/storage/accounts.ts";
import type { AdminSession, AdminSessionRepo } from "../../ports/storage/admin-sessions.ts";
import type { AccountService } from "../accounts/account-service.ts";
import { hashToken } from "../accounts/account-service.ts";
import { forbidden, notFound } from "../errors.ts";

export type { AdminSession } from "../../ports/storage/admin-sessions.ts";

/** Admin session tokens start with this, so they are told apart from the admin token at a glance. */
export const ADMIN_SESSION_PREFIX = "pas_";
/** How long an admin session lasts (docs/admin.md): one working day, not renewed by use. */
export const ADMIN_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Ended sessions are kept this long for the list of who signed in, then deleted. */
const KEEP_ENDED_MS = 7 * 24 * 60 * 60 * 1000;
/** A live session's user is re-read at most this often per node (disable / demote acts within it). */
const USER_RECHECK_MS = 1000;

export interface AdminPrincipal {
  session: AdminSession;
  user: User;
}

/**
 * Admin sessions (docs/admin.md "Signing in as an admin user"): a user with the `admin` flag signs
 * in with its password (the accounts' login policy applies: limits, delays, disabled accounts) and
 * gets a bearer token that is accepted wherever the admin token is (`/admin/api`, `/im`,
 * `/console`, the gateway's register switch) — until it expires (12 h), is revoked
 * (`DELETE /admin/api/session`, `POST /admin/api/sessions/revoke`), or its user is disabled,
 * loses the admin flag, gets a new password through the admin API, or is logged out everywhere.
 * Only the token's SHA-256 is stored; the token is returned once.
 */
export class AdminSessions {
  /** token hash → the live principal and when it was read (a per-node cache of one second). */
  private readonly recent = new Map<string, { principal: AdminPrincipal; at: number }>();

  constructor(
    private readonly repo: AdminSessionRepo,
    private readonly accounts: AccountService,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Signs an admin user in; throws the accounts' errors, or `not_admin` for a user without the flag. */
  async signIn(
    account: string,
    password: string,
    client: { ip: string; userAgent: string },
  ): Promise<{ token: string; session: AdminSession; user: User }> {
    const user = await this.accounts.checkPassword({ username: account }, password, client.ip);
    if (!user.isAdmin) throw forbidden("not_admin", "this user is not an administrator");
    const now = this.now();
    const token = `${ADMIN_SESSION_PREFIX}${randomBytes(32).toString("base64url")}`;
    const session: AdminSession = {
      id: randomBytes(12).toString("hex"),
      userId: user.id,
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt: now + ADMIN_SESSION_TTL_MS,
      ip: client.ip.slice(0, 64),
      userAgent: client.userAgent.slice(0, 256),
      revokedAt: null,
      revokeReason: null,
    };
    await this.repo.create(session);
    this.repo.prune(now - KEEP_ENDED_MS).catch((err: unknown) => this.log.warn({ err }, "admin session prune failed"));
    this.log.info({ userId: user.id, sessionId: session.id, ip: session.ip }, "admin user signed in");
    return { token, session, user };
  }

  /**
   * The live principal of a token, or null: the session exists, is not revoked or expired, and its
   * user exists, is not disabled and still has the admin flag. Cached per node for one second.
   */
  async principal(token: string | null | undefined): Promise<AdminPrincipal | null> {
    if (typeof token !== "string" || token.length > 128 || !token.startsWith(ADMIN_SESSION_PREFIX)) return null;
    const hash = hashToken(token);
    const now = this.now();
    const hit = this.recent.get(hash);
    if (hit && now - hit.at < USER_RECHECK_MS && hit.principal.session.expiresAt > now) return hit.principal;
    this.recent.delete(hash);
    const session = await this.repo.findByTokenHash(hash);
    if (!session || session.revokedAt !== null || session.expiresAt <= now) return null;
    const user = await this.accounts.findUser(session.userId);
    if (!user || user.disabled || !user.isAdmin) return null;
    const principal = { session, user };
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(hash, { principal, at: now });
    return principal;
  }

  /** Live admin sessions, newest first (of one user when given). */
  list(userId?: number): Promise<AdminSession[]> {
    return this.repo.listLive(this.now(), userId);
  }

  /** Ends one session by id; `admin_session_not_found` when it is unknown or already ended. */
  async revoke(id: string, reason: "logout" | "admin"): Promise<void> {
    const done = await this.repo.revoke([id], reason, this.now());
    if (!done.length) throw notFound("admin_session_not_found", "admin session does not exist or has ended");
    this.forget();
  }

  /** Ends every admin session of a user; returns how many ended. */
  async revokeUser(userId: number, reason: string): Promise<number> {
    const live = await this.repo.listLive(this.now(), userId);
    const done = await this.repo.revoke(
      live.map((s) => s.id),
      reason,
      this.now(),
    );
    if (done.length) this.forget();
    return done.length;
  }

  /** Drops this node's cache (other nodes' caches expire within a second). */
  private forget(): void {
    this.recent.clear();
  }
}
