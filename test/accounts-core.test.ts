import assert from "node:assert/strict";
import http from "node:http";
import { describe, test } from "node:test";
import { hashPassword, needsRehash, verifyPassword } from "../src/core/accounts/password.ts";
import { AppError } from "../src/core/errors.ts";
import { startServer } from "./helpers/server.ts";

const reason = (r: string) => (e: unknown) => e instanceof AppError && e.reason === r;

describe("passwords", () => {
  test("scrypt hashes are salted, self-describing and verify", async () => {
    const a = await hashPassword("secret-1", { logN: 10, r: 8, p: 1 });
    const b = await hashPassword("secret-1", { logN: 10, r: 8, p: 1 });
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$10\$8\$1\$/);
    assert.equal(await verifyPassword("secret-1", a), true);
    assert.equal(await verifyPassword("secret-2", a), false);
    assert.equal(await verifyPassword("x", "garbage"), false);
    assert.equal(needsRehash(a, { logN: 10, r: 8, p: 1 }), false);
    assert.equal(needsRehash(a, { logN: 17, r: 8, p: 1 }), true);
  });

  test("the production work factor (N=2^17) runs within Node's raised maxmem", async () => {
    const h = await hashPassword("pw-123456", { logN: 17, r: 8, p: 1 });
    assert.equal(await verifyPassword("pw-123456", h), true);
  });
});

