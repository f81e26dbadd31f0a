import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { RateLimiter } from "../../ports/rate-limit.ts";
import type { NewUser, Repos, Session, User, UserPatch } from "../../ports/storage.ts";
import { AppError, conflict, forbidden, invalid, notFound, unauthenticated } from "../errors.ts";
import type { CoreEvents, SessionRevokedEvent } from "../events.ts";
import { sessionTopic, userTopic } from "../topics.ts";
import type { DeviceType } from "./devices.ts";
import { HashPool } from "./hash-pool.ts";
import { dummyHash, hashPassword, needsRehash, type ScryptParams, verifyPassword } from "./password.ts";
import type { SmsService } from "./sms-service.ts";
import type { UserCache } from "./user-cache.ts";

/** The AccountService options a config gives (one mapping for the server and the CLI). */
export function accountsOptions(c: Omit<AccountsOptions, "scrypt"> & { scryptLogN: number }): AccountsOptions {
  return {
    sessionTtlMs: c.sessionTtlMs,
    multiLogin: c.multiLogin,
    scrypt: { logN: c.scryptLogN, r: 8, p: 1 },
    loginFailures: c.loginFailures,
    loginWindowMs: c.loginWindowMs,
    loginFailuresPerAddress: c.loginFailuresPerAddress,
    loginAddressWindowMs: c.loginAddressWindowMs,
    loginDelayMs: c.loginDelayMs,
    loginDelayMaxMs: c.loginDelayMaxMs,
    hashConcurrency: c.hashConcurrency,
    hashQueue: c.hashQueue,
  };
}

/** The login policy: see docs/OPERATIONS.md "Login limits". */
export interface AccountsOptions {
  sessionTtlMs: number;
  multiLogin: "per-device" | "single" | "multi";
  scrypt: ScryptParams;
  /** Hard stop: failures allowed per (account, client address) per `loginWindowMs`. */
  loginFailures: number;
  loginWindowMs: number;
  /** Failures allowed per client address (over all accounts) per `loginAddressWindowMs`. */
  loginFailuresPerAddress: number;
  loginAddressWindowMs: number;
  /**
   * Growing delay per account: once an account has `loginFailures` failures in the window (from
   * any addresses), its attempts are spaced `loginDelayMs` · 2^k apart (k = failures beyond the
   * limit), at most `loginDelayMaxMs`; an attempt that would wait longer is refused.
   */
  loginDelayMs: number;
  loginDelayMaxMs: number;
  /** Password hashes running at once on this node, and how many may wait. */
  hashConcurrency: number;
  hashQueue: number;
}

export interface Authenticated {
  user: User;
  session: Session;
}

export interface LoginResult extends Authenticated {
  /** The bearer token; only its hash is stored. */
  token: string;
}

export interface LoginOptions {
  device: DeviceType;
  deviceId?: string;
  platform?: string;
  ip?: string;
}

export const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");
const newToken = () => randomBytes(32).toString("base64url");
const newSid = () => randomBytes(16).toString("hex");

export const MOBILE_RE = /^1\d{10}$/;

/** The repositories AccountService uses. */
export type AccountRepos = Pick<Repos, "users" | "sessions" | "org">;

/**
 * Users and sessions for every surface: registration (SMS-verified), password login with
 * brute-force limits, bearer-token authentication, the multi-login policy, logout/revocation,
 * profile edits and global mutes. Revocations and mutes are published so live sockets react.
 */
export class AccountService {
  private readonly hashes: HashPool;

  constructor(
    private readonly storage: AccountRepos,
    private readonly events: CoreEvents,
    private readonly limiter: RateLimiter,
    private readonly sms: SmsService,
    private readonly opts: AccountsOptions,
    private readonly log: Logger,
    /** Dropped on every write here, so this node never serves its own stale user. */
    private readonly cache?: UserCache,
  ) {
    this.hashes = new HashPool(opts.hashConcurrency, opts.hashQueue);
  }

