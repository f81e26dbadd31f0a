import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { hashToken } from "../src/core/accounts/account-service.ts";
import type { User } from "../src/ports/storage.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

type Env<T = unknown> = { data: T; code: number; msg: string };
type Reply<T = unknown> = { status: number; body: Env<T> };

interface CallOptions {
  method?: string;
  query?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string> | string;
  raw?: { type: string; body: string };
  headers?: Record<string, string>;
}

/** One HTTP call with parameters in the query, a form body, a JSON body or a raw body. */
async function call<T = unknown>(base: string, path: string, o: CallOptions = {}): Promise<Reply<T>> {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.append(k, v);
  const headers: Record<string, string> = { ...o.headers };
  let body: string | undefined;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof o.json === "string" ? o.json : JSON.stringify(o.json);
  } else if (o.form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = typeof o.form === "string" ? o.form : new URLSearchParams(o.form).toString();
  } else if (o.raw) {
    headers["content-type"] = o.raw.type;
    body = o.raw.body;
  }
  const res = await fetch(url, { method: o.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Env<T> };
}

interface LoginData {
  user: { id: number; trueName: string; username: string | null };
  deviceVo: { brand: string; device: string; platform: string };
  authorization: string;
  [k: string]: unknown;
}

type Frame<T = unknown> = { code: number; msg: string; data: T };

const PASSWORD = "secret-pw1";

/** Asserts an error envelope: same status in HTTP and `code`, `data: null`. */
function assertError(r: Reply, status: number, msg?: string | RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.code, status);
  assert.equal(r.body.data, null);
  assert.equal(typeof r.body.msg, "string");
  assert.ok(r.body.msg.length > 0);
  if (typeof msg === "string") assert.equal(r.body.msg, msg);
  else if (msg) assert.match(r.body.msg, msg);
}

