import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import type { Env, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Wallet and red packets end to end over real HTTP and sockets (SQLite, or PostgreSQL + Redis
 * when configured): admin deposits with idempotency keys, /red-packet/send into a friend chat and
 * a group (both splits), the msgType 4 message and msgType 6 claim notices, logged-in claims,
 * the guest path (receive → entry → register-entry with an SMS code), detail, records, every seed
 * error code, the packet page, expiry refunds — and after every step `wallet.verify()` is clean
 * and the balances are what the ledger says.
 */

const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;
type Who = { user: User; token: string; id: string; mobile: string };

describe("chat33 red packets (红包接口类) and the wallet", () => {
  let s: TestServer;
  const clients: TestClient[] = [];
  const headers = (w: Who | null, extra: Record<string, string> = {}) => ({
    "FZM-DEVICE": "iOS",
    ...(w === null ? {} : { "FZM-AUTH-TOKEN": w.token }),
    ...extra,
  });
  const call = <T = Record<string, unknown>>(w: Who | null, path: string, body: unknown = {}, extra = {}) =>
    post<Env<T>>(`${s.base}${path}`, body, headers(w, extra));
  const ok = async <T = Record<string, unknown>>(w: Who | null, path: string, body: unknown = {}, extra = {}) => {
    const r = await call<T>(w, path, body, extra);
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
    return r.body.data;
  };
  const fails = async (w: Who | null, path: string, body: unknown, result: number, extra = {}) => {
    const r = await call(w, path, body, extra);
    assert.equal(r.status, 200, `${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.result, result, `${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
    assert.deepEqual(r.body.data, {});
    return r.body.message;
  };
  const admin = (path: string, body: unknown) =>
    post<{ code: number; msg: string; data: Record<string, unknown> }>(`${s.base}/admin/api${path}`, body, {
      authorization: "Bearer test-admin-token",
    });
  const person = async (nickname: string): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
    const { token } = await s.app.accounts.startSession(user, { device: "ios", ip: "127.0.0.1" });
    return { user, token, id: String(user.id), mobile };
  };
  const fund = async (w: Who, coin: number, amount: number, key = `k-${w.id}-${coin}-${amount}-${Math.random()}`) => {
    const r = await admin("/wallet/deposit", { userId: w.id, coin, amount, idempotencyKey: key });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
  };
  const balance = async (w: Who, coin = 1) => {
    const d = await ok<{ balances: Array<{ coin: number; amount: number }> }>(w, "/red-packet/balance");
    return d.balances.find((b) => b.coin === coin)?.amount ?? -1;
  };
  const consistent = async () => assert.deepEqual(await s.app.wallet.verify(), []);
  const socket = async (w: Who) => {
    const c = new TestClient(`${s.ws}/ws`, { headers: headers(w) });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };
  /** Frames until a message (event 0) of `msgType` arrives. */
  const nextMsg = async (c: TestClient, msgType: number): Promise<MsgFrame> => {
    for (;;) {
      const f = await c.next<MsgFrame>();
      if (f.eventType === 0 && f.msgType === msgType) return f;
    }
  };
  const befriend = async (a: Who, b: Who) => {
    await s.app.friends.request(a.user, b.user.id, { remark: "", reason: "", roomId: null });
    await s.app.friends.respond(b.user, a.user.id, true);
  };
  const send = (w: Who, body: Record<string, unknown>) =>
    ok<{ packetId: string; packetType: number; packetUrl: string; coin: number; remark: string }>(
      w,
      "/red-packet/send",
      body,
    );

  let ann: Who;
  let ben: Who;
  let cat: Who;
  let out: Who;
  let annSock: TestClient;
  let benSock: TestClient;
  let groupId: string;

  before(async () => {
    s = await startServer({ "chat33.msgRatePerUser": 1000, "wallet.sendPerMinute": 1000 });
    [ann, ben, cat, out] = [await person("Ann"), await person("Ben"), await person("Cat"), await person("Out")];
    await befriend(ann, ben);
    const g = await s.app.groups.create(ann.user, { name: "红包群", userIds: [ben.user.id, cat.user.id] });
    groupId = String(g.id);
    [annSock, benSock] = [await socket(ann), await socket(ben)];
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  describe("admin deposits", () => {
    test("credit with an idempotency key; the same key again changes nothing and answers the same", async () => {
      const first = await fund(ann, 1, 100, "dep-ann-1");
      assert.deepEqual(first, { userId: ann.id, coin: 1, amount: 100, balance: 100, replay: false });
      const again = await fund(ann, 1, 100, "dep-ann-1");
      assert.deepEqual(again, { ...first, replay: true });
      assert.equal(await balance(ann), 100);
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => fund(ann, 2, 5, "dep-ann-ycc")));
      assert.equal(concurrent.filter((d) => d.replay === false).length, 1);
      assert.equal(await balance(ann, 2), 5);
      await consistent();
    });

    test("0.1 + 0.2 shows as 0.3; floats only on the wire", async () => {
      await fund(cat, 2, 0.1);
      await fund(cat, 2, 0.2);
      assert.equal(await balance(cat, 2), 0.3);
      assert.equal(await s.app.wallet.balance(cat.user.id, 2), 30_000_000);
    });

    test("refusals: reused key, bad amount, unknown coin or user, no admin token — nothing changes", async () => {
      let r = await admin("/wallet/deposit", { userId: ann.id, coin: 1, amount: 7, idempotencyKey: "dep-ann-1" });
      assert.equal(r.status, 409);
      for (const [body, status] of [
        [{ userId: ann.id, coin: 1, amount: 0.123456789, idempotencyKey: "x1" }, 400],
        [{ userId: ann.id, coin: 1, amount: -1, idempotencyKey: "x2" }, 400],
        [{ userId: ann.id, coin: 9, amount: 1, idempotencyKey: "x3" }, 400],
        [{ userId: "999999", coin: 1, amount: 1, idempotencyKey: "x4" }, 404],
        [{ userId: ann.id, coin: 1, amount: 1, idempotencyKey: "" }, 400],
        [{ userId: ann.id, coin: 1, amount: 1e300, idempotencyKey: "x5" }, 400],
      ] as const) {
        r = await admin("/wallet/deposit", body);
        assert.equal(r.status, status, JSON.stringify([body, r.body]));
      }
      const anon = await post(`${s.base}/admin/api/wallet/deposit`, {
        userId: ann.id,
        coin: 1,
        amount: 1,
        idempotencyKey: "x6",
      });
      assert.equal(anon.status, 401);
      assert.equal(await balance(ann), 100);
      await consistent();
    });
  });

  describe("a friend packet (equal split)", () => {
    let packetId: string;

    test("/red-packet/send: the reply as chat33's server gives it; a msgType 4 message reaches both", async () => {
      const sent = await send(ann, {
        cType: 0,
        toId: ben.id,
        coin: 1,
        type: 2,
        amount: 10,
        size: 3,
        remark: "<b>新年</b>",
      });
      packetId = sent.packetId;
      assert.match(packetId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(sent, {
        packetId,
        packetType: 2,
        packetUrl: `/packets/pages/open.html?id=${packetId}`,
        coin: 1,
        remark: "<b>新年</b>",
      });
      for (const c of [benSock, annSock]) {
        const m = await nextMsg(c, 4);
        assert.equal(m.channelType, 3);
        assert.equal(m.fromId, ann.id);
        assert.deepEqual(m.msg, { coin: 1, packetId, packetType: 2, packetUrl: sent.packetUrl, remark: "<b>新年</b>" });
      }
      assert.equal(await balance(ann), 90);
      const shares = await s.app.storage.wallet.shares(packetId);
      assert.deepEqual(
        shares.map((x) => x.amount),
        [333_333_334, 333_333_333, 333_333_333],
      );
      await consistent();
    });

    test("refusals leave every balance untouched: not a friend, short balance, bad input", async () => {
      assert.equal(
        await fails(ann, "/red-packet/send", { cType: 0, toId: cat.id, coin: 1, type: 1, amount: 1, size: 1 }, -2018),
        "对方不是您的好友",
      );
      assert.match(
        await fails(ann, "/red-packet/send", { cType: 0, toId: ben.id, coin: 1, type: 1, amount: 91, size: 1 }, -4000),
        /余额不足/,
      );
      await fails(
        ann,
        "/red-packet/send",
        { cType: 0, toId: ben.id, coin: 1, type: 1, amount: 0.00000002, size: 3 },
        -1001,
      );
      await fails(ann, "/red-packet/send", { cType: 0, toId: ben.id, coin: 1, type: 3, amount: 1, size: 1 }, -1001);
      await fails(ann, "/red-packet/send", { cType: 0, toId: ben.id, coin: 7, type: 1, amount: 1, size: 1 }, -1001);
      await fails(
        ann,
        "/red-packet/send",
        { cType: 0, toId: ben.id, coin: 1, type: 1, amount: 1.000000001, size: 1 },
        -1001,
      );
      await fails(ann, "/red-packet/send", { cType: 1, toId: "424242", coin: 1, type: 1, amount: 1, size: 1 }, -3001);
      await fails(ann, "/red-packet/send", { cType: 2, toId: ben.id, coin: 1, type: 1, amount: 1, size: 1 }, -1001);
      await fails(ann, "/red-packet/send", { toId: ben.id, coin: 1, type: 1, amount: 1, size: 1 }, -1002);
      await fails(ann, "/red-packet/send", { cType: 0, toId: ben.id, coin: 1, type: 1, amount: 1, size: 1001 }, -1001);
      await fails(null, "/red-packet/send", { cType: 0, toId: ben.id, coin: 1, type: 1, amount: 1, size: 1 }, -1003);
      assert.equal(await balance(ann), 90);
      await consistent();
    });

    test("debit, packet and msgType 4 message commit together: concurrent sends past the balance leave no orphan message", async () => {
      const dan = await person("Dan");
      await befriend(dan, ben);
      await fund(dan, 1, 2);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(dan, "/red-packet/send", { cType: 0, toId: ben.id, coin: 1, type: 2, amount: 1, size: 1 }),
        ),
      );
      assert.deepEqual(answers.map((a) => a.body.result).sort(), [-4000, -4000, -4000, -4000, 0, 0]);
      assert.equal(await balance(dan), 0);
      const conv = await s.app.messages.findDirect(dan.user.id, ben.user.id);
      assert.ok(conv);
      const stored = (await s.app.storage.messages.history(conv.id, null, 50)).filter((m) => m.kind === "redpacket");
      assert.equal(stored.length, 2, "a message only for each packet that was paid for");
      for (const m of stored) {
        const p = await s.app.storage.wallet.packet(String(m.content.packetId));
        assert.equal(p?.messageId, m.id);
      }
      await consistent();
    });

    test("the friend claims (amount/total/remain/coin); the sender hears a msgType 6 notice", async () => {
      const got = await ok<{ amount: number; total: number; remain: number; coin: number }>(
        ben,
        "/red-packet/receive-entry",
        {
          packet_id: packetId,
        },
      );
      assert.deepEqual(got, { amount: 3.33333334, total: 3, remain: 2, coin: 1 });
      assert.equal(await balance(ben), 3.33333334);
      const notice = await nextMsg(annSock, 6);
      assert.equal(notice.fromId, ben.id);
      assert.equal(notice.msg.content, "Ben领取了Ann的红包");
      await consistent();
    });

    test("-4009 twice, -4010 the sender of a friend packet and outsiders, -4006 bad ids", async () => {
      await fails(ben, "/red-packet/receive-entry", { packet_id: packetId }, -4009);
      await fails(ann, "/red-packet/receive-entry", { packet_id: packetId }, -4010);
      await fails(out, "/red-packet/receive-entry", { packet_id: packetId }, -4010);
      await fails(ben, "/red-packet/receive-entry", { packet_id: "no-such-packet" }, -4006);
      await fails(ben, "/red-packet/receive-entry", { packet_id: "00000000-0000-4000-8000-000000000000" }, -4006);
      await fails(ben, "/red-packet/receive-entry", {}, -1002);
      assert.equal(await balance(ben), 3.33333334);
    });
  });

  describe("a group packet (random split)", () => {
    let packetId: string;

    test("members claim random shares ≥ 1 unit summing to the amount; -4001 once it is empty", async () => {
      const sent = await send(ann, { cType: 1, toId: groupId, coin: 1, type: 1, amount: 1, size: 2 });
      packetId = sent.packetId;
      assert.equal(sent.remark, "恭喜发财，大吉大利");
      await nextMsg(benSock, 4);
      const a = await ok<{ amount: number; remain: number }>(ann, "/red-packet/receive-entry", { packet_id: packetId });
      const c = await ok<{ amount: number; remain: number }>(cat, "/red-packet/receive-entry", { packet_id: packetId });
      assert.deepEqual([a.remain, c.remain], [1, 0]);
      assert.equal(Math.round((a.amount + c.amount) * 1e8), 100_000_000);
      assert.equal(await fails(ben, "/red-packet/receive-entry", { packet_id: packetId }, -4001), "红包已被领完");
      await fails(out, "/red-packet/receive-entry", { packet_id: packetId }, -4010);
      await consistent();
    });

    test("/red-packet/detail: members see claims, guests only the packet", async () => {
      type Detail = {
        remain: number;
        status: number;
        size: number;
        receive: Array<{ uid: string; amount: number }>;
        my_amount: number;
      };
      const d = await ok<Detail>(cat, "/red-packet/detail", { packet_id: packetId });
      assert.equal(d.status, 2);
      assert.equal(d.remain, 0);
      assert.deepEqual(d.receive.map((x) => x.uid).sort(), [ann.id, cat.id].sort());
      assert.ok(d.my_amount > 0);
      const g = await ok<Detail>(null, "/red-packet/detail", { packet_id: packetId });
      assert.deepEqual(g.receive, []);
      assert.equal(g.size, 2);
      const o = await ok<Detail>(out, "/red-packet/detail", { packet_id: packetId });
      assert.deepEqual(o.receive, []);
    });
  });

  describe("guests: receive → entry → register-entry", () => {
    let packetId: string;
    const uuid = { "FZM-UUID": "guest-device-1" };

    before(async () => {
      packetId = (await send(ann, { cType: 1, toId: groupId, coin: 1, type: 2, amount: 3, size: 3 })).packetId;
    });

    test("an existing user's mobile is credited at once (recv_type 1); the mark is then spent", async () => {
      const r = await ok<{ mark: string; amount: number; total: number; remain: number }>(
        null,
        "/red-packet/receive",
        { packet_id: packetId },
        uuid,
      );
      assert.match(r.mark, /^[0-9a-f-]{36}$/);
      assert.deepEqual({ ...r, mark: "" }, { mark: "", amount: 1, total: 3, remain: 2 });
      const again = await ok<{ mark: string }>(null, "/red-packet/receive", { packet_id: packetId }, uuid);
      assert.equal(again.mark, r.mark, "the same guest gets its live mark back");
      const before = await balance(out);
      const e = await ok<Record<string, unknown>>(null, "/red-packet/entry", { mark: r.mark, account: out.mobile });
      assert.deepEqual(e, {
        packet_id: packetId,
        amount: 1,
        mark: "",
        coin: 1,
        recv_type: 1,
        message: "领取成功，已存入账户",
      });
      assert.equal(await balance(out), before + 1);
      await fails(null, "/red-packet/entry", { mark: r.mark, account: out.mobile }, -4005);
      await consistent();
    });

    test("an unknown mobile waits (recv_type 2, -4002 again), then registers with its SMS code", async () => {
      const guest = { "FZM-UUID": "guest-device-2" };
      const r = await ok<{ mark: string; amount: number }>(null, "/red-packet/receive", { packet_id: packetId }, guest);
      const mobile = newMobile();
      const e = await ok<{ recv_type: number; mark: string }>(null, "/red-packet/entry", {
        mark: r.mark,
        account: mobile,
      });
      assert.equal(e.recv_type, 2);
      assert.equal(e.mark, r.mark);
      await fails(null, "/red-packet/entry", { mark: r.mark, account: mobile }, -4002);
      await fails(
        null,
        "/red-packet/register-entry",
        { mark: r.mark, account: newMobile(), password: PASSWORD, captcha: "000000" },
        -4005,
      );
      await fails(
        null,
        "/red-packet/register-entry",
        { mark: r.mark, account: ann.mobile, password: PASSWORD, captcha: "000000" },
        -4005,
      );
      await ok(null, "/send/sms", { mobile });
      const [sms] = await s.app.storage.sms.outboxList(mobile, 1);
      const wrong = sms.code === "000000" ? "111111" : "000000";
      await fails(
        null,
        "/red-packet/register-entry",
        { mark: r.mark, account: mobile, password: PASSWORD, captcha: wrong },
        -4007,
      );
      const done = await ok<Record<string, unknown>>(null, "/red-packet/register-entry", {
        mark: r.mark,
        account: mobile,
        password: PASSWORD,
        captcha: sms.code,
      });
      const user = await s.app.accounts.findUserByMobile(mobile);
      assert.ok(user);
      assert.deepEqual(done, {
        packet_id: packetId,
        red_packet_id: packetId,
        amount: 1,
        mobile,
        coin: 1,
        uid: user.uid,
      });
      assert.equal(await s.app.wallet.balance(user.id, 1), 100_000_000);
      await fails(
        null,
        "/red-packet/register-entry",
        { mark: r.mark, account: mobile, password: PASSWORD, captcha: sms.code },
        -4005,
      );
      await consistent();
    });

    test("-4003 when the waiting mobile registered meanwhile; entry then credits it; -4005 bad marks", async () => {
      const r = await ok<{ mark: string }>(
        null,
        "/red-packet/receive",
        { packet_id: packetId },
        { "FZM-UUID": "guest-device-3" },
      );
      const mobile = newMobile();
      await ok(null, "/red-packet/entry", { mark: r.mark, account: mobile });
      const late = await s.app.accounts.createUser({ mobile, password: PASSWORD });
      await fails(
        null,
        "/red-packet/register-entry",
        { mark: r.mark, account: mobile, password: PASSWORD, captcha: "123456" },
        -4003,
      );
      const e = await ok<{ recv_type: number }>(null, "/red-packet/entry", { mark: r.mark, account: mobile });
      assert.equal(e.recv_type, 1);
      assert.equal(await s.app.wallet.balance(late.id, 1), 100_000_000);
      await fails(null, "/red-packet/entry", { mark: "not-a-mark", account: mobile }, -4005);
      await fails(null, "/red-packet/entry", { mark: r.mark, account: "123" }, -1001);
      await fails(null, "/red-packet/receive", { packet_id: packetId }, -4001, { "FZM-UUID": "guest-device-4" });
      await consistent();
    });
  });

  describe("records, the page, expiry", () => {
    test("/red-packet/record, /receive-record, /send-record by month and year", async () => {
      const now = new Date(Date.now() + 8 * 3600_000);
      const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
      type Rec = {
        receive_num: number;
        receive_amount: number;
        send_num: number;
        send_amount: number;
        receive: Array<Record<string, unknown>>;
        send: Array<Record<string, unknown>>;
      };
      const r = await ok<Rec>(ben, "/red-packet/record", { date: month });
      assert.equal(r.receive_num, 1);
      assert.equal(r.receive_amount, 3.33333334);
      assert.equal(r.send_num, 0);
      assert.deepEqual(Object.keys(r.receive[0]).sort(), [
        "amount",
        "coin",
        "receive_time",
        "red_packet_id",
        "type",
        "username",
      ]);
      assert.equal(r.receive[0].username, "Ann");
      const sent = await ok<{ totalnum: number; total_amount: number; send: Array<Record<string, unknown>> }>(
        ann,
        "/red-packet/send-record",
        { date: String(now.getUTCFullYear()) },
      );
      assert.equal(sent.totalnum, 3);
      assert.equal(sent.total_amount, 14);
      assert.deepEqual(Object.keys(sent.send[0]).sort(), ["amount", "coin", "red_packet_id", "send_time", "type"]);
      const got = await ok<{ totalnum: number; total_amount: number }>(ann, "/red-packet/receive-record", {
        date: month,
        coin: 1,
      });
      assert.equal(got.totalnum, 1);
      const empty = await ok<{ totalnum: number }>(ann, "/red-packet/send-record", { date: "2018-08" });
      assert.equal(empty.totalnum, 0);
      await fails(ann, "/red-packet/record", { date: "2018-13" }, -1001);
      await fails(ann, "/red-packet/record", { date: "last month" }, -1001);
      await fails(ann, "/red-packet/record", { date: month, coin: 5 }, -1001);
    });

    test("the packet page: HTML with the packet, escaped, a strict CSP; unknown ids 404", async () => {
      const { packetId, packetUrl } = await send(ann, {
        cType: 0,
        toId: ben.id,
        coin: 1,
        type: 1,
        amount: 1,
        size: 1,
        remark: "<script>x</script>",
      });
      const res = await fetch(`${s.base}${packetUrl}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/html/);
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
      const html = await res.text();
      assert.ok(html.includes("&lt;script&gt;x&lt;/script&gt;"));
      assert.ok(!html.includes("<script>x</script>"));
      assert.ok(html.includes(`data-id="${packetId}"`));
      assert.ok(!/https?:\/\/(?!127)/.test(html), "nothing loaded from elsewhere");
      assert.equal((await fetch(`${s.base}/packets/pages/open.html?id=nope`)).status, 404);
    });

    test("expiry: what is left goes back to the sender exactly once, whichever nodes sweep", async () => {
      const { packetId } = await send(ann, { cType: 1, toId: groupId, coin: 1, type: 1, amount: 2, size: 4 });
      await ok(cat, "/red-packet/receive-entry", { packet_id: packetId });
      await ok(null, "/red-packet/receive", { packet_id: packetId }, { "FZM-UUID": "late-guest" });
      const packet = await s.app.storage.wallet.packet(packetId);
      assert.ok(packet);
      // everything Ann's packets still hold (open or held shares) is what must come back, once
      const mine = await s.app.storage.wallet.sent(ann.user.id, 1, 0, Number.MAX_SAFE_INTEGER, 500);
      let unsettled = 0;
      for (const p of mine.list)
        for (const x of await s.app.storage.wallet.shares(p.id))
          if (x.state === "open" || x.state === "held") unsettled += x.amount;
      assert.ok(unsettled > 0);
      const beforeUnits = await s.app.wallet.balance(ann.user.id, 1);
      const at = packet.expiresAt;
      // two sweeps and two direct refunds at once: the row locks let each share go back once
      const refunds = await Promise.all([
        s.app.redPackets.sweep(at),
        s.app.storage.wallet.refund(packetId, at, "00000000-0000-4000-8000-0000000000e1"),
        s.app.storage.wallet.refund(packetId, at, "00000000-0000-4000-8000-0000000000e2"),
      ]);
      await s.app.redPackets.sweep(at + 1);
      assert.equal(await s.app.wallet.balance(ann.user.id, 1), beforeUnits + unsettled);
      // (the sweep also refunded other senders' expired packets: only Ann's balance is checked here)
      assert.ok(refunds.reduce((x, y) => x + y, 0) >= unsettled);
      assert.equal(await s.app.storage.wallet.refund(packetId, at + 2, "00000000-0000-4000-8000-0000000000e3"), 0);
      const shares = await s.app.storage.wallet.shares(packetId);
      assert.deepEqual(shares.map((x) => x.state).sort(), ["claimed", "refunded", "refunded", "refunded"]);
      assert.ok((await s.app.storage.wallet.packet(packetId))?.settledAt);
      await fails(ben, "/red-packet/receive-entry", { packet_id: packetId }, -4001);
      await consistent();
    });
  });
});