  /** Hashes a password in the bounded pool (refused with `login_busy` when it is full). */
  private hash(password: string): Promise<string> {
    return this.hashes.run(() => hashPassword(password, this.opts.scrypt));
  }

  /** The user with this public uid (chat33 `markId`), disabled ones included; null when none. */
  findByUid(uid: string): Promise<User | null> {
    return this.storage.users.findByUid(uid);
  }

  /** The user, from a cache at most ~1 s old (hot paths: one lookup per chat message). */
  cachedUser(id: number): Promise<User | null> {
    return this.cache ? this.cache.get(id) : this.storage.users.findById(id);
  }

  /** The user as stored now (no cache): for reads that must see the latest state. */
  findUser(id: number): Promise<User | null> {
    return this.storage.users.findById(id);
  }

  findUserByMobile(mobile: string): Promise<User | null> {
    return this.storage.users.findByMobile(mobile);
  }

  /** Users newest first; `query` matches mobile, username, nickname or uid (substring). */
  listUsers(query: string, offset: number, limit: number): Promise<{ total: number; list: User[] }> {
    return this.storage.users.list(query, offset, limit);
  }

  /** Creates a user (admin API, CLI, registration). Passwords are hashed here. */
  async createUser(input: {
    mobile?: string | null;
    username?: string | null;
    password: string;
    nickname?: string;
    avatar?: string;
    sex?: number;
    position?: string;
    email?: string;
    isAdmin?: boolean;
    level?: number;
    verified?: boolean;
    companyId?: number | null;
    deptId?: number | null;
    roleId?: number | null;
  }): Promise<User> {
    if (!input.mobile && !input.username) throw invalid("missing_parameter", "mobile or username is required");
    if (input.mobile && !MOBILE_RE.test(input.mobile))
      throw invalid("bad_mobile", "mobile must be 11 digits starting with 1");
    validatePassword(input.password);
    await this.checkOrg(input.companyId ?? null, input.deptId ?? null, input.roleId ?? null);
    const now = Date.now();
    const user: NewUser = {
      mobile: input.mobile ?? null,
      username: input.username ?? null,
      passwordHash: await this.hash(input.password),
      nickname: input.nickname ?? input.username ?? (input.mobile ? `用户${input.mobile.slice(-4)}` : ""),
      avatar: input.avatar ?? "",
      sex: input.sex ?? 0,
      position: input.position ?? "",
      description: "",
      email: input.email ?? "",
      birthday: null,
      sign: null,
      level: input.level ?? 1,
      isAdmin: input.isAdmin ?? false,
      verified: input.verified ?? false,
      mutedUntil: 0,
      companyId: input.companyId ?? null,
      deptId: input.deptId ?? null,
      roleId: input.roleId ?? null,
      disabled: false,
      createdAt: now,
      updatedAt: now,
    };
    try {
      return await this.storage.users.create(user);
    } catch (e) {
      if (e instanceof AppError && e.code === "conflict") throw conflict("user_exists", "user already exists");
      throw e;
    }
  }

  /** Department and role must exist and belong to the user's company. */
  private async checkOrg(companyId: number | null, deptId: number | null, roleId: number | null): Promise<void> {
    if (companyId !== null && !(await this.storage.org.company(companyId)))
      throw invalid("bad_company", "unknown companyId");
    if (deptId !== null) {
      const d = await this.storage.org.department(deptId);
      if (!d || d.companyId !== companyId) throw invalid("bad_department", "deptId must belong to companyId");
    }
    if (roleId !== null) {
      const r = await this.storage.org.role(roleId);
      if (!r || r.companyId !== companyId) throw invalid("bad_role", "roleId must belong to companyId");
    }
  }

