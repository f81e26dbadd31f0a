import type { SurfaceDeps } from "../deps.ts";

/** The services the chat33 surface uses (routes and the `/ws` socket). */
export type Chat33Deps = SurfaceDeps<
  | "config"
  | "realtime"
  | "accounts"
  | "sms"
  | "friends"
  | "messages"
  | "chatrooms"
  | "groups"
  | "limiter"
  | "admin"
  | "wallet"
  | "redPackets"
  | "files"
>;
