import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { redactUrl } from "../src/http/redact.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Issue 10 item 2: with request logging on, no secret reaches the log — on every surface. Logs in
 * on chat33, enterprise, admin and the gateway (with a secret) into a captured stream and greps it.
 */

const SECRETS = {
  password: "Pw-ch4t33-s3cret",
  entPassword: "Pw-ent-s3cret-99",
  gatewaySecret: "gw-s3cret-value-123",
  adminToken: "adm-t0ken-never-logged",
  captcha: "918273",
  qrCode: "QRgroupJ0INc0de4242",
  qrLogin: "QRl0ginC0de777",
};

describe("secrets never reach the log (requestLog on)", () => {
  let s: TestServer;
  let lines: string[] = [];
  const text = () => lines.join("");
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    s = await startServer(
      { requestLog: true, logLevel: "info", adminToken: SECRETS.adminToken },
      { logger: pino({ level: "info" }, sink) },
    );
    lines = [];
  });
  after(() => s.close());

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${s.base}${path}`, init).then(async (r) => ({ status: r.status, body: await r.text() }));
  const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

  test("chat33, enterprise, admin and gateway logins and token uses leave no secret in any line", async () => {
    await s.app.accounts.createUser({ mobile: "13700001111", password: SECRETS.password });
    await s.app.accounts.createUser({ username: "alice", password: SECRETS.entPassword });

    // chat33: password in the body (and, wrongly, in the query), token in FZM-AUTH-TOKEN and the cookie
    const c33 = await call(
      `/user/pwdLogin?password=${SECRETS.password}`,
      json({ mobile: "13700001111", password: SECRETS.password }, { "FZM-DEVICE": "iOS" }),
    );
    const c33Token = JSON.parse(c33.body).data.token as string;
    assert.ok(c33Token);
    await call("/user/userInfo", json({}, { "FZM-AUTH-TOKEN": c33Token, Cookie: `FZM-AUTH-TOKEN=${c33Token}` }));
    await call(`/user/register?captcha=${SECRETS.captcha}&code=${SECRETS.captcha}`, json({ mobile: "13700002222" }));

    // enterprise: the seed's own example puts the password in the query; the token too
    const ent = await call(`/auth/login?account=alice&password=${SECRETS.entPassword}&platform=windows`, {
      method: "POST",
    });
    const entToken = JSON.parse(ent.body).data.authorization as string;
    assert.ok(entToken);
    await call(`/api/left_user_info?authorization=${encodeURIComponent(entToken)}`);
    await call("/api/left_user_info", { headers: { authorization: entToken } });

    // admin: the bearer token (header), and once in a query by mistake
    const admin = await call("/admin/api/users", { headers: { authorization: `Bearer ${SECRETS.adminToken}` } });
    assert.equal(admin.status, 200);
    await call(`/admin/api/users?token=${SECRETS.adminToken}`);

    // gateway: a system with a secret
    const reg = await call("/api/register", json({ systemId: "logsys", secret: SECRETS.gatewaySecret }));
    assert.equal(reg.status, 200);
    await call(
      `/api/online_list?secret=${SECRETS.gatewaySecret}`,
      json({}, { SystemId: "logsys", SystemSecret: SECRETS.gatewaySecret }),
    );

    // an unknown route with a secret in its query, and a malformed JSON body holding a password
    await call(`/nowhere?password=${SECRETS.password}`);
    // one-time QR codes live in the path: a group-join QR and a QR login, both failing (no login)
    await call(`/auth/cnbi_scan/${SECRETS.qrCode}/1?authorization=x`);
    await call(`/auth/scan_login/${SECRETS.qrLogin}/1`, { method: "POST" });
    await call("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"account":"alice","password":"${SECRETS.entPassword}"`,
    });

    // something logging headers and bodies directly is masked too
    s.app.log.info(
      { req: { headers: { authorization: `Bearer ${SECRETS.adminToken}`, "fzm-auth-token": c33Token } } },
      "direct",
    );
    s.app.log.info({ body: { password: SECRETS.password, captcha: SECRETS.captcha } }, "direct body");

    await new Promise((r) => setTimeout(r, 50));
    const log = text();
    // the requests were logged …
    assert.match(log, /"url":"\/auth\/login\?account=alice&password=\[REDACTED\]&platform=windows"/);
    assert.match(log, /"url":"\/api\/left_user_info\?authorization=\[REDACTED\]"/);
    assert.match(log, /"url":"\/auth\/cnbi_scan\/\[REDACTED\]\/1\?authorization=\[REDACTED\]"/);
    assert.match(log, /"url":"\/auth\/scan_login\/\[REDACTED\]\/1"/);
    assert.match(log, /Route GET:\/nowhere\?password=\[REDACTED\] not found/);
    assert.match(log, /"direct"/);
    // … and no secret appears anywhere
    for (const secret of [...Object.values(SECRETS), c33Token, entToken, encodeURIComponent(entToken)])
      assert.ok(!log.includes(secret), `log contains a secret: ${secret}\n${log}`);
  });
});

describe("redactUrl", () => {
  test("masks secret parameters by name, keeps the others byte for byte", () => {
    assert.equal(redactUrl("/a"), "/a");
    assert.equal(redactUrl("/a?x=1&Password=2&y=%20"), "/a?x=1&Password=[REDACTED]&y=%20");
    assert.equal(redactUrl("/a?pass%77ord=2&token"), "/a?pass%77ord=[REDACTED]&token=[REDACTED]");
    assert.equal(
      redactUrl("/a?authorization=t&key=k&secret=s&captcha=c&code=1#f"),
      "/a?authorization=[REDACTED]&key=[REDACTED]&secret=[REDACTED]&captcha=[REDACTED]&code=[REDACTED]#f",
    );
    assert.equal(redactUrl("/a?%E0%A4%A=1"), "/a?%E0%A4%A=1");
    assert.equal(
      redactUrl("/ent/auth/cnbi_scan/abc/7?x=/auth/cnbi_scan/k"),
      "/ent/auth/cnbi_scan/[REDACTED]/7?x=/auth/cnbi_scan/k",
    );
    assert.equal(redactUrl("/auth/SCAN_LOGIN/abc/7"), "/auth/SCAN_LOGIN/[REDACTED]/7");
    assert.equal(redactUrl("/auth/scan_login_url?code=1"), "/auth/scan_login_url?code=[REDACTED]");
  });
});
