import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import { AccessClient, type AccessClient as Client } from "./helpers/im-client.ts";
import { freePort } from "./helpers/ports.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * The cluster-admin access layer (seed 003) with real clients over both transports: register →
 * iplist → connect → online → room-join → push, every push dimension delivered byte for byte to
 * exactly the right connections (chat33 sockets of the user included), token forgery, the
 * online deadline, sid collisions, frame limits, protocol errors and drain.
 */
const ADMIN = { authorization: "Bearer test-admin-token" };
const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

/** Reads frames until none came for 150 ms (event 20/24 notices of the setup). */
/** The next frame that is not a group online-count notice (event 24). */
async function nextPush(c: TestClient, timeoutMs = 3000): Promise<Record<string, unknown>> {
  for (;;) {
    const f = await c.next<Record<string, unknown>>(timeoutMs);
    if (f.eventType !== 24) return f;
  }
}

async function drainFrames(c: TestClient): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await c.next(150);
    } catch {
      return;
    }
  }
}

type Who = { user: User; token: string };
type Reply = Record<string, unknown> & { code: number; errmsg: string };

describe("cluster admin (003): access protocol over WebSocket and TCP", () => {
  let s: TestServer;
  const clients: Array<{ close(): void }> = [];

  const get = async (path: string, headers: Record<string, string> = ADMIN): Promise<Reply> => {
    const r = await fetch(`${s.base}${path}`, { headers });
    return (await r.json()) as Reply;
  };
  const push = async (query: string, body: Buffer | string): Promise<Reply> => {
    const r = await fetch(`${s.base}/im/push?${query}`, { method: "POST", headers: ADMIN, body });
    return (await r.json()) as Reply;
  };

  const person = async (nickname: string): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
    const r = await post<{ result: number; data: { token: string } }>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      { "FZM-DEVICE": "iOS" },
    );
    assert.equal(r.body.result, 0);
    return { user, token: r.body.data.token };
  };

  /** register + iplist for `w` (as that user), then a client online over `kind`. */
  const session = async (w: Who, kind: "ws" | "tcp", app = "demo", version = "1.0") => {
    const auth = { authorization: `Bearer ${w.token}` };
    const reg = await get(`/im/register?uid=${w.user.id}&nation=86&city=10&town=3`, auth);
    assert.equal(reg.code, 0, JSON.stringify(reg));
    assert.equal(reg.errmsg, "Ok");
    const sid = reg.sid as number;
    const ip = await get(
      `/im/iplist?type=${kind === "tcp" ? 1 : 2}&uid=${w.user.id}&sid=${sid}&clientip=127.0.0.1`,
      auth,
    );
    assert.equal(ip.code, 0, JSON.stringify(ip));
    const list = ip.iplist as string[];
    assert.equal(ip.len, list.length);
    assert.ok(list.length >= 1);
    const c = await AccessClient.open(kind, list[0]);
    clients.push(c);
    const ack = await c.online({ uid: w.user.id, sid, token: ip.token, app, version, terminal: 1 });
    assert.deepEqual(ack, { code: 0, errmsg: "Ok", uid: w.user.id, sid });
    return { c, sid, token: ip.token as string };
  };

  before(async () => {
    s = await startServer({ tcpPort: await freePort(), "im.onlineTimeoutMs": 600, "im.tokenTtlMs": 2000 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("an enterprise /socket is a session of its user too: broadcast, uid and group pushes reach it as the exact body", async () => {
    const e = await person("e");
    const other = await person("x");
    const { token } = await s.app.accounts.startSession(e.user, { device: "pc" });
    const ent = new TestClient(`${s.ws}/socket?authorization=${encodeURIComponent(token)}&platform=pc`);
    clients.push(ent);
    assert.equal((await ent.next<{ code: number }>()).code, 1000);
    await socketsReady(s.app);
    const group = await s.app.groups.create(other.user, { userIds: [e.user.id] });
    await new Promise((r) => setTimeout(r, 100));
    // drop the group's own notices (the socket joined the group's topic)
    for (;;) {
      const frame = await ent.next(150).catch(() => null);
      if (frame === null) break;
    }
    const one = async (query: string, body: Record<string, unknown>, reaches: boolean) => {
      assert.equal((await push(query, JSON.stringify(body))).code, 0, query);
      if (reaches) assert.deepEqual(await ent.next(), body, `${query} reaches the enterprise socket`);
      else assert.ok(await ent.silent(200), `${query} must not reach the enterprise socket`);
    };
    await one("dim=broadcast", { k: "all" }, true);
    await one(`dim=uid&uid=${e.user.id}`, { k: "mine" }, true);
    await one(`dim=uid&uid=${other.user.id}`, { k: "theirs" }, false);
    await one(`dim=group&gid=${group.id}`, { k: "group" }, true);
    await one("dim=appid&appid=nobody", { k: "app" }, false);
  });

  test("register → iplist → online → room-join → push, over WS and TCP; every dimension reaches exactly its connections", async () => {
    const a = await person("a");
    const b = await person("b");
    const outsider = await person("o");
    const aw = await session(a, "ws", "app1", "1.0");
    const at = await session(a, "tcp", "app1", "2.0");
    const bt = await session(b, "tcp", "app2", "1.0");
    const ow = await session(outsider, "ws", "app3", "1.0");
    // a's chat33 socket is a session of a too (uid, group and broadcast pushes)
    const chat = new TestClient(`${s.ws}/ws`, { headers: { "FZM-AUTH-TOKEN": a.token, "FZM-DEVICE": "iOS" } });
    clients.push(chat);
    await chat.opened;
    await socketsReady(s.app);

    const room = await s.app.chatrooms.create({ adminToken: true }, { name: "r", avatar: "" });
    const group = await s.app.groups.create(a.user, { userIds: [b.user.id] });
    // a's access connections subscribed to their groups at online: the new group reaches them by event 20
    for (const c of [aw.c, bt.c]) {
      c.send({ cmd: "room-join", seq: 7, data: { rid: room.id } });
      assert.deepEqual(await c.next(), { cmd: "room-join-ack", seq: 7, data: { code: 0, errmsg: "Ok", rid: room.id } });
    }
    await new Promise((r) => setTimeout(r, 100));
    await drainFrames(chat);

    const all = [aw.c, at.c, bt.c, ow.c];
    const expect = async (query: string, body: string | Buffer, to: Client[], chat33: boolean, fields = {}) => {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
      assert.deepEqual(await push(query, bytes), { ...fields, code: 0, errmsg: "Ok" }, query);
      for (const c of to) assert.deepEqual(await c.nextRaw(), bytes, `${query} → ${c.kind}`);
      for (const c of all.filter((x) => !to.includes(x))) {
        const got = await c.nextRaw(150).catch(() => null);
        assert.equal(got?.toString(), undefined, `${query} must not reach ${c.kind} #${all.indexOf(c)}`);
      }
      if (chat33) assert.equal((await nextPush(chat)).k, 1, `${query} reaches a's chat33 socket`);
      else {
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(await nextPush(chat, 50).catch(() => null), null, `${query} must not reach chat33`);
      }
    };
    await expect("dim=broadcast", '{"k":1,"text":"大家好"}', all, true);
    await expect(`dim=uid&uid=${a.user.id}`, '{"k":1}', [aw.c, at.c], true);
    await expect(`dim=sid&sid=${bt.sid}`, Buffer.from('{"k":2,"s":"ü"}'), [bt.c], false);
    await expect(`dim=group&gid=${group.id}`, '{"k":1,"g":true}', [aw.c, at.c, bt.c], true, { gid: group.id });
    await expect(`dim=room&rid=${room.id}&expire=30`, "  raw text, not JSON ", [aw.c, bt.c], false, { rid: room.id });
    await expect("dim=appid&appid=app1", "app1 all", [aw.c, at.c], false);
    await expect("dim=appid&appid=app1&version=2.0", "app1 v2", [at.c], false);

    // a room push that is already past its `expire` when it would be sent is dropped
    const old = await push(`dim=room&rid=${room.id}&expire=0`, "late");
    assert.equal(old.code, 0);
    assert.ok(await aw.c.silent(150));

    // ping / pong and quit
    at.c.send({ cmd: "ping", seq: 9 });
    assert.deepEqual(await at.c.next(), { cmd: "pong", seq: 9, data: {} });
    bt.c.send({ cmd: "room-quit", seq: 3, data: { rid: room.id } });
    assert.deepEqual(await bt.c.next(), {
      cmd: "room-quit-ack",
      seq: 3,
      data: { code: 0, errmsg: "Ok", rid: room.id },
    });
    bt.c.send({ cmd: "room-quit", seq: 4, data: { rid: room.id } });
    assert.equal((await bt.c.next()).data.code, 20004);

    // status queries see the online sessions and joined rooms
    const st = await get(`/im/query?option=user-status&uid=${a.user.id}`);
    assert.deepEqual(st, {
      uid: a.user.id,
      status: 1,
      len: 1,
      list: [{ idx: 0, rid: room.id }],
      code: 0,
      errmsg: "Ok",
    });
    const sids = await get(`/im/query?option=sid-list&uid=${a.user.id}`);
    assert.deepEqual(
      (sids.list as Array<{ sid: number }>).map((x) => x.sid),
      [aw.sid, at.sid].sort((x, y) => x - y),
    );
    for (const c of [aw.c, at.c, bt.c, ow.c]) c.close();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await get(`/im/query?option=user-status&uid=${a.user.id}`)).status, 0);
  });

  test("tokens: forged, tampered, another uid's or sid's, expired are refused with 20008", async () => {
    const a = await person("t");
    const other = await person("t2");
    const auth = { authorization: `Bearer ${a.token}` };
    const sid = (await get(`/im/register?uid=${a.user.id}&nation=1&city=1&town=1`, auth)).sid as number;
    const sid2 = (await get(`/im/register?uid=${a.user.id}&nation=1&city=1&town=1`, auth)).sid as number;
    const otherSid = (await get(`/im/register?uid=${other.user.id}&nation=1&city=1&town=1`)).sid as number;
    const ip = await get(`/im/iplist?type=1&uid=${a.user.id}&sid=${sid}&clientip=10.0.0.1`, auth);
    const token = ip.token as string;
    const addr = (ip.iplist as string[])[0];
    // clientip is only the caller's hint: the node advertises its own loopback address, the only one a test may reach
    assert.match(addr, /^127\./);
    const [plain, mac] = token.split(".");
    const forgedPlain = Buffer.from(`uid:${a.user.id}:ttl:9999999999:sid:${sid}:end`).toString("base64url");
    const cases: Array<[string, Record<string, unknown>]> = [
      ["seed plain text", { uid: a.user.id, sid, token: `uid:${a.user.id}:ttl:9999999999:sid:${sid}:end` }],
      ["forged payload", { uid: a.user.id, sid, token: `${forgedPlain}.${mac}` }],
      ["tampered signature", { uid: a.user.id, sid, token: `${plain}.${mac.slice(0, -2)}AA` }],
      ["other sid of the same user", { uid: a.user.id, sid: sid2, token }],
      ["other user", { uid: other.user.id, sid: otherSid, token }],
    ];
    for (const [name, data] of cases) {
      const c = await AccessClient.open("tcp", addr);
      clients.push(c);
      const ack = await c.online(data);
      assert.equal(ack.code, 20008, name);
      c.close();
    }
    // the right token works, until it expires
    const ok = await AccessClient.open("ws", addr.replace(/:\d+$/, `:${new URL(s.base).port}`));
    clients.push(ok);
    assert.equal((await ok.online({ uid: a.user.id, sid, token })).code, 0);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await AccessClient.open("tcp", addr);
    clients.push(late);
    assert.equal((await late.online({ uid: a.user.id, sid, token })).code, 20008, "expired");
  });

  test("a user token registers and lists for itself only; the admin token for anyone", async () => {
    const a = await person("p");
    const b = await person("q");
    const auth = { authorization: `Bearer ${a.token}` };
    assert.equal((await get(`/im/register?uid=${b.user.id}&nation=1&city=1&town=1`, auth)).code, 10005);
    assert.equal((await get(`/im/register?uid=${b.user.id}&nation=1&city=1&town=1`, {})).code, 10005);
    assert.equal(
      (await get(`/im/register?uid=${a.user.id}&nation=1&city=1&town=1`, { "FZM-AUTH-TOKEN": a.token })).code,
      0,
    );
    const bs = (await get(`/im/register?uid=${b.user.id}&nation=1&city=1&town=1`)).sid as number;
    assert.equal((await get(`/im/iplist?type=2&uid=${b.user.id}&sid=${bs}&clientip=::1`, auth)).code, 10005);
    // a's own uid with b's sid: the session is not a's
    assert.equal((await get(`/im/iplist?type=2&uid=${a.user.id}&sid=${bs}&clientip=::1`, auth)).code, 20007);
    // a user token cannot push
    const r = await fetch(`${s.base}/im/push?dim=broadcast`, { method: "POST", headers: auth, body: "x" });
    assert.equal(((await r.json()) as Reply).code, 10005);
  });

  test("protocol errors, the online deadline, a second online of the same sid (20009), the TCP frame limit", async () => {
    const a = await person("e");
    const auth = { authorization: `Bearer ${a.token}` };
    const sid = (await get(`/im/register?uid=${a.user.id}&nation=1&city=1&town=1`, auth)).sid as number;
    const ip = await get(`/im/iplist?type=1&uid=${a.user.id}&sid=${sid}&clientip=127.0.0.1`, auth);
    const addr = (ip.iplist as string[])[0];

    const c = await AccessClient.open("tcp", addr);
    clients.push(c);
    c.send("{not json");
    assert.deepEqual((await c.next()).data.code, 10017);
    c.send({ cmd: "ping", seq: 1 });
    assert.deepEqual(await c.next(), { cmd: "error", seq: 1, data: { code: 20008, errmsg: "Send online first" } });
    c.send({ cmd: "dance", seq: 2 });
    assert.equal((await c.next()).data.code, 20007);
    c.send({ seq: 3 });
    assert.equal((await c.next()).data.code, 20006);
    assert.equal((await c.online({ uid: a.user.id, sid })).code, 20006, "token missing");
    assert.equal((await c.online({ uid: "x", sid, token: "t" })).code, 20007);
    // not online within the deadline: an error frame, then the close
    assert.deepEqual((await c.next(2000)).data, { code: 20008, errmsg: "No online within the deadline" });
    await c.closed;

    const first = await AccessClient.open("ws", addr.replace(/:\d+$/, `:${new URL(s.base).port}`));
    clients.push(first);
    assert.equal((await first.online({ uid: a.user.id, sid, token: ip.token })).code, 0);
    const second = await AccessClient.open("tcp", addr);
    clients.push(second);
    assert.equal((await second.online({ uid: a.user.id, sid, token: ip.token })).code, 0);
    assert.deepEqual(await first.next(), {
      cmd: "kick",
      seq: 0,
      data: { code: 20009, errmsg: "Session went online on another connection" },
    });
    assert.equal((await first.closed).code, 4003);
    assert.equal((await second.online({ uid: a.user.id, sid, token: ip.token })).code, 20001, "already online");

    // a declared length over the limit: 10018, then the close — nothing is buffered
    second.sendRawFrame(Buffer.from("{}"), 64 * 1024 + 1);
    assert.equal((await second.next()).data.code, 10018);
    await second.closed;
  });

  test("an oversized push body gets 10018; a push without body 10006", async () => {
    const big = Buffer.alloc(64 * 1024 + 1, 0x61);
    const r = await fetch(`${s.base}/im/push?dim=broadcast`, { method: "POST", headers: ADMIN, body: big });
    assert.equal(((await r.json()) as Reply).code, 10018);
    assert.equal((await push("dim=broadcast", "")).code, 10006);
  });

  test("drain: listend del with the node's own address kicks access connections, leaves iplist, refuses online", async () => {
    const a = await person("d");
    const auth = { authorization: `Bearer ${a.token}` };
    const sid = (await get(`/im/register?uid=${a.user.id}&nation=1&city=1&town=1`, auth)).sid as number;
    const { c } = await session(a, "tcp");
    const nodes = await get("/im/config?action=list&option=listend");
    const tcpRow = (
      nodes.list as Array<{ nid: number; type: number; ipaddr: string; status: number; total: number }>
    ).find((n) => n.type === 1);
    assert.ok(tcpRow);
    assert.equal(tcpRow.status, 1);
    assert.ok(tcpRow.total >= 1);
    const [ipaddr, port] = tcpRow.ipaddr.split(":");
    const del = await get(`/im/config?action=del&option=listend&nid=${tcpRow.nid}&ipaddr=${ipaddr}&port=${port}`);
    assert.equal(del.code, 0, JSON.stringify(del));
    assert.equal((await c.next()).cmd, "kick");
    await c.closed;
    const ip = await get(`/im/iplist?type=2&uid=${a.user.id}&sid=${sid}&clientip=127.0.0.1`, auth);
    assert.equal(ip.code, 0);
    assert.deepEqual(ip.iplist, [], "a draining node leaves iplist");
    const after = await get("/im/config?action=list&option=listend");
    assert.ok((after.list as Array<{ status: number }>).every((n) => n.status === 2));
  });
});