  /** chat33 `/user/register`: SMS-verified sign-up; logs the new user in. */
  async register(mobile: string, password: string, captcha: string, login: LoginOptions): Promise<LoginResult> {
    if (!MOBILE_RE.test(mobile)) throw invalid("bad_mobile", "mobile must be 11 digits starting with 1");
    validatePassword(password);
    if (await this.storage.users.findByMobile(mobile)) throw conflict("user_exists", "user already exists");
    await this.sms.verify(mobile, captcha);
    const user = await this.createUser({ mobile, password, verified: false });
    return this.startSession(user, login);
  }

  /**
   * Login by SMS code for an existing account (chat33 `/user/phoneLogin`): the newest code sent to
   * `mobile` (by `/send/sms`), single use, under the SMS code's own limits (5 wrong tries burn it;
   * one code per 60 s, a daily cap). Every try counts against the client address's login budget
   * (`loginFailuresPerAddress` per `loginAddressWindowMs`, shared with password logins) before
   * anything is looked up, and a successful one is taken back — so the route cannot be used to
   * probe which numbers are registered faster than failed logins allow. An unknown mobile is
   * `user_not_found` and leaves any code untouched.
   */
  async smsLogin(mobile: string, code: string, login: LoginOptions): Promise<LoginResult> {
    if (!MOBILE_RE.test(mobile)) throw invalid("bad_mobile", "mobile must be 11 digits starting with 1");
    const address = login.ip ?? "?";
    const addrKey = `login:ip:${address}`;
    const byAddr = await this.limiter.hit(addrKey, this.opts.loginFailuresPerAddress, this.opts.loginAddressWindowMs);
    if (!byAddr.ok) throw new AppError("rate_limited", "login_limited", "too many failed logins, try again later");
    const user = await this.storage.users.findByMobile(mobile);
    if (!user) throw notFound("user_not_found", "user does not exist");
    await this.sms.verify(mobile, code);
    // the right code: this try was no failure
    await this.limiter.release(addrKey);
    if (user.disabled) throw forbidden("user_disabled", "account disabled");
    return this.startSession(user, login);
  }

  /**
   * Password login by mobile or username, under the login policy (docs/OPERATIONS.md "Login
   * limits"). Every attempt is counted before the password is hashed, so concurrent attempts
   * cannot all pass a check; a successful one is taken back. In order:
   * 1. hard stop per (account, client address): over `loginFailures` per window every try is
   *    refused (`login_limited`), right password or not — only from that address;
   * 2. per client address over all accounts: `loginFailuresPerAddress` per (short) window;
   * 3. growing delay per account: once the account has `loginFailures` failures from anywhere,
   *    attempts wait for spaced slots (longer each time); one that would wait too long is refused;
   * 4. the bounded hash pool: when full, refused at once (`login_busy`).
   */
  async passwordLogin(
    account: { mobile?: string; username?: string },
    password: string,
    login: LoginOptions,
  ): Promise<LoginResult> {
    return this.startSession(await this.checkPassword(account, password, login.ip), login);
  }

