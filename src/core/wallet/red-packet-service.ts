import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { RateLimiter } from "../../ports/rate-limit.ts";
import type {
  Conversation,
  PacketTarget,
  PacketType,
  RedPacket,
  Repos,
  Share,
  Transactional,
  User,
} from "../../ports/storage.ts";
import type { AccountService } from "../accounts/account-service.ts";
import { MOBILE_RE, validatePassword } from "../accounts/account-service.ts";
import type { SmsService } from "../accounts/sms-service.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import { AppError, conflict, forbidden, invalid, notFound } from "../errors.ts";
import { contentOrThrow } from "../messages/content.ts";
import type { MessageService, MessageView } from "../messages/message-service.ts";
import { equalSplit, randomSplit } from "./split.ts";
import type { WalletService } from "./wallet-service.ts";

export interface RedPacketOptions {
  maxShares: number;
  packetTtlMs: number;
  guestHoldMs: number;
  pendingHoldMs: number;
  sendPerMinute: number;
  guestPerMinute: number;
  sweepMs: number;
  recordsUtcOffsetMinutes: number;
}

/** Longest remark, in characters. */
export const REMARK_MAX = 64;
export const DEFAULT_REMARK = "恭喜发财，大吉大利";
/** Most rows one records answer lists (its totals count every row). */
export const RECORDS_MAX = 500;

export interface SendInput {
  cType: PacketTarget;
  toId: number;
  coin: number;
  type: PacketType;
  /** Units. */
  amount: number;
  size: number;
  remark: string;
}

export interface ClaimResult {
  packet: RedPacket;
  share: Share;
  remain: number;
}

/** A packet as `/red-packet/detail` and the packet page show it. */
export interface PacketDetail {
  packet: RedPacket;
  sender: User | null;
  remain: number;
  remainUnits: number;
  /** 1 open, 2 every share claimed, 3 expired (what was left went back to the sender). */
  status: 1 | 2 | 3;
  /** Claimed shares with their claimers, oldest first (null: the viewer may not see them). */
  claims: Array<{ share: Share; user: User | null }> | null;
  /** The viewer's own share, if any. */
  mine: Share | null;
}

const CONTROL_RE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Red packets (红包, docs/red-packets.md). Sending moves the amount from the sender's balance into
 * the packet's escrow, stores the pre-computed shares and the msgType 4 message in ONE
 * transaction; claiming takes one share and credits it in one transaction; guests reserve a share
 * under a mark and attach it to a mobile; expired packets are refunded by a sweep every node runs
 * (each share is refunded at most once: a conditional update under row locks). Membership of the
 * target conversation is checked here, through the conversation's policy.
 */
