import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { adminApiCall, type AdminEnv as Env, ADMIN_TOKEN as TOKEN } from "./helpers/admin-api.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Admin sessions (docs/admin.md "Signing in as an admin user") and the user-session routes of the
 * admin API, over real HTTP on the configured storage (SQLite, or PostgreSQL + Redis in CI's
 * second run). The session token is accepted by /admin/api, /im and /console like the admin token,
 * ends on sign-out, revocation, disabling, demotion, a new password or "log out everywhere", and
 * never reaches the log.
 */

const PASSWORD = "Adm1n-pass-word";

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("admin sessions (/admin/api/session)", () => {
  let s: TestServer;
  let lines: string[] = [];

  const call = <T = unknown>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    body?: unknown,
    token: string | null = TOKEN,
  ) => adminApiCall<T>(`${s.base}${path}`, method, body, token);
  const signIn = (account: string, password: string) =>
    call<{ token: string; sessionId: string; expiresAt: number; user: { id: string; admin: boolean } }>(
      "POST",
      "/admin/api/session",
      { account, password },
      null,
    );
  /** Is this token accepted as the admin credential by each surface? */
  const acceptedBy = async (token: string) => ({
    admin: (await call("GET", "/admin/api/users?size=1", undefined, token)).status === 200,
    im: (await call("GET", "/im/config?action=list&option=user-statis", undefined, token)).body.code === 0,
    console: (await call("GET", "/console/customer/list", undefined, token)).status === 200,
  });
  const createUser = async (body: Record<string, unknown>) => {
    const r = await call<{ id: string }>("POST", "/admin/api/users", body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.id;
  };

  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    s = await startServer({ requestLog: true, logLevel: "info" }, { logger: pino({ level: "info" }, sink) });
    lines = [];
  });
  after(() => s.close());

  test("an admin user signs in; the token works on /admin/api, /im and /console; sign-out ends it", async () => {
    const id = await createUser({ username: "ops", mobile: "13700000101", password: PASSWORD, admin: true });
    const r = await signIn("ops", PASSWORD);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { token, sessionId, expiresAt, user } = r.body.data;
    assert.match(token, /^pas_[A-Za-z0-9_-]{43}$/);
    assert.match(sessionId, /^[0-9a-f]{24}$/);
    assert.equal(user.id, id);
    assert.equal(user.admin, true);
    assert.ok(expiresAt > Date.now() + 11 * 3600_000 && expiresAt <= Date.now() + 12 * 3600_000 + 1000);
    assert.deepEqual(await acceptedBy(token), { admin: true, im: true, console: true });

    // the mobile is an account name too
    const byMobile = await signIn("13700000101", PASSWORD);
    assert.equal(byMobile.status, 200);

    const who = await call<{ kind: string; sessionId: string; user: { id: string } }>(
      "GET",
      "/admin/api/session",
      undefined,
      token,
    );
    assert.equal(who.body.data.kind, "session");
    assert.equal(who.body.data.sessionId, sessionId);
    assert.equal(who.body.data.user.id, id);
    assert.deepEqual((await call("GET", "/admin/api/session")).body.data, { kind: "token" });

    const list = await call<Array<{ id: string; userId: string; username: string; current: boolean }>>(
      "GET",
      "/admin/api/sessions",
      undefined,
      token,
    );
    const mine = list.body.data.find((x) => x.id === sessionId);
    assert.ok(mine);
    assert.equal(mine.current, true);
    assert.equal(mine.userId, id);
    assert.equal(mine.username, "ops");
    assert.equal(list.body.data.find((x) => x.id === byMobile.body.data.sessionId)?.current, false);
    assert.equal(JSON.stringify(list.body).includes(token), false, "the list never shows a token");

    const out = await call("DELETE", "/admin/api/session", undefined, token);
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.deepEqual(out.body.data, { id: sessionId, revoked: true });
    assert.deepEqual(await acceptedBy(token), { admin: false, im: false, console: false });
    const again = await call("GET", "/admin/api/users", undefined, token);
    assert.equal(again.status, 401);
    assert.equal(again.body.msg, "admin token required");
    // the other session is untouched
    assert.deepEqual(await acceptedBy(byMobile.body.data.token), { admin: true, im: true, console: true });

    // the admin token is not a session: nothing to sign out of
    const tokenOut = await call("DELETE", "/admin/api/session");
    assert.equal(tokenOut.status, 400);
    assert.match(tokenOut.body.msg, /not a session/);
  });

  test("refusals: wrong password and unknown account alike, a non-admin, a disabled admin, bad bodies", async () => {
    await createUser({ username: "plain", password: PASSWORD });
    const disabledId = await createUser({ username: "gone", password: PASSWORD, admin: true });
    await call("POST", "/admin/api/users/update", { id: disabledId, disabled: true });

    const wrong = await signIn("plain", "not-the-password");
    const unknown = await signIn("nobody-here", PASSWORD);
    for (const r of [wrong, unknown]) {
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.deepEqual(r.body, { code: 401, msg: "wrong account or password", data: null });
    }
    const plain = await signIn("plain", PASSWORD);
    assert.equal(plain.status, 403);
    assert.equal(plain.body.msg, "this user is not an administrator");
    const disabled = await signIn("gone", PASSWORD);
    assert.equal(disabled.status, 403);
    assert.equal(disabled.body.msg, "account disabled");

    const missing = await call("POST", "/admin/api/session", { account: "ops" }, null);
    assert.equal(missing.status, 400);
    assert.match(missing.body.msg, /password/);
    const extra = await call("POST", "/admin/api/session", { account: "ops", password: "x", admin: true }, null);
    assert.equal(extra.status, 400);
    const long = await call("POST", "/admin/api/session", { account: "a".repeat(65), password: "x" }, null);
    assert.equal(long.status, 400);

    // other admin routes still need a credential; a forged session token is refused
    assert.equal((await call("GET", "/admin/api/sessions", undefined, null)).status, 401);
    assert.equal((await call("GET", "/admin/api/session", undefined, `pas_${"A".repeat(43)}`)).status, 401);
    assert.equal((await call("DELETE", "/admin/api/session", undefined, null)).status, 401);
  });

  test("a session ends when revoked by id, when its user loses admin, is disabled, gets a new password or is logged out", async () => {
    const id = await createUser({ username: "ops2", password: PASSWORD, admin: true });
    const open = async () => {
      const r = await signIn("ops2", PASSWORD);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.data;
    };
    const gone = (token: string) =>
      until(
        "the session to be refused",
        async () => (await call("GET", "/admin/api/users", undefined, token)).status === 401,
      );

    const a = await open();
    const b = await open();
    const rev = await call("POST", "/admin/api/sessions/revoke", { id: a.sessionId }, b.token);
    assert.equal(rev.status, 200, JSON.stringify(rev.body));
    await gone(a.token);
    const twice = await call("POST", "/admin/api/sessions/revoke", { id: a.sessionId });
    assert.equal(twice.status, 404);
    assert.equal((await call("POST", "/admin/api/sessions/revoke", { id: "xyz" })).status, 400);

    // demoted: the session stops being an admin credential
    await call("POST", "/admin/api/users/update", { id, admin: false });
    await gone(b.token);
    await call("POST", "/admin/api/users/update", { id, admin: true });

    const c = await open();
    await call("POST", "/admin/api/users/update", { id, password: `${PASSWORD}-2` });
    await gone(c.token);
    assert.equal((await signIn("ops2", PASSWORD)).status, 401);

    const d = (await signIn("ops2", `${PASSWORD}-2`)).body.data;
    const all = await call<{ revoked: number; adminSessions: number }>("POST", "/admin/api/users/revoke-sessions", {
      id,
    });
    assert.equal(all.body.data.adminSessions, 1);
    await gone(d.token);

    const e = (await signIn("ops2", `${PASSWORD}-2`)).body.data;
    await call("POST", "/admin/api/users/update", { id, disabled: true });
    await gone(e.token);
    const left = await call<Array<{ userId: string }>>("GET", "/admin/api/sessions");
    assert.equal(
      left.body.data.some((x) => x.userId === id),
      false,
    );
  });

  test("the session token and the password never reach the log", async () => {
    await createUser({ username: "ops3", password: PASSWORD, admin: true });
    const r = await signIn("ops3", PASSWORD);
    const token = r.body.data.token;
    await call("GET", "/admin/api/users", undefined, token);
    await call("GET", `/im/config?action=list&option=user-statis`, undefined, token);
    await call("DELETE", "/admin/api/session", undefined, token);
    const text = lines.join("");
    assert.ok(text.includes("admin user signed in"), "the sign-in is logged");
    assert.equal(text.includes(token), false);
    assert.equal(text.includes(token.slice(4)), false);
    assert.equal(text.includes(PASSWORD), false);
  });
});