  /**
   * The credential check of `passwordLogin` — every limit of the login policy, the password, a
   * disabled account (`user_disabled`), the rehash — without opening a user session: for the
   * admin sign-in (src/core/admin/admin-sessions.ts), which opens its own kind of session.
   */
  async checkPassword(account: { mobile?: string; username?: string }, password: string, ip?: string): Promise<User> {
    const login = { ip };
    const id = account.mobile ?? account.username ?? "";
    const address = login.ip ?? "?";
    const o = this.opts;
    // One indexed lookup first, so the limits key on the account itself (a user reachable by
    // username and by mobile has one budget, not two); unknown names key on the name.
    const user = account.mobile
      ? await this.storage.users.findByMobile(account.mobile)
      : account.username
        ? ((await this.storage.users.findByUsername(account.username)) ??
          (MOBILE_RE.test(account.username) ? await this.storage.users.findByMobile(account.username) : null))
        : null;
    const subject = user ? `u:${user.id}` : `n:${id}`;
    const pairKey = `login:pair:${address}|${subject}`;
    const addrKey = `login:ip:${address}`;
    const acctKey = `login:acct:${subject}`;
    const limited = () => new AppError("rate_limited", "login_limited", "too many failed logins, try again later");

    const pair = await this.limiter.hit(pairKey, o.loginFailures, o.loginWindowMs);
    if (!pair.ok) {
      if (pair.count === o.loginFailures + 1)
        this.log.warn(
          { account: id, userId: user?.id, address, failures: o.loginFailures, retryAfterMs: pair.retryAfterMs },
          "login locked for this account from this address",
        );
      throw limited();
    }
    const reserved = [pairKey];
    const releaseAll = () => Promise.all(reserved.map((k) => this.limiter.release(k)));
    let counted = false;
    try {
      const byAddr = await this.limiter.hit(addrKey, o.loginFailuresPerAddress, o.loginAddressWindowMs);
      if (!byAddr.ok) {
        // (this hit is not taken back: the address stays over its limit until the window ends)
        if (byAddr.count === o.loginFailuresPerAddress + 1)
          this.log.warn(
            { address, failures: o.loginFailuresPerAddress, retryAfterMs: byAddr.retryAfterMs },
            "logins from this address paused: too many failures",
          );
        throw limited();
      }
      reserved.push(addrKey);
      const byAcct = await this.limiter.hit(acctKey, Number.MAX_SAFE_INTEGER, o.loginWindowMs);
      reserved.push(acctKey);
      const beyond = byAcct.count - o.loginFailures;
      if (beyond > 0) {
        const spacing = Math.min(o.loginDelayMs * 2 ** Math.min(beyond - 1, 30), o.loginDelayMaxMs);
        const slot = await this.limiter.slot(acctKey, spacing, o.loginDelayMaxMs);
        if (beyond === 1)
          this.log.warn(
            { account: id, userId: user?.id, failures: o.loginFailures },
            "login attempts on this account are now delayed",
          );
        if (!slot.ok) throw limited();
        if (slot.waitMs > 0) await new Promise((r) => setTimeout(r, slot.waitMs));
      }
      // Spend the same time whether or not the account exists.
      const ok = await this.hashes.run(async () =>
        verifyPassword(password, user?.passwordHash ?? (await dummyHash(o.scrypt))),
      );
      if (!user || !ok) {
        counted = true;
        if (!user) throw notFound("user_not_found", "user does not exist");
        throw unauthenticated("bad_credentials", "wrong account or password");
      }
      // The right password: this attempt does not count; the account's failures and this
      // address's lock for it are cleared (the owner is back), the address keeps its others.
      counted = true;
      reserved.length = 0;
      await Promise.all([this.limiter.reset(pairKey), this.limiter.release(addrKey), this.limiter.reset(acctKey)]);
      if (user.disabled) throw forbidden("user_disabled", "account disabled");
      if (needsRehash(user.passwordHash, o.scrypt)) {
        // Upgrading the hash is best effort: a full pool leaves it for the next login.
        const upgraded = await this.hash(password).catch((err: unknown) => {
          if (err instanceof AppError && err.reason === "login_busy") return null;
          throw err;
        });
        if (upgraded) await this.storage.users.update(user.id, { passwordHash: upgraded });
      }
      return user;
    } catch (e) {
      // Refused before the password was checked (limits, a full hash pool, a storage error):
      // the attempt was no guess, so it does not count.
      if (!counted) await releaseAll();
      throw e;
    }
  }