export class RedPacketService {
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly storage: Pick<Repos, "wallet"> & Transactional,
    private readonly wallet: WalletService,
    private readonly messages: MessageService,
    private readonly accounts: AccountService,
    private readonly sms: SmsService,
    private readonly users: UserCache,
    private readonly limiter: RateLimiter,
    private readonly opts: RedPacketOptions,
    private readonly log: Logger,
  ) {}

  /** Starts this node's refund sweep (every `sweepMs`). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.opts.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Refunds every packet due at `now` (expired, or a pending share's wait over); returns the units refunded. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let total = 0;
    try {
      // at most 100 rounds of 100 packets per sweep; the next sweep goes on
      for (let round = 0; round < 100; round++) {
        const due = await this.storage.wallet.dueForRefund(now, 100);
        for (const id of due) total += await this.storage.wallet.refund(id, now, randomUUID());
        if (due.length < 100) break;
      }
    } catch (err) {
      this.log.warn({ err }, "red-packet refund sweep failed; the next sweep retries");
    } finally {
      this.sweeping = false;
    }
    return total;
  }

  /**
   * Sends a packet into the friend (cType 0) or group (cType 1) conversation `toId`: checks,
   * then debit + packet + shares + msgType 4 message in one transaction, then the message is
   * published. `pageUrl(id)` is the packet page's address (the surface knows its URLs).
   */
  async send(
    sender: User,
    input: SendInput,
    pageUrl: (packetId: string) => string,
  ): Promise<{ packet: RedPacket; packetUrl: string; message: MessageView }> {
    this.wallet.coin(input.coin);
    if (input.type !== 1 && input.type !== 2) throw invalid("bad_packet_type", "type must be 1 (random) or 2 (equal)");
    if (!Number.isInteger(input.size) || input.size < 1 || input.size > this.opts.maxShares)
      throw invalid("bad_packet_size", `size must be 1..${this.opts.maxShares}`);
    if (!Number.isSafeInteger(input.amount) || input.amount < input.size)
      throw invalid("bad_amount", "every share must be at least 0.00000001");
    const remark = input.remark.trim() || DEFAULT_REMARK;
    if ([...remark].length > REMARK_MAX || CONTROL_RE.test(remark))
      throw invalid("bad_text", `remark: at most ${REMARK_MAX} characters, no control characters`);
    if (!(await this.limiter.hit(`wallet:send:${sender.id}`, this.opts.sendPerMinute, 60_000)).ok)
      throw new AppError("rate_limited", "packet_rate_limited", "too many red packets; wait a minute");
    const kind = input.cType === 0 ? "direct" : "group";
    // from the check to the publication one send, as a message's: a block or an unfriend of the
    // pair answers only after it (a packet checked before it never lands after its answer)
    return this.messages.asOneSend(kind, sender.id, input.toId, () =>
      this.sendChecked(kind, sender, input, remark, pageUrl),
    );
  }

  private async sendChecked(
    kind: "direct" | "group",
    sender: User,
    input: SendInput,
    remark: string,
    pageUrl: (packetId: string) => string,
  ): Promise<{ packet: RedPacket; packetUrl: string; message: MessageView }> {
    // who may post here: the conversation's own policy (a friend; a group member, not muted)
    const conv = await this.messages.conversationForSend(kind, sender, input.toId);
    if ((await this.wallet.balance(sender.id, input.coin)) < input.amount)
      throw invalid("insufficient_balance", "balance too low for this packet");
    const shares = input.type === 1 ? randomSplit(input.amount, input.size) : equalSplit(input.amount, input.size);
    const id = randomUUID();
    const now = Date.now();
    const packetUrl = pageUrl(id);
    const content = contentOrThrow("redpacket", {
      coin: input.coin,
      packetId: id,
      packetType: input.type,
      packetUrl,
      remark,
    });
    const { message, packet } = await this.storage.transaction(
      async (tx) => {
        const [stored] = await tx.messages.appendBatch([
          {
            conversationId: conv.id,
            senderId: sender.id,
            clientMsgId: `rp:${id}`,
            kind: "redpacket",
            content: content.value,
            contentJson: content.json,
            createdAt: now,
          },
        ]);
        const packet: RedPacket = {
          id,
          senderId: sender.id,
          coin: input.coin,
          type: input.type,
          amount: input.amount,
          size: input.size,
          remark,
          cType: input.cType,
          toId: input.toId,
          conversationId: conv.id,
          messageId: stored.message.id,
          createdAt: now,
          expiresAt: now + this.opts.packetTtlMs,
          settledAt: null,
        };
        // the balance is checked again here, under the row lock (a conditional update)
        if (!(await tx.wallet.createPacket(packet, shares, randomUUID())))
          throw invalid("insufficient_balance", "balance too low for this packet");
        return { message: stored.message, packet };
      },
      { isolation: "row-locks" },
    );
    const { view } = await this.messages.announce(conv, message, sender);
    return { packet, packetUrl, message: view };
  }

  /** The packet `id` (any syntax: anything unknown is `packet_not_found`, chat33 -4006). */
  async packet(id: string): Promise<RedPacket> {
    const p = UUID_RE.test(id) ? await this.storage.wallet.packet(id) : null;
    if (!p) throw notFound("packet_not_found", "no such red packet");
    return p;
  }

  /** May `user` claim (and see the claims of) `p`: a member of its conversation; a friend packet's recipient only. */
  private async mayClaim(user: User, p: RedPacket): Promise<{ ok: boolean; conv: Conversation | null }> {
    const conv = await this.messages.conversationById(p.conversationId);
    if (!conv || !(await this.messages.mayRead(user.id, conv))) return { ok: false, conv };
    if (p.cType === 0 && user.id === p.senderId) return { ok: false, conv };
    return { ok: true, conv };
  }

  private refuseClaim(p: RedPacket, now: number, err: unknown): never {
    if (err instanceof AppError && err.reason === "packet_claimed") throw err;
    if (now >= p.expiresAt) throw conflict("packet_expired", "the red packet has expired");
    throw err;
  }

  /** A logged-in member claims one share (`/red-packet/receive-entry`); notifies with a msgType 6 notice. */
  async claim(user: User, packetId: string): Promise<ClaimResult> {
    const p = await this.packet(packetId);
    const { ok, conv } = await this.mayClaim(user, p);
    if (!ok) throw forbidden("packet_no_permission", "only members of the packet's conversation may claim it");
    if (await this.storage.wallet.claimOf(p.id, user.id)) throw conflict("packet_claimed", "already claimed");
    const now = Date.now();
    if (now >= p.expiresAt) throw conflict("packet_expired", "the red packet has expired");
    let got: Awaited<ReturnType<RedPacketService["storage"]["wallet"]["claim"]>>;
    try {
      got = await this.storage.wallet.claim(p.id, user.id, now, randomUUID());
    } catch (e) {
      this.refuseClaim(p, now, e);
    }
    if (!got) this.refuseClaim(p, now, conflict("packet_finished", "every share has been taken"));
    if (conv) await this.notice(p, conv, user, user);
    return { packet: p, share: got.share, remain: got.remain };
  }

  /**
   * The msgType 6 notice "X 领取了 Y 的红包" in the packet's conversation, posted as `poster` (the
   * claimer when a member claimed; the packet's sender for a claim through a guest link). Best
   * effort: the money moved already; a failure is logged.
   */
  private async notice(p: RedPacket, conv: Conversation, poster: User, claimer: User): Promise<void> {
    try {
      const sender = await this.users.get(p.senderId);
      const content = contentOrThrow("notice", {
        content: `${claimer.nickname || claimer.uid}领取了${sender?.nickname || "你"}的红包`,
        packetId: p.id,
      });
      const target = conv.kind === "direct" ? this.messages.targetIdOf(conv, poster.id) : p.toId;
      await this.messages.send(
        conv.kind,
        poster,
        target,
        { clientMsgId: `rpc:${p.id}:${claimer.id}`, content },
        { systemKinds: true, internal: true },
      );
    } catch (err) {
      this.log.warn({ err, packetId: p.id }, "red-packet claim notice not posted");
    }
  }

  private async guestLimit(address: string): Promise<void> {
    if (!(await this.limiter.hit(`wallet:guest:${address}`, this.opts.guestPerMinute, 60_000)).ok)
      throw new AppError("rate_limited", "packet_rate_limited", "too many requests; wait a minute");
  }

  /**
   * A guest (whoever holds the packet's link) reserves a share for `guestHoldMs` (`/red-packet/receive`):
   * the mark that `entry` takes. The same guest asking again gets its live mark back.
   */
  async reserve(packetId: string, guestId: string, address: string): Promise<ClaimResult> {
    await this.guestLimit(address);
    const p = await this.packet(packetId);
    const now = Date.now();
    if (now >= p.expiresAt) throw conflict("packet_expired", "the red packet has expired");
    const existing = await this.storage.wallet.holdOf(p.id, guestId, now);
    if (existing) return { packet: p, share: existing, remain: await this.remainOf(p.id, now) };
    const got = await this.storage.wallet.hold(p.id, guestId, randomUUID(), now, now + this.opts.guestHoldMs);
    if (!got) this.refuseClaim(p, now, conflict("packet_finished", "every share has been taken"));
    return { packet: p, share: got.share, remain: got.remain };
  }

  private async remainOf(packetId: string, now: number): Promise<number> {
    const shares = await this.storage.wallet.shares(packetId);
    return shares.filter((s) => s.state === "open" || (s.state === "held" && (s.heldUntil ?? 0) <= now)).length;
  }

  private async marked(mark: string): Promise<{ share: Share; packet: RedPacket }> {
    const share = UUID_RE.test(mark) ? await this.storage.wallet.shareByMark(mark) : null;
    if (!share) throw invalid("packet_bad_mark", "this mark names no reserved share");
    return { share, packet: await this.packet(share.packetId) };
  }

  /**
   * Attaches a reserved share to a mobile (`/red-packet/entry`): a registered user is credited at
   * once (`recvType 1`); an unknown mobile waits for `register-entry` (`recvType 2`).
   */
  async enter(
    mark: string,
    mobile: string,
    address: string,
  ): Promise<{ packet: RedPacket; share: Share; recvType: 1 | 2; user: User | null }> {
    await this.guestLimit(address);
    if (!MOBILE_RE.test(mobile)) throw invalid("bad_mobile", "mobile must be 11 digits starting with 1");
    const { share, packet } = await this.marked(mark);
    const now = Date.now();
    const user = await this.accounts.findUserByMobile(mobile);
    if (user) {
      const credited = await this.creditMarked(packet, mark, user, mobile, now);
      return { packet, share: credited, recvType: 1, user };
    }
    if (share.state === "pending" && share.mobile === mobile)
      throw notFound("packet_user_unregistered", "the share waits for this mobile: register with register-entry");
    if (!(await this.storage.wallet.pend(mark, mobile, now, now + this.opts.pendingHoldMs)))
      throw invalid("packet_bad_mark", "this mark names no reserved share (its hold may be over)");
    return { packet, share: { ...share, state: "pending", mobile }, recvType: 2, user: null };
  }

  private async creditMarked(packet: RedPacket, mark: string, user: User, mobile: string, now: number): Promise<Share> {
    let credited: Share | null;
    try {
      credited = await this.storage.wallet.claimMarked(mark, user.id, mobile, now, randomUUID());
    } catch (e) {
      this.refuseClaim(packet, now, e);
    }
    if (!credited) throw invalid("packet_bad_mark", "this mark names no reserved share (its hold may be over)");
    const conv = await this.messages.conversationById(packet.conversationId);
    const sender = await this.users.get(packet.senderId);
    if (conv && sender) await this.notice(packet, conv, sender, user);
    return credited;
  }

  /**
   * Registers the mobile a share waits for, with its SMS code, and credits the share
   * (`/red-packet/register-entry`).
   */
  async registerEntry(
    mark: string,
    mobile: string,
    password: string,
    captcha: string,
    address: string,
  ): Promise<{ packet: RedPacket; share: Share; user: User }> {
    await this.guestLimit(address);
    if (!MOBILE_RE.test(mobile)) throw invalid("bad_mobile", "mobile must be 11 digits starting with 1");
    const { share, packet } = await this.marked(mark);
    if (share.state !== "pending" || share.mobile !== mobile)
      throw invalid("packet_bad_mark", "this mark waits for no share of this mobile");
    if (await this.accounts.findUserByMobile(mobile))
      throw conflict("packet_user_registered", "this mobile is registered: use /red-packet/entry");
    // before the code is spent: a bad password must not burn it
    validatePassword(password);
    await this.sms.verify(mobile, captcha);
    let user: User;
    try {
      user = await this.accounts.createUser({ mobile, password });
    } catch (e) {
      if (e instanceof AppError && e.reason === "user_exists")
        throw conflict("packet_user_registered", "this mobile is registered: use /red-packet/entry");
      throw e;
    }
    const credited = await this.creditMarked(packet, mark, user, mobile, Date.now());
    return { packet, share: credited, user };
  }

  /** The packet as `/red-packet/detail` shows it; claims only to those who may claim it (and its sender). */
  async detail(viewer: User | null, packetId: string): Promise<PacketDetail> {
    const p = await this.packet(packetId);
    const shares = await this.storage.wallet.shares(p.id);
    const now = Date.now();
    const free = shares.filter((s) => s.state === "open" || (s.state === "held" && (s.heldUntil ?? 0) <= now));
    const claimed = shares.filter((s) => s.state === "claimed").sort((a, b) => (a.claimedAt ?? 0) - (b.claimedAt ?? 0));
    let seesClaims = false;
    if (viewer) seesClaims = viewer.id === p.senderId || (await this.mayClaim(viewer, p)).ok;
    const users = seesClaims ? await this.users.getMany(claimed.map((s) => s.claimerId ?? 0)) : new Map();
    const live = now < p.expiresAt;
    return {
      packet: p,
      sender: await this.users.get(p.senderId),
      remain: live ? free.length : 0,
      remainUnits: live ? free.reduce((s, x) => s + x.amount, 0) : 0,
      status: claimed.length === p.size ? 2 : live ? 1 : 3,
      claims: seesClaims ? claimed.map((share) => ({ share, user: users.get(share.claimerId ?? 0) ?? null })) : null,
      mine: viewer ? (claimed.find((s) => s.claimerId === viewer.id) ?? null) : null,
    };
  }

  /**
   * `date` (`2018-08` or `2018`) → [from, to) in ms, in the records' time zone
   * (`wallet.recordsUtcOffsetMinutes`); `bad_date` otherwise.
   */
  period(date: string): { from: number; to: number } {
    const m = /^(\d{4})(?:-(\d{2}))?$/.exec(date);
    const year = m ? Number(m[1]) : 0;
    const month = m?.[2] ? Number(m[2]) : null;
    if (!m || year < 1970 || year > 9999 || (month !== null && (month < 1 || month > 12)))
      throw invalid("bad_date", "date must be YYYY-MM or YYYY");
    const offset = this.opts.recordsUtcOffsetMinutes * 60_000;
    const from = month === null ? Date.UTC(year, 0, 1) : Date.UTC(year, month - 1, 1);
    const to = month === null ? Date.UTC(year + 1, 0, 1) : Date.UTC(year, month, 1);
    return { from: from - offset, to: to - offset };
  }

  async received(user: User, coin: number, date: string) {
    this.wallet.coin(coin);
    const { from, to } = this.period(date);
    const r = await this.storage.wallet.received(user.id, coin, from, to, RECORDS_MAX);
    const senders = await this.users.getMany(r.list.map((x) => x.packet.senderId));
    return { ...r, list: r.list.map((x) => ({ ...x, sender: senders.get(x.packet.senderId) ?? null })) };
  }

  async sent(user: User, coin: number, date: string) {
    this.wallet.coin(coin);
    const { from, to } = this.period(date);
    return this.storage.wallet.sent(user.id, coin, from, to, RECORDS_MAX);
  }
}
