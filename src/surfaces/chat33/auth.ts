import type { IncomingHttpHeaders } from "node:http";
import type { AccountService, Authenticated } from "../../core/accounts/account-service.ts";
import { chat33Device, type DeviceType } from "../../core/accounts/devices.ts";
import { AppError, forbidden, invalid } from "../../core/errors.ts";

/**
 * How chat33 clients identify themselves (document "约定"):
 * - `FZM-AUTH-TOKEN`: the session token (from `/user/pwdLogin` or `/user/register`), or the
 *   `FZM-AUTH-TOKEN` cookie that `/user/tokenLogin` sets (browsers, and the WebSocket upgrade);
 * - `FZM-DEVICE`: Web / Android / iOS / PC, case-insensitive; anything else is -1006;
 * - `FZM-UUID`: a guest's device id (guests have no account).
 *
 * Works on raw Node headers so the WebSocket upgrade can use the same rules as HTTP.
 */

/** Name of the cookie set by `/user/tokenLogin` (the same name as the header). */
export const TOKEN_COOKIE = "FZM-AUTH-TOKEN";

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : s.trim();
}

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function readCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface Credentials {
  token: string | undefined;
  /** Where the token came from; a cookie is only accepted together with an `FZM-DEVICE` header. */
  tokenSource: "header" | "cookie" | null;
  /** The raw `FZM-DEVICE` header, if any. */
  device: string | undefined;
  /** The raw `FZM-UUID` header of a guest, if any. */
  uuid: string | undefined;
}

export function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const fromHeader = headerValue(headers, "fzm-auth-token") || undefined;
  const fromCookie = fromHeader ? undefined : readCookie(headerValue(headers, "cookie"), TOKEN_COOKIE);
  return {
    token: fromHeader ?? fromCookie,
    tokenSource: fromHeader ? "header" : fromCookie ? "cookie" : null,
    device: headerValue(headers, "fzm-device"),
    uuid: headerValue(headers, "fzm-uuid") || undefined,
  };
}

/** The canonical device type of `FZM-DEVICE`; missing or unknown → -1006. */
export function requireDevice(raw: string | undefined): DeviceType {
  const device = chat33Device(raw);
  if (!device) throw invalid("bad_device", "FZM-DEVICE must be Web, Android, iOS or PC");
  return device;
}

export interface UserContext extends Authenticated {
  /** The token the request authenticated with (tokenLogin echoes it into the cookie). */
  token: string;
  device: DeviceType;
}

/**
 * A logged-in user: valid `FZM-DEVICE` (-1006), then a token from the header or the cookie
 * (none → -1003; unknown/expired/revoked → -1004; replaced by a newer login → -1007).
 * Requiring the custom `FZM-DEVICE` header also when the cookie carries the token means a
 * cross-site form cannot ride on the cookie (a custom header needs a CORS preflight).
 */
export async function requireUser(accounts: AccountService, headers: IncomingHttpHeaders): Promise<UserContext> {
  const cred = readCredentials(headers);
  const device = requireDevice(cred.device);
  if (!cred.token) throw new AppError("unauthenticated", "missing_token", "FZM-AUTH-TOKEN required");
  const auth = await accounts.authenticate(cred.token);
  return { ...auth, token: cred.token, device };
}

/** Like `requireUser`, and the user must be an admin user (`-3000` otherwise). */
export async function requireAdminUser(accounts: AccountService, headers: IncomingHttpHeaders): Promise<UserContext> {
  const ctx = await requireUser(accounts, headers);
  if (!ctx.user.isAdmin) throw forbidden("not_admin", "admin users only");
  return ctx;
}

/** `Set-Cookie` value carrying the session token (HttpOnly, SameSite=Lax, Path=/). */
export function tokenCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  const parts = [
    `${TOKEN_COOKIE}=${encodeURIComponent(token)}`,
    "Path=/",
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    "HttpOnly",
    "SameSite=Lax",
  ];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
