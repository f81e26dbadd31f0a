import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createCustomerStore } from "../src/adapters/sql/customer-repos.ts";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { CustomerService } from "../src/core/customers/customer-service.ts";
import { contentOrThrow } from "../src/core/messages/content.ts";
import { createBackend, createPgDatabase, DATABASE_URL, dropRedisPrefix, REDIS_URL } from "./helpers/backend.ts";
import { freePort } from "./helpers/ports.ts";
import { childEnv } from "./helpers/process-server.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Parley reporting on itself (docs/console.md): a second Parley process, started here with its own
 * data dir (and its own PostgreSQL database / Redis prefix on the services run), reports to the
 * first; the first's console lists its users and groups with the right numbers.
 */

type Env<T = unknown> = { code: number; msg: string; data: T };
const ADMIN = { authorization: "Bearer test-admin-token", "content-type": "application/json" };
const CODE = "0513999";
const KEY = "fleet-key-1";

async function post<T>(url: string, body: unknown, headers: Record<string, string> = ADMIN): Promise<Env<T>> {
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return (await res.json()) as Env<T>;
}

async function until<T>(what: string, fn: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Row {
  uuid: string;
  nickname: string;
  fmsgs: number;
  tmsgs: number;
  pctimes: number;
  onlinetime: number;
}

describe("Parley reports on itself to a console (seed 004 服务端接口)", () => {
  let consoleServer: TestServer;

  before(async () => {
    consoleServer = await startServer();
  });
  after(async () => {
    await consoleServer.close();
  });

  test("a second Parley process reports; the console lists its users and groups with the right numbers", async () => {
    const base = consoleServer.base;
    assert.equal(
      (
        await post(`${base}/console/customer/add`, {
          code: CODE,
          name: "Parley fleet",
          tcphost: "127.0.0.1",
          tcpport: 1,
          webhost: "127.0.0.1",
          webport: 1,
          filehost: "127.0.0.1",
          fileport: 1,
          timeout: "2099-12-31",
          key: KEY,
        })
      ).code,
      0,
    );

    const dataDir = mkdtempSync(join(tmpdir(), "parley-report-"));
    const db = DATABASE_URL ? await createPgDatabase(DATABASE_URL) : null;
    const redisPrefix = `parley-t-${randomBytes(6).toString("hex")}:`;
    const port = await freePort();
    const env = childEnv(port, dataDir, {
      PARLEY_ADMIN_TOKEN: "child-admin-token",
      PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
      PARLEY_CONSOLE_URL: base,
      PARLEY_CUSTOMER_CODE: CODE,
      PARLEY_CUSTOMER_KEY: KEY,
      PARLEY_CONSOLE_REPORT_INTERVAL_MS: "1000",
      PARLEY_CONSOLE_LICENCE_EXPIRY: "2030-06-30",
      ...(db ? { PARLEY_DATABASE_URL: db.url } : {}),
      ...(REDIS_URL ? { PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: redisPrefix } : {}),
    });
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
      cwd: join(import.meta.dirname, ".."),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const child_ = `http://127.0.0.1:${port}`;
      await until(`the child at ${child_} (output: ${out})`, async () =>
        (await fetch(`${child_}/readyz`)).status === 200 ? true : null,
      );
      // The child's deployment: two colleagues; A sends 2 messages to B, B sends 1 to A.
      const childAdmin = { authorization: "Bearer child-admin-token", "content-type": "application/json" };
      const company = await post<{ id: number }>(`${child_}/admin/api/org/companies`, { text: "ACME" }, childAdmin);
      assert.equal(company.code, 0, JSON.stringify(company));
      const mk = async (username: string, nickname: string) => {
        const r = await post<{ id: string }>(
          `${child_}/admin/api/users`,
          { username, password: "secret-pw1", nickname, companyId: Number(company.data.id) },
          childAdmin,
        );
        assert.equal(r.code, 0, JSON.stringify(r));
        const login = await post<{ authorization: string; user: { id: number } }>(
          `${child_}/auth/login`,
          { account: username, password: "secret-pw1", platform: "pc" },
          { "content-type": "application/json" },
        );
        assert.equal(login.code, 200, JSON.stringify(login));
        return { id: Number(r.data.id), token: login.data.authorization };
      };
      const a = await mk("alice", "爱丽丝");
      const b = await mk("bob", "鲍勃");
      let n = 0;
      const send = async (from: typeof a, to: typeof a) => {
        const r = await post(
          `${child_}/api/save_single_msg`,
          { content: "hi", id: `m${++n}`, receiverId: to.id, senderId: from.id, type: 1 },
          { authorization: from.token, "content-type": "application/json" },
        );
        assert.equal(r.code, 200, JSON.stringify(r));
      };
      await send(a, b);
      await send(a, b);
      await send(b, a);

      // The console lists the child's users with the right numbers (after the next report round).
      const users = await until("the child's users with their message counts", async () => {
        const r = await post<Row[]>(`${base}/console/user/list`, { code: CODE });
        const rows = r.data;
        const alice = rows.find((u) => u.nickname === "爱丽丝");
        const bob = rows.find((u) => u.nickname === "鲍勃");
        // a report round can fall between the sends: wait for one taken after all three
        return rows.length === 2 && alice?.fmsgs === 2 && bob?.fmsgs === 1 ? rows : null;
      });
      const by = new Map(users.map((u) => [u.nickname, u]));
      assert.equal(by.get("爱丽丝")?.fmsgs, 2);
      assert.equal(by.get("爱丽丝")?.tmsgs, 1);
      assert.equal(by.get("鲍勃")?.fmsgs, 1);
      assert.equal(by.get("鲍勃")?.tmsgs, 2);
      const list = await post<Array<{ code: string; lastReport: { count: number; timeout: string } | null }>>(
        `${base}/console/customer/list`,
        {},
      );
      const mine = list.data.find((c) => c.code === CODE);
      assert.equal(mine?.lastReport?.count, 2, "server report: the child's user count");
      assert.equal(mine?.lastReport?.timeout, "2030-06-30", "server report: the licence expiry from its config");
      // The child has no groups: the console lists none.
      const groups = await post<unknown[]>(`${base}/console/group/list`, { code: CODE });
      assert.deepEqual(groups.data, []);
      // …and keeps reporting on its schedule (1 s here).
      await until("a second server report", async () => {
        const history = await post<Array<{ kind: string }>>(`${base}/console/customer/history`, { code: CODE });
        return history.data.filter((h) => h.kind === "server").length >= 2 ? true : null;
      });
    } finally {
      child.kill("SIGTERM");
      const code = await exited;
      assert.equal(code, 0, out);
      if (db) await db.drop();
      if (REDIS_URL) await dropRedisPrefix(REDIS_URL, redisPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("in a cluster one node reports for all (the live node with the smallest id)", async () => {
    const code = "0888";
    assert.equal(
      (
        await post(`${consoleServer.base}/console/customer/add`, {
          code,
          name: "cluster",
          tcphost: "h",
          tcpport: 1,
          webhost: "h",
          webport: 1,
          filehost: "h",
          fileport: 1,
          timeout: "2099-01-01",
        })
      ).code,
      0,
    );
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const report = { "console.url": consoleServer.base, customerCode: code, "console.reportIntervalMs": 1000 };
    const a = await startServer({ ...report, nodeId: "0000000000000001" }, { backend, memoryBus });
    const b = await startServer({ ...report, nodeId: "00000000000000ff" }, { backend, memoryBus });
    try {
      await until(
        "three rounds of the leader",
        async () => ((a.app.reporter?.reports ?? 0) >= 3 ? true : null),
        20_000,
      );
      assert.equal(b.app.reporter?.reports, 0, "the other node never reported");
      assert.equal(b.app.reporter?.failures, 0);
    } finally {
      await b.close();
      await a.close();
      await backend.cleanup();
    }
  });

  test("a failing console is retried with backoff and never affects serving", async () => {
    // Reports to a customer the console does not know yet: refused (404) until it is added.
    const code = "0777";
    const reporter = await startServer({
      "console.url": consoleServer.base,
      customerCode: code,
      "console.reportIntervalMs": 60_000,
    });
    try {
      assert.ok(reporter.app.reporter);
      await until("a failed round", async () => ((reporter.app.reporter?.failures ?? 0) >= 1 ? true : null), 10_000);
      assert.equal((await fetch(`${reporter.base}/healthz`)).status, 200, "serving is not affected");
      assert.equal((await fetch(`${reporter.base}/readyz`)).status, 200);
      assert.equal(reporter.app.reporter?.reports, 0);
      await post(`${consoleServer.base}/console/customer/add`, {
        code,
        name: "late",
        tcphost: "h",
        tcpport: 1,
        webhost: "h",
        webport: 1,
        filehost: "h",
        fileport: 1,
        timeout: "2099-01-01",
      });
      // The retry comes after a backoff of ~2–4 s, not after the 60 s interval.
      await until(
        "a report after the retry",
        async () => ((reporter.app.reporter?.reports ?? 0) >= 1 ? true : null),
        15_000,
      );
      assert.equal(reporter.app.reporter?.failures, 0);
    } finally {
      await reporter.close();
    }
  });

  test("self-statistics: online time per platform from session history, messages sent and received", async () => {
    const s = await startServer();
    try {
      const company = await s.app.org.createCompany({ text: "Co" });
      const a = await s.app.accounts.createUser({
        username: "ua",
        password: "secret-pw1",
        nickname: "A",
        companyId: company.id,
      });
      const b = await s.app.accounts.createUser({
        username: "ub",
        password: "secret-pw1",
        nickname: "B",
        companyId: company.id,
      });
      await s.app.accounts.startSession(a, { device: "pc", platform: "pc" });
      await s.app.accounts.startSession(a, { device: "android", platform: "android" });
      await s.app.accounts.startSession(b, { device: "ios", platform: "ios" });
      await s.app.messages.sendDirect(a, b.id, {
        clientMsgId: "x1",
        content: contentOrThrow("text", { content: "hi" }),
      });
      const { stats } = createCustomerStore((s.app.storage as SqlStorage).db);
      const rows = await stats.users(0, 10, Date.now() + 30 * 60_000);
      const ra = rows.find((r) => r.uuid === a.uid);
      const rb = rows.find((r) => r.uuid === b.uid);
      assert.equal(ra?.pctimes, 30);
      assert.equal(ra?.andtimes, 30);
      assert.equal(ra?.iostimes, 0);
      assert.equal(ra?.onlinetime, 60);
      assert.equal(ra?.fmsgs, 1);
      assert.equal(ra?.tmsgs, 0);
      assert.equal(rb?.iostimes, 30);
      assert.equal(rb?.tmsgs, 1);
      const server = await stats.server();
      assert.equal(server.count, 2);
      // paging by id
      assert.equal((await stats.users(0, 1, Date.now())).length, 1);
      assert.equal((await stats.users(Math.max(a.id, b.id), 10, Date.now())).length, 0);
      // groups: members, messages, files and notices of every live group, with its creator
      assert.deepEqual(await stats.groups(), []);
      const g = await s.app.groups.create(a, { name: "G1", userIds: [b.id] });
      const text = contentOrThrow("text", { content: "hello group" });
      await s.app.messages.send("group", a, g.id, { clientMsgId: "g1", content: text });
      await s.app.messages.send("group", b, g.id, { clientMsgId: "g2", content: text });
      const [row, ...more] = await stats.groups();
      assert.equal(more.length, 0);
      assert.equal(row?.gid, g.markId);
      assert.equal(row?.name, "G1");
      assert.equal(row?.createrid, a.uid);
      assert.equal(row?.creatername, "A");
      assert.equal(row?.ucount, 2);
      assert.equal(row?.msgcount, 2);
      assert.equal(row?.fcount, 0);
      assert.match(row?.ctime ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    } finally {
      await s.close();
    }
  });

  test("retention: history older than console.retentionDays goes when the customer reports; latest rows stay", async () => {
    const s = await startServer();
    try {
      const store = createCustomerStore((s.app.storage as SqlStorage).db);
      let now = Date.UTC(2026, 0, 1);
      const service = new CustomerService(store.customers, store.telemetry, {
        retentionDays: 5,
        maxRows: 100,
        now: () => now,
      });
      await service.add({
        code: "r1",
        name: "r",
        tcphost: "h",
        tcpport: 1,
        webhost: "h",
        webport: 1,
        filehost: "h",
        fileport: 1,
        timeout: "2026-01-03",
      });
      assert.equal((await service.info({ code: "r1" })).expired, false);
      await service.commitServer({ code: "r1", count: 1 });
      await service.commitUsers({ data: [{ code: "r1", uuid: "old-user" }] });
      now += 10 * 86_400_000;
      assert.equal((await service.info({ code: "r1" })).expired, true, "expired the day after timeout");
      await service.commitServer({ code: "r1", count: 2 });
      const history = await service.history({ code: "r1", days: 0 });
      assert.deepEqual(
        history.map((h) => [h.kind, h.values.count ?? h.values.rows]),
        [["server", 2]],
      );
      assert.deepEqual(
        (await service.users({ code: "r1" })).map((u) => u.uuid),
        ["old-user"],
        "the latest state stays",
      );
    } finally {
      await s.close();
    }
  });
});
