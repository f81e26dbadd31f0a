import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppError } from "../src/core/errors.ts";
import { adminApiCall, type AdminReply as Reply, ADMIN_TOKEN as TOKEN } from "./helpers/admin-api.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

type UserOut = Record<string, unknown> & { id: string; uid: string };

const USER_KEYS = [
  "id",
  "uid",
  "mobile",
  "username",
  "nickname",
  "avatar",
  "sex",
  "position",
  "email",
  "level",
  "admin",
  "verified",
  "mutedUntil",
  "companyId",
  "deptId",
  "roleId",
  "disabled",
  "createdAt",
  "updatedAt",
].sort();

describe("admin API (/admin/api)", () => {
  let s: TestServer;

  const call = <T = unknown>(method: "GET" | "POST", path: string, body?: unknown, token: string | null = TOKEN) =>
    adminApiCall<T>(`${s.base}/admin/api${path}`, method, body, token);
  const get = <T = unknown>(path: string, token: string | null = TOKEN) => call<T>("GET", path, undefined, token);
  const post = <T = unknown>(path: string, body: unknown, token: string | null = TOKEN) =>
    call<T>("POST", path, body, token);

  /** Asserts an error reply: HTTP status repeated in `code`, `data: null`, a message matching `msg`. */
  function assertError(r: Reply, status: number, msg: RegExp) {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.code, status);
    assert.equal(r.body.data, null);
    assert.match(r.body.msg, msg);
  }
  async function created<T>(r: Promise<Reply<T>>): Promise<T> {
    const reply = await r;
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.code, 0);
    assert.equal(reply.body.msg, "success");
    return reply.body.data;
  }
  const rejectsWith = (p: Promise<unknown>, reason: string) =>
    assert.rejects(p, (e: unknown) => e instanceof AppError && e.reason === reason);

  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  describe("admin token", () => {
    const routes: Array<["GET" | "POST", string]> = [
      ["POST", "/users"],
      ["GET", "/users"],
      ["POST", "/users/update"],
      ["POST", "/users/revoke-sessions"],
      ["GET", "/sms/outbox"],
      ["POST", "/org/companies"],
      ["GET", "/org/companies"],
      ["POST", "/org/departments"],
      ["GET", "/org/departments?companyId=1"],
      ["POST", "/org/roles"],
      ["GET", "/org/roles"],
      ["POST", "/org/licenses"],
      ["GET", "/org/licenses"],
      ["POST", "/org/dict"],
      ["GET", "/org/dict?type=sex"],
      ...(["companies", "departments", "roles", "licenses"] as const).flatMap((k) => [
        ["POST", `/org/${k}/update`] as ["POST", string],
        ["POST", `/org/${k}/delete`] as ["POST", string],
      ]),
    ];
    test("every route answers 401 without the token and with a wrong one, before reading the body", async () => {
      for (const [method, path] of routes) {
        const body = method === "POST" ? { password: "secret12", username: "nobody" } : undefined;
        for (const token of [null, "wrong-token", ""]) {
          const r = await call(method, path, body, token);
          assert.equal(r.status, 401, `${method} ${path} token=${token}`);
          assert.deepEqual(r.body, { code: 401, msg: "admin token required", data: null });
        }
      }
      // nothing was created by those requests
      assert.equal((await get<{ total: number }>("/users?query=nobody")).body.data.total, 0);
    });
    test("unknown paths: 401 without the token, 404 envelope with it", async () => {
      assert.equal((await get("/nope", null)).status, 401);
      assertError(await get("/nope"), 404, /no route GET \/admin\/api\/nope/);
      assertError(await post("/users/delete", { id: "1" }), 404, /no route/);
    });
  });

  describe("users", () => {
    test("POST /users creates a user and presents it without its password hash", async () => {
      const u = await created<UserOut>(
        post("/users", {
          mobile: "13911110001",
          username: "zhangsan",
          password: "secret12",
          nickname: "张三",
          sex: 1,
          position: "工程师",
          email: "zs@example.com",
          level: 1,
          admin: true,
        }),
      );
      assert.deepEqual(Object.keys(u).sort(), USER_KEYS);
      assert.match(u.id, /^[1-9][0-9]*$/);
      assert.equal(typeof u.uid, "string");
      assert.equal(u.mobile, "13911110001");
      assert.equal(u.username, "zhangsan");
      assert.equal(u.nickname, "张三");
      assert.equal(u.admin, true);
      assert.equal(u.disabled, false);
      assert.equal(u.companyId, null);
      assert.ok(!JSON.stringify(u).includes("scrypt"));
      const stored = await s.app.storage.users.findById(Number(u.id));
      assert.equal(stored?.isAdmin, true);
      const login = await s.app.accounts.passwordLogin({ username: "zhangsan" }, "secret12", { device: "web" });
      assert.equal(String(login.user.id), u.id);
    });

    test("mobile only or username only; defaults are filled in", async () => {
      const m = await created<UserOut>(post("/users", { mobile: "13911110002", password: "secret12" }));
      assert.equal(m.username, null);
      assert.equal(m.nickname, "用户0002");
      assert.equal(m.admin, false);
      const n = await created<UserOut>(post("/users", { username: "only.name", password: "secret12" }));
      assert.equal(n.mobile, null);
      assert.equal(n.nickname, "only.name");
    });

    test("bad input is HTTP 400 with a clear message, and nothing is written", async () => {
      const before = (await get<{ total: number }>("/users")).body.data.total;
      assertError(await post("/users", { username: "u1" }), 400, /missing field: password/);
      assertError(await post("/users", { username: "u1", password: 12345678 }), 400, /password must be string/);
      assertError(
        await post("/users", { username: "u1", password: "secret12", bogus: 1 }),
        400,
        /unknown field: bogus/,
      );
      assertError(await post("/users", { password: "secret12" }), 400, /mobile or username is required/);
      assertError(await post("/users", { mobile: "12345", password: "secret12" }), 400, /mobile/);
      assertError(await post("/users", { username: "u1", password: "short" }), 400, /password/);
      assertError(await post("/users", { username: "13911119999", password: "secret12" }), 400, /mobile number/);
      assertError(await post("/users", { username: "has space", password: "secret12" }), 400, /username/);
      // no coercion of JSON values
      assertError(await post("/users", { username: "u1", password: "secret12", admin: "true" }), 400, /admin/);
      assertError(await post("/users", { username: "u1", password: "secret12", sex: "1" }), 400, /sex/);
      assertError(await post("/users", '{"username": '), 400, /not valid JSON/);
      assertError(await post("/users", "[]"), 400, /body must be object/);
      assert.equal((await get<{ total: number }>("/users")).body.data.total, before);
    });

    test("a taken mobile or username is 409", async () => {
      await created(post("/users", { mobile: "13911110003", username: "dup", password: "secret12" }));
      assertError(await post("/users", { mobile: "13911110003", password: "secret12" }), 409, /exists/);
      assertError(await post("/users", { username: "dup", password: "secret12" }), 409, /exists/);
    });

    test("GET /users pages newest first and filters by query", async () => {
      for (let i = 0; i < 5; i++)
        await created(post("/users", { username: `pager${i}`, nickname: `Pager ${i}`, password: "secret12" }));
      const all = await created<{ total: number; list: UserOut[] }>(get("/users?query=pager&page=1&size=2"));
      assert.equal(all.total, 5);
      assert.deepEqual(
        all.list.map((u) => u.username),
        ["pager4", "pager3"],
      );
      const p3 = await created<{ total: number; list: UserOut[] }>(get("/users?query=pager&page=3&size=2"));
      assert.deepEqual(
        p3.list.map((u) => u.username),
        ["pager0"],
      );
      assert.deepEqual(Object.keys(p3.list[0]).sort(), USER_KEYS);
      const none = await created<{ total: number; list: UserOut[] }>(get("/users?query=nobody-at-all"));
      assert.deepEqual(none, { total: 0, list: [] });
      const dflt = await created<{ total: number; list: UserOut[] }>(get("/users"));
      assert.ok(dflt.total >= 5 && dflt.list.length <= 20);
    });

    test("GET /users rejects bad paging", async () => {
      assertError(await get("/users?size=201"), 400, /size/);
      assertError(await get("/users?page=0"), 400, /page/);
      assertError(await get("/users?page=abc"), 400, /page/);
      assertError(await get("/users?page=1.5"), 400, /page/);
      assertError(await get("/users?color=red"), 400, /unknown field: color/);
    });

    test("POST /users/update changes fields and answers the user; unknown id is 404", async () => {
      const u = await created<UserOut>(post("/users", { username: "editme", password: "secret12" }));
      const v = await created<UserOut>(
        post("/users/update", { id: u.id, nickname: "Edited", admin: true, mobile: "13911110004", verified: true }),
      );
      assert.equal(v.id, u.id);
      assert.equal(v.nickname, "Edited");
      assert.equal(v.admin, true);
      assert.equal(v.mobile, "13911110004");
      assert.equal(v.verified, true);
      assert.deepEqual(Object.keys(v).sort(), USER_KEYS);
      // a numeric id is accepted too
      assert.equal((await created<UserOut>(post("/users/update", { id: Number(u.id), sex: 2 }))).sex, 2);
      assertError(await post("/users/update", { id: "999999", nickname: "x" }), 404, /does not exist/);
      assertError(await post("/users/update", { nickname: "x" }), 400, /missing field: id/);
      assertError(await post("/users/update", { id: "abc" }), 400, /id/);
      assertError(await post("/users/update", { id: u.id, disabled: "yes" }), 400, /disabled/);
      assertError(await post("/users/update", { id: u.id, mobile: "13911110003" }), 409, /taken/);
    });

    test("disabling a user ends its sessions and refuses its token and its logins", async () => {
      const u = await created<UserOut>(post("/users", { username: "tobedisabled", password: "secret12" }));
      const { token } = await s.app.accounts.passwordLogin({ username: "tobedisabled" }, "secret12", { device: "web" });
      assert.equal(String((await s.app.accounts.authenticate(token)).user.id), u.id);
      const v = await created<UserOut>(post("/users/update", { id: u.id, disabled: true }));
      assert.equal(v.disabled, true);
      await rejectsWith(s.app.accounts.authenticate(token), "session_revoked");
      await rejectsWith(
        s.app.accounts.passwordLogin({ username: "tobedisabled" }, "secret12", { device: "web" }),
        "user_disabled",
      );
      // enabling again lets the user log in, but the old token stays dead
      await created(post("/users/update", { id: u.id, disabled: false }));
      const again = await s.app.accounts.passwordLogin({ username: "tobedisabled" }, "secret12", { device: "web" });
      assert.ok(again.token);
      await rejectsWith(s.app.accounts.authenticate(token), "session_revoked");
    });

    test("setting a password ends the sessions; the new password works, the old one not", async () => {
      const u = await created<UserOut>(post("/users", { username: "newpass", password: "secret12" }));
      const { token } = await s.app.accounts.passwordLogin({ username: "newpass" }, "secret12", { device: "pc" });
      await created(post("/users/update", { id: u.id, password: "another-secret" }));
      await rejectsWith(s.app.accounts.authenticate(token), "session_revoked");
      await rejectsWith(
        s.app.accounts.passwordLogin({ username: "newpass" }, "secret12", { device: "pc" }),
        "bad_credentials",
      );
      assert.ok(
        (await s.app.accounts.passwordLogin({ username: "newpass" }, "another-secret", { device: "pc" })).token,
      );
      assertError(await post("/users/update", { id: u.id, password: "abc" }), 400, /password/);
    });

    test("POST /users/revoke-sessions ends every session of the user only", async () => {
      const u = await created<UserOut>(post("/users", { username: "revokeme", password: "secret12" }));
      await created(post("/users", { username: "bystander", password: "secret12" }));
      const a = await s.app.accounts.passwordLogin({ username: "revokeme" }, "secret12", { device: "web" });
      const b = await s.app.accounts.passwordLogin({ username: "revokeme" }, "secret12", { device: "android" });
      const other = await s.app.accounts.passwordLogin({ username: "bystander" }, "secret12", { device: "web" });
      assert.deepEqual(await created(post("/users/revoke-sessions", { id: u.id })), {
        id: u.id,
        revoked: 2,
        adminSessions: 0,
      });
      await rejectsWith(s.app.accounts.authenticate(a.token), "session_revoked");
      await rejectsWith(s.app.accounts.authenticate(b.token), "session_revoked");
      assert.equal((await s.app.accounts.authenticate(other.token)).user.username, "bystander");
      const session = await s.app.storage.sessions.findById(a.session.id);
      assert.equal(session?.revokeReason, "admin");
      // nothing left to revoke; the user can still log in
      assert.deepEqual(await created(post("/users/revoke-sessions", { id: u.id })), {
        id: u.id,
        revoked: 0,
        adminSessions: 0,
      });
      assert.ok((await s.app.accounts.passwordLogin({ username: "revokeme" }, "secret12", { device: "web" })).token);
      assertError(await post("/users/revoke-sessions", { id: "999999" }), 404, /does not exist/);
      assertError(await post("/users/revoke-sessions", {}), 400, /missing field: id/);
    });
  });

  describe("SMS outbox", () => {
    test("lists codes of the log sender newest first, filtered by mobile", async () => {
      await s.app.sms.send("13922220001", "10.0.0.1");
      await s.app.sms.send("13922220002", "10.0.0.1");
      const all = await created<Array<{ mobile: string; code: string; sentAt: number }>>(get("/sms/outbox"));
      assert.deepEqual(
        all.slice(0, 2).map((e) => e.mobile),
        ["13922220002", "13922220001"],
      );
      for (const e of all) {
        assert.deepEqual(Object.keys(e).sort(), ["code", "mobile", "sentAt"]);
        assert.match(e.code, /^\d{6}$/);
        assert.equal(typeof e.sentAt, "number");
      }
      const one = await created<Array<{ mobile: string; code: string }>>(get("/sms/outbox?mobile=13922220001"));
      assert.equal(one.length, 1);
      // the listed code is the one that verifies
      await s.app.sms.verify("13922220001", one[0].code);
      assert.deepEqual(await created(get("/sms/outbox?mobile=13900000000")), []);
      assert.equal((await created<unknown[]>(get("/sms/outbox?limit=1"))).length, 1);
      assertError(await get("/sms/outbox?limit=0"), 400, /limit/);
    });
  });

  describe("organisation directory", () => {
    type Company = Record<string, unknown> & { id: number };
    type Dept = Record<string, unknown> & { id: number; parentId: number | null };

    test("licenses: create and list", async () => {
      const l = await created(post("/org/licenses", { text: "集团用户", maxlevel: 5, single: 20, userCount: 20 }));
      assert.deepEqual(Object.keys(l as object).sort(), ["id", "maxlevel", "single", "text", "userCount"]);
      assert.equal((l as { text: string }).text, "集团用户");
      const list = await created<Array<{ id: number }>>(get("/org/licenses"));
      assert.ok(list.some((x) => x.id === (l as { id: number }).id));
      assertError(await post("/org/licenses", { text: "" }), 400, /text/);
      assertError(await post("/org/licenses", { text: "x", userCount: -1 }), 400, /userCount/);
    });

    test("companies: the 001 fields, extra fields kept, references checked", async () => {
      const l = await created<{ id: number }>(post("/org/licenses", { text: "L" }));
      const c = await created<Company>(
        post("/org/companies", {
          text: "江苏农垦",
          avatar: "http://example.com/logo.svg",
          note: "农垦项目演示",
          enable: 1,
          licenseId: l.id,
          code: "1010",
          level: 1,
          url: "http://example.com/",
          rangeId: 19,
          industryId: 1446,
          regionId: 530101,
          customerId: "1",
          industryText: "水的生产和供应业",
        }),
      );
      assert.equal(c.text, "江苏农垦");
      assert.equal(c.enable, true);
      assert.equal(c.licenseId, l.id);
      assert.equal(c.pid, "");
      assert.equal(c.rangeId, 19);
      assert.equal(c.industryText, "水的生产和供应业");
      assert.equal(c.typeId, null);
      assert.equal(c.createUser, null);
      const child = await created<Company>(
        post("/org/companies", { text: "子公司", pid: String(c.id), enable: false }),
      );
      assert.equal(child.pid, String(c.id));
      assert.equal(child.enable, false);
      const list = await created<Company[]>(get("/org/companies"));
      assert.deepEqual(
        list.filter((x) => x.id === c.id || x.id === child.id).map((x) => x.text),
        ["江苏农垦", "子公司"],
      );
      assert.deepEqual(
        list.find((x) => x.id === c.id),
        c,
      );

      assertError(await post("/org/companies", { text: "x", licenseId: 99999 }), 400, /licenseId/);
      assertError(await post("/org/companies", { text: "x", pid: "99999" }), 400, /pid/);
      assertError(await post("/org/companies", { text: "x", createUser: "99999" }), 400, /createUser/);
      assertError(await post("/org/companies", { text: "x", enable: "1" }), 400, /enable/);
      assertError(await post("/org/companies", { note: "no name" }), 400, /missing field: text/);
      assertError(await post("/org/companies", { text: "x", children: [] }), 400, /unknown field: children/);
    });

    test("departments: a tree per company, parents and owners checked, listed flat", async () => {
      const c = await created<Company>(post("/org/companies", { text: "Tree Co" }));
      const other = await created<Company>(post("/org/companies", { text: "Other Co" }));
      const owner = await created<UserOut>(post("/users", { username: "deptowner", password: "secret12" }));
      const hq = await created<Dept>(post("/org/departments", { companyId: c.id, text: "总部", ownerId: owner.id }));
      assert.deepEqual(Object.keys(hq).sort(), [
        "code",
        "companyId",
        "createdAt",
        "id",
        "level",
        "note",
        "ownerId",
        "parentId",
        "text",
      ]);
      assert.equal(hq.parentId, null);
      assert.equal(hq.level, 1);
      assert.equal(hq.ownerId, Number(owner.id));
      const rd = await created<Dept>(post("/org/departments", { companyId: c.id, parentId: hq.id, text: "研发部" }));
      assert.equal(rd.parentId, hq.id);
      assert.equal(rd.level, 2);
      const elsewhere = await created<Dept>(post("/org/departments", { companyId: other.id, text: "X" }));

      assertError(await post("/org/departments", { companyId: 99999, text: "x" }), 400, /companyId/);
      assertError(
        await post("/org/departments", { companyId: c.id, parentId: elsewhere.id, text: "x" }),
        400,
        /parent/,
      );
      assertError(await post("/org/departments", { companyId: c.id, parentId: 99999, text: "x" }), 400, /parent/);
      assertError(await post("/org/departments", { companyId: c.id, text: "x", ownerId: "99999" }), 400, /ownerId/);
      assertError(await post("/org/departments", { companyId: String(c.id), text: "x" }), 400, /companyId/);

      const staff = await created<{ id: number }>(post("/org/roles", { companyId: c.id, text: "员工" }));
      await created(
        post("/users", {
          username: "rdworker",
          password: "secret12",
          companyId: c.id,
          deptId: rd.id,
          roleId: staff.id,
        }),
      );
      const list = await created<Array<Dept & { userCount: number; childCount: number }>>(
        get(`/org/departments?companyId=${c.id}`),
      );
      assert.deepEqual(
        list.map((d) => [d.text, d.parentId, d.userCount, d.childCount]),
        [
          ["总部", null, 0, 1],
          ["研发部", hq.id, 1, 0],
        ],
      );
      assertError(await get("/org/departments"), 400, /missing field: companyId/);
      assertError(await get("/org/departments?companyId=99999"), 404, /company/);
      assertError(await get("/org/departments?companyId=x"), 400, /companyId/);
    });

    test("roles: create and list per company; users must use roles and departments of their company", async () => {
      const c = await created<Company>(post("/org/companies", { text: "Role Co" }));
      const other = await created<Company>(post("/org/companies", { text: "Role Other" }));
      const admin = await created<Record<string, unknown>>(
        post("/org/roles", { companyId: c.id, text: "管理员", admin: 1, note: "n" }),
      );
      assert.deepEqual(admin, { id: admin.id, companyId: c.id, text: "管理员", admin: true, note: "n" });
      const member = await created<Record<string, unknown>>(post("/org/roles", { companyId: c.id, text: "员工" }));
      assert.equal(member.admin, false);
      const foreign = await created<{ id: number }>(post("/org/roles", { companyId: other.id, text: "外" }));
      const mine = await created<Array<{ text: string }>>(get(`/org/roles?companyId=${c.id}`));
      assert.deepEqual(
        mine.map((r) => r.text),
        ["管理员", "员工"],
      );
      const all = await created<Array<{ id: number }>>(get("/org/roles"));
      assert.ok(all.some((r) => r.id === foreign.id) && all.some((r) => r.id === admin.id));
      assertError(await post("/org/roles", { companyId: 99999, text: "x" }), 400, /companyId/);
      assertError(await post("/org/roles", { companyId: c.id, text: "x", admin: "yes" }), 400, /admin/);
      assertError(await get("/org/roles?companyId=99999"), 404, /company/);

      const dept = await created<Dept>(post("/org/departments", { companyId: other.id, text: "D" }));
      assertError(
        await post("/users", { username: "wrongrole", password: "secret12", companyId: c.id, roleId: foreign.id }),
        400,
        /roleId/,
      );
      assertError(
        await post("/users", { username: "wrongdept", password: "secret12", companyId: c.id, deptId: dept.id }),
        400,
        /deptId/,
      );
      assertError(
        await post("/users", { username: "nocompany", password: "secret12", companyId: 99999 }),
        400,
        /company/,
      );
      const u = await created<UserOut>(
        post("/users", { username: "rightrole", password: "secret12", companyId: c.id, roleId: admin.id }),
      );
      assert.equal(u.roleId, admin.id);
      assertError(await post("/users/update", { id: u.id, roleId: foreign.id }), 400, /roleId/);
      const moved = await created<UserOut>(
        post("/users/update", { id: u.id, companyId: other.id, roleId: foreign.id, deptId: dept.id }),
      );
      assert.deepEqual([moved.companyId, moved.roleId, moved.deptId], [other.id, foreign.id, dept.id]);
    });

    test("edit: companies, licenses and roles change only the fields given; references checked", async () => {
      const l1 = await created<{ id: number }>(post("/org/licenses", { text: "L1", userCount: 5 }));
      const l2 = await created<{ id: number }>(post("/org/licenses", { text: "L2" }));
      const c = await created<Company>(
        post("/org/companies", { text: "Edit Co", code: "E1", licenseId: l1.id, industryText: "水" }),
      );
      const edited = await created<Company>(
        post("/org/companies/update", {
          id: c.id,
          text: "编辑公司",
          enable: 0,
          licenseId: l2.id,
          regionText: "文山州",
        }),
      );
      assert.deepEqual(
        { ...edited, createdAt: 0 },
        { ...c, text: "编辑公司", enable: false, licenseId: l2.id, regionText: "文山州", createdAt: 0 },
        "only the given fields change; the other 001 extras are kept",
      );
      assert.deepEqual(
        (await created<Company[]>(get("/org/companies"))).find((x) => x.id === c.id),
        edited,
        "stored",
      );
      assert.equal(
        (await created<Company>(post("/org/companies/update", { id: c.id, licenseId: null }))).licenseId,
        null,
      );
      // a parent that exists; never itself or below itself
      const child = await created<Company>(post("/org/companies", { text: "Edit child", pid: String(c.id) }));
      const grandchild = await created<Company>(post("/org/companies", { text: "Edit gc", pid: String(child.id) }));
      assertError(await post("/org/companies/update", { id: c.id, pid: String(c.id) }), 400, /own parent/);
      assertError(await post("/org/companies/update", { id: c.id, pid: String(grandchild.id) }), 400, /below itself/);
      assertError(await post("/org/companies/update", { id: c.id, pid: "99999" }), 400, /unknown parent/);
      assert.equal((await created<Company>(post("/org/companies/update", { id: grandchild.id, pid: "" }))).pid, "");
      assertError(await post("/org/companies/update", { id: c.id, licenseId: 99999 }), 400, /licenseId/);
      assertError(await post("/org/companies/update", { id: c.id, createUser: "99999" }), 400, /createUser/);
      assertError(await post("/org/companies/update", { id: 99999, text: "x" }), 404, /company does not exist/);
      assertError(await post("/org/companies/update", { id: c.id, text: "" }), 400, /text/);
      assertError(await post("/org/companies/update", { id: c.id, text: "x".repeat(129) }), 400, /text/);
      assertError(await post("/org/companies/update", { id: c.id, createdAt: 1 }), 400, /unknown field: createdAt/);
      assertError(await post("/org/companies/update", { text: "x" }), 400, /missing field: id/);
      assertError(await post("/org/companies/update", { id: "1", text: "x" }), 400, /id/);

      const lic = await created(post("/org/licenses/update", { id: l1.id, text: "集团", maxlevel: 3 }));
      assert.deepEqual(lic, { id: l1.id, text: "集团", maxlevel: 3, single: 0, userCount: 5 });
      assertError(await post("/org/licenses/update", { id: l1.id, userCount: -1 }), 400, /userCount/);
      assertError(await post("/org/licenses/update", { id: 99999, text: "x" }), 404, /license does not exist/);

      const r = await created<{ id: number }>(post("/org/roles", { companyId: c.id, text: "员工" }));
      const role = await created(post("/org/roles/update", { id: r.id, text: "经理", admin: true }));
      assert.deepEqual(role, { id: r.id, companyId: c.id, text: "经理", admin: true, note: "" });
      assertError(await post("/org/roles/update", { id: r.id, companyId: child.id }), 400, /unknown field: companyId/);
      assertError(await post("/org/roles/update", { id: 99999, text: "x" }), 404, /role does not exist/);
    });

    test("edit: a department renamed, given a head, and moved with its subtree (levels follow)", async () => {
      const c = await created<Company>(post("/org/companies", { text: "Move Co" }));
      const other = await created<Company>(post("/org/companies", { text: "Move Other" }));
      const head = await created<UserOut>(post("/users", { username: "movehead", password: "secret12" }));
      const a = await created<Dept>(post("/org/departments", { companyId: c.id, text: "A" }));
      const b = await created<Dept>(post("/org/departments", { companyId: c.id, text: "B" }));
      const b1 = await created<Dept>(post("/org/departments", { companyId: c.id, parentId: b.id, text: "B1" }));
      const b2 = await created<Dept>(post("/org/departments", { companyId: c.id, parentId: b1.id, text: "B2" }));
      const foreign = await created<Dept>(post("/org/departments", { companyId: other.id, text: "F" }));

      const renamed = await created<Dept>(
        post("/org/departments/update", { id: a.id, text: "甲", code: "A1", ownerId: head.id }),
      );
      assert.deepEqual(renamed, { ...a, text: "甲", code: "A1", ownerId: Number(head.id) });
      const moved = await created<Dept>(post("/org/departments/update", { id: b.id, parentId: a.id }));
      assert.deepEqual([moved.parentId, moved.level], [a.id, 2]);
      const levels = async () =>
        Object.fromEntries(
          (await created<Dept[]>(get(`/org/departments?companyId=${c.id}`))).map((d) => [d.text, d.level]),
        );
      assert.deepEqual(await levels(), { 甲: 1, B: 2, B1: 3, B2: 4 });
      // never under itself or its own subtree, never into another company
      assertError(await post("/org/departments/update", { id: b.id, parentId: b.id }), 400, /itself/);
      assertError(await post("/org/departments/update", { id: b.id, parentId: b2.id }), 400, /sub-departments/);
      assertError(await post("/org/departments/update", { id: b.id, parentId: foreign.id }), 400, /same company/);
      assertError(await post("/org/departments/update", { id: b.id, companyId: other.id }), 400, /unknown field/);
      assertError(await post("/org/departments/update", { id: b.id, ownerId: "99999" }), 400, /ownerId/);
      assertError(await post("/org/departments/update", { id: 99999, text: "x" }), 404, /department does not exist/);
      assert.deepEqual(await levels(), { 甲: 1, B: 2, B1: 3, B2: 4 }, "refused moves changed nothing");
      // back to the root
      assert.equal((await created<Dept>(post("/org/departments/update", { id: b.id, parentId: null }))).level, 1);
      assert.deepEqual(await levels(), { 甲: 1, B: 1, B1: 2, B2: 3 });
      assert.equal((await created<Dept>(post("/org/departments/update", { id: a.id, ownerId: null }))).ownerId, null);
    });

    test("delete: refused with 409 while anything refers to it, so nothing is left orphaned", async () => {
      const lic = await created<{ id: number }>(post("/org/licenses", { text: "Del L" }));
      const c = await created<Company>(post("/org/companies", { text: "Del Co", licenseId: lic.id }));
      const sub = await created<Company>(post("/org/companies", { text: "Del Sub", pid: String(c.id) }));
      const root = await created<Dept>(post("/org/departments", { companyId: c.id, text: "Root" }));
      const leaf = await created<Dept>(post("/org/departments", { companyId: c.id, parentId: root.id, text: "Leaf" }));
      const role = await created<{ id: number }>(post("/org/roles", { companyId: c.id, text: "R" }));
      const u = await created<UserOut>(
        post("/users", { username: "delorg", password: "secret12", companyId: c.id, deptId: leaf.id, roleId: role.id }),
      );
      const del = (kind: string, id: number) => post(`/org/${kind}/delete`, { id });

      assertError(await del("licenses", lic.id), 409, /^license still has 1 company: move or delete them first$/);
      assertError(await del("companies", c.id), 409, /^company still has 1 user, 2 departments, 1 role, 1 company/);
      assertError(await del("departments", root.id), 409, /^department still has 1 sub-department:/);
      assertError(await del("departments", leaf.id), 409, /^department still has 1 user:/);
      assertError(await del("roles", role.id), 409, /^role still has 1 user:/);
      assertError(await del("roles", 99999), 404, /role does not exist/);
      assertError(await del("departments", 99999), 404, /department does not exist/);
      assertError(await del("companies", 99999), 404, /company does not exist/);
      assertError(await del("licenses", 99999), 404, /license does not exist/);
      assertError(await post("/org/roles/delete", { id: role.id, force: true }), 400, /unknown field: force/);
      assertError(await post("/org/roles/delete", {}), 400, /missing field: id/);
      assertError(await post("/org/roles/delete", { id: 0 }), 400, /id/);

      // empty things out, bottom up: each delete then succeeds
      await created(post("/users/update", { id: u.id, deptId: null, roleId: null }));
      assert.deepEqual(await created(del("departments", leaf.id)), { id: leaf.id, deleted: true });
      assert.deepEqual(await created(del("departments", root.id)), { id: root.id, deleted: true });
      assert.deepEqual(await created(del("roles", role.id)), { id: role.id, deleted: true });
      assertError(await del("companies", c.id), 409, /^company still has 1 user, 1 company:/);
      await created(post("/users/update", { id: u.id, companyId: null }));
      await created(post("/org/companies/update", { id: sub.id, pid: "" }));
      assert.deepEqual(await created(del("companies", c.id)), { id: c.id, deleted: true });
      assertError(await get(`/org/departments?companyId=${c.id}`), 404, /company/);
      assert.ok(!(await created<Company[]>(get("/org/companies"))).some((x) => x.id === c.id));
      assertError(await del("companies", c.id), 404, /company does not exist/);
      // the license is free once its company went
      assert.deepEqual(await created(del("licenses", lic.id)), { id: lic.id, deleted: true });
      assert.ok(!(await created<Array<{ id: number }>>(get("/org/licenses"))).some((x) => x.id === lic.id));
      // a deleted department or role can no longer be given to a user
      assertError(await post("/users/update", { id: u.id, companyId: sub.id, deptId: leaf.id }), 400, /deptId/);
    });

    test("dictionaries: the sex dictionary exists; entries are unique per type and code", async () => {
      const sex = await created<Array<{ code: string; text: string }>>(get("/org/dict?type=sex"));
      assert.deepEqual(
        sex.map((e) => [e.code, e.text]),
        [
          ["0", "未知"],
          ["1", "男"],
          ["2", "女"],
        ],
      );
      const e = await created(post("/org/dict", { type: "range", text: "500-999人", code: "19" }));
      assert.deepEqual(e, { id: (e as { id: number }).id, type: "range", text: "500-999人", code: "19", url: null });
      assert.deepEqual(await created(get("/org/dict?type=range")), [e]);
      assertError(await post("/org/dict", { type: "range", text: "again", code: "19" }), 409, /already has code 19/);
      assertError(await post("/org/dict", { type: "range", text: "x" }), 400, /missing field: code/);
      assertError(await get("/org/dict"), 400, /missing field: type/);
      assert.deepEqual(await created(get("/org/dict?type=nothing")), []);
    });
  });
});
