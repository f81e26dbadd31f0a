import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { AppError } from "../src/core/errors.ts";
import type { NewUser, Storage } from "../src/ports/storage.ts";
import { createPgDatabase, DATABASE_URL } from "./helpers/backend.ts";

/**
 * One contract suite for the storage port, run against every implementation available in this run:
 * SQLite always, PostgreSQL when PARLEY_DATABASE_URL is set (CI's second run).
 */
const backends: Array<{ name: string; make: () => Promise<{ storage: Storage; cleanup: () => Promise<void> }> }> = [
  {
    name: "sqlite",
    async make() {
      const dir = mkdtempSync(join(tmpdir(), "parley-store-"));
      const storage = new SqlStorage({ databaseUrl: "", sqliteFile: join(dir, "t.db") });
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (DATABASE_URL) {
  backends.push({
    name: "postgres",
    async make() {
      const db = await createPgDatabase(DATABASE_URL);
      return { storage: new SqlStorage({ databaseUrl: db.url, sqliteFile: "" }), cleanup: db.drop };
    },
  });
}

for (const backend of backends) {
  describe(`storage contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ storage, cleanup } = await backend.make());
      assert.deepEqual(await storage.migrate(), [
        "0001_foundation",
        "0002_accounts",
        "0003_messages",
        "0004_files",
        "0005_messages_one_history_index",
        "0006_groups",
        "0007_customers",
        "0008_chatrooms",
      ]);
    });
    after(async () => {
      await storage.close();
      await cleanup();
    });

    test("migrate is idempotent and ping answers", async () => {
      assert.deepEqual(await storage.migrate(), []);
      assert.equal(await storage.ping(), true);
      assert.equal(storage.kind, backend.name);
    });

    test("settings: get, getOrInit keeps the first value under a race, set overwrites", async () => {
      assert.equal(await storage.settings.get("k"), null);
      const values = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.settings.getOrInit("k", `v${i}`)));
      assert.equal(new Set(values).size, 1, "every racer sees the same winner");
      assert.equal(await storage.settings.get("k"), values[0]);
      await storage.settings.set("k", "other");
      assert.equal(await storage.settings.get("k"), "other");
      assert.equal(await storage.settings.getOrInit("k", "ignored"), "other");
    });

    test("gateway systems: create, find, duplicate is a conflict (not a driver error)", async () => {
      const now = Date.now();
      await storage.gatewaySystems.create({ systemId: "a", secretHash: null, createdAt: now });
      await storage.gatewaySystems.create({ systemId: "b", secretHash: "f".repeat(64), createdAt: now });
      assert.deepEqual(await storage.gatewaySystems.find("a"), { systemId: "a", secretHash: null, createdAt: now });
      assert.equal((await storage.gatewaySystems.find("b"))?.secretHash, "f".repeat(64));
      assert.equal(await storage.gatewaySystems.find("zzz"), null);
      await assert.rejects(
        storage.gatewaySystems.create({ systemId: "a", secretHash: null, createdAt: now }),
        (e: unknown) => e instanceof AppError && e.code === "conflict" && e.reason === "system_exists",
      );
      // a concurrent duplicate: exactly one wins
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          storage.gatewaySystems.create({ systemId: "race", secretHash: null, createdAt: now }),
        ),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    });

    const newUser = (over: Partial<NewUser> = {}): NewUser => ({
      mobile: null,
      username: null,
      passwordHash: "scrypt$10$8$1$c2FsdA==$aGFzaA==",
      nickname: "n",
      avatar: "",
      sex: 0,
      position: "",
      description: "",
      email: "",
      birthday: null,
      sign: null,
      level: 1,
      isAdmin: false,
      verified: false,
      mutedUntil: 0,
      companyId: null,
      deptId: null,
      roleId: null,
      disabled: false,
      createdAt: 1000,
      updatedAt: 1000,
      ...over,
    });

    test("users: create assigns id and uid; lookups; unique mobile/username; update; list", async () => {
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

    test("org: companies, department tree, roles, licenses, dict (sex seeded), per-department counts", async () => {
      const lic = await storage.org.createLicense({ text: "集团用户", maxlevel: 5, single: 20, userCount: 20 });
      const co = await storage.org.createCompany({
        text: "江苏农垦",
        avatar: "",
        note: "n",
        enable: true,
        licenseId: lic.id,
        code: "1010",
        pid: "26",
        level: 1,
        url: "",
        attrs: { rangeId: 19, regionText: "文山州" },
        createdAt: 1,
      });
      assert.deepEqual((await storage.org.company(co.id))?.attrs, { rangeId: 19, regionText: "文山州" });
      const root = await storage.org.createDepartment({
        companyId: co.id,
        parentId: null,
        text: "总部",
        note: "",
        code: "1",
        ownerId: null,
        level: 1,
        createdAt: 1,
      });
      const child = await storage.org.createDepartment({
        companyId: co.id,
        parentId: root.id,
        text: "研发",
        note: "",
        code: "2",
        ownerId: null,
        level: 2,
        createdAt: 1,
      });
      assert.equal((await storage.org.department(child.id))?.parentId, root.id);
      assert.deepEqual(
        (await storage.org.departments(co.id)).map((d) => d.id),
        [root.id, child.id],
      );
      const role = await storage.org.createRole({ companyId: co.id, text: "体验用户", admin: false, note: "" });
      assert.equal((await storage.org.role(role.id))?.text, "体验用户");
      assert.equal((await storage.org.roles(co.id)).length, 1);
      assert.equal((await storage.org.license(lic.id))?.userCount, 20);
      assert.deepEqual(
        (await storage.org.dict("sex")).map((e) => [e.code, e.text]),
        [
          ["0", "未知"],
          ["1", "男"],
          ["2", "女"],
        ],
      );
      await storage.users.create(newUser({ username: "d1", companyId: co.id, deptId: child.id }));
      await storage.users.create(newUser({ username: "d2", companyId: co.id, deptId: child.id }));
      assert.equal((await storage.org.departmentUserCounts(co.id)).get(child.id), 2);
    });

    test("qr codes: single use, expiry", async () => {
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

    test("messages: one batch over several conversations, gapless seq, duplicates return the original", async () => {
      const m = storage.messages;
      const c1 = await m.ensureConversation({ kind: "direct", key: "d:1:2", userA: 1, userB: 2, createdAt: 1 });
      assert.equal(
        (await m.ensureConversation({ kind: "direct", key: "d:1:2", userA: 1, userB: 2, createdAt: 9 })).id,
        c1.id,
      );
      const c2 = await m.ensureConversation({ kind: "direct", key: "d:1:3", userA: 1, userB: 3, createdAt: 1 });
      const msg = (conversationId: number, senderId: number, clientMsgId: string, t: number) => ({
        conversationId,
        senderId,
        clientMsgId,
        kind: "text" as const,
        content: { content: clientMsgId },
        contentJson: JSON.stringify({ content: clientMsgId }),
        createdAt: t,
      });
      const r1 = await m.appendBatch([
        msg(c1.id, 1, "a", 10),
        msg(c2.id, 1, "b", 11),
        msg(c1.id, 2, "c", 12),
        msg(c1.id, 1, "a", 13),
      ]);
      assert.deepEqual(
        r1.map((r) => [r.message.conversationId, r.message.seq, r.duplicate]),
        [
          [c1.id, 1, false],
          [c2.id, 1, false],
          [c1.id, 2, false],
          [c1.id, 1, true],
        ],
      );
      assert.equal(r1[3].message.id, r1[0].message.id);
      const r2 = await m.appendBatch([msg(c1.id, 2, "c", 20), msg(c1.id, 2, "d", 21)]);
      assert.deepEqual(
        r2.map((r) => [r.message.seq, r.duplicate]),
        [
          [2, true],
          [3, false],
        ],
      );
      assert.equal((await m.conversation(c1.id))?.lastSeq, 3);
      assert.equal((await m.conversation(c1.id))?.lastMessageAt, 21);
      assert.deepEqual((await m.bySenderClientId(2, "d"))?.content, { content: "d" });
      assert.deepEqual(
        (await m.history(c1.id, null, 10)).map((x) => x.seq),
        [3, 2, 1],
      );
      assert.deepEqual(
        (await m.history(c1.id, r1[2].message.id, 10)).map((x) => x.seq),
        [2, 1],
      );
      // an id that is not one of c1's messages pages from the last c1 message before it
      const c1Ids = [r1[0], r1[2], r2[1]].map((r) => r.message);
      assert.deepEqual(
        (await m.history(c1.id, r1[1].message.id, 10)).map((x) => x.seq),
        c1Ids
          .filter((x) => x.id <= r1[1].message.id)
          .map((x) => x.seq)
          .reverse(),
      );
      assert.deepEqual(await m.history(c1.id, r1[0].message.id - 1, 10), []);
      assert.deepEqual(
        (await m.history(c1.id, r2[1].message.id + 1000, 10)).map((x) => x.seq),
        [3, 2, 1],
      );
      assert.deepEqual(
        (await m.since(c1.id, 1, 10)).map((x) => x.seq),
        [2, 3],
      );
      assert.equal(await m.markDeleted(r1[2].message.id, 30), true);
      assert.equal(await m.markDeleted(r1[2].message.id, 31), false);
      assert.deepEqual((await m.page(c1.id, 0, 10)).total, 2);
      assert.equal(await m.markRecalled(r1[2].message.id, 32), false, "deleted messages cannot be recalled");
      assert.equal(await m.unreadCount(c1.id, 1), 1, "only the other's undeleted message counts");
      assert.equal(await m.setReadCursor(c1.id, 1, 3, 40), 3);
      assert.equal(await m.setReadCursor(c1.id, 1, 1, 41), 3, "never backwards");
      assert.equal(await m.unreadCount(c1.id, 1), 0);
      // the batched forms agree with the one-conversation ones
      assert.deepEqual(await m.unreadCounts([c1.id, c2.id, 999999], 1), new Map());
      assert.deepEqual(
        await m.unreadCounts([c1.id, c2.id], 2),
        new Map([
          [c1.id, 1],
          [c2.id, 1],
        ]),
      );
      const lasts = await m.lastMessages([c1.id, c2.id, 999999]);
      assert.deepEqual(
        [...lasts].map(([k, v]) => [k, v.clientMsgId]).sort(),
        [
          [c1.id, "d"],
          [c2.id, "b"],
        ].sort(),
      );
      assert.deepEqual(lasts.get(c1.id), await m.lastMessage(c1.id));
      assert.deepEqual(
        (await m.directConversationsOf(1)).map((c) => c.id),
        [c1.id, c2.id],
      );
      await assert.rejects(m.appendBatch([msg(999999, 1, "nope", 1)]));
      assert.equal(await m.bySenderClientId(1, "nope"), null, "a failed batch stores nothing");
    });

    test("files: insert, byId, blobType (oldest upload wins, then thumbnails, else null)", async () => {
      const f = storage.files;
      const a = "a".repeat(64);
      const t = "b".repeat(64);
      const first = await f.insert({
        ownerId: 7,
        sha256: a,
        thumbSha256: t,
        thumbMime: "image/png",
        name: "图片 1.png",
        mime: "image/png",
        size: 12345,
        width: 800,
        height: 600,
        createdAt: 100,
      });
      assert.ok(Number.isInteger(first.id) && first.id > 0);
      assert.deepEqual(await f.byId(first.id), {
        id: first.id,
        ownerId: 7,
        sha256: a,
        thumbSha256: t,
        thumbMime: "image/png",
        name: "图片 1.png",
        mime: "image/png",
        size: 12345,
        width: 800,
        height: 600,
        createdAt: 100,
      });
      const second = await f.insert({
        ownerId: 8,
        sha256: a,
        thumbSha256: null,
        thumbMime: null,
        name: "same bytes.bin",
        mime: "application/octet-stream",
        size: 12345,
        width: null,
        height: null,
        createdAt: 101,
      });
      assert.ok(second.id > first.id, "one row per upload, even for the same bytes");
      assert.equal((await f.byId(second.id))?.width, null);
      assert.deepEqual(await f.blobType(a), { mime: "image/png", thumbnail: false });
      assert.deepEqual(await f.blobType(t), { mime: "image/png", thumbnail: true });
      assert.equal(await f.blobType("c".repeat(64)), null);
      assert.equal(await f.byId(999999), null);
    });

    test("ids are stored verbatim (unicode, quotes, long)", async () => {
      const id = `系统'"; DROP TABLE x; --${"z".repeat(100)}`;
      await storage.gatewaySystems.create({ systemId: id, secretHash: null, createdAt: 1 });
      assert.equal((await storage.gatewaySystems.find(id))?.systemId, id);
    });
  });
}
