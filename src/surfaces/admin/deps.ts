import type { NodeCounters } from "../../http/metrics.ts";
import type { SurfaceDeps } from "../deps.ts";

/** The services the admin surface uses, and this node's running counters (the dashboard). */
export type AdminDeps = SurfaceDeps<
  | "config"
  | "admin"
  | "adminSessions"
  | "accounts"
  | "sms"
  | "org"
  | "wallet"
  | "realtime"
  | "im"
  | "groups"
  | "chatrooms"
  | "messages"
  | "gateway"
  | "redPackets"
> & { counters: NodeCounters };
