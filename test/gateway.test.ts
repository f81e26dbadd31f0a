import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { gatewayClient, TestClient } from "./helpers/ws-client.ts";

const SYS = "sys-a";
const OTHER = "sys-b";

describe("gateway surface (seed 000)", () => {
  let s: TestServer;
  const api = (path: string, body: unknown, systemId: string | null = SYS, extra: Record<string, string> = {}) =>
    post(`${s.base}/api/${path}`, body, { ...(systemId === null ? {} : { SystemId: systemId }), ...extra });

  before(async () => {
    s = await startServer();
    assert.deepEqual((await api("register", { systemId: SYS }, null)).body, { code: 0, msg: "success", data: [] });
    assert.equal((await api("register", { systemId: OTHER }, null)).body.code, 0);
  });
  after(() => s.close());

  describe("register", () => {
    test("duplicate registration answers 该系统ID已被注册", async () => {
      const r = await api("register", { systemId: SYS }, null);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { code: -1, msg: "该系统ID已被注册", data: [] });
    });
    test("missing or wrongly typed systemId is code -1 with a clear message", async () => {
      assert.deepEqual((await api("register", {}, null)).body, {
        code: -1,
        msg: "参数错误: missing field: systemId",
        data: [],
      });
      const r = await api("register", { systemId: 5 }, null);
      assert.equal(r.body.code, -1);
      assert.match(r.body.msg, /systemId/);
      assert.equal((await api("register", { systemId: "" }, null)).body.code, -1);
    });
    test("unknown fields are refused", async () => {
      const r = await api("register", { systemId: "x1", bogus: 1 }, null);
      assert.deepEqual(r.body, { code: -1, msg: "参数错误: unknown field: bogus", data: [] });
    });
  });

  describe("HTTP rules", () => {
    test("non-POST is 405 with Allow: POST", async () => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const res = await fetch(`${s.base}/api/send_to_group`, { method });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get("allow"), "POST");
      }
    });
    test("malformed JSON is HTTP 400 with the {code:-1} envelope", async () => {
      const r = await api("send_to_group", '{"groupName": ', SYS);
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { code: -1, msg: "请求体不是合法的JSON", data: [] });
    });
    test("a JSON body is accepted whatever the Content-Type says", async () => {
      const res = await fetch(`${s.base}/api/send_to_group`, {
        method: "POST",
        headers: { SystemId: SYS, "content-type": "text/plain" },
        body: JSON.stringify({ sendUserId: "u", groupName: "g", code: 0, msg: "m", data: "x" }),
      });
      assert.equal(((await res.json()) as { code: number }).code, 0);
    });
    test("missing body is a validation error, not a crash", async () => {
      const res = await fetch(`${s.base}/api/send_to_group`, { method: "POST", headers: { SystemId: SYS } });
      const body = (await res.json()) as { code: number };
      assert.equal(res.status, 200);
      assert.equal(body.code, -1);
    });
    test("oversized body is 413 with the envelope", async () => {
      const big = { sendUserId: "u", groupName: "g", code: 0, msg: "m", data: "x".repeat(2 * 1024 * 1024) };
      const r = await api("send_to_group", big);
      assert.equal(r.status, 413);
      assert.equal(r.body.code, -1);
    });
    test("missing and unknown SystemId header", async () => {
      const body = { sendUserId: "u", groupName: "g", code: 0, msg: "m", data: "x" };
      assert.deepEqual((await api("send_to_group", body, null)).body, { code: -1, msg: "系统ID不能为空", data: [] });
      assert.deepEqual((await api("send_to_group", body, "nope")).body, { code: -1, msg: "系统ID无效", data: [] });
      assert.deepEqual((await api("get_online_list", {}, "nope")).body, { code: -1, msg: "系统ID无效", data: [] });
    });
    test("wrong types: code must be an integer, data must be string/array/object", async () => {
      const base = { sendUserId: "u", groupName: "g", code: 0, msg: "m", data: "x" };
      for (const bad of [{ code: "0" }, { code: 1.5 }, { data: 5 }, { data: null }, { msg: 3 }, { sendUserId: 1 }]) {
        const r = await api("send_to_group", { ...base, ...bad });
        assert.equal(r.body.code, -1, JSON.stringify(bad));
        assert.match(r.body.msg, /^参数错误: /);
      }
      const missing = { ...base } as Record<string, unknown>;
      delete missing.msg;
      assert.deepEqual((await api("send_to_group", missing)).body, {
        code: -1,
        msg: "参数错误: missing field: msg",
        data: [],
      });
      const five = await api("send_to_group", { ...base, data: 5 });
      assert.equal(five.body.msg, "参数错误: data must be one of: string, array, object");
    });
  });

  describe("websocket handshake", () => {
    test("first frame carries the clientId", async () => {
      const c = new TestClient(`${s.ws}/ws?systemId=${SYS}`);
      const first = await c.next<{ code: number; msg: string; data: { clientId: string } }>();
      assert.equal(first.code, 0);
      assert.equal(first.msg, "success");
      assert.match(first.data.clientId, /^[A-Za-z0-9_-]{56}$/);
      c.close();
    });
    test("missing systemId: -1001 系统ID不能为空 then close", async () => {
      const c = new TestClient(`${s.ws}/ws`);
      assert.deepEqual(await c.next(), { code: -1001, msg: "系统ID不能为空", data: [] });
      assert.equal((await c.closed).code, 1008);
    });
    test("unknown systemId: -1001 系统ID无效 then close", async () => {
      const c = new TestClient(`${s.ws}/ws?systemId=nope`);
      assert.deepEqual(await c.next(), { code: -1001, msg: "系统ID无效", data: [] });
      assert.equal((await c.closed).code, 1008);
    });
    test("a frame larger than ws.maxFrameBytes closes the socket with 1009", async () => {
      const { c } = await gatewayClient(s.ws, SYS);
      c.ws.send("x".repeat(65 * 1024));
      assert.equal((await c.closed).code, 1009);
    });
    test("unknown paths are refused at the upgrade", async () => {
      const c = new TestClient(`${s.ws}/nowhere`);
      await assert.rejects(c.opened, /404/);
    });
  });

  describe("pushes", () => {
    test("send_to_client delivers {messageId, sendUserId, code, msg, data} with data unchanged", async () => {
      const { c, clientId } = await gatewayClient(s.ws, SYS);
      for (const data of ["text", [1, "two", { three: 3 }], { nested: { a: [true, null] } }]) {
        const r = await api("send_to_client", { clientId, sendUserId: "boss", code: 7, msg: "hello", data });
        assert.equal(r.body.code, 0);
        const { messageId } = r.body.data as { messageId: string };
        assert.match(messageId, /^[0-9a-f]{16}$/);
        assert.deepEqual(await c.next(), { messageId, sendUserId: "boss", code: 7, msg: "hello", data });
      }
      c.close();
    });

    test("send_to_clients reaches every listed client with one messageId", async () => {
      const a = await gatewayClient(s.ws, SYS);
      const b = await gatewayClient(s.ws, SYS);
      const other = await gatewayClient(s.ws, SYS);
      const r = await api("send_to_clients", {
        clientIds: [a.clientId, b.clientId],
        sendUserId: "u",
        code: 1,
        msg: "m",
        data: { k: 1 },
      });
      assert.equal(r.body.code, 0);
      const { messageId } = r.body.data as { messageId: string };
      for (const x of [a, b]) assert.equal((await x.c.next()).messageId, messageId);
      assert.ok(await other.c.silent());
      // a repeated id is delivered once
      await api("send_to_clients", {
        clientIds: [a.clientId, a.clientId],
        sendUserId: "u",
        code: 2,
        msg: "m",
        data: "d",
      });
      assert.equal((await a.c.next()).code, 2);
      assert.ok(await a.c.silent());
      for (const x of [a, b, other]) x.c.close();
    });

    test("send_to_clients with one invalid id sends nothing (all or nothing)", async () => {
      const a = await gatewayClient(s.ws, SYS);
      const r = await api("send_to_clients", {
        clientIds: [a.clientId, "garbage"],
        sendUserId: "u",
        code: 1,
        msg: "m",
        data: "x",
      });
      assert.equal(r.body.code, -1);
      assert.match(r.body.msg, /^客户端ID无效/);
      assert.ok(await a.c.silent());
      assert.equal(
        (await api("send_to_clients", { clientIds: [], sendUserId: "u", code: 1, msg: "m", data: "x" })).body.code,
        -1,
      );
      a.c.close();
    });

    test("bind_to_group: group gets the 1001 notice; send_to_group reaches members only; 1002 on disconnect", async () => {
      const a = await gatewayClient(s.ws, SYS);
      const b = await gatewayClient(s.ws, SYS);
      const outsider = await gatewayClient(s.ws, SYS);
      const bindA = await api("bind_to_group", {
        clientId: a.clientId,
        groupName: "room1",
        userId: "alice",
        extend: "e1",
      });
      assert.deepEqual(bindA.body, { code: 0, msg: "success", data: [] });
      const onlineA = await a.c.next<{
        code: number;
        msg: string;
        data: string;
        sendUserId: string;
        messageId: string;
      }>();
      assert.equal(onlineA.code, 1001);
      assert.equal(onlineA.msg, "客户端上线");
      assert.deepEqual(JSON.parse(onlineA.data), { clientId: a.clientId, userId: "alice", extend: "e1" });
      // the seed's own field name sendUserId is accepted as the user id
      assert.equal(
        (await api("bind_to_group", { clientId: b.clientId, groupName: "room1", sendUserId: "bob" })).body.code,
        0,
      );
      for (const x of [a, b]) {
        const n = await x.c.next<{ code: number; data: string }>();
        assert.equal(n.code, 1001);
        assert.deepEqual(JSON.parse(n.data), { clientId: b.clientId, userId: "bob", extend: "" });
      }
      const r = await api("send_to_group", { sendUserId: "srv", groupName: "room1", code: 0, msg: "m", data: ["x"] });
      const { messageId } = r.body.data as { messageId: string };
      for (const x of [a, b])
        assert.deepEqual(await x.c.next(), { messageId, sendUserId: "srv", code: 0, msg: "m", data: ["x"] });
      assert.ok(await outsider.c.silent());

      const list = await api("get_online_list", { groupName: "room1" });
      assert.equal(list.body.code, 0);
      const data = list.body.data as { count: number; list: string[] };
      assert.equal(data.count, 2);
      assert.deepEqual(new Set(data.list), new Set([a.clientId, b.clientId]));

      b.c.close();
      const off = await a.c.next<{ code: number; msg: string; data: string }>();
      assert.equal(off.code, 1002);
      assert.equal(off.msg, "客户端下线");
      assert.deepEqual(JSON.parse(off.data), { clientId: b.clientId, userId: "bob", extend: "" });
      const after = (await api("get_online_list", { groupName: "room1" })).body.data as {
        count: number;
        list: string[];
      };
      assert.deepEqual(after, { count: 1, list: [a.clientId] });
      a.c.close();
      outsider.c.close();
    });

    test("get_online_list without groupName lists every client of the system; the seed's extra fields are accepted", async () => {
      const sysId = "sys-list";
      await api("register", { systemId: sysId }, null);
      const a = await gatewayClient(s.ws, sysId);
      const b = await gatewayClient(s.ws, sysId);
      const r = await api("get_online_list", { groupName: "", code: 0, msg: "", data: "" }, sysId);
      assert.deepEqual(new Set((r.body.data as { list: string[] }).list), new Set([a.clientId, b.clientId]));
      assert.equal((r.body.data as { count: number }).count, 2);
      const noBody = await fetch(`${s.base}/api/get_online_list`, { method: "POST", headers: { SystemId: sysId } });
      assert.equal(((await noBody.json()) as { data: { count: number } }).data.count, 2, "empty body = no filter");
      const empty = await api("get_online_list", { groupName: "nobody-here" }, sysId);
      assert.deepEqual(empty.body, { code: 0, msg: "success", data: { count: 0, list: [] } });
      a.c.close();
      b.c.close();
    });

    test("bind of a client that went offline is code -1 客户端不在线", async () => {
      const a = await gatewayClient(s.ws, SYS);
      a.c.close();
      await a.c.closed;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual((await api("bind_to_group", { clientId: a.clientId, groupName: "g" })).body, {
        code: -1,
        msg: "客户端不在线",
        data: [],
      });
    });

    test("close_client closes the socket (1000); closing it again still succeeds", async () => {
      const a = await gatewayClient(s.ws, SYS);
      const r = await api("close_client", { clientId: a.clientId });
      assert.deepEqual(r.body, { code: 0, msg: "success", data: {} });
      assert.equal((await a.c.closed).code, 1000);
      assert.equal((await api("close_client", { clientId: a.clientId })).body.code, 0);
    });
  });

  describe("isolation between systems", () => {
    test("a system cannot push to, bind, or close another system's client", async () => {
      const victim = await gatewayClient(s.ws, SYS);
      const invalid = { code: -1, msg: "客户端ID无效", data: [] };
      const push = { clientId: victim.clientId, sendUserId: "evil", code: 0, msg: "m", data: "x" };
      assert.deepEqual((await api("send_to_client", push, OTHER)).body, invalid);
      assert.deepEqual(
        (await api("send_to_clients", { ...push, clientId: undefined, clientIds: [victim.clientId] }, OTHER)).body.code,
        -1,
      );
      assert.deepEqual(
        (await api("bind_to_group", { clientId: victim.clientId, groupName: "g" }, OTHER)).body,
        invalid,
      );
      assert.deepEqual((await api("close_client", { clientId: victim.clientId }, OTHER)).body, invalid);
      assert.ok(await victim.c.silent());
      // a group of the same name in another system is a different group
      await api("bind_to_group", { clientId: victim.clientId, groupName: "shared" });
      await victim.c.next(); // own 1001
      await api("send_to_group", { sendUserId: "evil", groupName: "shared", code: 0, msg: "m", data: "x" }, OTHER);
      assert.ok(await victim.c.silent());
      const otherList = (await api("get_online_list", { groupName: "shared" }, OTHER)).body.data as { count: number };
      assert.equal(otherList.count, 0);
      victim.c.close();
    });

    test("forged and tampered client ids are refused", async () => {
      const a = await gatewayClient(s.ws, SYS);
      const flipped = (a.clientId[10] === "A" ? "B" : "A") + a.clientId.slice(1);
      const tampered = a.clientId.slice(0, 10) + flipped[0] + a.clientId.slice(11);
      for (const id of [tampered, "x".repeat(56), "short", "9fa54bdbbf2778cb"]) {
        const r = await api("send_to_client", { clientId: id, sendUserId: "u", code: 0, msg: "m", data: "x" });
        assert.equal(r.body.msg, "客户端ID无效", id);
      }
      a.c.close();
    });
  });
});

