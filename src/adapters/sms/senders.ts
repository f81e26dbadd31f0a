import type { Logger } from "pino";
import type { SmsSender } from "../../ports/sms.ts";
import type { SmsRepo } from "../../ports/storage.ts";

/** Development sender: writes the code to the server log and to the outbox the admin API lists. */
export class LogSmsSender implements SmsSender {
  readonly name = "log";
  constructor(
    private readonly repo: SmsRepo,
    private readonly log: Logger,
  ) {}
  async send(mobile: string, code: string): Promise<void> {
    this.log.info({ mobile, code }, "SMS code (log sender)");
    await this.repo.outboxAdd({ mobile, code, sentAt: Date.now() });
  }
}

/** POSTs `{mobile, code, text}` as JSON to a gateway of the operator's choice; non-2xx is a failure. */
export class HttpSmsSender implements SmsSender {
  readonly name = "http";
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5000,
  ) {}
  async send(mobile: string, code: string): Promise<void> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mobile, code, text: `验证码 ${code}，5 分钟内有效。` }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`SMS gateway answered HTTP ${res.status}`);
  }
}