describe("a user's sessions and mute (/admin/api/users/…)", () => {
  let s: TestServer;
  const admin = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const get = <T>(path: string) => adminApiCall<T>(`${s.base}${path}`, "GET");
  const post = async <T>(path: string, body: unknown, headers: Record<string, string> = admin) => {
    const res = await fetch(`${s.base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Env<T> };
  };

  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test("list a user's live sessions and end one: its token stops working, the other stays", async () => {
    const u = await post<{ id: string }>("/admin/api/users", { mobile: "13700000201", password: PASSWORD });
    const id = u.body.data.id;
    const login = async (device: string) => {
      const res = await fetch(`${s.base}/user/pwdLogin`, {
        method: "POST",
        headers: { "content-type": "application/json", "FZM-DEVICE": device },
        body: JSON.stringify({ mobile: "13700000201", password: PASSWORD }),
      });
      const r = (await res.json()) as { result: number; data: { token: string } };
      assert.equal(r.result, 0, JSON.stringify(r));
      return r.data.token;
    };
    const webToken = await login("Web");
    const iosToken = await login("iOS");
    const list = await get<Array<{ id: string; device: string; expiresAt: number }>>(
      `/admin/api/users/sessions?id=${id}`,
    );
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.data.map((x) => x.device).sort(), ["ios", "web"]);
    const web = list.body.data.find((x) => x.device === "web");
    assert.ok(web);

    const rev = await post("/admin/api/users/sessions/revoke", { id, sessionId: web.id });
    assert.equal(rev.status, 200, JSON.stringify(rev.body));
    const info = (token: string) =>
      fetch(`${s.base}/user/userInfo`, {
        method: "POST",
        headers: { "content-type": "application/json", "FZM-AUTH-TOKEN": token, "FZM-DEVICE": "Web" },
        body: JSON.stringify({ id }),
      }).then(async (r) => (await r.json()) as { result: number });
    assert.notEqual((await info(webToken)).result, 0);
    assert.equal((await info(iosToken)).result, 0);
    const after1 = await get<Array<{ id: string }>>(`/admin/api/users/sessions?id=${id}`);
    assert.equal(after1.body.data.length, 1);

    assert.equal((await post("/admin/api/users/sessions/revoke", { id, sessionId: web.id })).status, 404);
    const other = await post<{ id: string }>("/admin/api/users", { username: "someone", password: PASSWORD });
    const foreign = after1.body.data[0];
    assert.ok(foreign);
    // a session of another user is not found under this user
    assert.equal(
      (await post("/admin/api/users/sessions/revoke", { id: other.body.data.id, sessionId: foreign.id })).status,
      404,
    );
    assert.equal((await get("/admin/api/users/sessions?id=999999")).status, 404);
    assert.equal((await get("/admin/api/users/sessions?id=abc")).status, 400);
    assert.equal((await get("/admin/api/users/sessions")).status, 400);
  });

  test("mute with a duration, then lift it", async () => {
    const u = await post<{ id: string }>("/admin/api/users", { username: "loud", password: PASSWORD });
    const id = u.body.data.id;
    const before1 = Date.now();
    const m = await post<{ mutedUntil: number }>("/admin/api/users/mute", { id, durationMs: 3_600_000 });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    assert.ok(m.body.data.mutedUntil >= before1 + 3_600_000);
    const listed = await get<{ list: Array<{ id: string; mutedUntil: number }> }>("/admin/api/users?query=loud");
    assert.equal(listed.body.data.list[0]?.mutedUntil, m.body.data.mutedUntil);
    const lift = await post<{ mutedUntil: number }>("/admin/api/users/mute", { id, durationMs: 0 });
    assert.equal(lift.body.data.mutedUntil, 0);

    assert.equal((await post("/admin/api/users/mute", { id, durationMs: -1 })).status, 400);
    assert.equal((await post("/admin/api/users/mute", { id, durationMs: "5" })).status, 400);
    assert.equal((await post("/admin/api/users/mute", { id })).status, 400);
    assert.equal((await post("/admin/api/users/mute", { id: "999999", durationMs: 5 })).status, 404);
    const noToken = await post("/admin/api/users/mute", { id, durationMs: 5 }, { "content-type": "application/json" });
    assert.equal(noToken.status, 401);
  });
});
