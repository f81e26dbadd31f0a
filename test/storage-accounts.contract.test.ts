import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../src/core/errors.ts";
import { forEachStorage, newUser } from "./helpers/storage.ts";

/** Contract of the account repositories: users, sessions, SMS codes, QR codes (src/ports/storage/accounts.ts, qr.ts). */
forEachStorage("accounts", (ctx) => {
  test("users: create assigns id and uid; lookups; unique mobile/username; update; list", async () => {
    const { storage } = ctx;
    const a = await storage.users.create(newUser({ mobile: "13800000001", username: "alice", nickname: "Alice" }));
    assert.ok(a.id > 0);
    assert.equal(a.uid, String(100000 + a.id));
    assert.equal(a.isAdmin, false);
    const b = await storage.users.create(newUser({ mobile: "13800000002", isAdmin: true, companyId: 7 }));
    assert.equal(b.uid, String(100000 + b.id));
    assert.equal(b.isAdmin, true);
    assert.equal(b.companyId, 7);
    assert.equal((await storage.users.findByMobile("13800000001"))?.id, a.id);
    assert.equal((await storage.users.findByUsername("alice"))?.id, a.id);
    assert.equal((await storage.users.findByUid(a.uid))?.id, a.id);
    assert.equal(await storage.users.findById(999999), null);
    assert.deepEqual(
      (await storage.users.findByIds([b.id, 999999, a.id, b.id])).map((u) => u.id).sort((x, y) => x - y),
      [a.id, b.id].sort((x, y) => x - y),
    );
    assert.deepEqual(await storage.users.findByIds([]), []);
    for (const dup of [{ mobile: "13800000001" }, { username: "alice" }])
      await assert.rejects(
        storage.users.create(newUser(dup)),
        (e: unknown) => e instanceof AppError && e.code === "conflict",
      );
    const up = await storage.users.update(a.id, { nickname: "A2", mutedUntil: 5, disabled: true, deptId: 3 });
    assert.equal(up?.nickname, "A2");
    assert.equal(up?.mutedUntil, 5);
    assert.equal(up?.disabled, true);
    assert.equal(up?.deptId, 3);
    assert.ok((up?.updatedAt ?? 0) > 1000);
    assert.equal(await storage.users.update(999999, { nickname: "x" }), null);
    await assert.rejects(
      storage.users.update(b.id, { username: "alice" }),
      (e: unknown) => e instanceof AppError && e.code === "conflict",
    );
    const all = await storage.users.list("", 0, 10);
    assert.equal(all.total, 2);
    assert.deepEqual(
      all.list.map((u) => u.id),
      [b.id, a.id],
      "newest first",
    );
    const found = await storage.users.list("A2", 0, 10);
    assert.deepEqual(
      found.list.map((u) => u.id),
      [a.id],
    );
    assert.equal((await storage.users.list("%", 0, 10)).total, 0, "LIKE wildcards are escaped");
  });

  test("sessions: create, find, live list, revoke only once", async () => {
    const { storage } = ctx;
    const u = await storage.users.create(newUser({ username: "sess-user" }));
    const base = {
      userId: u.id,
      device: "web",
      deviceId: "d",
      platform: "web",
      createdAt: 1,
      revokedAt: null,
      revokeReason: null,
    };
    await storage.sessions.create({ ...base, id: "s1", tokenHash: "h1", expiresAt: 10_000 });
    await storage.sessions.create({ ...base, id: "s2", tokenHash: "h2", expiresAt: 20_000 });
    await storage.sessions.create({ ...base, id: "s3", tokenHash: "h3", expiresAt: 500 });
    assert.equal((await storage.sessions.findByTokenHash("h2"))?.id, "s2");
    assert.equal((await storage.sessions.findById("s1"))?.tokenHash, "h1");
    assert.equal(await storage.sessions.findByTokenHash("nope"), null);
    assert.deepEqual((await storage.sessions.listLive(u.id, 1000)).map((s) => s.id).sort(), ["s1", "s2"]);
    assert.deepEqual(await storage.sessions.revoke(["s1", "s3"], "logout", 2000), ["s1", "s3"]);
    assert.deepEqual(await storage.sessions.revoke(["s1"], "logout", 3000), [], "already revoked");
    const s1 = await storage.sessions.findById("s1");
    assert.equal(s1?.revokedAt, 2000);
    assert.equal(s1?.revokeReason, "logout");
    assert.deepEqual(
      (await storage.sessions.listLive(u.id, 1000)).map((s) => s.id),
      ["s2"],
    );
    await assert.rejects(storage.sessions.create({ ...base, id: "s4", tokenHash: "h2", expiresAt: 1 }));
  });

  test("sms: latest, count, attempts, single use, outbox newest first", async () => {
    const { storage } = ctx;
    const c1 = await storage.sms.insert({
      mobile: "13900000000",
      codeHash: "a",
      createdAt: 100,
      expiresAt: 400,
      attempts: 0,
      usedAt: null,
    });
    const c2 = await storage.sms.insert({
      mobile: "13900000000",
      codeHash: "b",
      createdAt: 200,
      expiresAt: 500,
      attempts: 0,
      usedAt: null,
    });
    assert.ok(c2.id > c1.id);
    assert.equal((await storage.sms.latest("13900000000"))?.codeHash, "b");
    assert.equal(await storage.sms.latest("10000000000"), null);
    assert.equal(await storage.sms.countSince("13900000000", 150), 1);
    assert.equal(await storage.sms.addAttempt(c2.id), 1);
    assert.equal(await storage.sms.addAttempt(c2.id), 2);
    const racers = await Promise.all([storage.sms.markUsed(c2.id, 300), storage.sms.markUsed(c2.id, 301)]);
    assert.deepEqual(racers.sort(), [false, true], "exactly one use wins");
    await storage.sms.outboxAdd({ mobile: "1", code: "111111", sentAt: 1 });
    await storage.sms.outboxAdd({ mobile: "2", code: "222222", sentAt: 2 });
    await storage.sms.outboxAdd({ mobile: "1", code: "333333", sentAt: 3 });
    assert.deepEqual(
      (await storage.sms.outboxList("1", 10)).map((e) => e.code),
      ["333333", "111111"],
    );
    assert.equal((await storage.sms.outboxList(null, 2)).length, 2);
  });

  test("qr codes: single use, expiry", async () => {
    const { storage } = ctx;
    const base = {
      kind: "login" as const,
      deviceId: "dev",
      platform: "pc",
      targetId: "",
      createdBy: null,
      createdAt: 0,
      usedAt: null,
    };
    await storage.qr.create({ ...base, codeHash: "q1", expiresAt: 1000 });
    await storage.qr.create({ ...base, codeHash: "q2", expiresAt: 10 });
    assert.equal((await storage.qr.find("q1"))?.deviceId, "dev");
    const racers = await Promise.all([storage.qr.consume("q1", 5), storage.qr.consume("q1", 6)]);
    assert.deepEqual(racers.sort(), [false, true]);
    assert.equal(await storage.qr.consume("q2", 50), false, "expired");
    assert.equal(await storage.qr.consume("nope", 1), false);
  });
});
