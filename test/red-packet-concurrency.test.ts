import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { unitsToWire } from "../src/core/wallet/amount.ts";
import type { User } from "../src/ports/storage.ts";
import { createBackend, type TestBackend } from "./helpers/backend.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Red packets under contention, on SQLite and (when configured) PostgreSQL + Redis:
 * - 1 000 concurrent claim requests on one hot packet from 300 users, sent by four client
 *   processes round-robin to TWO server nodes on one database;
 * - expiry refunds racing those claims (both nodes sweeping);
 * - a server killed with SIGKILL in the middle of claims, then `parley wallet verify`.
 * Afterwards, every time: no share claimed twice, no user claimed twice, claimed ≤ amount, no
 * balance below zero, the ledger sums to zero, sender + claims + refunds = the original, and
 * `wallet.verify()` is clean. The invariants are checked from the database, not from the answers.
 */

const CLIENTS = 4;
const USERS = 300;
const HERE = new URL(".", import.meta.url).pathname;

type Answers = { answers: Array<[number, number, number]>; failures: number };

/** Runs the claim client in `CLIENTS` processes, `total` requests in all. */
async function claimFrom(
  dir: string,
  urls: string[],
  packetId: string,
  tokens: string[],
  total: number,
  onOutput?: () => void,
): Promise<Answers> {
  const per = Math.ceil(total / CLIENTS);
  const runs = Array.from({ length: CLIENTS }, (_, c) => {
    const file = join(dir, `job-${packetId}-${c}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        urls,
        packetId,
        tokens,
        offset: c * per,
        requests: Math.min(per, total - c * per),
        concurrency: 40,
      }),
    );
    return new Promise<Answers>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "helpers/claim-client.ts"), file], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0 ? resolve(JSON.parse(out) as Answers) : reject(new Error(`client ${c} exit ${code}`)),
      );
      onOutput?.();
    });
  });
  const all = await Promise.all(runs);
  return { answers: all.flatMap((a) => a.answers), failures: all.reduce((s, a) => s + a.failures, 0) };
}

/** Every invariant of one packet, from the stored rows. */
async function checkPacket(s: TestServer, packetId: string, sender: User, senderBefore: number) {
  const w = s.app.storage.wallet;
  const packet = await w.packet(packetId);
  assert.ok(packet);
  const shares = await w.shares(packetId);
  assert.equal(shares.length, packet.size);
  const claimed = shares.filter((x) => x.state === "claimed");
  const claimers = claimed.map((x) => x.claimerId);
  assert.equal(new Set(claimers).size, claimers.length, "no user claimed twice");
  const sum = (xs: typeof shares) => xs.reduce((a, x) => a + x.amount, 0);
  assert.ok(sum(claimed) <= packet.amount, "claimed ≤ amount");
  const refunded = shares.filter((x) => x.state === "refunded");
  const unsettled = shares.filter((x) => x.state === "open" || x.state === "held" || x.state === "pending");
  assert.equal(sum(claimed) + sum(refunded) + sum(unsettled), packet.amount);
  // each claim is exactly one credit in the claimer's ledger
  for (const x of claimed) {
    const rows = (await w.ledger(`u:${x.claimerId}`)).filter(
      (r) => r.reason === "claim" && r.ref === `${packetId}:${x.idx}`,
    );
    assert.equal(rows.length, 1, `share ${x.idx} credited once`);
    assert.equal(rows[0].amount, x.amount);
  }
  // the sender: paid the amount once, got the refunds back
  const senderNow = await s.app.wallet.balance(sender.id, packet.coin);
  const senderRows = await w.ledger(`u:${sender.id}`);
  const refundsToSender = senderRows.filter((r) => r.reason === "refund" && r.ref.startsWith(`${packetId}:`));
  assert.equal(
    refundsToSender.reduce((a, r) => a + r.amount, 0),
    sum(refunded),
  );
  assert.equal(senderNow, senderBefore - packet.amount + sum(refunded), "sender + claims + refunds = the original");
  assert.deepEqual(await s.app.wallet.verify(), [], "the books are consistent");
  return { packet, claimed, refunded, unsettled };
}

describe("red packets under contention (two nodes, client processes)", () => {
  let backend: TestBackend;
  let s1: TestServer;
  /** The second node on the same database (PostgreSQL; SQLite is one node per file, see below). */
  let s2: TestServer | null = null;
  let urls: string[];
  let dir: string;
  let sender: User;
  let groupId: number;
  const tokens: string[] = [];
  const users: User[] = [];
  const overrides = { "wallet.sendPerMinute": 1000, "chat33.msgRatePerUser": 1000, "wallet.sweepMs": 100000 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "parley-rp-"));
    backend = await createBackend();
    s1 = await startServer(overrides, { backend });
    // Two nodes in one process on one SQLite file would block each other's event loop in
    // SQLite's synchronous busy wait; a SQLite deployment is one node, so it gets one here.
    if (backend.databaseUrl) s2 = await startServer(overrides, { backend });
    urls = s2 ? [s1.base, s2.base] : [s1.base];
    sender = await s1.app.accounts.createUser({ mobile: "13900000000", password: "secret-pass-1", nickname: "Boss" });
    for (let i = 0; i < USERS; i++) {
      const u = await s1.app.accounts.createUser({
        username: `claimer${i}`,
        password: "secret-pass-1",
        nickname: `c${i}`,
      });
      users.push(u);
      tokens.push((await s1.app.accounts.startSession(u, { device: "ios", ip: "127.0.0.1" })).token);
    }
    const g = await s1.app.groups.create(sender, { name: "hot", userIds: users.map((u) => u.id) });
    groupId = g.id;
    await s1.app.wallet.deposit(sender.id, 1, 1000 * 10 ** 8, "fund-boss");
  });
  after(async () => {
    await s2?.close();
    await s1?.close();
    await backend?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("1 000 concurrent claims on one packet of 200 shares from 300 users: every invariant holds", async () => {
    const before = await s1.app.wallet.balance(sender.id, 1);
    const { packet } = await s1.app.redPackets.send(
      sender,
      { cType: 1, toId: groupId, coin: 1, type: 1, amount: 100 * 10 ** 8, size: 200, remark: "hot" },
      (id) => `/p?id=${id}`,
    );
    const { answers, failures } = await claimFrom(dir, urls, packet.id, tokens, 1000);
    assert.equal(failures, 0);
    assert.equal(answers.length, 1000);
    const codes = new Map<number, number>();
    for (const [, code] of answers) codes.set(code, (codes.get(code) ?? 0) + 1);
    assert.deepEqual(
      [...codes.keys()].filter((c) => ![0, -4001, -4009].includes(c)),
      [],
      JSON.stringify([...codes]),
    );
    const wins = answers.filter((a) => a[1] === 0);
    assert.equal(wins.length, 200, "every share went, each to one request");
    assert.equal(new Set(wins.map((a) => a[0])).size, 200, "no user won twice");
    const { claimed } = await checkPacket(s1, packet.id, sender, before);
    assert.equal(claimed.length, 200);
    // what each winner was told is what the database credited
    const byUser = new Map(claimed.map((x) => [x.claimerId, x.amount]));
    for (const [t, , amount] of wins) assert.equal(amount, unitsToWire(byUser.get(users[t].id) ?? -1));
  });

  test("expiry refunds racing claims on both nodes: each share is claimed or refunded, once", async () => {
    const before = await s1.app.wallet.balance(sender.id, 1);
    const { packet } = await s1.app.redPackets.send(
      sender,
      { cType: 1, toId: groupId, coin: 1, type: 2, amount: 50 * 10 ** 8, size: 250, remark: "race" },
      (id) => `/p?id=${id}`,
    );
    let stop = false;
    const sweeps: Promise<number>[] = [];
    // both nodes sweep as if the packet had expired, over and over, while the claims run
    const sweepLoop = async (s: TestServer) => {
      let total = 0;
      while (!stop) {
        total += await s.app.storage.wallet.refund(packet.id, packet.expiresAt, crypto.randomUUID());
        await new Promise((r) => setTimeout(r, 2));
      }
      return total;
    };
    const claims = claimFrom(dir, urls, packet.id, tokens, 600, () => {
      if (sweeps.length === 0) sweeps.push(sweepLoop(s1), sweepLoop(s2 ?? s1));
    });
    const { answers } = await claims;
    stop = true;
    const refundedUnits = (await Promise.all(sweeps)).reduce((a, b) => a + b, 0);
    await s1.app.storage.wallet.refund(packet.id, packet.expiresAt, crypto.randomUUID());
    const { claimed, refunded, unsettled } = await checkPacket(s1, packet.id, sender, before);
    assert.equal(unsettled.length, 0);
    assert.equal(claimed.length + refunded.length, 250);
    assert.equal(answers.filter((a) => a[1] === 0).length, claimed.length);
    assert.ok(refundedUnits <= refunded.reduce((a, x) => a + x.amount, 0));
    assert.ok((await s1.app.storage.wallet.packet(packet.id))?.settledAt);
  });
});

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe("kill -9 in the middle of claims", () => {
  test("the ledger stays consistent: parley wallet verify passes after the crash and after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-rp-kill-"));
    const backend = await createBackend();
    try {
      // data made by a node that then shuts down
      const setup = await startServer({ "wallet.sendPerMinute": 1000 }, { backend });
      const sender = await setup.app.accounts.createUser({ username: "killboss", password: "secret-pass-1" });
      const members: User[] = [];
      const tokens: string[] = [];
      for (let i = 0; i < 150; i++) {
        const u = await setup.app.accounts.createUser({ username: `k${i}`, password: "secret-pass-1" });
        members.push(u);
        tokens.push((await setup.app.accounts.startSession(u, { device: "ios", ip: "127.0.0.1" })).token);
      }
      const g = await setup.app.groups.create(sender, { name: "kill", userIds: members.map((u) => u.id) });
      await setup.app.wallet.deposit(sender.id, 1, 10 * 10 ** 8, "fund-kill");
      const { packet } = await setup.app.redPackets.send(
        sender,
        { cType: 1, toId: g.id, coin: 1, type: 1, amount: 10 * 10 ** 8, size: 150, remark: "kill" },
        (id) => `/p?id=${id}`,
      );
      await setup.close();

      const port = await freePort();
      const env = {
        ...process.env,
        PARLEY_PORT: String(port),
        PARLEY_HOST: "127.0.0.1",
        PARLEY_DATA_DIR: backend.dataDir,
        PARLEY_DATABASE_URL: backend.databaseUrl,
        PARLEY_REDIS_URL: backend.redisUrl,
        PARLEY_REDIS_PREFIX: backend.redisPrefix,
        PARLEY_ADMIN_TOKEN: "test-admin-token",
        PARLEY_LOG_LEVEL: "silent",
        PARLEY_RUN_FROM: "src",
      };
      const bin = join(HERE, "../bin/parley.mjs");
      const server = spawn(process.execPath, [bin, "serve"], { env, stdio: "ignore" });
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${base}/readyz`)).ok) break;
        } catch {}
        if (i > 300) throw new Error("server did not start");
        await new Promise((r) => setTimeout(r, 100));
      }
      // kill -9 once some claims went through (watched in the database), while the rest are in flight
      const killer = (async () => {
        const { SqlStorage } = await import("../src/adapters/sql/sql-storage.ts");
        const watch = new SqlStorage({
          databaseUrl: backend.databaseUrl,
          sqliteFile: join(backend.dataDir, "parley.db"),
        });
        try {
          for (let i = 0; i < 2000; i++) {
            const n = (await watch.wallet.shares(packet.id)).filter((x) => x.state === "claimed").length;
            if (n >= 20) break;
            await new Promise((r) => setTimeout(r, 5));
          }
        } finally {
          await watch.close();
        }
        server.kill("SIGKILL");
      })();
      const { answers, failures } = await claimFrom(dir, [base], packet.id, tokens, 600);
      await killer;
      assert.ok(
        failures > 0 || answers.length < 600 || answers.some((a) => a[1] !== 0),
        "the kill hit claims in flight",
      );

      const verify = () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, [bin, "wallet", "verify"], { env, stdio: ["ignore", "pipe", "pipe"] });
          let out = "";
          child.stdout.on("data", (d) => {
            out += d;
          });
          child.stderr.on("data", (d) => {
            out += d;
          });
          child.on("exit", (code) => resolve({ code, out }));
        });
      const first = await verify();
      assert.equal(first.code, 0, first.out);
      assert.match(first.out, /wallet: consistent/);

      // restart: the books are still consistent, and every success the clients saw is in them
      const again = await startServer({}, { backend });
      try {
        const shares = await again.app.storage.wallet.shares(packet.id);
        const claimed = new Map(shares.filter((x) => x.state === "claimed").map((x) => [x.claimerId, x.amount]));
        for (const [t, code, amount] of answers)
          if (code === 0) assert.equal(unitsToWire(claimed.get(members[t].id) ?? -1), amount);
        assert.deepEqual(await again.app.wallet.verify(), []);
        // and claiming goes on where it stopped
        const left = shares.filter((x) => x.state === "open").length;
        const next = members.find((u) => !claimed.has(u.id));
        if (left > 0 && next) {
          await again.app.redPackets.claim(next, packet.id);
          assert.deepEqual(await again.app.wallet.verify(), []);
        }
      } finally {
        await again.close();
      }
      const second = await verify();
      assert.equal(second.code, 0, second.out);
    } finally {
      await backend.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
