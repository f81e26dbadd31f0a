import type { SurfaceDeps } from "../deps.ts";

/** The services the admin surface uses. */
export type AdminDeps = SurfaceDeps<"admin" | "adminSessions" | "accounts" | "sms" | "org" | "wallet">;
