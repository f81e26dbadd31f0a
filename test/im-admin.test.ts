import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SqlIm } from "../src/adapters/sql/im-repo.ts";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { imPushText } from "../src/core/events.ts";
import { bucketOf, formatPrecision, parsePrecision, timeString } from "../src/core/im/precision.ts";
import type { User } from "../src/ports/storage.ts";
import { AccessClient } from "./helpers/im-client.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { forEachStorage, newUser } from "./helpers/storage.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * The cluster-admin HTTP API (seed 003) beyond the access chain: every documented parameter error,
 * the envelope on unknown paths and methods, statistics with an injected clock, group and chat-room
 * moderation seen through chat33, capacities, rankings, and node addresses. Plus the storage
 * contract of the 003 repository on both engines.
 */
const ADMIN = { authorization: "Bearer test-admin-token" };
const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `138${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;
type Reply = Record<string, unknown> & { code: number; errmsg: string };
type Who = { user: User; token: string };

test("precision notation, buckets, time-str and push expiry", () => {
  assert.equal(parsePrecision("300"), 300);
  assert.equal(parsePrecision("300s"), 300);
  assert.equal(parsePrecision("5m"), 300);
  assert.equal(parsePrecision("1h"), 3600);
  assert.equal(parsePrecision("1d"), 86400);
  for (const bad of ["", "0", "5x", "-1", "1.5h", "m", "99999999999"]) assert.equal(parsePrecision(bad), null, bad);
  assert.equal(formatPrecision(300), "5m");
  assert.equal(formatPrecision(90), "90s");
  assert.equal(bucketOf(1_000_299_999, 300), 1_000_200);
  assert.equal(timeString(0), "1970-01-01 00:00:00");
  const e = { type: "im.push" as const, body: "b", at: 1000, expireMs: 5000 };
  assert.equal(imPushText(e, 5999), "b");
  assert.equal(imPushText(e, 6000), null);
  assert.equal(imPushText({ ...e, expireMs: -1 }, 1e12), "b");
});

describe("cluster admin (003): HTTP API", () => {
  let s: TestServer;
  const clients: Array<{ close(): void }> = [];
  const get = async (path: string, headers: Record<string, string> = ADMIN): Promise<Reply> => {
    const r = await fetch(`${s.base}${path}`, { headers });
    const body = (await r.json()) as Reply;
    assert.equal(typeof body.code, "number", `${path}: ${JSON.stringify(body)}`);
    assert.equal(typeof body.errmsg, "string");
    return body;
  };
  const code = async (path: string, headers?: Record<string, string>) => (await get(path, headers)).code;
  const person = async (nickname: string): Promise<Who> => {
    const mobile = newMobile();
    const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
    const r = await post<{ result: number; data: { token: string } }>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      { "FZM-DEVICE": "iOS" },
    );
    return { user, token: r.body.data.token };
  };
  const chat33 = async (w: Who) => {
    const c = new TestClient(`${s.ws}/ws`, { headers: { "FZM-AUTH-TOKEN": w.token, "FZM-DEVICE": "iOS" } });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };
  /** The next chat33 frame with this eventType (others skipped). */
  const nextOf = async (c: TestClient, eventType: number) => {
    for (;;) {
      const f = await c.next<Record<string, unknown>>();
      if (f.eventType === eventType) return f;
    }
  };

  before(async () => {
    s = await startServer({ "im.statsIntervalMs": 0, "groups.onlineNoticeMs": 100 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("every reply is {code, errmsg}: permission, missing and invalid parameters, unknown API, wrong method", async () => {
    const a = await person("a");
    // permission: no token, a wrong token, a user token on an admin route
    for (const path of ["/im/config?action=list&option=listend", "/im/query?option=sid-list&uid=1"]) {
      assert.equal(await code(path, {}), 10005);
      assert.equal(await code(path, { authorization: "Bearer nope" }), 10005);
      assert.equal(await code(path, { authorization: `Bearer ${a.token}` }), 10005);
    }
    const missing: string[] = [
      "/im/register?nation=1&city=1&town=1",
      `/im/register?uid=${a.user.id}&city=1&town=1`,
      `/im/register?uid=${a.user.id}&nation=1&town=1`,
      `/im/register?uid=${a.user.id}&nation=1&city=1`,
      "/im/iplist?uid=1&sid=1&clientip=1.2.3.4",
      "/im/iplist?type=1&sid=1&clientip=1.2.3.4",
      "/im/iplist?type=1&uid=1&clientip=1.2.3.4",
      "/im/iplist?type=1&uid=1&sid=1",
      "/im/config?option=user-statis",
      "/im/config?action=add",
      "/im/config?action=add&option=user-statis&num=3",
      "/im/config?action=add&option=user-statis&prec=5m",
      "/im/config?action=get&option=user-statis&prec=5m",
      "/im/config?action=add&option=listend&ipaddr=1.2.3.4&port=1",
      "/im/config?action=add&option=listend&nid=1&port=1",
      "/im/config?action=add&option=frwder&nid=1&ipaddr=1.2.3.4",
      "/im/query?uid=1",
      "/im/query?option=user-status",
      "/im/query?option=sid-list",
      "/im/group/config?action=add&option=blacklist&uid=1",
      "/im/group/config?action=add&option=blacklist&gid=1",
      "/im/group/config?action=get&option=gag",
      "/im/group/config?action=close&option=group",
      "/im/group/config?action=set&option=cap&gid=1",
      "/im/group/query",
      "/im/room/config?action=add&option=blacklist&rid=1",
      "/im/room/config?action=add&option=gag",
      "/im/room/config?action=close&option=room",
      "/im/room/config?action=set&option=cap",
      "/im/room/query?option=group-list",
    ];
    for (const path of missing) assert.equal(await code(path), 20006, path);
    const invalid: string[] = [
      "/im/register?uid=x&nation=1&city=1&town=1",
      "/im/register?uid=0&nation=1&city=1&town=1",
      "/im/register?uid=1&uid=2&nation=1&city=1&town=1",
      "/im/register?uid=999999&nation=1&city=1&town=1",
      "/im/iplist?type=3&uid=1&sid=1&clientip=1.2.3.4",
      "/im/iplist?type=1&uid=1&sid=1&clientip=not-an-ip",
      `/im/iplist?type=1&uid=${a.user.id}&sid=999999&clientip=1.2.3.4`,
      "/im/config?action=add&option=user-statis&prec=5x&num=3",
      "/im/config?action=add&option=user-statis&prec=5m&num=0",
      "/im/config?action=get&option=user-statis&prec=7m&num=3",
      "/im/config?action=fly&option=user-statis",
      "/im/config?action=list&option=nothing",
      "/im/config?action=add&option=listend&nid=1&ipaddr=nope&port=1",
      "/im/config?action=add&option=listend&nid=1&ipaddr=1.2.3.4&port=70000",
      "/im/config?action=add&option=listend&nid=1&ipaddr=1.2.3.4&port=1&type=7",
      "/im/config?action=del&option=listend&nid=1&ipaddr=1.2.3.4&port=9",
      "/im/query?option=nothing&uid=1",
      "/im/group/config?action=add&option=blacklist&gid=424242&uid=1",
      "/im/group/config?action=fly&option=gag&gid=1",
      "/im/group/config?action=add&option=nothing&gid=1",
      "/im/group/query?option=top-list&num=0",
      "/im/group/query?option=nothing",
      "/im/room/config?action=close&option=room&rid=424242",
      "/im/room/config?action=get&option=cap&rid=0",
      "/im/room/query?option=group-list&rid=424242",
      "/im/room/query?option=top-list&num=abc",
    ];
    for (const path of invalid) assert.equal(await code(path), 20007, path);
    // push: dimension parameters and the body
    const push = async (q: string, body = "x") =>
      ((await (await fetch(`${s.base}/im/push?${q}`, { method: "POST", headers: ADMIN, body })).json()) as Reply).code;
    for (const q of ["", "dim=group", "dim=room&rid=1", "dim=room&expire=5", "dim=sid", "dim=uid", "dim=appid"])
      assert.equal(await push(q), 20006, q);
    for (const q of ["dim=all", "dim=group&gid=424242", "dim=room&rid=424242&expire=1", "dim=uid&uid=-1"])
      assert.equal(await push(q), 20007, q);
    const notUtf8 = await fetch(`${s.base}/im/push?dim=broadcast`, {
      method: "POST",
      headers: ADMIN,
      body: Buffer.from([0xff, 0xfe]),
    });
    assert.equal(((await notUtf8.json()) as Reply).code, 10017);
    // unknown API, wrong method
    const nope = await fetch(`${s.base}/im/nothing`, { headers: ADMIN });
    assert.equal(nope.status, 404);
    assert.deepEqual(await nope.json(), { code: 10020, errmsg: "Request api not found" });
    const wrong = await fetch(`${s.base}/im/register?uid=1`, { method: "POST", headers: ADMIN, body: "" });
    assert.equal(wrong.status, 405);
    assert.equal(((await wrong.json()) as Reply).code, 10021);
    const wrongPush = await fetch(`${s.base}/im/push?dim=broadcast`, { headers: ADMIN });
    assert.equal(((await wrongPush.json()) as Reply).code, 10021);
  });

  test("user-statis: add/list/del, precisions in one notation, trend newest first with an injected clock", async () => {
    const im = s.app.im;
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    im.useClock(() => now);
    try {
      assert.equal(await code("/im/config?action=add&option=user-statis&prec=5m&num=3"), 0);
      assert.equal(await code("/im/config?action=add&option=user-statis&prec=1h&num=24"), 0);
      // 300 is the same precision as 5m: it replaces its num
      assert.equal(await code("/im/config?action=add&option=user-statis&prec=300&num=4"), 0);
      const list = await get("/im/config?action=list&option=user-statis");
      assert.deepEqual(list.list, [
        { idx: 0, prec: 300, "prec-str": "5m", num: 4 },
        { idx: 1, prec: 3600, "prec-str": "1h", num: 24 },
      ]);
      // a user comes online between samples: the trend rises
      const w = await person("stat");
      const sid = (await get(`/im/register?uid=${w.user.id}&nation=1&city=1&town=1`)).sid as number;
      const counts: number[] = [];
      for (let i = 0; i < 6; i++) {
        if (i === 3) {
          const ip = await get(`/im/iplist?type=2&uid=${w.user.id}&sid=${sid}&clientip=127.0.0.1`);
          const c = await AccessClient.open("ws", (ip.iplist as string[])[0]);
          clients.push(c);
          assert.equal((await c.online({ uid: w.user.id, sid, token: ip.token })).code, 0);
        }
        assert.equal(await im.sample(now), true, "the only node is the cluster's sampler");
        counts.push(await im.onlineUsers());
        now += 300_000;
      }
      now -= 300_000;
      const got = await get("/im/config?action=get&option=user-statis&prec=5m&num=10");
      assert.equal(got.prec, 300);
      const trend = got.list as Array<{ idx: number; time: number; "time-str": string; num: number }>;
      assert.equal(got.num, 4, "at most the precision's num buckets");
      assert.deepEqual(
        trend.map((x) => x.idx),
        [0, 1, 2, 3],
      );
      assert.deepEqual(
        trend.map((x) => x.time),
        [0, 1, 2, 3].map((k) => bucketOf(now, 300) - k * 300),
        "newest first, one per bucket, the current bucket included",
      );
      assert.equal(trend[0]["time-str"], timeString(trend[0].time));
      assert.deepEqual(
        trend.map((x) => x.num),
        [...counts].reverse().slice(0, 4),
      );
      assert.ok(trend[0].num >= 1 && trend[3].num === trend[0].num - 1);
      const two = await get("/im/config?action=get&option=user-statis&prec=300s&num=2");
      assert.equal((two.list as unknown[]).length, 2);
      assert.equal(await code("/im/config?action=del&option=user-statis&prec=5m"), 0);
      assert.equal(await code("/im/config?action=del&option=user-statis&prec=5m"), 20007);
      assert.equal(await code("/im/config?action=get&option=user-statis&prec=5m&num=2"), 20007);
    } finally {
      im.useClock(Date.now);
    }
  });

  test("groups: blacklist, gag (one member or everyone) seen through chat33 (-2007), capacity, close (event 22), rankings", async () => {
    const owner = await person("owner");
    const m1 = await person("m1");
    const m2 = await person("m2");
    const g = await s.app.groups.create(owner.user, { userIds: [m1.user.id, m2.user.id] });
    const small = await s.app.groups.create(owner.user, { userIds: [m1.user.id] });
    const c1 = await chat33(m1);
    const say = async (msgId: string) => {
      c1.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId,
          channelType: 2,
          targetId: String(g.id),
          msgType: 1,
          msg: { content: "hi" },
        }),
      );
      for (;;) {
        const f = await nextOf(c1, 0);
        if (f.msgId === msgId) return f;
      }
    };
    assert.equal((await say("ok1")).code ?? 0, 0);

    assert.equal(await code(`/im/group/config?action=add&option=gag&gid=${g.id}&uid=${m1.user.id}`), 0);
    assert.equal((await say("muted1")).code, -2007);
    const gag = await get(`/im/group/config?action=get&option=gag&gid=${g.id}`);
    assert.deepEqual(gag.list, [{ idx: 0, uid: m1.user.id }]);
    assert.equal(await code(`/im/group/config?action=del&option=gag&gid=${g.id}&uid=${m1.user.id}`), 0);
    assert.equal((await say("ok2")).code ?? 0, 0);
    // uid 0 / absent: everyone
    assert.equal(await code(`/im/group/config?action=add&option=gag&gid=${g.id}&uid=0`), 0);
    assert.equal((await say("muted2")).code, -2007);
    assert.deepEqual((await get(`/im/group/config?action=get&option=gag&gid=${g.id}`)).list, [{ idx: 0, uid: 0 }]);
    assert.equal(await code(`/im/group/config?action=del&option=gag&gid=${g.id}`), 0);
    assert.equal((await say("ok3")).code ?? 0, 0);

    // blacklist: m2 is removed at once and may not come back
    assert.equal(await code(`/im/group/config?action=add&option=blacklist&gid=${g.id}&uid=${m2.user.id}`), 0);
    assert.deepEqual((await get(`/im/group/config?action=get&option=blacklist&gid=${g.id}`)).list, [
      { idx: 0, uid: m2.user.id },
    ]);
    await assert.rejects(s.app.groups.apply(m2.user, g.id, "let me in"), /blacklist/);
    assert.equal(await code(`/im/group/config?action=add&option=blacklist&gid=${g.id}&uid=${owner.user.id}`), 10005);
    assert.equal(await code(`/im/group/config?action=del&option=blacklist&gid=${g.id}&uid=${m2.user.id}`), 0);
    assert.deepEqual((await get(`/im/group/config?action=get&option=blacklist&gid=${g.id}`)).list, []);

    // capacity
    assert.deepEqual(await get(`/im/group/config?action=set&option=cap&gid=${g.id}&cap=50`), {
      gid: g.id,
      cap: 50,
      code: 0,
      errmsg: "Ok",
    });
    assert.equal((await get(`/im/group/config?action=get&option=cap&gid=${g.id}`)).cap, 50);
    assert.equal(await code(`/im/group/config?action=set&option=cap&gid=${g.id}&cap=1`), 20007, "below members");

    // rankings: g has 2 members and 4 messages, small 2 members and none
    const top = await get("/im/group/query?option=top-list&num=100");
    const byId = new Map((top.list as Array<{ gid: number; total: number }>).map((x) => [x.gid, x.total]));
    assert.equal(byId.get(g.id), 2);
    assert.equal(byId.get(small.id), 2);
    const mesg = await get("/im/group/query?option=mesg-top-list");
    const first = (mesg.list as Array<{ gid: number; total: number }>)[0];
    assert.ok(first.total >= 3, JSON.stringify(mesg));
    assert.ok((mesg.list as unknown[]).length <= 10, "top 10 by default");
    assert.equal(((await get("/im/group/query?option=top-list&num=1")).list as unknown[]).length, 1);

    // close = dissolve: chat33 event 22
    assert.equal(await code(`/im/group/config?action=close&option=group&gid=${g.id}`), 0);
    const ev = await nextOf(c1, 22);
    assert.equal(ev.roomId, String(g.id));
    assert.equal(await code(`/im/group/config?action=get&option=cap&gid=${g.id}`), 20007);
  });

  test("chat rooms: gag, blacklist (removed at once), close/open (events 4/7, /group/info), shard cap, top-list, group-list", async () => {
    const u = await person("viewer");
    const v = await person("viewer2");
    const room = await s.app.chatrooms.create({ adminToken: true }, { name: "live", avatar: "" });
    const rid = room.id;
    const cu = await chat33(u);
    const cv = await chat33(v);
    for (const c of [cu, cv]) {
      c.ws.send(JSON.stringify({ eventType: 1, msgId: "j", groupId: String(rid) }));
      assert.equal((await nextOf(c, 1)).code, 0);
    }
    const say = async (c: TestClient, msgId: string) => {
      c.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId,
          channelType: 1,
          targetId: String(rid),
          msgType: 1,
          msg: { content: "x" },
        }),
      );
      for (;;) {
        const f = await nextOf(c, 0);
        if (f.msgId === msgId) return f;
      }
    };
    assert.equal(await code(`/im/room/config?action=add&option=gag&rid=${rid}&uid=${u.user.id}`), 0);
    assert.equal((await say(cu, "g1")).code, -2007);
    assert.equal(await code(`/im/room/config?action=del&option=gag&rid=${rid}&uid=${u.user.id}`), 0);
    assert.equal((await say(cu, "g2")).code ?? 0, 0);

    // shards: default, then per room; group-list adds up to the audience
    assert.equal((await get(`/im/room/config?action=get&option=cap&rid=${rid}`)).cap, 1000);
    assert.deepEqual(await get("/im/room/config?action=set&option=cap&cap=500"), { cap: 500, code: 0, errmsg: "Ok" });
    assert.equal((await get(`/im/room/config?action=get&option=cap&rid=${rid}`)).cap, 500);
    assert.deepEqual(await get(`/im/room/config?action=set&option=cap&rid=${rid}&cap=1`), {
      rid,
      cap: 1,
      code: 0,
      errmsg: "Ok",
    });
    const shards = await get(`/im/room/query?option=group-list&rid=${rid}`);
    assert.deepEqual(shards, {
      rid,
      len: 2,
      list: [
        { idx: 0, gid: 1, total: 1 },
        { idx: 1, gid: 2, total: 1 },
      ],
      code: 0,
      errmsg: "Ok",
    });
    const top = await get("/im/room/query?option=top-list");
    assert.deepEqual((top.list as Array<{ rid: number; total: number }>)[0], { idx: 0, rid, total: 2 });

    // close / open: events 4 and 7, /group/info status
    assert.equal(await code(`/im/room/config?action=close&option=room&rid=${rid}`), 0);
    assert.equal((await nextOf(cv, 4)).eventType, 4);
    const info = await post<{ data: { status: number } }>(
      `${s.base}/group/info`,
      { groupId: String(rid) },
      {
        "FZM-UUID": "reader",
      },
    );
    assert.equal(info.body.data.status, 2);
    assert.equal(await code(`/im/room/config?action=open&option=room&rid=${rid}`), 0);
    assert.equal((await nextOf(cv, 7)).eventType, 7);

    // blacklist: removed at once, refused rejoin until deleted
    assert.equal(await code(`/im/room/config?action=add&option=blacklist&rid=${rid}&uid=${v.user.id}`), 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      (await s.app.chatrooms.audienceOf(rid)).users.map((x) => x.id),
      [u.user.id],
    );
    cv.ws.send(JSON.stringify({ eventType: 1, msgId: "again", groupId: String(rid) }));
    assert.notEqual((await nextOf(cv, 1)).code, 0);
    assert.equal(await code(`/im/room/config?action=del&option=blacklist&rid=${rid}&uid=${v.user.id}`), 0);
    cv.ws.send(JSON.stringify({ eventType: 1, msgId: "back", groupId: String(rid) }));
    assert.equal((await nextOf(cv, 1)).code, 0);
  });

  test("listend and frwder: list live nodes, add and del recorded addresses", async () => {
    const list = await get("/im/config?action=list&option=listend");
    const rows = list.list as Array<{ nid: number; type: number; ipaddr: string; status: number }>;
    assert.equal(rows.length, 1, "this node's WebSocket listener (no TCP port in this server)");
    const nid = rows[0].nid;
    assert.equal(rows[0].ipaddr, `127.0.0.1:${new URL(s.base).port}`);
    assert.equal(await code(`/im/config?action=add&option=listend&nid=${nid}&ipaddr=10.1.2.3&port=9000&type=2`), 0);
    const withAdded = (await get("/im/config?action=list&option=listend")).list as Array<{ ipaddr: string }>;
    assert.ok(withAdded.some((r) => r.ipaddr === "10.1.2.3:9000"));
    // the added address is advertised by iplist for that node
    const w = await person("ip");
    const sid = (await get(`/im/register?uid=${w.user.id}&nation=1&city=1&town=1`)).sid as number;
    const ip = await get(`/im/iplist?type=2&uid=${w.user.id}&sid=${sid}&clientip=127.0.0.1`);
    assert.deepEqual(ip.iplist, [rows[0].ipaddr, "10.1.2.3:9000"]);
    assert.equal(ip.len, 2);
    assert.equal(await code(`/im/config?action=del&option=listend&nid=${nid}&ipaddr=10.1.2.3&port=9000`), 0);
    assert.equal(await code(`/im/config?action=del&option=listend&nid=${nid}&ipaddr=10.1.2.3&port=9000`), 20007);

    const fw = await get("/im/config?action=list&option=frwder");
    assert.equal((fw.list as Array<{ nid: number }>)[0].nid, nid);
    assert.equal(await code("/im/config?action=add&option=frwder&nid=7&ipaddr=10.0.0.7&port=7000"), 0);
    const fw2 = (await get("/im/config?action=list&option=frwder")).list as Array<Record<string, unknown>>;
    assert.deepEqual(fw2.at(-1), { idx: fw2.length - 1, nid: 7, ipaddr: "10.0.0.7", port: 7000, status: 0, total: 0 });
    assert.equal(await code("/im/config?action=del&option=frwder&nid=7&ipaddr=10.0.0.7&port=7000"), 0);
  });
});

forEachStorage("im", (ctx) => {
  const repo = () => new SqlIm((ctx.storage as SqlStorage).db);

  test("sessions get increasing sids; precisions replace; samples are one per bucket and trimmed", async () => {
    const r = repo();
    const u = await ctx.storage.users.create(newUser({ mobile: "13900000001" }));
    const a = await r.createSession({ uid: u.id, nation: 86, city: 1, town: 2, createdAt: 5 });
    const b = await r.createSession({ uid: u.id, nation: 86, city: 1, town: 2, createdAt: 6 });
    assert.ok(b.sid > a.sid && a.sid > 0);
    assert.deepEqual(await r.session(a.sid), a);
    assert.equal(await r.session(999999), null);
    await r.setPrecision({ prec: 300, num: 2 });
    await r.setPrecision({ prec: 300, num: 3 });
    assert.deepEqual(await r.precisions(), [{ prec: 300, num: 3 }]);
    for (const [t, n] of [
      [0, 1],
      [300, 2],
      [300, 5],
      [600, 3],
      [900, 4],
    ])
      await r.recordSample(300, t, n, 3);
    assert.deepEqual(await r.samples(300, 10), [
      { time: 900, num: 4 },
      { time: 600, num: 3 },
      { time: 300, num: 5 },
    ]);
    assert.equal(await r.deletePrecision(300), true);
    assert.deepEqual(await r.samples(300, 10), []);
    assert.equal(await r.deletePrecision(300), false);
    await r.addAddress({ kind: "listend", nid: 1, type: 2, ipaddr: "10.0.0.1", port: 80, createdAt: 1 });
    await r.addAddress({ kind: "listend", nid: 1, type: 2, ipaddr: "10.0.0.1", port: 80, createdAt: 2 });
    assert.equal((await r.addresses("listend")).length, 1);
    assert.deepEqual(await r.addresses("frwder"), []);
    assert.equal(await r.deleteAddress("listend", 1, "10.0.0.1", 80), 1);
    assert.deepEqual(await r.topGroupsByMembers(5), []);
  });
});
