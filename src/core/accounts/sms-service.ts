import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import type { RateLimiter } from "../../ports/rate-limit.ts";
import type { SmsSender } from "../../ports/sms.ts";
import type { SmsRepo } from "../../ports/storage.ts";
import { AppError, invalid } from "../errors.ts";

export interface SmsOptions {
  codeTtlMs: number;
  resendMs: number;
  dailyCap: number;
  maxAttempts: number;
  perIpPerHour: number;
}

const hash = (mobile: string, code: string) => createHash("sha256").update(`${mobile}:${code}`).digest("hex");

/**
 * SMS verification codes: 6 digits, stored hashed, valid `codeTtlMs`, one send per mobile per
 * `resendMs`, `dailyCap` per mobile per day, `perIpPerHour` per client IP, at most `maxAttempts`
 * wrong tries (then the code is burnt: -4008), single use.
 */
export class SmsService {
  constructor(
    private readonly repo: SmsRepo,
    private readonly sender: SmsSender,
    private readonly limiter: RateLimiter,
    private readonly opts: SmsOptions,
  ) {}

  /** The `log` sender's outbox, newest first (admin API; all mobiles when null). */
  outbox(mobile: string | null, limit: number): Promise<Array<{ mobile: string; code: string; sentAt: number }>> {
    return this.repo.outboxList(mobile, limit);
  }

  async send(mobile: string, ip: string): Promise<void> {
    const now = Date.now();
    const last = await this.repo.latest(mobile);
    if (last && now - last.createdAt < this.opts.resendMs)
      throw new AppError("rate_limited", "sms_too_soon", "a code was sent less than a minute ago");
    if ((await this.repo.countSince(mobile, now - 24 * 3600 * 1000)) >= this.opts.dailyCap)
      throw new AppError("rate_limited", "sms_daily_cap", "daily SMS limit reached for this number");
    if (!(await this.limiter.hit(`sms:ip:${ip}`, this.opts.perIpPerHour, 3600 * 1000)).ok)
      throw new AppError("rate_limited", "sms_ip_limit", "too many SMS requests from this address");
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    const stored = await this.repo.insert({
      mobile,
      codeHash: hash(mobile, code),
      createdAt: now,
      expiresAt: now + this.opts.codeTtlMs,
      attempts: 0,
      usedAt: null,
    });
    try {
      await this.sender.send(mobile, code);
    } catch (e) {
      // Never delivered: the code must not block a retry (resend interval) nor use up the daily cap.
      await this.repo.remove(stored.id);
      throw new AppError("unavailable", "sms_failed", `SMS provider failed: ${(e as Error).message}`);
    }
  }

  /** Consumes the newest code for `mobile` when `code` matches; otherwise -4007 / -4008. */
  async verify(mobile: string, code: string): Promise<void> {
    const now = Date.now();
    const c = await this.repo.latest(mobile);
    if (!c || c.usedAt !== null || c.expiresAt <= now || c.attempts >= this.opts.maxAttempts)
      throw invalid("captcha_expired", "code expired or already used");
    const given = Buffer.from(hash(mobile, String(code)), "hex");
    if (!timingSafeEqual(given, Buffer.from(c.codeHash, "hex"))) {
      const attempts = await this.repo.addAttempt(c.id);
      if (attempts >= this.opts.maxAttempts)
        throw invalid("captcha_expired", "too many wrong codes; request a new one");
      throw invalid("captcha_wrong", "wrong code");
    }
    if (!(await this.repo.markUsed(c.id, now))) throw invalid("captcha_expired", "code already used");
  }
}