describe("account service", () => {
  test("per-device policy: a newer login on the same device type ends the older; other types stay", async () => {
    const s = await startServer();
    try {
      const { accounts } = s.app;
      const user = await accounts.createUser({ mobile: "13700000001", password: "pass-123" });
      const web1 = await accounts.passwordLogin({ mobile: "13700000001" }, "pass-123", { device: "web" });
      const pc = await accounts.passwordLogin({ mobile: "13700000001" }, "pass-123", { device: "pc" });
      const web2 = await accounts.passwordLogin({ mobile: "13700000001" }, "pass-123", { device: "web" });
      await assert.rejects(accounts.authenticate(web1.token), reason("session_replaced"));
      assert.equal((await accounts.authenticate(pc.token)).user.id, user.id);
      assert.equal((await accounts.authenticate(web2.token)).session.device, "web");
      await accounts.logout(web2.session);
      await assert.rejects(accounts.authenticate(web2.token), reason("session_revoked"));
      await assert.rejects(accounts.authenticate("nope"), reason("token_invalid"));
      await assert.rejects(accounts.authenticate(undefined), reason("missing_token"));
    } finally {
      await s.close();
    }
  });

  test("single policy ends every older session; multi keeps them", async () => {
    for (const [policy, survives] of [
      ["single", false],
      ["multi", true],
    ] as const) {
      const s = await startServer({ "accounts.multiLogin": policy });
      try {
        const { accounts } = s.app;
        await accounts.createUser({ username: "bob", password: "pass-123" });
        const first = await accounts.passwordLogin({ username: "bob" }, "pass-123", { device: "android" });
        await accounts.passwordLogin({ username: "bob" }, "pass-123", { device: "pc" });
        if (survives) assert.ok(await accounts.authenticate(first.token));
        else await assert.rejects(accounts.authenticate(first.token), reason("session_replaced"));
      } finally {
        await s.close();
      }
    }
  });

  test("login failures are limited per account, even for the right password afterwards; disabled users cannot log in", async () => {
    const s = await startServer({ "accounts.loginFailures": 3 });
    try {
      const { accounts } = s.app;
      const u = await accounts.createUser({ username: "carol", password: "right-pass" });
      for (let i = 0; i < 3; i++)
        await assert.rejects(
          accounts.passwordLogin({ username: "carol" }, "wrong", { device: "web" }),
          reason("bad_credentials"),
        );
      await assert.rejects(
        accounts.passwordLogin({ username: "carol" }, "right-pass", { device: "web" }),
        reason("login_limited"),
      );
      await assert.rejects(
        accounts.passwordLogin({ username: "nobody" }, "x-123456", { device: "web" }),
        reason("user_not_found"),
      );
      const other = await accounts.createUser({ username: "dave", password: "right-pass" });
      const live = await accounts.passwordLogin({ username: "dave" }, "right-pass", { device: "web" });
      await accounts.adminUpdate(other.id, { disabled: true });
      await assert.rejects(accounts.authenticate(live.token), (e: unknown) => e instanceof AppError);
      await assert.rejects(
        accounts.passwordLogin({ username: "dave" }, "right-pass", { device: "web" }),
        reason("user_disabled"),
      );
      assert.ok(u.id);
    } finally {
      await s.close();
    }
  });

  test("SMS: resend interval, wrong tries burn the code, single use, register", async () => {
    const s = await startServer();
    try {
      const { sms, storage, accounts } = s.app;
      const mobile = "13600000001";
      await sms.send(mobile, "127.0.0.1");
      await assert.rejects(sms.send(mobile, "127.0.0.1"), reason("sms_too_soon"));
      const [{ code }] = await storage.sms.outboxList(mobile, 1);
      assert.match(code, /^\d{6}$/);
      const wrong = code === "000000" ? "111111" : "000000";
      for (let i = 0; i < 4; i++) await assert.rejects(sms.verify(mobile, wrong), reason("captcha_wrong"));
      await assert.rejects(sms.verify(mobile, wrong), reason("captcha_expired"), "5th wrong try burns the code");
      await assert.rejects(sms.verify(mobile, code), reason("captcha_expired"), "burnt even for the right code");

      const m2 = "13600000002";
      await sms.send(m2, "127.0.0.2");
      const [{ code: c2 }] = await storage.sms.outboxList(m2, 1);
      const reg = await accounts.register(m2, "pass-123", c2, { device: "ios" });
      assert.equal(reg.user.mobile, m2);
      assert.ok(await accounts.authenticate(reg.token));
      await assert.rejects(accounts.register(m2, "pass-123", c2, { device: "ios" }), reason("user_exists"));
      await assert.rejects(sms.verify(m2, c2), reason("captcha_expired"), "used codes are gone");
    } finally {
      await s.close();
    }
  });

  test("SMS: a code the provider failed to deliver does not block the retry nor count toward the daily cap", async () => {
    // A real HTTP provider that fails the first two requests and accepts the rest.
    let calls = 0;
    const provider = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        calls++;
        res.writeHead(calls <= 2 ? 503 : 200).end("{}");
      });
    });
    await new Promise<void>((r) => provider.listen(0, "127.0.0.1", r));
    const port = (provider.address() as import("node:net").AddressInfo).port;
    const s = await startServer({
      "sms.provider": "http",
      "sms.httpUrl": `http://127.0.0.1:${port}/send`,
      "sms.dailyCap": 1,
    });
    try {
      const { sms, storage } = s.app;
      const mobile = "13600000009";
      await assert.rejects(sms.send(mobile, "127.0.0.9"), reason("sms_failed"));
      await assert.rejects(sms.send(mobile, "127.0.0.9"), reason("sms_failed"), "retried at once: not sms_too_soon");
      assert.equal(await storage.sms.latest(mobile), null, "undelivered codes are not kept");
      await sms.send(mobile, "127.0.0.9");
      assert.equal(calls, 3);
      assert.ok(await storage.sms.latest(mobile), "the delivered code is stored");
      await assert.rejects(sms.send(mobile, "127.0.0.9"), reason("sms_too_soon"));
    } finally {
      await s.close();
      provider.close();
    }
  });

  test("revocation and mute are published to the session and user topics", async () => {
    const s = await startServer();
    try {
      const { accounts, realtime, hub } = s.app;
      const u = await accounts.createUser({ username: "erin", password: "pass-123" });
      const login = await accounts.passwordLogin({ username: "erin" }, "pass-123", { device: "web" });
      const seen: unknown[] = [];
      hub.onMessage((topic, payload) => seen.push([topic, payload]));
      await hub.subscribe(`sess:${login.session.id}`);
      await hub.subscribe(`user:${u.id}`);
      await accounts.logout(login.session);
      const muted = await accounts.mute(u.id, 60_000);
      assert.ok(muted.mutedUntil > Date.now());
      for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen[0], [
        `sess:${login.session.id}`,
        { type: "session.revoked", sid: login.session.id, reason: "logout" },
      ]);
      assert.deepEqual(seen[1], [`user:${u.id}`, { type: "user.muted", userId: u.id, mutedUntil: muted.mutedUntil }]);
      assert.ok(realtime);
    } finally {
      await s.close();
    }
  });
});