describe("enterprise surface — auth (seed 001)", () => {
  let s: TestServer;
  let jhb: User;
  let owner: User;
  let sexUnknownId: number;
  const ids = { license: 0, company: 0, root: 0, dept: 0, sub: 0, role: 0 };

  const login = async (account: string, platform = "pc", password = PASSWORD, device?: string) => {
    const r = await call<LoginData>(s.base, "/auth/login", {
      json: { account, password, platform, ...(device ? { device } : {}) },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
  };
  const user = (username: string, extra: Record<string, unknown> = {}) =>
    s.app.accounts.createUser({ username, password: PASSWORD, ...extra });
  const socket = async (query: string) => {
    const c = new TestClient(`${s.ws}/socket${query ? `?${query}` : ""}`);
    const first = await c.next<Frame<{ device: string }>>();
    return { c, first };
  };

  before(async () => {
    // A fast ping sweep so an expired session's socket is noticed quickly.
    s = await startServer({ "ws.pingIntervalMs": 100 });
    const org = s.app.org;
    const license = await org.createLicense({ text: "集团用户", maxlevel: 5, single: 20, userCount: 20 });
    const company = await org.createCompany({
      text: "江苏农垦",
      avatar: "http://jiaxin365.cn/images/jsnk.svg",
      note: "农垦项目演示",
      licenseId: license.id,
      code: "1010",
      pid: "26",
      url: "http://192.168.1.138:8082/",
      attrs: {
        createUser: 397,
        rangeId: 19,
        industryId: 1446,
        regionId: 530101,
        customerId: "1",
        rangeText: "500-999人",
      },
    });
    await org.createCompany({ text: "子公司", pid: String(company.id) });
    owner = await user("boss", { nickname: "马军", companyId: company.id });
    const root = await org.createDepartment({ companyId: company.id, text: "总部" });
    const dept = await org.createDepartment({
      companyId: company.id,
      parentId: root.id,
      text: "雨测试部",
      note: "测试",
      code: "3724",
      ownerId: owner.id,
    });
    const sub = await org.createDepartment({ companyId: company.id, parentId: dept.id, text: "子部门" });
    const role = await org.createRole({ companyId: company.id, text: "体验用户", note: "体验用户" });
    Object.assign(ids, {
      license: license.id,
      company: company.id,
      root: root.id,
      dept: dept.id,
      sub: sub.id,
      role: role.id,
    });
    jhb = await user("jhb", {
      mobile: "15951508388",
      nickname: "姜海斌",
      email: "jhb@cnbisoft.com",
      avatar: "http://192.168.2.214:8000/a.png",
      companyId: company.id,
      deptId: dept.id,
      roleId: role.id,
    });
    await user("member", { companyId: company.id, deptId: sub.id });
    const sex = await s.app.org.sexEntry(0);
    assert.ok(sex);
    sexUnknownId = sex.id;
  });
  after(() => s.close());

  const expectedProfile = () => ({
    user: {
      id: jhb.id,
      birthday: null,
      avatar: "http://192.168.2.214:8000/a.png",
      email: "jhb@cnbisoft.com",
      phone: "15951508388",
      sign: null,
      trueName: "姜海斌",
      username: "jhb",
      sex: sexUnknownId,
      workState: null,
      enable: 1,
    },
    dept: {
      id: ids.dept,
      note: "测试",
      code: "3724",
      pid: String(ids.root),
      text: "雨测试部",
      leaf: 0,
      level: 2,
      ownerId: owner.id,
      companyId: ids.company,
      ownerName: "马军",
      userCount: 1,
      userContainChild: 2,
      childDeptCount: 1,
    },
    role: { id: ids.role, text: "体验用户", companyId: ids.company, admin: 0, note: "体验用户" },
    company: {
      id: ids.company,
      text: "江苏农垦",
      avatar: "http://jiaxin365.cn/images/jsnk.svg",
      note: "农垦项目演示",
      enable: 1,
      licenseId: ids.license,
      createUser: 397,
      rangeId: 19,
      industryId: 1446,
      typeId: null,
      regionId: 530101,
      rangeText: "500-999人",
      industryText: null,
      regionText: null,
      typeText: null,
      customerId: "1",
      url: "http://192.168.1.138:8082/",
      code: "1010",
      pid: "26",
      leaf: 0,
      primaryId: null,
      level: 1,
      authCompanyIds: null,
      children: null,
    },
    license: { id: ids.license, text: "集团用户", maxlevel: 5, single: 20, userCount: 20 },
  });

  describe("POST /auth/login", () => {
    test("returns the documented object with the seed's field names", async () => {
      const r = await call<LoginData>(s.base, "/auth/login", {
        json: { account: "jhb", password: PASSWORD, platform: "windows", device: "17217014PostmanRuntime760" },
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.code, 200);
      assert.equal(r.body.msg, "登录成功");
      const { authorization, ...rest } = r.body.data;
      assert.match(authorization, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(rest, {
        ...expectedProfile(),
        deviceVo: { brand: "jhb", device: "17217014PostmanRuntime760", platform: "windows" },
      });
      assert.deepEqual(Object.keys(r.body), ["data", "code", "msg"]);
      assert.deepEqual(Object.keys(r.body.data), [
        "user",
        "dept",
        "role",
        "company",
        "license",
        "deviceVo",
        "authorization",
      ]);
    });

    test("a user without organisation gets null dept/role/company/license", async () => {
      await user("loner", { nickname: "独行" });
      const d = await login("loner");
      assert.equal(d.dept, null);
      assert.equal(d.role, null);
      assert.equal(d.company, null);
      assert.equal(d.license, null);
      assert.equal(d.deviceVo.brand, "loner");
      assert.equal(d.deviceVo.platform, "pc");
      assert.match(d.deviceVo.device, /^[0-9a-f]{24}$/);
    });

    test("parameters work in the query, in a form body and in a JSON body; account may be the mobile", async () => {
      const variants: CallOptions[] = [
        { method: "POST", query: { account: "jhb", password: PASSWORD } },
        { form: { account: "jhb", password: PASSWORD } },
        { json: { account: "jhb", password: PASSWORD } },
        { form: `account=15951508388&password=${PASSWORD}` },
        // numbers are accepted where strings are expected (coercion)
        { json: { account: 15951508388, password: PASSWORD } },
        // body overrides the query
        { query: { account: "nobody", password: "wrong" }, form: { account: "jhb", password: PASSWORD } },
      ];
      for (const v of variants) {
        const r = await call<LoginData>(s.base, "/auth/login", v);
        assert.equal(r.status, 200, JSON.stringify(v));
        assert.equal(r.body.data.user.id, jhb.id, JSON.stringify(v));
      }
    });

    test("wrong password and unknown account get the same 400", async () => {
      await user("victim");
      const wrong = await call(s.base, "/auth/login", { json: { account: "victim", password: "not-it-1" } });
      const unknown = await call(s.base, "/auth/login", { json: { account: "ghost-user", password: "not-it-1" } });
      assertError(wrong, 400, "账号或密码错误");
      assert.deepEqual(unknown, wrong);
    });

    test("brute force: after accounts.loginFailures wrong tries every try is 429, even the right one", async () => {
      await user("brute");
      const limit = s.app.config.accounts.loginFailures;
      for (let i = 0; i < limit; i++) {
        const r = await call(s.base, "/auth/login", { json: { account: "brute", password: `wrong-${i}` } });
        assertError(r, 400, "账号或密码错误");
      }
      const blocked = await call(s.base, "/auth/login", { json: { account: "brute", password: PASSWORD } });
      assertError(blocked, 429, "登录失败次数过多，请稍后再试");
    });

    test("a disabled account is refused with 403 after the password check", async () => {
      const u = await user("disabled-one");
      await s.app.accounts.adminUpdate(u.id, { disabled: true });
      assertError(
        await call(s.base, "/auth/login", { json: { account: "disabled-one", password: PASSWORD } }),
        403,
        "账号已被禁用",
      );
    });

    test("other methods answer 405 with Allow: POST", async () => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const r = await call(s.base, "/auth/login", { method });
        assertError(r, 405);
      }
      const res = await fetch(`${s.base}/auth/login`, { method: "GET" });
      assert.equal(res.headers.get("allow"), "POST");
    });
  });

  describe("GET /api/left_user_info", () => {
    test("returns user, work, sex, dept, company, role, license as in the seed", async () => {
      const { authorization } = await login("jhb", "web");
      const r = await call(s.base, "/api/left_user_info", { query: { authorization } });
      assert.equal(r.status, 200);
      const p = expectedProfile();
      assert.deepEqual(r.body, {
        data: {
          user: p.user,
          work: null,
          sex: { id: sexUnknownId, text: "未知", url: null, type: null, code: "0" },
          dept: p.dept,
          company: p.company,
          role: p.role,
          license: p.license,
        },
        code: 200,
        msg: "查询成功",
      });
    });

    test("the token is accepted as raw header, Bearer header, query, form or JSON parameter", async () => {
      const { authorization } = await login("jhb", "web");
      const variants: CallOptions[] = [
        { headers: { authorization } },
        { headers: { authorization: `Bearer ${authorization}` } },
        { query: { authorization } },
        { query: { authorization: `Bearer ${authorization}` } },
        { form: { authorization } },
        { json: { authorization } },
      ];
      for (const v of variants) {
        const r = await call<{ user: { id: number } }>(s.base, "/api/left_user_info", v);
        assert.equal(r.status, 200, JSON.stringify(v));
        assert.equal(r.body.data.user.id, jhb.id);
      }
    });

    test("401 without a token or with a bad one", async () => {
      assertError(await call(s.base, "/api/left_user_info"), 401, "未登录");
      assertError(await call(s.base, "/api/left_user_info", { query: { authorization: "nope" } }), 401, "登录凭证无效");
      assertError(await call(s.base, "/api/left_user_info", { query: { authorization: "" } }), 401, "未登录");
      assertError(await call(s.base, "/api/left_user_info", { headers: { authorization: "Bearer x" } }), 401);
    });
  });

  describe("logout and the socket", () => {
    test("logout revokes the token; its socket gets 1003 and is closed; the token is refused afterwards", async () => {
      const d = await login("jhb", "pc", PASSWORD, "pc-device-1");
      const { c, first } = await socket(`authorization=${encodeURIComponent(d.authorization)}&platform=pc`);
      assert.deepEqual(first, { code: 1000, msg: "连接成功", data: { device: "pc-device-1" } });

      const r = await call(s.base, "/auth/logout", { query: { authorization: d.authorization } });
      assert.deepEqual(r, { status: 200, body: { data: d.authorization, code: 200, msg: "退出成功" } });
      assert.deepEqual(await c.next(), { code: 1003, msg: "登录已过期", data: null });
      assert.equal((await c.closed).code, 4001);

      assertError(await call(s.base, "/api/left_user_info", { query: { authorization: d.authorization } }), 401);
      assertError(await call(s.base, "/auth/logout", { query: { authorization: d.authorization } }), 401);
      // a new socket with the revoked token is told and closed at once
      const again = new TestClient(`${s.ws}/socket?authorization=${encodeURIComponent(d.authorization)}`);
      assert.deepEqual(await again.next(), { code: 1003, msg: "登录已过期", data: null });
      assert.equal((await again.closed).code, 4001);
    });

    test("logout by POST with a Bearer header", async () => {
      const d = await login("jhb", "web");
      const r = await call(s.base, "/auth/logout", {
        method: "POST",
        headers: { authorization: `Bearer ${d.authorization}` },
      });
      assert.deepEqual(r.body, { data: d.authorization, code: 200, msg: "退出成功" });
      assertError(await call(s.base, "/api/left_user_info", { headers: { authorization: d.authorization } }), 401);
      assertError(await call(s.base, "/auth/logout", { method: "PUT" }), 405);
    });

    test("a newer login on the same device type kicks the older socket (1002); another device type does not", async () => {
      await user("multi");
      const pc = await login("multi", "pc");
      const { c } = await socket(`authorization=${encodeURIComponent(pc.authorization)}`);

      const phone = await login("multi", "android");
      assert.equal(await c.silent(300), true, "an android login must not end the pc session");

      const pc2 = await login("multi", "windows"); // windows is a pc device type
      assert.deepEqual(await c.next(), { code: 1002, msg: "账号在其他地方登录", data: null });
      assert.equal((await c.closed).code, 4003);

      assertError(
        await call(s.base, "/api/left_user_info", { query: { authorization: pc.authorization } }),
        401,
        "账号在其他地方登录",
      );
      for (const token of [phone.authorization, pc2.authorization]) {
        assert.equal((await call(s.base, "/api/left_user_info", { query: { authorization: token } })).status, 200);
      }
    });

    test("an expired session's socket gets 1003 from the ping sweep and is closed", async () => {
      // Sessions live at least accounts.sessionTtlMs (≥ 60 s), so the test writes a short-lived
      // session through the storage port; the socket remembers its expiry and the sweep
      // (ws.pingIntervalMs = 100 here) ends it once that moment has passed.
      const u = await user("short-lived");
      const token = randomBytes(32).toString("base64url");
      const now = Date.now();
      await s.app.storage.sessions.create({
        id: randomBytes(16).toString("hex"),
        userId: u.id,
        tokenHash: hashToken(token),
        device: "pc",
        deviceId: "short-device",
        platform: "pc",
        createdAt: now,
        expiresAt: now + 2500,
        revokedAt: null,
        revokeReason: null,
      });
      const { c, first } = await socket(`authorization=${token}`);
      assert.deepEqual(first, { code: 1000, msg: "连接成功", data: { device: "short-device" } });
      assert.deepEqual(await c.next(10_000), { code: 1003, msg: "登录已过期", data: null });
      assert.equal((await c.closed).code, 4001);
      assertError(await call(s.base, "/api/left_user_info", { query: { authorization: token } }), 401, "登录已过期");
    });

    test("a session revoked without a notice (hub message lost) still ends its socket on the sweep", async () => {
      const u = await user("lost-notice");
      const token = (await s.app.accounts.startSession(u, { device: "pc" })).token;
      const { c, first } = await socket(`authorization=${token}`);
      assert.equal(first.code, 1000);
      const { session } = await s.app.accounts.authenticate(token);
      // Straight through the storage port: nothing is published, as if the notice had been lost.
      await s.app.storage.sessions.revoke([session.id], "admin", Date.now());
      assert.deepEqual(await c.next(5000), { code: 1003, msg: "登录已过期", data: null });
      assert.equal((await c.closed).code, 4001);
    });

    test("an anonymous socket gets a fresh random device id", async () => {
      const a = await socket("platform=pc");
      const b = await socket("");
      assert.equal(a.first.code, 1000);
      assert.equal(a.first.msg, "连接成功");
      assert.match(a.first.data.device, /^[0-9a-f]{32}$/);
      assert.notEqual(a.first.data.device, b.first.data.device);
      assert.equal(await a.c.silent(200), true);
      a.c.close();
      b.c.close();
    });

    test("a socket with an unknown token gets 1003 and is closed", async () => {
      const c = new TestClient(`${s.ws}/socket?authorization=not-a-token`);
      assert.deepEqual(await c.next(), { code: 1003, msg: "登录已过期", data: null });
      assert.equal((await c.closed).code, 4001);
    });
  });

  describe("QR login", () => {
    const scanUrl = async (device: string) => {
      const r = await call<{ url: string }>(s.base, "/auth/scan_login_url", { query: { platform: "pc", device } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.msg, "获取扫一扫登录二维码");
      return r.body.data.url;
    };

    test("anonymous socket → scan_login_url → phone confirms → socket gets 1001 with a working token", async () => {
      const { c, first } = await socket("platform=pc");
      const device = first.data.device;
      const url = await scanUrl(device);
      assert.match(url, new RegExp(`^${s.base}/auth/scan_login/[A-Za-z0-9_-]{32}/\\{userId\\}$`));

      const phone = await login("jhb", "android");
      const confirm = url.replace("{userId}", String(jhb.id));
      const r = await call(s.base, confirm, { method: "POST", headers: { authorization: phone.authorization } });
      assert.deepEqual(r, { status: 200, body: { data: null, code: 200, msg: "确认登录成功" } });

      const f = await c.next<Frame<LoginData>>();
      assert.equal(f.code, 1001);
      assert.equal(f.msg, "扫码登录成功");
      const { authorization, ...rest } = f.data;
      assert.deepEqual(rest, { ...expectedProfile(), deviceVo: { brand: "jhb", device, platform: "pc" } });
      const me = await call<{ user: { id: number } }>(s.base, "/api/left_user_info", { query: { authorization } });
      assert.equal(me.status, 200);
      assert.equal(me.body.data.user.id, jhb.id);
      // the phone's session is untouched
      assert.equal(
        (await call(s.base, "/api/left_user_info", { query: { authorization: phone.authorization } })).status,
        200,
      );

      // the code is single-use
      assertError(
        await call(s.base, confirm, { headers: { authorization: phone.authorization } }),
        400,
        "二维码已过期或已使用",
      );

      // the socket is now the new session's: a newer pc login kicks it
      await login("jhb", "pc");
      assert.deepEqual(await c.next(), { code: 1002, msg: "账号在其他地方登录", data: null });
      assert.equal((await c.closed).code, 4003);
    });

    test("confirming for somebody else's userId is 403; unknown codes 400; no token 401", async () => {
      const { c, first } = await socket("platform=pc");
      const url = await scanUrl(first.data.device);
      const phone = await login("jhb", "ios");
      for (const other of [String(owner.id), "{userId}"]) {
        assertError(
          await call(s.base, url.replace("{userId}", encodeURIComponent(other)), {
            query: { authorization: phone.authorization },
          }),
          403,
          "只能用自己的账号确认登录",
        );
      }
      assertError(await call(s.base, url.replace("{userId}", String(jhb.id))), 401, "未登录");
      assertError(
        await call(s.base, `/auth/scan_login/${randomBytes(24).toString("base64url")}/${jhb.id}`, {
          query: { authorization: phone.authorization },
        }),
        400,
        "二维码无效",
      );
      assert.equal(await c.silent(200), true, "nothing reached the waiting socket");
      c.close();
    });

    test("scan_login_url validates its parameters", async () => {
      assertError(await call(s.base, "/auth/scan_login_url", { query: { platform: "pc" } }), 400, /device/);
      assertError(await call(s.base, "/auth/scan_login_url", { query: { device: "x".repeat(300) } }), 400, /device/);
      assertError(
        await call(s.base, "/auth/scan_login/bad%20code!/1", { query: { authorization: "x" } }),
        400,
        /^参数错误/,
      );
    });
  });

  describe("bad input is always a 4xx envelope", () => {
    test("validation, malformed bodies, repeated parameters, unsupported content types", async () => {
      const cases: Array<[CallOptions, number, RegExp]> = [
        [{ json: {} }, 400, /^参数错误: missing field: account$/],
        [{ json: { account: "jhb" } }, 400, /^参数错误: missing field: password$/],
        [{ json: { account: "", password: "x" } }, 400, /^参数错误: account/],
        [{ json: { account: "a".repeat(65), password: "x" } }, 400, /^参数错误: account/],
        [{ json: { account: { $ne: 1 }, password: "x" } }, 400, /^参数错误: account/],
        [{ json: { account: ["a"], password: "x" } }, 400, /^参数错误: account/],
        [{ json: '{"account": ' }, 400, /JSON/],
        [{ json: "[1,2]" }, 400, /^参数错误/],
        [{ json: '"text"' }, 400, /^参数错误/],
        [{ json: '{"__proto__": {"x": 1}, "account": "a", "password": "b"}' }, 400, /JSON/],
        [{ form: "account=a&account=b&password=x" }, 400, /^参数错误: account/],
        [{ method: "POST", query: { account: "jhb" } }, 400, /password/],
        [{ raw: { type: "text/xml", body: "<a/>" } }, 415, /Content-Type/],
        [{ raw: { type: "text/plain", body: "account=jhb" } }, 400, /^参数错误/],
        [{ json: { account: "jhb", password: "x".repeat(200) } }, 400, /^参数错误: password/],
      ];
      for (const [opts, status, msg] of cases) {
        const r = await call(s.base, "/auth/login", opts);
        assertError(r, status, msg);
      }
      const big = await call(s.base, "/auth/login", {
        json: { account: "jhb", password: PASSWORD, pad: "x".repeat(2 * 1024 * 1024) },
      });
      assertError(big, 413, "请求体过大");
    });

    test("an empty JSON body is no parameters, not an error of its own", async () => {
      const d = await login("jhb", "web");
      const r = await call(s.base, "/auth/logout", {
        raw: { type: "application/json", body: "" },
        query: { authorization: d.authorization },
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.data, d.authorization);
    });
  });
});

describe("enterprise surface — QR expiry, publicUrl and a path prefix", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ "qr.ttlMs": 1000, publicUrl: "https://im.example.com/", "enterprise.prefix": "/ent" });
    await s.app.accounts.createUser({ username: "phone", password: PASSWORD });
  });
  after(() => s.close());

  test("URLs use publicUrl and the prefix; an expired code is 400", async () => {
    const c = new TestClient(`${s.ws}/ent/socket?platform=pc`);
    const first = await c.next<Frame<{ device: string }>>();
    assert.equal(first.code, 1000);
    const r = await call<{ url: string }>(s.base, "/ent/auth/scan_login_url", {
      query: { device: first.data.device },
    });
    assert.equal(r.status, 200);
    assert.match(r.body.data.url, /^https:\/\/im\.example\.com\/ent\/auth\/scan_login\/[A-Za-z0-9_-]+\/\{userId\}$/);
    const path = new URL(r.body.data.url.replace("{userId}", "USER")).pathname;

    const lr = await call<LoginData>(s.base, "/ent/auth/login", {
      json: { account: "phone", password: PASSWORD, platform: "android" },
    });
    assert.equal(lr.status, 200);
    const phone = lr.body.data;
    await sleep(1200); // qr.ttlMs is 1000
    assertError(
      await call(s.base, path.replace("USER", String(phone.user.id)), {
        query: { authorization: phone.authorization },
      }),
      400,
      "二维码已过期或已使用",
    );
    assert.equal(await c.silent(200), true);
    c.close();
    // nothing is served without the prefix
    assert.equal((await fetch(`${s.base}/auth/login`, { method: "POST" })).status, 404);
  });
});
