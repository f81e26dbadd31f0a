import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

import type { AdminTokenStore } from "../../ports/admin-token-store.ts";

export type { AdminTokenStore } from "../../ports/admin-token-store.ts";

export function sha256Hex(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

export function newAdminToken(): string {
  return `pa_${randomBytes(32).toString("base64url")}`;
}

/**
 * Verifies the admin token. A configured token (PARLEY_ADMIN_TOKEN) wins; otherwise the stored
 * hash is used, and on first start a token is generated, its hash stored, and the token returned
 * once so the caller can print it. The store is re-read on every check, so `parley admin-token
 * rotate` takes effect on a running server without a restart.
 */
export class AdminAuth {
  private readonly configuredHash: string | null;

  constructor(
    configured: string,
    private readonly store: AdminTokenStore,
  ) {
    this.configuredHash = configured ? sha256Hex(configured) : null;
  }

  /** Ensures a token exists; returns a newly generated token (to print once) or null. */
  ensure(): string | null {
    if (this.configuredHash || this.store.readHash()) return null;
    const token = newAdminToken();
    this.store.writeHash(sha256Hex(token));
    return token;
  }

  rotate(): string {
    const token = newAdminToken();
    this.store.writeHash(sha256Hex(token));
    return token;
  }

  get source(): "configured" | "stored" {
    return this.configuredHash ? "configured" : "stored";
  }

  /** Admin sessions (src/core/admin/admin-sessions.ts), attached by the composition root. */
  private sessions: { principal(token: string): Promise<unknown | null> } | null = null;

  /** Lets `check` accept the tokens of live admin sessions too (docs/admin.md). */
  useSessions(sessions: { principal(token: string): Promise<unknown | null> }): void {
    this.sessions = sessions;
  }

  /**
   * The admin credential check of every admin route (`/admin/api`, `/im`, `/console`, the
   * gateway's register switch): the admin token, or the token of a live admin session.
   */
  async check(token: string | undefined | null): Promise<boolean> {
    if (this.verify(token)) return true;
    if (!token || !this.sessions) return false;
    return (await this.sessions.principal(token)) !== null;
  }

  /** The admin token itself (not an admin session). */
  verify(token: string | undefined | null): boolean {
    if (!token) return false;
    const expected = this.configuredHash ?? this.store.readHash();
    if (!expected) return false;
    return timingSafeEqual(Buffer.from(sha256Hex(token), "hex"), Buffer.from(expected, "hex"));
  }
}
