import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppError, type Reason } from "../src/core/errors.ts";
import type { User } from "../src/ports/storage.ts";
import { fromAppError } from "../src/surfaces/chat33/envelope.ts";
import { applyAliases } from "../src/surfaces/chat33/http.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";

type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };
type LoginData = {
  account: string;
  avatar: string;
  id: string;
  uid: string;
  user_level: number;
  username: string;
  verified: number;
  token?: string;
};

const PASSWORD = "secret-pass-1";
const OK = { result: 0, message: "操作成功" };
const LOGIN_KEYS = ["account", "avatar", "id", "uid", "user_level", "username", "verified"].sort();

let mobileSeq = 0;
/** A fresh 11-digit mobile for each use (each test server has its own storage anyway). */
const newMobile = () => `139${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

/** FZM headers: token (optional) and device (default iOS; null = no header). */
const fzm = (token?: string, device: string | null = "iOS"): Record<string, string> => ({
  ...(token ? { "FZM-AUTH-TOKEN": token } : {}),
  ...(device === null ? {} : { "FZM-DEVICE": device }),
});

describe("chat33 surface — accounts (seed 002)", () => {
  let s: TestServer;
  const call = <T = Record<string, unknown>>(path: string, body: unknown, headers: Record<string, string> = {}) =>
    post<Env<T>>(`${s.base}${path}`, body, headers);

  /** Creates a user through the core and logs it in through the surface. */
  const userWithToken = async (
    extra: Partial<Parameters<TestServer["app"]["accounts"]["createUser"]>[0]> = {},
    device = "iOS",
  ): Promise<{ user: User; token: string; mobile: string }> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, ...extra });
    const r = await call<LoginData>("/user/pwdLogin", { mobile, password: PASSWORD }, fzm(undefined, device));
    assert.equal(r.body.result, 0, r.body.message);
    return { user, token: r.body.data.token as string, mobile };
  };

  const lastCode = async (mobile: string): Promise<string> => {
    const [entry] = await s.app.storage.sms.outboxList(mobile, 1);
    assert.ok(entry, `no SMS code was sent to ${mobile}`);
    return entry.code;
  };

  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  describe("HTTP rules", () => {
    test("non-POST methods are HTTP 405 with the envelope and Allow: POST", async () => {
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const res = await fetch(`${s.base}/user/pwdLogin`, { method });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "POST");
        const body = (await res.json()) as Env;
        assert.equal(body.result, -1001);
        assert.deepEqual(body.data, {});
      }
    });

    test("malformed JSON is HTTP 400 with result -1001", async () => {
      const r = await call("/user/pwdLogin", '{"mobile": ', fzm());
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { result: -1001, message: "参数错误: 请求体不是合法的JSON", data: {} });
    });

    test("a body that is not a JSON object is -1001", async () => {
      for (const body of ["[]", '"x"', "null", "5"]) {
        const r = await call("/user/isreg", body);
        assert.equal(r.status, 200);
        assert.equal(r.body.result, -1001, body);
      }
    });

    test("an empty body counts as {} (routes without parameters need none)", async () => {
      const { token } = await userWithToken();
      const res = await fetch(`${s.base}/user/tokenLogin`, { method: "POST", headers: fzm(token) });
      const body = (await res.json()) as Env<LoginData>;
      assert.equal(res.status, 200);
      assert.equal(body.result, 0);
      const missing = await fetch(`${s.base}/user/isreg`, { method: "POST" });
      assert.deepEqual(await missing.json(), { result: -1002, message: "缺少参数: mobile", data: {} });
    });

    test("the body is JSON whatever the Content-Type says; unknown fields are ignored", async () => {
      const res = await fetch(`${s.base}/user/isreg`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ mobile: newMobile(), extra: true }),
      });
      assert.deepEqual(await res.json(), { ...OK, data: { zb_uid: "0" } });
    });

    test("an oversized body is HTTP 413 with result -1001", async () => {
      const r = await call("/user/isreg", { mobile: "1".repeat(2 * 1024 * 1024) });
      assert.equal(r.status, 413);
      assert.equal(r.body.result, -1001);
    });

    test("the documented typo rootId is read as roomId", () => {
      const body: Record<string, unknown> = { rootId: "7", x: 1 };
      applyAliases(body);
      assert.deepEqual(body, { roomId: "7", x: 1 });
      const both: Record<string, unknown> = { rootId: "7", roomId: "8" };
      applyAliases(both);
      assert.deepEqual(both, { roomId: "8" });
    });
  });

  describe("error table", () => {
    test("core reasons map to the document's unified codes", () => {
      const cases: Array<[AppError, number]> = [
        [new AppError("invalid_argument", "missing_parameter"), -1002],
        [new AppError("invalid_argument", "bad_mobile"), -1001],
        [new AppError("unauthenticated", "missing_token"), -1003],
        [new AppError("unauthenticated", "token_invalid"), -1004],
        [new AppError("unauthenticated", "token_expired"), -1004],
        [new AppError("unauthenticated", "session_revoked"), -1004],
        [new AppError("unauthenticated", "session_replaced"), -1007],
        [new AppError("invalid_argument", "bad_device"), -1006],
        [new AppError("rate_limited", "login_limited"), -1012],
        [new AppError("rate_limited", "sms_too_soon"), -1012],
        [new AppError("rate_limited", "sms_daily_cap"), -1012],
        [new AppError("rate_limited", "sms_ip_limit"), -1012],
        [new AppError("not_found", "user_not_found"), -2001],
        [new AppError("conflict", "user_exists"), -2002],
        [new AppError("forbidden", "user_disabled"), -3000],
        [new AppError("forbidden", "not_admin"), -3000],
        [new AppError("invalid_argument", "captcha_wrong"), -4007],
        [new AppError("invalid_argument", "captcha_expired"), -4008],
        [new AppError("unavailable", "sms_failed"), -8000],
        [new AppError("invalid_argument", "something_new" as Reason), -1001],
        [new AppError("rate_limited", "something_new" as Reason), -1012],
      ];
      for (const [err, result] of cases) {
        const { status, body } = fromAppError(err);
        assert.equal(status, 200, err.reason);
        assert.equal(body.result, result, err.reason);
      }
    });

    test("internal errors are -9000 without details; other unavailability is HTTP 503", () => {
      const internal = fromAppError(new AppError("internal", "db_exploded" as Reason, "SELECT … failed at line 3"));
      assert.deepEqual(internal, { status: 500, body: { result: -9000, message: "服务端内部错误", data: {} } });
      const down = fromAppError(new AppError("unavailable", "broker_down" as Reason, "redis is down"));
      assert.equal(down.status, 503);
      assert.equal(down.body.result, -9000);
      assert.doesNotMatch(down.body.message, /redis/);
    });
  });

  describe("/send/sms and /user/register", () => {
    test("send → code in the outbox → register → the pwdLogin shape with a token → password login", async () => {
      const mobile = newMobile();
      const sent = await call("/send/sms", { mobile });
      assert.deepEqual(sent.body, { ...OK, data: {} });
      const code = await lastCode(mobile);
      assert.match(code, /^\d{6}$/);

      const reg = await call<LoginData>("/user/register", { mobile, password: PASSWORD, captcha: code }, fzm());
      assert.equal(reg.body.result, 0, reg.body.message);
      assert.deepEqual(Object.keys(reg.body.data).sort(), [...LOGIN_KEYS, "token"].sort());
      const d = reg.body.data;
      assert.equal(d.account, mobile);
      assert.match(d.id, /^\d+$/);
      assert.equal(typeof d.uid, "string");
      assert.equal(d.verified, 2);
      assert.equal(d.user_level, 1);
      assert.ok(d.token && d.token.length >= 40);

      const me = await call<LoginData>("/user/tokenLogin", {}, fzm(d.token));
      assert.equal(me.body.result, 0);
      assert.equal(me.body.data.id, d.id);

      const login = await call<LoginData>("/user/pwdLogin", { mobile, password: PASSWORD }, fzm(undefined, "Android"));
      assert.equal(login.body.result, 0);
      assert.equal(login.body.data.id, d.id);

      const again = await call("/user/register", { mobile, password: PASSWORD, captcha: code }, fzm());
      assert.equal(again.body.result, -2002);
    });

    test("a second code within 60 s is -1012", async () => {
      const mobile = newMobile();
      assert.equal((await call("/send/sms", { mobile })).body.result, 0);
      const r = await call("/send/sms", { mobile });
      assert.equal(r.body.result, -1012);
      assert.equal(r.status, 200);
    });

    test("wrong codes are -4007; the fifth wrong try burns the code (-4008), even for the right code", async () => {
      const mobile = newMobile();
      await call("/send/sms", { mobile });
      const code = await lastCode(mobile);
      const wrong = code === "000000" ? "111111" : "000000";
      for (let i = 1; i <= 4; i++) {
        const r = await call("/user/register", { mobile, password: PASSWORD, captcha: wrong }, fzm());
        assert.deepEqual(r.body, { result: -4007, message: "验证码不正确", data: {} }, `try ${i}`);
      }
      const fifth = await call("/user/register", { mobile, password: PASSWORD, captcha: wrong }, fzm());
      assert.equal(fifth.body.result, -4008);
      const right = await call("/user/register", { mobile, password: PASSWORD, captcha: code }, fzm());
      assert.deepEqual(right.body, { result: -4008, message: "验证码已经过期或者已使用", data: {} });
      assert.equal(await s.app.storage.users.findByMobile(mobile), null);
    });

    test("a used code cannot be used again (-4008), even once the number is free again", async () => {
      const mobile = newMobile();
      await call("/send/sms", { mobile });
      const code = await lastCode(mobile);
      const reg = await call<LoginData>("/user/register", { mobile, password: PASSWORD, captcha: code }, fzm());
      assert.equal(reg.body.result, 0);
      await s.app.accounts.adminUpdate(Number(reg.body.data.id), { mobile: newMobile() });
      const reuse = await call("/user/register", { mobile, password: PASSWORD, captcha: code }, fzm());
      assert.equal(reuse.body.result, -4008);
    });

    test("register without any code sent is -4008", async () => {
      const r = await call("/user/register", { mobile: newMobile(), password: PASSWORD, captcha: "123456" }, fzm());
      assert.equal(r.body.result, -4008);
    });

    test("bad input: mobile format, types, missing fields, short password, device", async () => {
      assert.equal((await call("/send/sms", { mobile: "12345" })).body.result, -1001);
      assert.equal((await call("/send/sms", { mobile: 13900000000 })).body.result, -1001);
      assert.equal((await call("/send/sms", { mobile: "2390000000a" })).body.result, -1001);
      assert.deepEqual((await call("/send/sms", {})).body, { result: -1002, message: "缺少参数: mobile", data: {} });
      assert.equal((await call("/send/sms", { mobile: "" })).body.result, -1002);

      const mobile = newMobile();
      const base = { mobile, password: PASSWORD, captcha: "123456" };
      assert.equal((await call("/user/register", { mobile, password: PASSWORD }, fzm())).body.result, -1002);
      assert.equal((await call("/user/register", { ...base, captcha: 123456 }, fzm())).body.result, -1001);
      assert.equal((await call("/user/register", { ...base, password: "short" }, fzm())).body.result, -1001);
      assert.equal((await call("/user/register", base, fzm(undefined, null))).body.result, -1006);
      assert.equal((await call("/user/register", base, fzm(undefined, "Symbian"))).body.result, -1006);
    });
  });

  describe("/user/pwdLogin", () => {
    test("answers the documented fields with string ids and verified 1/2", async () => {
      const mobile = newMobile();
      const user = await s.app.accounts.createUser({
        mobile,
        password: PASSWORD,
        nickname: "dafdaf",
        avatar: "https://example.com/a.png",
        verified: true,
      });
      const r = await call<LoginData>("/user/pwdLogin", { mobile, password: PASSWORD }, fzm());
      assert.equal(r.status, 200);
      assert.equal(r.body.result, 0);
      assert.equal(r.body.message, "操作成功");
      const { token, ...rest } = r.body.data;
      assert.deepEqual(rest, {
        account: mobile,
        avatar: "https://example.com/a.png",
        id: String(user.id),
        uid: user.uid,
        user_level: 1,
        username: "dafdaf",
        verified: 1,
      });
      assert.equal(typeof token, "string");
    });

    test("FZM-DEVICE is case-insensitive; missing or unknown is -1006", async () => {
      const mobile = newMobile();
      await s.app.accounts.createUser({ mobile, password: PASSWORD });
      for (const device of ["ios", "WEB", "android", "Pc"]) {
        const r = await call("/user/pwdLogin", { mobile, password: PASSWORD }, fzm(undefined, device));
        assert.equal(r.body.result, 0, device);
      }
      for (const device of [null, "", "Windows", "web2"]) {
        const r = await call("/user/pwdLogin", { mobile, password: PASSWORD }, fzm(undefined, device));
        assert.deepEqual(r.body, { result: -1006, message: "未知的设备类型", data: {} }, String(device));
      }
    });

    test("wrong password -2004, unknown account -2001, missing/wrong-typed fields -1002/-1001", async () => {
      const mobile = newMobile();
      await s.app.accounts.createUser({ mobile, password: PASSWORD });
      const wrong = await call("/user/pwdLogin", { mobile, password: "not-the-password" }, fzm());
      assert.deepEqual(wrong.body, { result: -2004, message: "账号或密码错误", data: {} });
      assert.equal(
        (await call("/user/pwdLogin", { mobile: newMobile(), password: PASSWORD }, fzm())).body.result,
        -2001,
      );
      assert.equal((await call("/user/pwdLogin", { mobile }, fzm())).body.result, -1002);
      assert.equal((await call("/user/pwdLogin", { mobile, password: "" }, fzm())).body.result, -1002);
      assert.equal((await call("/user/pwdLogin", { mobile, password: 123456 }, fzm())).body.result, -1001);
      assert.equal(
        (await call("/user/pwdLogin", { mobile: 13900000000, password: PASSWORD }, fzm())).body.result,
        -1001,
      );
    });

    test("an account created with only a username logs in with it in the mobile field", async () => {
      const user = await s.app.accounts.createUser({ username: `op_${mobileSeq++}`, password: PASSWORD });
      const r = await call<LoginData>("/user/pwdLogin", { mobile: user.username, password: PASSWORD }, fzm());
      assert.equal(r.body.result, 0);
      assert.equal(r.body.data.account, user.username);
    });

    test("a disabled user is refused (-3000) and its old token ends (-1004)", async () => {
      const { user, token, mobile } = await userWithToken();
      await s.app.accounts.adminUpdate(user.id, { disabled: true });
      assert.equal((await call("/user/tokenLogin", {}, fzm(token))).body.result, -1004);
      const r = await call("/user/pwdLogin", { mobile, password: PASSWORD }, fzm());
      assert.equal(r.body.result, -3000);
    });
  });

  describe("/user/tokenLogin and sessions", () => {
    test("returns the login fields without a token and sets the FZM-AUTH-TOKEN cookie", async () => {
      const { user, token } = await userWithToken({ nickname: "昵称" });
      const res = await fetch(`${s.base}/user/tokenLogin`, {
        method: "POST",
        headers: { "content-type": "application/json", ...fzm(token) },
        body: "{}",
      });
      const body = (await res.json()) as Env<LoginData>;
      assert.equal(body.result, 0);
      assert.deepEqual(Object.keys(body.data).sort(), LOGIN_KEYS);
      assert.equal(body.data.id, String(user.id));
      assert.equal(body.data.username, "昵称");
      const cookie = res.headers.get("set-cookie") ?? "";
      assert.ok(cookie.startsWith(`FZM-AUTH-TOKEN=${encodeURIComponent(token)};`), cookie);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      assert.match(cookie, /; Path=\//);
      assert.match(cookie, /; Max-Age=\d+/);
    });

    test("the cookie authenticates together with FZM-DEVICE, never alone", async () => {
      const { user, token } = await userWithToken();
      const cookie = { cookie: `other=1; FZM-AUTH-TOKEN=${encodeURIComponent(token)}` };
      const r = await call<LoginData>("/user/tokenLogin", {}, { ...cookie, "FZM-DEVICE": "Web" });
      assert.equal(r.body.result, 0);
      assert.equal(r.body.data.id, String(user.id));
      const info = await call("/user/userInfo", { id: String(user.id) }, { ...cookie, "FZM-DEVICE": "web" });
      assert.equal(info.body.result, 0);
      assert.equal((await call("/user/tokenLogin", {}, cookie)).body.result, -1006);
    });

    test("missing token -1003, unknown token -1004, unknown device -1006", async () => {
      const { token } = await userWithToken();
      assert.deepEqual((await call("/user/tokenLogin", {}, fzm())).body, {
        result: -1003,
        message: "Session错误",
        data: {},
      });
      assert.deepEqual((await call("/user/tokenLogin", {}, fzm("no-such-token"))).body, {
        result: -1004,
        message: "登录过期",
        data: {},
      });
      assert.equal((await call("/user/tokenLogin", {}, fzm(token, "BlackBerry"))).body.result, -1006);
      assert.equal((await call("/user/tokenLogin", {}, fzm(token, null))).body.result, -1006);
      assert.equal(
        (await call("/user/tokenLogin", {}, { "FZM-UUID": "guest-mac", "FZM-DEVICE": "Web" })).body.result,
        -1003,
      );
    });

    test("a newer login on the same device type ends the older session: -1007 everywhere", async () => {
      const { user, token: old, mobile } = await userWithToken({}, "iOS");
      const android = await call<LoginData>(
        "/user/pwdLogin",
        { mobile, password: PASSWORD },
        fzm(undefined, "Android"),
      );
      const newer = await call<LoginData>("/user/pwdLogin", { mobile, password: PASSWORD }, fzm(undefined, "ios"));
      assert.equal(newer.body.result, 0);
      const id = String(user.id);
      const refused = [
        await call("/user/tokenLogin", {}, fzm(old)),
        await call("/user/userInfo", { id }, fzm(old)),
        await call("/user/editNickname", { nickname: "x" }, fzm(old)),
        await call("/user/editAvatar", { avatar: "https://example.com/x.png" }, fzm(old)),
        await call("/permission/permissionInfo", {}, fzm(old)),
      ];
      for (const r of refused) assert.deepEqual(r.body, { result: -1007, message: "账号已经在其他终端登录", data: {} });
      assert.equal((await call("/user/tokenLogin", {}, fzm(newer.body.data.token))).body.result, 0);
      // another device type keeps its session (multiLogin per-device)
      assert.equal((await call("/user/tokenLogin", {}, fzm(android.body.data.token, "Android"))).body.result, 0);
      // the cookie of the old session is refused the same way
      const viaCookie = await call("/user/tokenLogin", {}, { cookie: `FZM-AUTH-TOKEN=${old}`, "FZM-DEVICE": "iOS" });
      assert.equal(viaCookie.body.result, -1007);
    });
  });

  describe("/user/userInfo visibility", () => {
    let viewer: { user: User; token: string };
    let colleague: User;
    let stranger: User;
    let adminUser: { user: User; token: string };

    before(async () => {
      const acme = await s.app.org.createCompany({ text: "Acme" });
      const other = await s.app.org.createCompany({ text: "Other" });
      viewer = await userWithToken({ nickname: "viewer", companyId: acme.id, position: "开发" });
      colleague = await s.app.accounts.createUser({
        mobile: newMobile(),
        password: PASSWORD,
        nickname: "colleague",
        sex: 2,
        avatar: "https://example.com/c.png",
        position: "产品",
        email: "c@example.com",
        companyId: acme.id,
      });
      stranger = await s.app.accounts.createUser({
        mobile: newMobile(),
        password: PASSWORD,
        nickname: "stranger",
        sex: 1,
        position: "销售",
        companyId: other.id,
      });
      adminUser = await userWithToken({ nickname: "admin", isAdmin: true });
    });

    const info = async (token: string, id: number) => {
      const r = await call("/user/userInfo", { id: String(id) }, fzm(token));
      assert.equal(r.body.result, 0, r.body.message);
      return r.body.data;
    };

    test("a stranger sees only id, sex, name, avatar and isFriend 2", async () => {
      assert.deepEqual(await info(viewer.token, stranger.id), {
        id: String(stranger.id),
        sex: 1,
        name: "stranger",
        avatar: "",
        isFriend: 2,
      });
    });

    test("a colleague of the same company also sees the position", async () => {
      assert.deepEqual(await info(viewer.token, colleague.id), {
        id: String(colleague.id),
        sex: 2,
        name: "colleague",
        avatar: "https://example.com/c.png",
        isFriend: 2,
        position: "产品",
      });
    });

    test("a friend sees isFriend 1 and the friend-only fields with the viewer's own settings", async () => {
      const me = await s.app.storage.users.findById(viewer.user.id);
      const them = await s.app.storage.users.findById(stranger.id);
      assert.ok(me && them);
      await s.app.friends.request(me, them.id, { remark: "老王" });
      await s.app.friends.respond(them, me.id, true);
      await s.app.friends.setOptions(me, them.id, { stickyOnTop: true });
      const d = await info(viewer.token, stranger.id);
      const since = (await s.app.friends.friendship(me.id, them.id))?.addedAt;
      assert.deepEqual(d, {
        id: String(stranger.id),
        sex: 1,
        name: "stranger",
        avatar: "",
        isFriend: 1,
        noDisturbing: 2,
        stickyOnTop: 1,
        addTime: since,
        remark: "老王",
      });
      await s.app.friends.remove(me, them.id);
      assert.equal((await info(viewer.token, stranger.id)).isFriend, 2);
    });

    test("two users without a company are not colleagues", async () => {
      const a = await userWithToken({ position: "A" });
      const b = await s.app.accounts.createUser({ mobile: newMobile(), password: PASSWORD, position: "B" });
      assert.equal("position" in (await info(a.token, b.id)), false);
    });

    test("an admin user sees the admin-only fields", async () => {
      const d = await info(adminUser.token, colleague.id);
      assert.deepEqual(d, {
        id: String(colleague.id),
        sex: 2,
        name: "colleague",
        avatar: "https://example.com/c.png",
        isFriend: 2,
        com_id: String(colleague.companyId),
        uid: colleague.uid,
        account: colleague.mobile,
        phone: colleague.mobile,
        email: "c@example.com",
        verified: 2,
        userLevel: 1,
        description: "",
      });
    });

    test("oneself: every field including position and the admin-only ones", async () => {
      const d = await info(viewer.token, viewer.user.id);
      assert.equal(d.position, "开发");
      assert.equal(d.uid, viewer.user.uid);
      assert.equal(d.account, viewer.user.mobile);
      assert.equal(d.com_id, String(viewer.user.companyId));
      assert.equal(d.isFriend, 2);
      assert.equal("remark" in d, false);
    });

    test("unknown ids are -2001; wrong type -1001; missing -1002; needs a session", async () => {
      for (const id of ["999999999", "abc", "0", "-1", "1e3"]) {
        const r = await call("/user/userInfo", { id }, fzm(viewer.token));
        assert.deepEqual(r.body, { result: -2001, message: "用户不存在", data: {} }, id);
      }
      assert.equal((await call("/user/userInfo", { id: stranger.id }, fzm(viewer.token))).body.result, -1001);
      assert.equal((await call("/user/userInfo", {}, fzm(viewer.token))).body.result, -1002);
      assert.equal((await call("/user/userInfo", { id: String(stranger.id) }, fzm())).body.result, -1003);
    });
  });

  describe("/user/editAvatar and /user/editNickname", () => {
    test("edits are stored and visible in tokenLogin", async () => {
      const { token } = await userWithToken();
      assert.deepEqual((await call("/user/editAvatar", { avatar: "https://cdn.example.com/a.jpg" }, fzm(token))).body, {
        ...OK,
        data: {},
      });
      assert.deepEqual((await call("/user/editNickname", { nickname: "  新名字  " }, fzm(token))).body, {
        ...OK,
        data: {},
      });
      const me = await call<LoginData>("/user/tokenLogin", {}, fzm(token));
      assert.equal(me.body.data.avatar, "https://cdn.example.com/a.jpg");
      assert.equal(me.body.data.username, "新名字");
      assert.equal((await call("/user/editAvatar", { avatar: "/files/ab/cd.png" }, fzm(token))).body.result, 0);
    });

    test("bad avatars and nicknames are refused without changing anything", async () => {
      const { user, token } = await userWithToken({ nickname: "keep" });
      for (const avatar of ["javascript:alert(1)", "ftp://x/y", "https://x/a b", `https://x/${"a".repeat(1100)}`]) {
        const r = await call("/user/editAvatar", { avatar }, fzm(token));
        assert.equal(r.body.result, -1001, avatar.slice(0, 30));
      }
      assert.equal((await call("/user/editAvatar", { avatar: 5 }, fzm(token))).body.result, -1001);
      assert.equal((await call("/user/editAvatar", {}, fzm(token))).body.result, -1002);
      for (const nickname of ["   ", "x".repeat(33), "a\u0000b"]) {
        const r = await call("/user/editNickname", { nickname }, fzm(token));
        assert.equal(r.body.result, -1001, JSON.stringify(nickname));
      }
      assert.equal((await call("/user/editNickname", { nickname: "字".repeat(32) }, fzm(token))).body.result, 0);
      assert.equal((await call("/user/editNickname", { nickname: "" }, fzm(token))).body.result, -1002);
      assert.equal((await call("/user/editNickname", { nickname: ["x"] }, fzm(token))).body.result, -1001);
      assert.equal((await call("/user/editNickname", { nickname: "x" }, fzm())).body.result, -1003);
      const stored = await s.app.storage.users.findById(user.id);
      assert.equal(stored?.nickname, "字".repeat(32));
      assert.equal(stored?.avatar, "");
    });
  });

  describe("/user/isreg", () => {
    test('the uid of a registered mobile, "0" otherwise', async () => {
      const { user, mobile } = await userWithToken();
      assert.deepEqual((await call("/user/isreg", { mobile })).body, { ...OK, data: { zb_uid: user.uid } });
      assert.deepEqual((await call("/user/isreg", { mobile: newMobile() })).body, { ...OK, data: { zb_uid: "0" } });
      assert.equal((await call("/user/isreg", { mobile: "1390000" })).body.result, -1001);
    });
  });

  describe("/user/muted", () => {
    test("an admin user mutes and unmutes", async () => {
      const adminUser = await userWithToken({ isAdmin: true });
      const { user: target } = await userWithToken();
      const r = await call("/user/muted", { id: String(target.id), muted_time: 3_600_000 }, fzm(adminUser.token));
      assert.deepEqual(r.body, { ...OK, data: {} });
      const muted = await s.app.storage.users.findById(target.id);
      assert.ok((muted?.mutedUntil ?? 0) > Date.now());
      await call("/user/muted", { id: String(target.id), muted_time: 0 }, fzm(adminUser.token));
      assert.equal((await s.app.storage.users.findById(target.id))?.mutedUntil, 0);
    });

    test("the admin token (Authorization: Bearer) mutes without a user session", async () => {
      const { user: target } = await userWithToken();
      const r = await call(
        "/user/muted",
        { id: String(target.id), muted_time: 60_000 },
        { authorization: "Bearer test-admin-token" },
      );
      assert.equal(r.body.result, 0);
      assert.ok(((await s.app.storage.users.findById(target.id))?.mutedUntil ?? 0) > 0);
    });

    test("normal users and wrong admin tokens get -3000; no credentials -1003", async () => {
      const normal = await userWithToken();
      const { user: target } = await userWithToken();
      const body = { id: String(target.id), muted_time: 60_000 };
      assert.deepEqual((await call("/user/muted", body, fzm(normal.token))).body, {
        result: -3000,
        message: "权限不足",
        data: {},
      });
      assert.equal((await call("/user/muted", body, { authorization: "Bearer wrong" })).body.result, -3000);
      assert.equal(
        (await call("/user/muted", body, { authorization: "Bearer wrong", ...fzm(normal.token) })).body.result,
        -3000,
      );
      assert.equal((await call("/user/muted", body, fzm())).body.result, -1003);
      assert.equal((await s.app.storage.users.findById(target.id))?.mutedUntil, 0);
    });

    test("bad input: unknown user -2001, negative or fractional time -1001, missing -1002", async () => {
      const admin = { authorization: "Bearer test-admin-token" };
      assert.equal((await call("/user/muted", { id: "987654321", muted_time: 1000 }, admin)).body.result, -2001);
      assert.equal((await call("/user/muted", { id: "1", muted_time: -1 }, admin)).body.result, -1001);
      assert.equal((await call("/user/muted", { id: "1", muted_time: 1.5 }, admin)).body.result, -1001);
      assert.equal((await call("/user/muted", { id: "1", muted_time: "1000" }, admin)).body.result, -1001);
      assert.equal((await call("/user/muted", { id: "1" }, admin)).body.result, -1002);
    });
  });

  describe("/permission/permissionInfo", () => {
    test("admins may send system messages; others have no permissions", async () => {
      const adminUser = await userWithToken({ isAdmin: true });
      const normal = await userWithToken();
      assert.deepEqual((await call("/permission/permissionInfo", {}, fzm(adminUser.token))).body, {
        ...OK,
        data: { permissionList: [{ permissionId: 1, permissionName: "发系统消息" }] },
      });
      assert.deepEqual((await call("/permission/permissionInfo", {}, fzm(normal.token))).body, {
        ...OK,
        data: { permissionList: [] },
      });
      assert.equal((await call("/permission/permissionInfo", {}, fzm())).body.result, -1003);
    });
  });
});

describe("chat33 surface — rate limits", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ "accounts.loginFailures": 3 });
  });
  after(() => s.close());
  const call = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    post<Env>(`${s.base}${path}`, body, headers);

  test("after too many wrong passwords even the right one is -1012", async () => {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    for (let i = 0; i < 3; i++)
      assert.equal((await call("/user/pwdLogin", { mobile, password: "wrong-password" }, fzm())).body.result, -2004);
    const r = await call("/user/pwdLogin", { mobile, password: PASSWORD }, fzm());
    assert.equal(r.body.result, -1012);
    assert.equal(r.status, 200);
  });

  test("/user/isreg is limited per client IP", async () => {
    const results: number[] = [];
    for (let i = 0; i < 31; i++) results.push((await call("/user/isreg", { mobile: newMobile() })).body.result);
    assert.deepEqual(results.slice(0, 30), Array(30).fill(0));
    assert.equal(results[30], -1012);
  });
});