describe("gateway security switches", () => {
  test("a system registered with a secret needs SystemSecret on every call", async () => {
    const s = await startServer();
    try {
      const secret = "s3cret-s3cret-s3cret";
      assert.equal((await post(`${s.base}/api/register`, { systemId: "locked", secret })).body.code, 0);
      const body = { sendUserId: "u", groupName: "g", code: 0, msg: "m", data: "x" };
      const no = await post(`${s.base}/api/send_to_group`, body, { SystemId: "locked" });
      assert.deepEqual(no.body, { code: -1, msg: "系统密钥错误", data: [] });
      const wrong = await post(`${s.base}/api/send_to_group`, body, { SystemId: "locked", SystemSecret: "nope" });
      assert.equal(wrong.body.code, -1);
      const right = await post(`${s.base}/api/send_to_group`, body, { SystemId: "locked", SystemSecret: secret });
      assert.equal(right.body.code, 0);
      assert.equal((await post(`${s.base}/api/register`, { systemId: "weak", secret: "short" })).body.code, -1);
    } finally {
      await s.close();
    }
  });

  test("gateway.registerRequiresAdmin demands the admin token for /api/register", async () => {
    const s = await startServer({ "gateway.registerRequiresAdmin": true });
    try {
      const denied = await post(`${s.base}/api/register`, { systemId: "x" });
      assert.equal(denied.status, 401);
      assert.deepEqual(denied.body, { code: -1, msg: "需要管理员令牌", data: [] });
      const wrong = await post(`${s.base}/api/register`, { systemId: "x" }, { Authorization: "Bearer nope" });
      assert.equal(wrong.status, 401);
      const ok = await post(`${s.base}/api/register`, { systemId: "x" }, { Authorization: "Bearer test-admin-token" });
      assert.deepEqual(ok.body, { code: 0, msg: "success", data: [] });
    } finally {
      await s.close();
    }
  });

  test("gateway.groupNotices=false binds and unbinds silently", async () => {
    const s = await startServer({ "gateway.groupNotices": false });
    try {
      await post(`${s.base}/api/register`, { systemId: "q" });
      const a = await gatewayClient(s.ws, "q");
      const b = await gatewayClient(s.ws, "q");
      for (const x of [a, b])
        assert.equal(
          (await post(`${s.base}/api/bind_to_group`, { clientId: x.clientId, groupName: "g" }, { SystemId: "q" })).body
            .code,
          0,
        );
      b.c.close();
      await b.c.closed;
      assert.ok(await a.c.silent(300), "no 1001/1002 notices");
      const r = await post(
        `${s.base}/api/send_to_group`,
        { sendUserId: "u", groupName: "g", code: 0, msg: "m", data: "x" },
        { SystemId: "q" },
      );
      assert.equal((await a.c.next()).messageId, (r.body.data as { messageId: string }).messageId);
      a.c.close();
    } finally {
      await s.close();
    }
  });

  test("gateway.prefix mounts the surface under a prefix", async () => {
    const s = await startServer({ "gateway.prefix": "/gw" });
    try {
      assert.equal((await post(`${s.base}/gw/api/register`, { systemId: "p" })).body.code, 0);
      const { c, clientId } = await gatewayClient(`${s.ws}/gw`, "p");
      assert.match(clientId, /^[A-Za-z0-9_-]{56}$/);
      c.close();
      assert.equal((await fetch(`${s.base}/api/register`, { method: "POST", body: "{}" })).status, 404);
    } finally {
      await s.close();
    }
  });

  test("ws.allowedOrigins refuses other origins at the upgrade", async () => {
    const s = await startServer({ "ws.allowedOrigins": "https://good.example" });
    try {
      await post(`${s.base}/api/register`, { systemId: "o" });
      const bad = new TestClient(`${s.ws}/ws?systemId=o`, { origin: "https://evil.example" });
      await assert.rejects(bad.opened, /403/);
      const good = new TestClient(`${s.ws}/ws?systemId=o`, { origin: "https://good.example" });
      assert.equal((await good.next()).code, 0);
      good.close();
    } finally {
      await s.close();
    }
  });
});
