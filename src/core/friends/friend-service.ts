import type { Logger } from "pino";
import type { Hub } from "../../ports/hub.ts";
import type { FriendRequest, FriendRules, Friendship, Repos, User } from "../../ports/storage.ts";
import { AppError, conflict, forbidden, invalid, notFound } from "../errors.ts";
import type { CoreEvents, FriendRemovedEvent, FriendRequestEvent } from "../events.ts";
import { FRIENDS_CHANGED_TOPIC, userTopic } from "../topics.ts";

const card = (u: User) => ({ id: u.id, name: u.nickname, avatar: u.avatar, position: u.position });

/** What every 1:1 send asks about a pair of users (`FriendService.relation`). */
export interface PairRelation {
  /** Friends both ways, neither side ended it. */
  friends: boolean;
  /** Has the user with the lower id blocked the other? */
  lowBlocksHigh: boolean;
  /** Has the user with the higher id blocked the other? */
  highBlocksLow: boolean;
}

export interface FriendsOptions {
  /**
   * A cached pair is re-read after this many ms even when no `friends.changed` invalidation
   * arrived (config `friends.cacheTtlMs`, default 5000): a lost pub/sub message is stale for at
   * most this long.
   */
  cacheTtlMs: number;
  /** Cross-node invalidations; without a hub (one node, tests) only this node's changes drop entries. */
  hub?: Hub;
}

const RELATION_CACHE_MAX = 100_000;
const pairKey = (a: number, b: number) => (a < b ? `${a}:${b}` : `${b}:${a}`);

/** One 1:1 send between a pair, from before its relation check until it settled (see `trackSend`). */
interface InFlight {
  waiters: Array<() => void> | null;
}

/**
 * Friends (chat33): requests, answers, the friend list with per-friend settings, blocks.
 *
 * Hot path: every 1:1 send asks whether the two users are friends and whether the peer blocked
 * the sender (`relation`). The answer is cached per pair on each node, so a send reads neither
 * `friends` nor `friend_blocks`. Every change of a pair here (befriend, unfriend, block, unblock)
 * drops the pair on this node before the change's answer is returned, and on the other nodes
 * through the hub topic `friends.changed`; pub/sub is lossy, so an entry also expires after
 * `cacheTtlMs`. A load that started before a drop never fills the cache (a generation per pair).
 *
 * A block or an unfriend also waits, before it answers, for the 1:1 sends between the pair that
 * were already past their check on this node (`trackSend`): once the blocker has the answer, no
 * message of the blocked user reaches them through this node. On another node a send is refused
 * once the invalidation arrived (normally milliseconds; at most `cacheTtlMs` when it was lost).
 */
export class FriendService {
  private readonly relations = new Map<string, { relation: PairRelation; at: number }>();
  /** Bumped on every drop: a load that started before it does not fill the cache. */
  private readonly generation = new Map<string, number>();
  private epoch = 0;
  /** 1:1 sends past (or inside) their relation check, per pair. */
  private readonly inFlight = new Map<string, Set<InFlight>>();
  private readonly opts: FriendsOptions;

