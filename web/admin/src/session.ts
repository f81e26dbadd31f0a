import { AdminApi, ApiError, type User } from "./api.ts";

/**
 * The signed-in operator. The credential — the admin token, or an admin user's session token
 * from `POST /admin/api/session` — is kept **in memory only** (this module's variable): not in
 * localStorage or sessionStorage, not in a cookie, not in the URL. The console shares its origin
 * with the chat client at /app/, which renders other people's content; anything in web storage
 * would be readable by any script of this origin in that tab, and the admin token opens the
 * whole deployment. The price is signing in again after a reload (docs/admin-console.md).
 */
export interface Session {
  api: AdminApi;
  kind: "token" | "session";
  user: User | null;
  expiresAt: number;
}

let current: Session | null = null;
const subs = new Set<() => void>();
const changed = () => {
  for (const f of subs) f();
};

export const session = () => current;
export function onSession(f: () => void): () => void {
  subs.add(f);
  return () => void subs.delete(f);
}

function signOutLocal(): void {
  current = null;
  changed();
}

function makeApi(token: string): AdminApi {
  return new AdminApi({ token, onUnauthorized: () => signOutLocal() });
}

/** Checks the admin token against the server (a read every admin can do), then keeps it. */
export async function signInWithToken(token: string): Promise<void> {
  const api = new AdminApi({ token });
  try {
    const who = await api.admin<{ kind: "token" | "session"; user?: User; expiresAt?: number }>("GET", "/session");
    current = {
      api: makeApi(token),
      kind: who.kind === "session" ? "session" : "token",
      user: who.user ?? null,
      expiresAt: who.expiresAt ?? 0,
    };
  } catch (e) {
    // a server without the session routes yet: any admin read proves the token
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    await api.admin("GET", "/users", { size: 1 });
    current = { api: makeApi(token), kind: "token", user: null, expiresAt: 0 };
  }
  changed();
}

/** Signs in as an admin user (username or mobile + password): a revocable session token. */
export async function signInAsUser(account: string, password: string): Promise<void> {
  const res = await fetch("/admin/api/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ account, password }),
    credentials: "omit",
  });
  const json = (await res.json().catch(() => ({}))) as {
    code?: number;
    msg?: string;
    data?: { token: string; expiresAt: number; user: User };
  };
  if (res.status === 404)
    throw new ApiError(404, 404, "this server has no admin-user sign-in yet", "/admin/api/session");
  if (json.code !== 0 || !json.data)
    throw new ApiError(res.status, json.code ?? res.status, json.msg ?? `HTTP ${res.status}`, "/admin/api/session");
  current = { api: makeApi(json.data.token), kind: "session", user: json.data.user, expiresAt: json.data.expiresAt };
  changed();
}

/** Ends an admin-user session on the server (revoked for good), then forgets the credential. */
export async function signOut(): Promise<void> {
  const s = current;
  if (s?.kind === "session") await s.api.admin("DELETE", "/session").catch(() => {});
  signOutLocal();
}
