import type { Logger } from "pino";
import { HttpSmsSender, LogSmsSender } from "../adapters/sms/senders.ts";
import { type Config, sendRatePerUser } from "../config/schema.ts";
import { AccountService, accountsOptions } from "../core/accounts/account-service.ts";
import { QrService } from "../core/accounts/qr-service.ts";
import { SmsService } from "../core/accounts/sms-service.ts";
import { UserCache } from "../core/accounts/user-cache.ts";
import { AdminSessions } from "../core/admin/admin-sessions.ts";
import type { AdminAuth } from "../core/admin/admin-token.ts";
import { ChatroomAudience } from "../core/chatrooms/audience.ts";
import { ChatroomService } from "../core/chatrooms/chatroom-service.ts";
import type { CoreEvents } from "../core/events.ts";
import { FileService } from "../core/files/file-service.ts";
import { FriendService } from "../core/friends/friend-service.ts";
import { GatewayService } from "../core/gateway/gateway-service.ts";
import { GroupService } from "../core/groups/group-service.ts";
import { ImService } from "../core/im/im-service.ts";
import { MessageService } from "../core/messages/message-service.ts";
import { OrgService } from "../core/org/org-service.ts";
import { RedPacketService } from "../core/wallet/red-packet-service.ts";
import { parseCoins, WalletService } from "../core/wallet/wallet-service.ts";
import type { MetricsRecorder } from "../http/metrics.ts";
import { meterSmsSender } from "../instrumentation.ts";
import type { ChatroomRepo } from "../ports/chatrooms.ts";
import type { FileStore } from "../ports/file-store.ts";
import type { Hub, Presence } from "../ports/hub.ts";
import type { RateLimiter } from "../ports/rate-limit.ts";
import type { AdminSessionRepo } from "../ports/storage/admin-sessions.ts";
import type { ImRepo } from "../ports/storage/im.ts";
import type { Storage } from "../ports/storage.ts";
import type { Realtime } from "../realtime/realtime.ts";
import type { Services } from "../surfaces/deps.ts";

/**
 * What every core service is built from. Each service gets only the repositories it uses; core
 * services publish through `events` (the events port), never to the realtime layer directly.
 */
export interface CoreInputs {
  config: Readonly<Config>;
  storage: Storage;
  events: CoreEvents;
  limiter: RateLimiter;
  log: Logger;
  /** Business metrics (src/instrumentation.ts): the server meters the SMS sender; the CLI does not. */
  record?: MetricsRecorder;
}

/**
 * Accounts and the organisation directory: what the server and the one-shot CLI commands share.
 * `smsSender: "log"` forces the `log` sender (the CLI never sends real SMS).
 */
export function accountServices(
  inputs: CoreInputs,
  opts: { smsSender?: "config" | "log" } = {},
): Pick<Services, "sms" | "accounts" | "org"> & { userCache: UserCache } {
  const { config, storage, events, limiter, log, record } = inputs;
  const chosen =
    config.sms.provider === "http" && opts.smsSender !== "log"
      ? new HttpSmsSender(config.sms.httpUrl)
      : new LogSmsSender(storage.sms, log.child({ component: "sms" }));
  const smsSender = record ? meterSmsSender(chosen, record) : chosen;
  const sms = new SmsService(storage.sms, smsSender, limiter, config.sms);
  const userCache = new UserCache(storage.users);
  const accounts = new AccountService(
    storage,
    events,
    limiter,
    sms,
    accountsOptions(config.accounts),
    log.child({ component: "accounts" }),
    userCache,
  );
  return { sms, userCache, accounts, org: new OrgService(storage) };
}

/**
 * Every core service of a node (the list in one place: `Services`). `realtime` is the node's
 * socket layer: the gateway's connection operations (ConnectionOps) and what the surfaces' socket
 * routes attach to.
 */
export function buildServices(
  inputs: CoreInputs & {
    realtime: Realtime;
    hub: Hub;
    presence: Presence;
    clusterSecret: Buffer;
    admin: AdminAuth;
    /** The chat-room repository (src/ports/chatrooms.ts), built by the composition root. */
    chatroomRepo: ChatroomRepo;
    /** The cluster-admin repository (src/ports/storage/im.ts), built by the composition root. */
    imRepo: ImRepo;
    /** Where uploads are kept (`files.store`, src/adapters/files/create-file-store.ts). */
    fileStore: FileStore;
    /** The admin-session repository (src/ports/storage/admin-sessions.ts), built by the composition root. */
    adminSessionRepo: AdminSessionRepo;
  },
): Services {
  const { config, storage, events, realtime, hub, limiter, log, presence, clusterSecret, admin } = inputs;
  const gateway = new GatewayService(
    storage,
    events,
    realtime,
    presence,
    clusterSecret,
    log.child({ surface: "gateway" }),
    config.gateway.groupNotices,
  );
  const { sms, userCache, accounts, org } = accountServices(inputs);
  const qr = new QrService(storage, events, config.qr.ttlMs);
  // main.ts starts it (subscribes to other nodes' friendship and block changes)
  const friends = new FriendService(storage, events, log.child({ component: "friends" }), {
    cacheTtlMs: config.friends.cacheTtlMs,
    hub,
  });
  const messages = new MessageService(
    storage,
    events,
    friends,
    {
      recallWindowMs: config.messages.recallWindowMs,
      maxBatch: config.messages.maxBatch,
      // SQLite has one writer; lanes only help PostgreSQL (see BatchWriter)
      writeLanes: config.databaseUrl ? config.messages.writeLanes : 1,
      sendRatePerUser: sendRatePerUser(config),
    },
    log.child({ component: "messages" }),
    userCache,
    limiter,
  );
  // Chat rooms: the `chatroom` policy joins the message pipeline; the audience is hub presence.
  const chatrooms = new ChatroomService(
    inputs.chatroomRepo,
    storage.messages,
    messages,
    new ChatroomAudience(presence, log.child({ component: "chatrooms" })),
    events,
    userCache,
    config.chatrooms,
    log.child({ component: "chatrooms" }),
    hub,
  );
  // a chat room's audience is written shard by shard (its 分组容量): src/realtime/fanout.ts
  realtime.setShardSizer((topic) => chatrooms.fanoutShardSize(topic));
  // main.ts starts it (subscribes to other nodes' group changes) and stops it at close
  const groups = new GroupService(
    storage,
    messages,
    events,
    hub,
    presence,
    userCache,
    config.groups,
    log.child({ component: "groups" }),
    limiter,
  );
  const files = new FileService(storage, inputs.fileStore, config.files, log.child({ component: "files" }));
  const wallet = new WalletService(storage, parseCoins(config.wallet.coins));
  const redPackets = new RedPacketService(
    storage,
    wallet,
    messages,
    accounts,
    sms,
    userCache,
    limiter,
    config.wallet,
    log.child({ component: "red-packets" }),
  );
  const im = new ImService(
    inputs.imRepo,
    storage.settings,
    events,
    hub,
    presence,
    userCache,
    groups,
    chatrooms,
    { tokenTtlMs: config.im.tokenTtlMs },
    log.child({ surface: "im" }),
  );
  // Admin users' sign-ins (docs/admin.md): their tokens pass AdminAuth.check like the admin token.
  const adminSessions = new AdminSessions(inputs.adminSessionRepo, accounts, log.child({ component: "admin" }));
  admin.useSessions(adminSessions);
  return {
    config,
    realtime,
    accounts,
    sms,
    qr,
    org,
    friends,
    messages,
    chatrooms,
    groups,
    files,
    gateway,
    limiter,
    admin,
    wallet,
    redPackets,
    im,
    adminSessions,
  };
}
