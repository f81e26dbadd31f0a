import type { User, UserRepo } from "../../ports/storage.ts";

/**
 * A short-lived read cache of users for hot paths (every chat message needs its sender and peer).
 * Entries live `ttlMs` (default 1 s) and are dropped on every local write through AccountService,
 * so this node sees its own changes at once and other nodes' changes (a mute, a disable) within
 * the TTL. Bounded: cleared when full.
 */
export class UserCache {
  private readonly entries = new Map<number, { user: User | null; at: number }>();

  constructor(
    private readonly repo: UserRepo,
    private readonly ttlMs = 1000,
    private readonly max = 50_000,
  ) {}

  async get(id: number): Promise<User | null> {
    const now = Date.now();
    const hit = this.entries.get(id);
    if (hit && now - hit.at < this.ttlMs) return hit.user;
    const user = await this.repo.findById(id);
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(id, { user, at: now });
    return user;
  }

  /** Several users at once: cached ones from memory, the rest in one query. Missing ids are absent. */
  async getMany(ids: Iterable<number>): Promise<Map<number, User>> {
    const now = Date.now();
    const out = new Map<number, User>();
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const hit = this.entries.get(id);
      if (hit && now - hit.at < this.ttlMs) {
        if (hit.user) out.set(id, hit.user);
      } else missing.push(id);
    }
    if (!missing.length) return out;
    const found = new Map((await this.repo.findByIds(missing)).map((u) => [u.id, u]));
    if (this.entries.size + missing.length > this.max) this.entries.clear();
    for (const id of missing) {
      const user = found.get(id) ?? null;
      this.entries.set(id, { user, at: now });
      if (user) out.set(id, user);
    }
    return out;
  }

  invalidate(id: number): void {
    this.entries.delete(id);
  }
}
