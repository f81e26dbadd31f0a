import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import type { User } from "../src/ports/storage/accounts.ts";
import { adminApiCall, adminApiData } from "./helpers/admin-api.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Money for operators (docs/admin.md "Money"), over real HTTP on the configured storage: a deposit,
 * balances, the ledger (filtered, paged), red packets with their shares, and the ledger check —
 * clean, and then with a balance corrupted behind the wallet's back.
 */

const PASSWORD = "money-pass-1";
interface LedgerRow {
  id: number;
  entryId: string;
  account: string;
  userId: string | null;
  coin: number;
  amount: number;
  reason: string;
  ref: string;
}
interface Packet {
  id: string;
  senderId: string;
  senderName: string;
  amount: number;
  size: number;
  target: string;
  toId: string;
  claimed: number;
  claimedAmount: number;
  refunded: number;
}

describe("admin API: money (/admin/api/wallet/…)", () => {
  let s: TestServer;
  let boss: User;
  let amy: User;
  let groupId: number;

  const call = <T>(method: "GET" | "POST", path: string, body?: unknown, token?: string | null) =>
    adminApiCall<T>(`${s.base}/admin/api${path}`, method, body, token);
  const data = adminApiData;

  before(async () => {
    s = await startServer();
    boss = await s.app.accounts.createUser({ mobile: "13700004001", password: PASSWORD, nickname: "Boss" });
    amy = await s.app.accounts.createUser({ mobile: "13700004002", password: PASSWORD, nickname: "Amy" });
    groupId = (await s.app.groups.create(boss, { name: "Payday", userIds: [amy.id] })).id;
  });
  after(() => s.close());

  test("deposit, balances, the ledger filtered and paged, packets with shares, the ledger check", async () => {
    assert.deepEqual(await data(call("GET", "/wallet/coins")), [
      { id: 1, name: "BTY" },
      { id: 2, name: "YCC" },
    ]);
    const dep = await data(
      call<{ balance: number }>("POST", "/wallet/deposit", {
        userId: String(boss.id),
        coin: 1,
        amount: "100.5",
        idempotencyKey: "fund-1",
      }),
    );
    assert.equal(dep.balance, 100.5);
    assert.deepEqual(await data(call("GET", `/wallet/balances?userId=${boss.id}`)), [
      { coin: 1, name: "BTY", balance: 100.5 },
      { coin: 2, name: "YCC", balance: 0 },
    ]);

    const { packet } = await s.app.redPackets.send(
      boss,
      { cType: 1, toId: groupId, coin: 1, type: 2, amount: 10 * 10 ** 8, size: 2, remark: "lunch" },
      (id) => `/p?id=${id}`,
    );
    await s.app.redPackets.claim(amy, packet.id);

    const mine = await data(
      call<{ list: LedgerRow[]; nextBeforeId: number | null }>("GET", `/wallet/ledger?userId=${boss.id}`),
    );
    assert.deepEqual(
      mine.list.map((r) => [r.reason, r.amount, r.userId]),
      [
        ["escrow", -10, String(boss.id)],
        ["deposit", 100.5, String(boss.id)],
      ],
    );
    assert.equal(mine.nextBeforeId, null);
    const claims = await data(call<{ list: LedgerRow[] }>("GET", "/wallet/ledger?reason=claim"));
    assert.equal(claims.list.length, 2, "a claim is one entry of two rows");
    assert.deepEqual(claims.list.map((r) => r.amount).sort(), [-5, 5]);
    assert.equal(new Set(claims.list.map((r) => r.entryId)).size, 1);
    assert.deepEqual(new Set(claims.list.map((r) => r.account)), new Set([`p:${packet.id}`, `u:${amy.id}`]));

    // paging: newest first, two at a time, no row twice, none missed
    const seen: number[] = [];
    let before: number | null = null;
    for (let i = 0; i < 10; i++) {
      const q: string = before === null ? "/wallet/ledger?limit=2" : `/wallet/ledger?limit=2&beforeId=${before}`;
      const page: { list: LedgerRow[]; nextBeforeId: number | null } = await data(call("GET", q));
      seen.push(...page.list.map((r) => r.id));
      before = page.nextBeforeId;
      if (before === null) break;
    }
    const all = await data(call<{ list: LedgerRow[] }>("GET", "/wallet/ledger?limit=500"));
    assert.deepEqual(
      seen,
      all.list.map((r) => r.id),
    );
    assert.equal(all.list.length, 6, "deposit, escrow, claim: two rows each");
    assert.ok(seen.every((id, i) => i === 0 || id < (seen[i - 1] as number)));

    const packets = await data(call<{ total: number; list: Packet[] }>("GET", "/wallet/packets"));
    assert.equal(packets.total, 1);
    const p = packets.list[0];
    assert.ok(p);
    assert.equal(p.id, packet.id);
    assert.equal(p.senderId, String(boss.id));
    assert.equal(p.senderName, "Boss");
    assert.equal(p.amount, 10);
    assert.equal(p.target, "group");
    assert.equal(p.toId, String(groupId));
    assert.equal(p.claimed, 1);
    assert.equal(p.claimedAmount, 5);
    assert.equal(p.refunded, 0);
    assert.equal((await data(call<{ total: number }>("GET", `/wallet/packets?senderId=${amy.id}`))).total, 0);
    const detail = await data(
      call<{ packet: Packet; shares: Array<{ state: string; claimerId: string | null; amount: number }> }>(
        "GET",
        `/wallet/packets/detail?id=${packet.id}`,
      ),
    );
    assert.equal(detail.packet.claimed, 1);
    assert.deepEqual(
      detail.shares.map((x) => [x.state, x.claimerId, x.amount]).sort(),
      [
        ["claimed", String(amy.id), 5],
        ["open", null, 5],
      ].sort(),
    );

    const clean = await data(call<{ ok: boolean; issues: unknown[] }>("POST", "/wallet/verify"));
    assert.deepEqual([clean.ok, clean.issues], [true, []]);

    // books corrupted behind the wallet's back: the check names the account
    await sql`update wallet_balances set balance = 1 where account = ${`u:${amy.id}`}`.execute(
      (s.app.storage as SqlStorage).db,
    );
    const bad = await data(
      call<{ ok: boolean; issues: Array<{ check: string; detail: string }> }>("POST", "/wallet/verify", {}),
    );
    assert.equal(bad.ok, false);
    assert.ok(
      bad.issues.some((i) => i.check === "balance equals its ledger" && i.detail.includes(`u:${amy.id}`)),
      JSON.stringify(bad.issues),
    );
  });

  test("bad parameters are 400, unknown things 404, no credential 401", async () => {
    for (const q of [
      "/wallet/ledger?coin=9",
      "/wallet/ledger?reason=theft",
      "/wallet/ledger?account=x",
      "/wallet/ledger?limit=501",
      `/wallet/ledger?userId=${boss.id}&account=u:999`,
      "/wallet/packets?size=0",
      "/wallet/packets?coin=9",
      "/wallet/packets/detail?id=../x",
      "/wallet/balances?userId=abc",
    ])
      assert.equal((await call("GET", q)).status, 400, q);
    assert.equal((await call("GET", "/wallet/balances?userId=999999")).status, 404);
    assert.equal((await call("GET", "/wallet/packets/detail?id=no-such-packet")).status, 404);
    assert.equal((await call("POST", "/wallet/verify", undefined, null)).status, 401);
    assert.equal((await call("GET", "/wallet/ledger", undefined, null)).status, 401);
  });
});
