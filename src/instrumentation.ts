import type { AccountService } from "./core/accounts/account-service.ts";
import type { MessageService } from "./core/messages/message-service.ts";
import type { MetricsRecorder } from "./http/metrics.ts";
import type { Hub } from "./ports/hub.ts";
import type { SmsSender } from "./ports/sms.ts";

/**
 * Business metrics without prom-client in the core: decorators around ports and services, applied
 * in the composition root (main.ts), report to a `MetricsRecorder` (src/http/metrics.ts). Each
 * wraps only the methods it measures and passes everything else through unchanged.
 */

/** A recorder that forwards to the real one once it exists (storage and the hub start first). */
export function lateRecorder(): { record: MetricsRecorder; attach(target: MetricsRecorder): void } {
  let t: MetricsRecorder | null = null;
  const record: MetricsRecorder = {
    messageStored: (surface, kind) => t?.messageStored(surface, kind),
    login: (ok) => t?.login(ok),
    smsSent: (provider, ok) => t?.smsSent(provider, ok),
    storageQuery: (op, ms, failed) => t?.storageQuery(op, ms, failed),
    hubPublished: () => t?.hubPublished(),
    hubReceived: () => t?.hubReceived(),
    hubError: (op) => t?.hubError(op),
  };
  return {
    record,
    attach(target) {
      t = target;
    },
  };
}

/** Counts publishes, received events and failed publish/subscribe/request calls of a hub. */
export function meterHub<H extends Hub>(hub: H, record: MetricsRecorder): H {
  const failed =
    <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) =>
    (...a: A): Promise<R> =>
      fn.apply(hub, a).catch((e: unknown) => {
        record.hubError(op);
        throw e;
      });
  const publish = failed("publish", hub.publish);
  const overrides: Partial<Hub> = {
    publish: (topic, payload) => {
      record.hubPublished();
      return publish(topic, payload);
    },
    subscribe: failed("subscribe", hub.subscribe),
    request: failed("request", hub.request),
    onMessage: (handler) =>
      hub.onMessage((topic, payload) => {
        record.hubReceived();
        handler(topic, payload);
      }),
  };
  return new Proxy(hub, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof Hub];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Counts codes handed to the provider, by outcome. */
export function meterSmsSender(sender: SmsSender, record: MetricsRecorder): SmsSender {
  return {
    name: sender.name,
    async send(mobile, code) {
      try {
        await sender.send(mobile, code);
        record.smsSent(sender.name, true);
      } catch (e) {
        record.smsSent(sender.name, false);
        throw e;
      }
    },
  };
}

/** Counts password logins: ok, or failed for any reason (wrong password, limits, disabled). */
export function meterLogins(accounts: AccountService, record: MetricsRecorder): void {
  const passwordLogin = accounts.passwordLogin.bind(accounts);
  accounts.passwordLogin = async (...args) => {
    try {
      const result = await passwordLogin(...args);
      record.login(true);
      return result;
    } catch (e) {
      record.login(false);
      throw e;
    }
  };
}

/** The message service as one surface sees it: new messages (not retries) counted per kind. */
export function meterMessages(messages: MessageService, surface: string, record: MetricsRecorder): MessageService {
  const sendDirect: MessageService["sendDirect"] = async (...args) => {
    const sent = await messages.sendDirect(...args);
    if (!sent.duplicate) record.messageStored(surface, sent.view.kind);
    return sent;
  };
  return new Proxy(messages, {
    get(target, prop, receiver) {
      if (prop === "sendDirect") return sendDirect;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