  /** Opens a session and applies the multi-login policy (older sessions end, their sockets are told). */
  async startSession(user: User, login: LoginOptions): Promise<LoginResult> {
    const now = Date.now();
    const token = newToken();
    const session: Session = {
      id: newSid(),
      userId: user.id,
      tokenHash: hashToken(token),
      device: login.device,
      deviceId: login.deviceId ?? randomBytes(12).toString("hex"),
      platform: login.platform ?? login.device,
      createdAt: now,
      expiresAt: now + this.opts.sessionTtlMs,
      revokedAt: null,
      revokeReason: null,
    };
    await this.storage.sessions.create(session);
    if (this.opts.multiLogin !== "multi") {
      const live = await this.storage.sessions.listLive(user.id, now);
      const older = live.filter(
        (s) => s.id !== session.id && (this.opts.multiLogin === "single" || s.device === session.device),
      );
      await this.revoke(
        older.map((s) => s.id),
        "replaced",
      );
    }
    return { user, session, token };
  }

  /** Resolves a bearer token; throws `unauthenticated` with the precise reason. */
  async authenticate(token: string | undefined | null): Promise<Authenticated> {
    if (!token) throw unauthenticated("missing_token", "token required");
    const session = await this.storage.sessions.findByTokenHash(hashToken(token));
    if (!session) throw unauthenticated("token_invalid", "invalid token");
    if (session.revokedAt !== null)
      throw unauthenticated(
        session.revokeReason === "replaced" ? "session_replaced" : "session_revoked",
        "session ended",
      );
    if (session.expiresAt <= Date.now()) throw unauthenticated("token_expired", "login expired");
    const user = await this.storage.users.findById(session.userId);
    if (!user) throw unauthenticated("token_invalid", "invalid token");
    if (user.disabled) throw forbidden("user_disabled", "account disabled");
    return { user, session };
  }

  /**
   * A session's state now, for a socket that has just subscribed to its session's topic (a
   * revocation published before the subscription was missed): ended with the reason, or live
   * until `expiresAt`.
   */
  async sessionStatus(sid: string): Promise<{ ended: string } | { expiresAt: number }> {
    const s = await this.storage.sessions.findById(sid);
    if (!s || s.revokedAt !== null) return { ended: s?.revokeReason ?? "logout" };
    if (s.expiresAt <= Date.now()) return { ended: "expired" };
    return { expiresAt: s.expiresAt };
  }

  /**
   * Which of these sessions have ended (revoked, expired at `now`, or gone), with the reason:
   * sockets re-check their sessions with this on the sweep, so a revocation whose pub/sub
   * notice was lost (a hub outage) still ends them. One query per 500 sessions.
   */
  private async endedSessions(sids: readonly string[], now: number): Promise<Map<string, string>> {
    const found = new Map((await this.storage.sessions.findByIds(sids)).map((s) => [s.id, s]));
    const ended = new Map<string, string>();
    for (const sid of sids) {
      const s = found.get(sid);
      if (!s) ended.set(sid, "revoked");
      else if (s.revokedAt !== null) ended.set(sid, s.revokeReason ?? "revoked");
      else if (s.expiresAt <= now) ended.set(sid, "expired");
    }
    return ended;
  }

  /**
   * For socket surfaces, once per sweep: looks up the sessions of `items` (sockets) in one batch
   * and calls `end` for each item whose session ended — if it still holds that session then.
   * Errors are logged (the next sweep tries again).
   */
  recheckSessions<T>(
    items: readonly T[],
    sidOf: (t: T) => string | null | undefined,
    end: (t: T, reason: string) => void,
  ): void {
    const bySid = new Map<string, T[]>();
    for (const t of items) {
      const sid = sidOf(t);
      if (!sid) continue;
      const list = bySid.get(sid);
      if (list) list.push(t);
      else bySid.set(sid, [t]);
    }
    if (!bySid.size) return;
    this.endedSessions([...bySid.keys()], Date.now()).then(
      (ended) => {
        for (const [sid, reason] of ended) for (const t of bySid.get(sid) ?? []) if (sidOf(t) === sid) end(t, reason);
      },
      (err: unknown) => this.log.warn({ err }, "session re-check failed"),
    );
  }

