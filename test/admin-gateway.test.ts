import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { adminApiCall, adminApiData } from "./helpers/admin-api.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { gatewayClient, type TestClient } from "./helpers/ws-client.ts";

/**
 * The push gateway for operators (docs/admin.md "Gateway"), over real HTTP and real gateway
 * sockets: systems with and without a secret, online clients per group, and test pushes that need
 * no SystemSecret.
 */

describe("admin API: gateway (/admin/api/gateway/…)", () => {
  let s: TestServer;
  const clients: TestClient[] = [];

  const call = <T>(method: "GET" | "POST", path: string, body?: unknown, token?: string | null) =>
    adminApiCall<T>(`${s.base}/admin/api${path}`, method, body, token);
  const data = adminApiData;
  const connect = async (systemId: string) => {
    const g = await gatewayClient(s.ws, systemId);
    clients.push(g.c);
    return g;
  };

  before(async () => {
    s = await startServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("systems: register with and without a secret (never shown), list with online counts", async () => {
    const open = await data(call<{ hasSecret: boolean }>("POST", "/gateway/systems", { systemId: "shop" }));
    assert.equal(open.hasSecret, false);
    const secret = "a-long-random-secret-value";
    const closed = await data(call<{ hasSecret: boolean }>("POST", "/gateway/systems", { systemId: "bank", secret }));
    assert.equal(closed.hasSecret, true);
    const taken = await call("POST", "/gateway/systems", { systemId: "shop" });
    assert.equal(taken.status, 409);
    assert.equal((await call("POST", "/gateway/systems", { systemId: "x y" })).status, 400);
    assert.equal((await call("POST", "/gateway/systems", { systemId: "z", secret: "short" })).status, 400);

    // a system registered through the gateway's own route is listed too
    const reg = await fetch(`${s.base}/api/register`, { method: "POST", body: JSON.stringify({ systemId: "blog" }) });
    assert.equal(((await reg.json()) as { code: number }).code, 0);

    await connect("bank");
    await connect("bank");
    const list = await data(
      call<Array<{ systemId: string; hasSecret: boolean; online: number; createdAt: number }>>(
        "GET",
        "/gateway/systems",
      ),
    );
    assert.deepEqual(
      list.map((x) => [x.systemId, x.hasSecret, x.online]),
      [
        ["bank", true, 2],
        ["blog", false, 0],
        ["shop", false, 0],
      ],
    );
    assert.equal(JSON.stringify(list).includes(secret), false);
    assert.ok(list.every((x) => x.createdAt > 0));
  });

  test("online clients per group, and test pushes to a client, clients and a group without the secret", async () => {
    const a = await connect("bank");
    const b = await connect("bank");
    const bind = await fetch(`${s.base}/api/bind_to_group`, {
      method: "POST",
      headers: { SystemId: "bank", SystemSecret: "a-long-random-secret-value" },
      body: JSON.stringify({ clientId: a.clientId, groupName: "vip", userId: "alice" }),
    });
    assert.equal(((await bind.json()) as { code: number }).code, 0);
    assert.equal((await a.c.next<{ code: number }>()).code, 1001);

    const vip = await data(
      call<{ count: number; list: string[] }>("GET", "/gateway/online?systemId=bank&groupName=vip"),
    );
    assert.deepEqual(vip, { count: 1, list: [a.clientId] });
    const all = await data(call<{ count: number; list: string[] }>("GET", "/gateway/online?systemId=bank"));
    assert.ok(all.list.includes(a.clientId) && all.list.includes(b.clientId));
    assert.equal(all.count, all.list.length);

    const one = await data(
      call<{ messageId: string; target: string }>("POST", "/gateway/push", {
        systemId: "bank",
        clientId: b.clientId,
        sendUserId: "ops",
        code: 7,
        msg: "test",
        data: { k: "v" },
      }),
    );
    assert.equal(one.target, "client");
    assert.deepEqual(await b.c.next(), {
      messageId: one.messageId,
      sendUserId: "ops",
      code: 7,
      msg: "test",
      data: { k: "v" },
    });

    const many = await data(
      call<{ messageId: string }>("POST", "/gateway/push", {
        systemId: "bank",
        clientIds: [a.clientId, b.clientId],
        sendUserId: "ops",
        code: 0,
        msg: "both",
        data: "x",
      }),
    );
    for (const c of [a, b]) assert.equal((await c.c.next<{ messageId: string }>()).messageId, many.messageId);

    const group = await data(
      call<{ messageId: string; target: string }>("POST", "/gateway/push", {
        systemId: "bank",
        groupName: "vip",
        sendUserId: "ops",
        code: 1,
        msg: "vip only",
        data: ["a"],
      }),
    );
    assert.equal(group.target, "group");
    assert.deepEqual(await a.c.next(), {
      messageId: group.messageId,
      sendUserId: "ops",
      code: 1,
      msg: "vip only",
      data: ["a"],
    });
    assert.ok(await b.c.silent());

    const base = { systemId: "bank", sendUserId: "o", code: 0, msg: "m", data: "d" };
    for (const bad of [
      base,
      { ...base, clientId: a.clientId, groupName: "vip" },
      { ...base, clientId: "garbage" },
      { ...base, systemId: "nope", groupName: "vip" },
      { ...base, groupName: "vip", extra: 1 },
      { ...base, clientIds: [] },
    ]) {
      const r = await call("POST", "/gateway/push", bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.code, 400);
    }
    assert.equal((await call("GET", "/gateway/online?systemId=nope")).status, 400);
    assert.equal((await call("GET", "/gateway/systems", undefined, null)).status, 401);
    assert.equal((await call("POST", "/gateway/push", { ...base, groupName: "vip" }, null)).status, 401);
  });
});