  constructor(
    private readonly storage: Pick<Repos, "friends" | "users">,
    private readonly events: CoreEvents,
    private readonly log: Logger,
    opts: Partial<FriendsOptions> = {},
  ) {
    this.opts = { cacheTtlMs: opts.cacheTtlMs ?? 5000, hub: opts.hub };
    this.opts.hub?.onMessage((topic, payload) => {
      if (topic !== FRIENDS_CHANGED_TOPIC || typeof payload !== "object" || payload === null || Array.isArray(payload))
        return;
      const a = Number(payload.a);
      const b = Number(payload.b);
      if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) this.drop(a, b);
    });
  }

  /** Subscribes to other nodes' pair invalidations; resolves once they will arrive. */
  async start(): Promise<void> {
    await this.opts.hub?.subscribe(FRIENDS_CHANGED_TOPIC);
  }

  // ---------------------------------------------------------------------------------------------
  // the pair cache

  private drop(a: number, b: number): void {
    const k = pairKey(a, b);
    this.relations.delete(k);
    this.generation.set(k, (this.generation.get(k) ?? 0) + 1);
    if (this.generation.size >= RELATION_CACHE_MAX) {
      // forgetting the generations would let a load that started before a drop fill the cache:
      // the epoch moves on instead, so every load in progress fills nothing
      this.generation.clear();
      this.relations.clear();
      this.epoch++;
    }
  }

  /**
   * A pair changed in storage (already committed): drops it here at once and on the other nodes
   * through the hub; with `settle`, also waits for this node's sends between them that passed their
   * check before the drop (block, unfriend: the answer comes after the last such message).
   */
  private async changed(a: number, b: number, settle: boolean): Promise<void> {
    this.drop(a, b);
    const before = settle ? [...(this.inFlight.get(pairKey(a, b)) ?? [])] : [];
    await Promise.all([
      this.opts.hub
        ?.publish(FRIENDS_CHANGED_TOPIC, { a, b })
        .catch((err: unknown) => this.log.warn({ err }, "friend invalidation publish failed")),
      ...before.map(
        (t) =>
          new Promise<void>((resolve) => {
            t.waiters ??= [];
            t.waiters.push(resolve);
          }),
      ),
    ]);
  }

  /**
   * The friendship and blocks of a pair, cached (see the class comment). A miss reads both
   * directions of both tables at once.
   */
  async relation(a: number, b: number): Promise<PairRelation> {
    const k = pairKey(a, b);
    const now = Date.now();
    const hit = this.relations.get(k);
    if (hit && now - hit.at < this.opts.cacheTtlMs) return hit.relation;
    const gen = this.generation.get(k) ?? 0;
    const epoch = this.epoch;
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const [x, y, lowBlocksHigh, highBlocksLow] = await Promise.all([
      this.storage.friends.get(lo, hi),
      this.storage.friends.get(hi, lo),
      this.storage.friends.isBlocked(lo, hi),
      this.storage.friends.isBlocked(hi, lo),
    ]);
    const relation: PairRelation = {
      friends: !!x && !!y && x.deletedAt === null && y.deletedAt === null,
      lowBlocksHigh,
      highBlocksLow,
    };
    if ((this.generation.get(k) ?? 0) === gen && this.epoch === epoch) {
      if (this.relations.size >= RELATION_CACHE_MAX) this.relations.clear();
      this.relations.set(k, { relation, at: now });
    }
    return relation;
  }

  /** Has `userId` blocked `otherId`, from the pair cache (the 1:1 send path). */
  async blocksCached(userId: number, otherId: number): Promise<boolean> {
    const r = await this.relation(userId, otherId);
    return userId < otherId ? r.lowBlocksHigh : r.highBlocksLow;
  }

  /**
   * Marks a 1:1 send between `a` and `b` in flight, from before its relation check until the
   * returned function is called (after its commit and publication, or its refusal). A block or an
   * unfriend of the pair waits for the sends marked before it (see the class comment).
   */
  trackSend(a: number, b: number): () => void {
    const k = pairKey(a, b);
    let set = this.inFlight.get(k);
    if (!set) {
      set = new Set();
      this.inFlight.set(k, set);
    }
    const token: InFlight = { waiters: null };
    set.add(token);
    return () => {
      const s = this.inFlight.get(k);
      if (s?.delete(token) && s.size === 0) this.inFlight.delete(k);
      if (token.waiters) for (const w of token.waiters) w();
    };
  }

  async areFriends(a: number, b: number): Promise<boolean> {
    const [x, y] = await Promise.all([this.storage.friends.get(a, b), this.storage.friends.get(b, a)]);
    return !!x && !!y && x.deletedAt === null && y.deletedAt === null;
  }

  async friendship(userId: number, friendId: number): Promise<Friendship | null> {
    const f = await this.storage.friends.get(userId, friendId);
    return f && f.deletedAt === null ? f : null;
  }

  /** The user's remarks of several friends at once (live friendships only): friend id → remark. */
  async remarks(userId: number, friendIds: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    if (!friendIds.length) return out;
    for (const [id, f] of await this.storage.friends.getMany(userId, friendIds))
      if (f.deletedAt === null) out.set(id, f.remark);
    return out;
  }

  private async target(id: number, actor: User): Promise<User> {
    if (id === actor.id) throw invalid("self_operation", "cannot do this to yourself");
    const u = await this.storage.users.findById(id);
    if (!u || u.disabled) throw notFound("user_not_found", "user does not exist");
    return u;
  }

  private async publish(r: FriendRequest, from: User, to: User): Promise<void> {
    const event: FriendRequestEvent = {
      type: "friend.request",
      id: r.id,
      status: r.status,
      reason: r.reason,
      datetime: r.updatedAt,
      sender: card(from),
      receiver: card(to),
    };
    await Promise.all(
      [from.id, to.id].map((id) =>
        this.events
          .publish(userTopic(id), event)
          .catch((err: unknown) => this.log.warn({ err }, "friend event publish failed")),
      ),
    );
  }

  /**
   * Sends a friend request. A waiting request the other way round is accepted instead (both
   * asked), making them friends at once.
   */
  async request(
    actor: User,
    toId: number,
    opts: { reason?: string; remark?: string; roomId?: string | null },
  ): Promise<FriendRequest> {
    const to = await this.target(toId, actor);
    if (await this.areFriends(actor.id, to.id)) throw conflict("already_friends", "already friends");
    const now = Date.now();
    const reverse = await this.storage.friends.pendingBetween(to.id, actor.id);
    if (reverse) return this.answer(to, actor, reverse, true, opts.remark ?? "");
    const existing = await this.storage.friends.pendingBetween(actor.id, to.id);
    if (existing) return existing;
    const r = await this.storage.friends.createRequest({
      fromId: actor.id,
      toId: to.id,
      reason: opts.reason ?? "",
      remark: opts.remark ?? "",
      roomId: opts.roomId ?? null,
      status: 1,
      createdAt: now,
      updatedAt: now,
    });
    await this.publish(r, actor, to);
    return r;
  }

  /** The actor answers the waiting request that `fromId` sent them. */
  async respond(actor: User, fromId: number, agree: boolean): Promise<FriendRequest> {
    const from = await this.target(fromId, actor);
    const pending = await this.storage.friends.pendingBetween(from.id, actor.id);
    if (!pending) {
      if (await this.storage.friends.latestBetween(from.id, actor.id))
        throw conflict("request_handled", "request already handled");
      throw notFound("request_not_found", "no such friend request");
    }
    return this.answer(from, actor, pending, agree, "");
  }

  private async answer(
    from: User,
    to: User,
    r: FriendRequest,
    agree: boolean,
    remarkOfTo: string,
  ): Promise<FriendRequest> {
    const now = Date.now();
    if (!(await this.storage.friends.resolveRequest(r.id, agree ? 3 : 2, now)))
      throw conflict("request_handled", "request already handled");
    if (agree) {
      await this.storage.friends.befriend(from.id, to.id, r.remark, remarkOfTo, now);
      await this.changed(from.id, to.id, false);
    }
    const done: FriendRequest = { ...r, status: agree ? 3 : 2, updatedAt: now };
    await this.publish(done, from, to);
    return done;
  }

  async remove(actor: User, friendId: number): Promise<void> {
    if (!(await this.areFriends(actor.id, friendId))) throw new AppError("forbidden", "not_friends", "not your friend");
    const now = Date.now();
    await this.storage.friends.unfriend(actor.id, friendId, now);
    await this.changed(actor.id, friendId, true);
    const friend = await this.storage.users.findById(friendId);
    if (!friend) return;
    const event: FriendRemovedEvent = {
      type: "friend.removed",
      datetime: now,
      sender: card(actor),
      receiver: card(friend),
    };
    await Promise.all(
      [actor.id, friendId].map((id) =>
        this.events
          .publish(userTopic(id), event)
          .catch((err: unknown) => this.log.warn({ err }, "friend event publish failed")),
      ),
    );
  }

  /**
   * A friend request under the target's rules (chat33 `/friend/add`): refused when the target
   * blocked the actor; `wrong_answer` when the target asks a question and the answer differs;
   * accepted at once (`added`) when the target needs no approval; otherwise `waiting`.
   */
  async requestUnderRules(
    actor: User,
    toId: number,
    opts: { reason?: string; remark?: string; roomId?: string | null; answer?: string },
  ): Promise<{ state: "wrong_answer" | "waiting" | "added"; request: FriendRequest | null }> {
    const to = await this.target(toId, actor);
    if (await this.storage.friends.isBlocked(to.id, actor.id))
      throw forbidden("friend_blocked", "the user does not accept your messages");
    const rules = await this.storage.friends.rules(to.id);
    if (rules.needAnswer && (opts.answer ?? "") !== rules.answer) return { state: "wrong_answer", request: null };
    const r = await this.request(actor, to.id, opts);
    if (r.status === 3) return { state: "added", request: r };
    if (!rules.needConfirm) return { state: "added", request: await this.answer(actor, to, r, true, "") };
    return { state: "waiting", request: r };
  }

  /** Has `userId` blocked `otherId` (a blocked user cannot message or befriend them)? */
  isBlocked(userId: number, otherId: number): Promise<boolean> {
    return this.storage.friends.isBlocked(userId, otherId);
  }

  async block(actor: User, otherId: number): Promise<void> {
    const other = await this.target(otherId, actor);
    await this.storage.friends.block(actor.id, other.id, Date.now());
    await this.changed(actor.id, other.id, true);
  }

  async unblock(actor: User, otherId: number): Promise<void> {
    if (otherId === actor.id) throw invalid("self_operation", "cannot do this to yourself");
    await this.storage.friends.unblock(actor.id, otherId);
    await this.changed(actor.id, otherId, false);
  }

  /** Whom the actor blocked, newest first, with their users and the friendship (if any). */
  async blocked(actor: User): Promise<Array<{ user: User; friendship: Friendship | null; at: number }>> {
    const rows = await this.storage.friends.blockedBy(actor.id);
    const ids = rows.map((r) => r.blockedId);
    const [users, friendships] = await Promise.all([
      this.storage.users.findByIds(ids),
      this.storage.friends.getMany(actor.id, ids),
    ]);
    const byId = new Map(users.map((u) => [u.id, u]));
    const out: Array<{ user: User; friendship: Friendship | null; at: number }> = [];
    for (const r of rows) {
      const user = byId.get(r.blockedId);
      if (user) out.push({ user, friendship: friendships.get(r.blockedId) ?? null, at: r.at });
    }
    return out;
  }

  /** Ids among `ids` that the actor blocked (one query). */
  async blockedAmong(actor: User, ids: readonly number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    const rows = await this.storage.friends.blockedBy(actor.id);
    const wanted = new Set(ids);
    return new Set(rows.map((r) => r.blockedId).filter((id) => wanted.has(id)));
  }

  rules(userId: number): Promise<FriendRules> {
    return this.storage.friends.rules(userId);
  }

  /** chat33 `/friend/confirm`: whether requests to the actor need approval. */
  async setNeedConfirm(actor: User, needConfirm: boolean): Promise<void> {
    const rules = await this.storage.friends.rules(actor.id);
    await this.storage.friends.saveRules(actor.id, { ...rules, needConfirm }, Date.now());
  }

  /**
   * chat33 `/friend/question`: `tp` 0 edits the question and answer, 1 turns the question on
   * (with them), 2 turns it off.
   */
  async setQuestion(actor: User, tp: 0 | 1 | 2, question: string, answer: string): Promise<void> {
    const rules = await this.storage.friends.rules(actor.id);
    if (tp !== 2 && (!question || !answer)) throw invalid("bad_question", "question and answer are required");
    const next: FriendRules =
      tp === 2
        ? { ...rules, needAnswer: false }
        : { ...rules, needAnswer: tp === 1 ? true : rules.needAnswer, question, answer };
    await this.storage.friends.saveRules(actor.id, next, Date.now());
  }

  /** chat33 `/friend/setExtRemark`: the remark and the detailed remark (JSON) of a friend. */
  async setExtRemark(actor: User, friendId: number, remark: string, extRemark: string): Promise<void> {
    const now = Date.now();
    if (!(await this.storage.friends.update(actor.id, friendId, { remark }, now)))
      throw new AppError("forbidden", "not_friends", "not your friend");
    await this.storage.friends.setExtRemark(actor.id, friendId, extRemark, now);
  }

  async setOptions(
    actor: User,
    friendId: number,
    patch: Partial<Pick<Friendship, "remark" | "noDisturbing" | "stickyOnTop" | "commonlyUsed">>,
  ): Promise<void> {
    if (!(await this.storage.friends.update(actor.id, friendId, patch, Date.now())))
      throw new AppError("forbidden", "not_friends", "not your friend");
  }

  /** Friends with their users; `since` returns changes (including ended friendships) after that time. */
  async list(actor: User, since: number | null): Promise<Array<{ friendship: Friendship; user: User }>> {
    const rows = await this.storage.friends.list(actor.id, since);
    const users = new Map((await this.storage.users.findByIds(rows.map((f) => f.friendId))).map((u) => [u.id, u]));
    const out: Array<{ friendship: Friendship; user: User }> = [];
    for (const f of rows) {
      const user = users.get(f.friendId);
      if (user) out.push({ friendship: f, user });
    }
    return out;
  }

  /** Requests to and from the actor, newest first, with both users. */
  async requests(actor: User, beforeId: number | null, limit: number) {
    const { total, list } = await this.storage.friends.requestsOf(actor.id, beforeId, limit);
    const users = new Map(
      (await this.storage.users.findByIds(list.flatMap((r) => [r.fromId, r.toId]))).map((u) => [u.id, u]),
    );
    return {
      total,
      list: list
        .filter((r) => users.has(r.fromId) && users.has(r.toId))
        .map((r) => ({ request: r, from: users.get(r.fromId) as User, to: users.get(r.toId) as User })),
    };
  }

  pendingCount(userId: number): Promise<number> {
    return this.storage.friends.pendingCountFor(userId);
  }
}