  /** Ends sessions and tells their live sockets. */
  async revoke(sids: string[], reason: SessionRevokedEvent["reason"]): Promise<string[]> {
    const done = await this.storage.sessions.revoke(sids, reason, Date.now());
    await Promise.all(
      done.map((sid) =>
        this.events
          .publish(sessionTopic(sid), { type: "session.revoked", sid, reason })
          .catch((err: unknown) => this.log.warn({ err }, "revocation publish failed")),
      ),
    );
    return done;
  }

  async logout(session: Session): Promise<void> {
    await this.revoke([session.id], "logout");
  }

  async editProfile(userId: number, patch: Pick<UserPatch, "nickname" | "avatar">): Promise<User> {
    const user = await this.storage.users.update(userId, patch);
    this.cache?.invalidate(userId);
    if (!user) throw notFound("user_not_found", "user does not exist");
    return user;
  }

  /** Global mute (chat33 `/user/muted`): `durationMs` 0 lifts it. Live sockets get event 3. */
  async mute(targetId: number, durationMs: number): Promise<User> {
    const mutedUntil = durationMs > 0 ? Date.now() + durationMs : 0;
    const user = await this.storage.users.update(targetId, { mutedUntil });
    this.cache?.invalidate(targetId);
    if (!user) throw notFound("user_not_found", "user does not exist");
    await this.events
      .publish(userTopic(user.id), { type: "user.muted", userId: user.id, mutedUntil })
      .catch((err: unknown) => this.log.warn({ err }, "mute publish failed"));
    return user;
  }

  /** Admin update; disabling a user ends all of its sessions. */
  async adminUpdate(id: number, patch: UserPatch & { password?: string }): Promise<User> {
    const { password, ...rest } = patch;
    const existing = await this.storage.users.findById(id);
    if (!existing) throw notFound("user_not_found", "user does not exist");
    if (rest.mobile && !MOBILE_RE.test(rest.mobile))
      throw invalid("bad_mobile", "mobile must be 11 digits starting with 1");
    await this.checkOrg(
      rest.companyId !== undefined ? rest.companyId : existing.companyId,
      rest.deptId !== undefined ? rest.deptId : existing.deptId,
      rest.roleId !== undefined ? rest.roleId : existing.roleId,
    );
    const full: UserPatch = { ...rest };
    if (password !== undefined) {
      validatePassword(password);
      full.passwordHash = await this.hash(password);
    }
    let user: User | null;
    try {
      user = await this.storage.users.update(id, full);
      this.cache?.invalidate(id);
    } catch (e) {
      if (e instanceof AppError && e.code === "conflict") throw conflict("user_exists", "mobile or username taken");
      throw e;
    }
    if (!user) throw notFound("user_not_found", "user does not exist");
    if (rest.disabled || password !== undefined) await this.revokeAll(id, rest.disabled ? "disabled" : "admin");
    return user;
  }

  /** A user's live sessions, oldest first (admin API). */
  liveSessions(userId: number): Promise<Session[]> {
    return this.storage.sessions.listLive(userId, Date.now());
  }

  /** Ends one session of a user (its sockets are told); false when it is not a live session of that user. */
  async revokeSessionOf(userId: number, sid: string, reason: SessionRevokedEvent["reason"]): Promise<boolean> {
    const s = await this.storage.sessions.findById(sid);
    if (!s || s.userId !== userId || s.revokedAt !== null || s.expiresAt <= Date.now()) return false;
    return (await this.revoke([sid], reason)).length === 1;
  }

  /** Ends every live session of a user (their sockets are told); returns how many ended. */
  async revokeAll(userId: number, reason: SessionRevokedEvent["reason"]): Promise<number> {
    const live = await this.storage.sessions.listLive(userId, Date.now());
    return (
      await this.revoke(
        live.map((s) => s.id),
        reason,
      )
    ).length;
  }
}

export function validatePassword(password: string): void {
  if (typeof password !== "string" || password.length < 6 || password.length > 128)
    throw invalid("bad_password", "password must be 6 to 128 characters");
}
