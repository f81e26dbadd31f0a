import type { Config } from "../config/schema.ts";
import type { AccountService } from "../core/accounts/account-service.ts";
import type { QrService } from "../core/accounts/qr-service.ts";
import type { SmsService } from "../core/accounts/sms-service.ts";
import type { AdminSessions } from "../core/admin/admin-sessions.ts";
import type { AdminAuth } from "../core/admin/admin-token.ts";
import type { ChatroomService } from "../core/chatrooms/chatroom-service.ts";
import type { FileService } from "../core/files/file-service.ts";
import type { FriendService } from "../core/friends/friend-service.ts";
import type { GatewayService } from "../core/gateway/gateway-service.ts";
import type { GroupService } from "../core/groups/group-service.ts";
import type { ImService } from "../core/im/im-service.ts";
import type { MessageService } from "../core/messages/message-service.ts";
import type { OrgService } from "../core/org/org-service.ts";
import type { RedPacketService } from "../core/wallet/red-packet-service.ts";
import type { WalletService } from "../core/wallet/wallet-service.ts";
import type { RateLimiter } from "../ports/rate-limit.ts";
import type { Realtime } from "../realtime/realtime.ts";

/**
 * Every core service (and the shared infrastructure surfaces use), built once by
 * `src/compose/services.ts`. No storage here: surfaces read and write through core services.
 */
export interface Services {
  config: Readonly<Config>;
  realtime: Realtime;
  accounts: AccountService;
  sms: SmsService;
  qr: QrService;
  org: OrgService;
  friends: FriendService;
  messages: MessageService;
  chatrooms: ChatroomService;
  groups: GroupService;
  files: FileService;
  gateway: GatewayService;
  limiter: RateLimiter;
  admin: AdminAuth;
  wallet: WalletService;
  redPackets: RedPacketService;
  /** The cluster-admin core (seed 003). */
  im: ImService;
  /** Admin users' sign-ins to the admin API (docs/admin.md). */
  adminSessions: AdminSessions;
}

/**
 * What a surface plugin receives from the composition root: its mount and the services it
 * declares (`SurfaceDeps<"accounts" | "messages">`), never storage and never another surface.
 */
export type SurfaceDeps<K extends keyof Services = keyof Services> = {
  /** Path prefix of the surface (not `prefix`: Fastify would apply that itself). */
  mount: string;
} & Pick<Services, K>;
