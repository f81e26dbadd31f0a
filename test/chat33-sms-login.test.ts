import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { post, startServer, type TestServer } from "./helpers/server.ts";

/**
 * `/user/phoneLogin` and `/user/sendCode` (the later chat33 server's SMS login, docs/chat33.md):
 * an existing account logs in with the code the `log` sender wrote to the outbox; the code is
 * single use, burnt after 5 wrong tries; unknown numbers are -2001 and leave the code alone; every
 * try counts against the address's login budget; a new login replaces the device's older session.
 */

type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };
type Login = { id: string; uid: string; account: string; token: string; type: number; username: string };

const PASSWORD = "secret-pass-1";
let seq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;
const DEV = { "FZM-DEVICE": "Android" };

describe("chat33 — login by SMS code (/user/phoneLogin)", () => {
  let s: TestServer;
  const call = <T = Record<string, unknown>>(path: string, body: unknown, headers: Record<string, string> = DEV) =>
    post<Env<T>>(`${s.base}${path}`, body, headers);
  const lastCode = async (mobile: string): Promise<string> => {
    const [entry] = await s.app.storage.sms.outboxList(mobile, 1);
    assert.ok(entry, `no SMS code for ${mobile}`);
    return entry.code;
  };
  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

  before(async () => {
    // a small per-address budget, so the limit is reached within the test
    s = await startServer({ "accounts.loginFailuresPerAddress": 12 });
  });
  after(async () => {
    await s?.close();
  });

  test("an existing account logs in with the code; the token works; the code is single use", async () => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD });
    assert.equal((await call("/send/sms", { mobile })).body.result, 0);
    const code = await lastCode(mobile);
    const r = await call<Login>("/user/phoneLogin", { phone: mobile, code });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 0, r.body.message);
    assert.equal(r.body.data.id, String(user.id));
    assert.equal(r.body.data.account, mobile);
    assert.equal(r.body.data.type, 1);
    assert.match(r.body.data.token, /^[\w-]{20,}$/);
    const info = await call<{ id: string }>("/user/tokenLogin", {}, { ...DEV, "FZM-AUTH-TOKEN": r.body.data.token });
    assert.equal(info.body.result, 0);
    assert.equal(info.body.data.id, String(user.id));
    // the same code again: used (-4008)
    const again = await call("/user/phoneLogin", { phone: mobile, code });
    assert.equal(again.body.result, -4008);
  });

  test("the later spellings: /user/sendCode {phone}, Code with a capital C; mobile also accepted", async () => {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    assert.equal((await call("/user/sendCode", { phone: mobile })).body.result, 0);
    const r = await call<Login>("/user/phoneLogin", { mobile, Code: await lastCode(mobile) });
    assert.equal(r.body.result, 0, r.body.message);
    // sendCode shares /send/sms's limits: a second code within 60 s is -1012
    assert.equal((await call("/user/sendCode", { phone: mobile })).body.result, -1012);
  });

  test("a new SMS login replaces the older session of the same device type", async () => {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    const first = await call<Login>("/user/pwdLogin", { mobile, password: PASSWORD });
    assert.equal(first.body.result, 0);
    await call("/send/sms", { mobile });
    const r = await call<Login>("/user/phoneLogin", { phone: mobile, code: await lastCode(mobile) });
    assert.equal(r.body.result, 0);
    const old = await call("/user/tokenLogin", {}, { ...DEV, "FZM-AUTH-TOKEN": first.body.data.token });
    assert.equal(old.body.result, -1007, "replaced by the newer Android login");
  });

  test("wrong codes: -4007, burnt after 5 (-4008, even the right one); unknown number -2001 keeps its code", async () => {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    await call("/send/sms", { mobile });
    const code = await lastCode(mobile);
    for (let i = 0; i < 4; i++)
      assert.equal((await call("/user/phoneLogin", { phone: mobile, code: wrong(code) })).body.result, -4007);
    assert.equal((await call("/user/phoneLogin", { phone: mobile, code: wrong(code) })).body.result, -4008);
    assert.equal((await call("/user/phoneLogin", { phone: mobile, code })).body.result, -4008, "burnt");

    // a number nobody registered: -2001; its code (sent for a sign-up) still registers afterwards
    const stranger = newMobile();
    await call("/send/sms", { mobile: stranger });
    const scode = await lastCode(stranger);
    assert.equal((await call("/user/phoneLogin", { phone: stranger, code: scode })).body.result, -2001);
    const reg = await call("/user/register", { mobile: stranger, password: PASSWORD, captcha: scode });
    assert.equal(reg.body.result, 0, "the code was not used up by the failed login");
  });

  test("validation: no device -1006, bad mobile -1001, missing phone or code -1002, never a 500", async () => {
    const mobile = newMobile();
    const noDevice = await call("/user/phoneLogin", { phone: mobile, code: "123456" }, {});
    assert.equal(noDevice.body.result, -1006);
    for (const [body, code] of [
      [{ phone: "12345", code: "123456" }, -1001],
      [{ phone: mobile }, -1002],
      [{ code: "123456" }, -1002],
      [{ phone: mobile, code: "x".repeat(17) }, -1001],
      [{ phone: 13_500_000_000, code: "123456" }, -1001],
    ] as const) {
      const r = await call("/user/phoneLogin", body);
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.equal(r.body.result, code, JSON.stringify(body));
    }
    assert.equal((await call("/user/sendCode", {})).body.result, -1002);
  });

  test("every try counts against the address's login budget; a right code is taken back", async () => {
    // The budget is 12 per window for this address. Before this test it was charged 8 times:
    // the reused code (1), the wrong and burnt codes (6) and the unknown number (1); the four
    // successful logins were taken back (else it would already be at 12). Validation failures
    // never reach the core. So 4 more tries pass and the 5th is refused.
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    await call("/send/sms", { mobile });
    let limited = 0;
    let tries = 0;
    while (tries < 20) {
      tries++;
      const r = await call("/user/phoneLogin", { phone: newMobile(), code: "000000" });
      if (r.body.result === -1012) {
        limited = tries;
        break;
      }
      assert.equal(r.body.result, -2001);
    }
    assert.equal(limited, 5, `limited after ${tries} tries`);
    // from this address even the right code is refused now (the budget is per address)
    const r = await call("/user/phoneLogin", { phone: mobile, code: await lastCode(mobile) });
    assert.equal(r.body.result, -1012);
  });
});
