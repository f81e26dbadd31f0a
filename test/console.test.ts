import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { customer } from "./helpers/console.ts";
import { freePort } from "./helpers/ports.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/** The customer console (seed 004, docs/console.md) on both mounts, both backends. */

type Env<T = unknown> = { code: number; msg: string; data: T };
type Reply<T = unknown> = { status: number; body: Env<T> };

const ADMIN = { authorization: "Bearer test-admin-token" };

type Style = "json" | "form" | "query";

async function call<T = unknown>(
  url: string,
  params: Record<string, unknown> | string | null,
  style: Style = "json",
  headers: Record<string, string> = {},
  method = style === "query" ? "GET" : "POST",
): Promise<Reply<T>> {
  let target = url;
  let body: string | undefined;
  const h: Record<string, string> = { ...headers };
  if (typeof params === "string") {
    body = params;
    h["content-type"] ??= "application/json";
  } else if (params && style === "json") {
    body = JSON.stringify(params);
    h["content-type"] = "application/json";
  } else if (params) {
    const flat = new URLSearchParams(
      Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ).toString();
    if (style === "form") {
      body = flat;
      h["content-type"] = "application/x-www-form-urlencoded";
    } else target = `${url}?${flat}`;
  }
  const res = await fetch(target, { method, headers: h, body });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Env<T> };
}

function assertFail(r: Reply, status: number, msgPart?: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.code, status);
  assert.equal(r.body.data, null);
  if (msgPart) assert.match(r.body.msg, new RegExp(msgPart), r.body.msg);
}

function assertOk<T>(r: Reply<T>): T {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.code, 0, JSON.stringify(r.body));
  assert.equal(r.body.msg, "success");
  return r.body.data;
}

interface CustomerView {
  id: string;
  code: string;
  hasKey: boolean;
  tcpport: number;
  lastReport: null | { count: number; updatetimes: number; name: string; reportedAt: number };
}

describe("console surface (seed 004)", () => {
  let s: TestServer;
  let consoleBase: string;

  before(async () => {
    s = await startServer({ "console.port": await freePort(), "console.bodyLimitBytes": 4096, "console.maxRows": 50 });
    const addr = s.app.consoleHttp?.server.address();
    assert.ok(addr && typeof addr === "object");
    consoleBase = `http://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    await s.close();
  });

  // Both mounts: the main port (UI under /console) and the console's own port (the seed's paths).
  const mounts = () => [
    { name: "main port", ui: `${s.base}/console`, api: s.base, prefix: "m" },
    { name: "console port", ui: consoleBase, api: consoleBase, prefix: "c" },
  ];

  for (const which of ["main port", "console port"] as const) {
    describe(which, () => {
      const m = () => mounts().find((x) => x.name === which) as ReturnType<typeof mounts>[number];
      const code = (n: string) => `0${m().prefix}${n}`;

      test("customer/add, list, update, remove: success with JSON, form and query parameters", async () => {
        const a = assertOk(await call<CustomerView>(`${m().ui}/customer/add`, customer(code("1")), "json", ADMIN));
        assert.equal(a.code, code("1"), "the code stays text (leading zero)");
        assert.equal(a.tcpport, 10003);
        assert.equal(a.hasKey, false);
        assert.match(a.id, /^[0-9a-f-]{36}$/);
        assert.ok(!("keyHash" in a) && !("key" in a));
        const b = assertOk(
          await call<CustomerView>(`${m().ui}/customer/add`, customer(code("2"), { key: "k2" }), "form", ADMIN),
        );
        assert.equal(b.hasKey, true);
        assertOk(await call(`${m().ui}/customer/add`, customer(code("3")), "query", ADMIN));

        const list = assertOk(await call<CustomerView[]>(`${m().ui}/customer/list`, null, "query", ADMIN));
        const mine = list.filter((c) => c.code.startsWith(`0${m().prefix}`));
        assert.deepEqual(
          mine.map((c) => c.code),
          [code("1"), code("2"), code("3")],
        );
        assert.ok(mine.every((c) => c.lastReport === null));
        assert.ok(list.every((c) => !("keyHash" in c)));

        const u = assertOk(
          await call<CustomerView & { name: string }>(
            `${m().ui}/customer/update`,
            { id: a.id, name: "新名字", tcpport: 2000 },
            "json",
            ADMIN,
          ),
        );
        assert.equal(u.name, "新名字");
        assert.equal(u.tcpport, 2000);
        assert.equal(u.code, code("1"));
        assertFail(await call(`${m().ui}/customer/update`, { id: a.id, code: code("2") }, "json", ADMIN), 409);
        assertFail(await call(`${m().ui}/customer/update`, { id: a.id, tcpport: 0 }, "json", ADMIN), 400, "tcpport");
        assertFail(await call(`${m().ui}/customer/update`, { id: "nope", name: "x" }, "json", ADMIN), 404);

        assertOk(await call(`${m().ui}/customer/remove`, { id: b.id }, "form", ADMIN));
        assertFail(await call(`${m().ui}/customer/remove`, { id: b.id }, "json", ADMIN), 404);
        assertFail(await call(`${m().ui}/customer/remove`, {}, "json", ADMIN), 400, "missing field: id");
      });

      test("customer/add validates every field and refuses a duplicate code", async () => {
        const add = (extra: Record<string, unknown>, c = code("v")) =>
          call(`${m().ui}/customer/add`, customer(c, extra), "json", ADMIN);
        for (const [field, value, why] of [
          ["tcpport", 0, "tcpport"],
          ["webport", 65536, "webport"],
          ["fileport", "80a", "fileport"],
          ["fileport", -1, "fileport"],
          ["tcpport", 1.5, "tcpport"],
          ["timeout", "2016/09/21", "timeout"],
          ["timeout", "2016-02-30", "timeout"],
          ["timeout", "", "missing field: timeout"],
          ["mac", "56:E8:F6:23", "mac"],
          ["mac", "56:E8:F6:23:EF:01:02:03:04", "mac"],
          ["mac", "56:E8-F6:23:EF", "mac"],
          ["mac", "5G:E8:F6:23:EF", "mac"],
          ["code", "", "missing field: code"],
          ["code", "a b", "code"],
          ["name", "x".repeat(129), "name"],
          ["name", "a\u0000b", "name"],
          ["tcphost", "bad host!", "tcphost"],
          ["ctel", "call me", "ctel"],
          ["code", ["a", "b"], "code"],
        ] as const)
          assertFail(await add({ [field]: value }), 400, why);
        // the seed's example has five octets; 6 and 8 with '-' are fine too
        assertOk(await add({ mac: "56-E8-F6-23-EF-01" }, code("m6")));
        assertOk(await add({ mac: "56:e8:f6:23:ef:01:02:03" }, code("m8")));
        assertOk(await add({ ctel: "", contact: "", server: "", mac: "" }, code("min")));
        // ports 1 and 65535 are the bounds
        assertOk(await add({ tcpport: 1, webport: 65535 }, code("pb")));
        assertFail(await add({}, code("pb")), 409);
        // a form field given twice is not one value
        assertFail(
          await call(`${m().ui}/customer/add`, "code=x1&code=x2&name=n", "form", {
            ...ADMIN,
            "content-type": "application/x-www-form-urlencoded",
          }),
          400,
          "code",
        );
      });

      test("console routes need the admin token; other methods get 405; malformed bodies 400", async () => {
        for (const path of [
          "/customer/list",
          "/customer/add",
          "/customer/remove",
          "/customer/update",
          "/customer/history",
          "/user/list",
          "/group/list",
        ]) {
          assertFail(await call(`${m().ui}${path}`, { code: "x" }, "json"), 401);
          assertFail(await call(`${m().ui}${path}`, { code: "x" }, "json", { authorization: "Bearer wrong" }), 401);
          assertFail(await call(`${m().ui}${path}`, null, "query", ADMIN, "PUT"), 405);
        }
        assertFail(await call(`${m().ui}/customer/add`, "{not json", "json", ADMIN), 400, "not valid JSON");
        assertFail(await call(`${m().ui}/customer/add`, "[1,2]", "json", ADMIN), 400, "JSON object");
        assertFail(
          await call(`${m().ui}/customer/add`, `${"[".repeat(40)}${"]".repeat(40)}`, "json", ADMIN),
          400,
          "deeply",
        );
        // text/plain is read as text (the shared scope's rule) and is not a set of parameters
        assertFail(
          await call(`${m().ui}/customer/add`, "x", "json", { ...ADMIN, "content-type": "text/plain" }),
          400,
          "JSON object or a form",
        );
        assertFail(
          await call(`${m().ui}/customer/add`, "<x/>", "json", { ...ADMIN, "content-type": "application/xml" }),
          415,
        );
        assertFail(await call(`${m().ui}/user/list`, {}, "json", ADMIN), 400, "missing field: code");
        assertFail(await call(`${m().ui}/user/list`, { code: "unknown" }, "json", ADMIN), 404);
        assertFail(await call(`${m().ui}/group/list`, { code: "unknown" }, "query", ADMIN), 404);
      });

      test("/api/customer/info: no token, addresses, expired flag, never the key", async () => {
        assertOk(await call(`${m().ui}/customer/add`, customer(code("i"), { key: "secret-key" }), "json", ADMIN));
        assertOk(await call(`${m().ui}/customer/add`, customer(code("old"), { timeout: "2016-09-21" }), "json", ADMIN));
        for (const style of ["json", "form", "query"] as const) {
          const info = assertOk(
            await call<Record<string, unknown>>(`${m().api}/api/customer/info`, { code: code("i") }, style),
          );
          assert.deepEqual(info, {
            code: code("i"),
            name: "江苏中威科技",
            tcphost: "61.155.85.77",
            tcpport: 10003,
            webhost: "61.155.85.77",
            webport: 10001,
            filehost: "files.example.com",
            fileport: 10004,
            timeout: "2099-09-21",
            expired: false,
          });
        }
        const old = assertOk(
          await call<{ expired: boolean }>(`${m().api}/api/customer/info`, { code: code("old") }, "query"),
        );
        assert.equal(old.expired, true);
        assertFail(
          await call(`${m().api}/api/customer/info`, { code: "nobody" }, "query"),
          404,
          "unknown customer code",
        );
        assertFail(await call(`${m().api}/api/customer/info`, null, "query"), 400, "missing field: code");
        assertFail(await call(`${m().api}/api/customer/info`, null, "query", {}, "DELETE"), 405);
      });

      test("telemetry: server report (key beside code), users and groups (key beside data), latest + history", async () => {
        const c = assertOk(
          await call<CustomerView>(`${m().ui}/customer/add`, customer(code("t"), { key: "k-t" }), "json", ADMIN),
        );
        const server = {
          code: code("t"),
          name: "江苏中威科技",
          mac: "56:E8:F6:23:EF",
          ip: "192.168.0.7",
          timeout: "2016-09-21",
          count: 178,
          updatetimes: "32",
        };
        assertFail(await call(`${m().api}/api/server/commit`, server, "json"), 403, "key");
        assertFail(await call(`${m().api}/api/server/commit`, { ...server, key: "wrong" }, "form"), 403, "wrong key");
        assertFail(
          await call(`${m().api}/api/server/commit`, { ...server, key: "k-t", count: -1 }, "json"),
          400,
          "count",
        );
        assertFail(await call(`${m().api}/api/server/commit`, { ...server, code: "nobody" }, "json"), 404);
        assertOk(await call(`${m().api}/api/server/commit`, { ...server, key: "k-t" }, "query"));
        assertOk(await call(`${m().api}/api/server/commit`, { ...server, key: "k-t", count: 180 }, "form"));
        const list = assertOk(await call<CustomerView[]>(`${m().ui}/customer/list`, null, "query", ADMIN));
        const mine = list.find((x) => x.code === code("t"));
        assert.equal(mine?.lastReport?.count, 180, "lastReport is the latest server report");
        assert.equal(mine?.lastReport?.updatetimes, 32);

        const user = (uuid: string, fmsgs = 24) => ({
          code: code("t"),
          uuid,
          nickname: "龚超",
          onlinetime: 345,
          andtimes: 45,
          pctimes: 120,
          iostimes: 180,
          fmsgs,
          tmsgs: 32,
        });
        // data as a JSON array (JSON body), as a JSON string (form), in the query string
        assertFail(await call(`${m().api}/api/user/commit`, { data: [user("u1")] }, "json"), 403);
        const r1 = assertOk(
          await call<{ stored: number }>(
            `${m().api}/api/user/commit`,
            { key: "k-t", data: [user("u1"), user("u2")] },
            "json",
          ),
        );
        assert.equal(r1.stored, 2);
        assertOk(
          await call(`${m().api}/api/user/commit`, { key: "k-t", data: JSON.stringify([user("u1", 99)]) }, "form"),
        );
        assertOk(await call(`${m().api}/api/user/commit`, { key: "k-t", data: JSON.stringify([user("u3")]) }, "query"));
        const users = assertOk(
          await call<Array<{ uuid: string; fmsgs: number; reportedAt: number }>>(
            `${m().ui}/user/list`,
            { code: code("t") },
            "query",
            ADMIN,
          ),
        );
        assert.deepEqual(
          users.map((u) => [u.uuid, u.fmsgs]),
          [
            ["u1", 99],
            ["u2", 24],
            ["u3", 24],
          ],
          "a user reported again replaces its row",
        );

        const group = (gid: string) => ({
          code: code("t"),
          gid,
          name: "中威官方群",
          createrid: 36,
          creatername: "施东海",
          ucount: 178,
          msgcount: 1878,
          ctime: "2016-08-09",
          fcount: 32,
          ncount: 24,
        });
        assertOk(await call(`${m().api}/api/group/commit`, { key: "k-t", data: [group("g1"), group("g2")] }, "json"));
        assertOk(
          await call(
            `${m().api}/api/group/commit`,
            { key: "k-t", data: JSON.stringify([{ ...group("g1"), ucount: 5 }]) },
            "form",
          ),
        );
        const groups = assertOk(
          await call<Array<{ gid: string; ucount: number; createrid: string }>>(
            `${m().ui}/group/list`,
            { code: code("t") },
            "json",
            ADMIN,
          ),
        );
        assert.deepEqual(
          groups.map((g) => [g.gid, g.ucount, g.createrid]),
          [
            ["g1", 5, "36"],
            ["g2", 178, "36"],
          ],
        );

        const history = assertOk(
          await call<Array<{ kind: string; values: Record<string, number> }>>(
            `${m().ui}/customer/history`,
            { code: code("t") },
            "query",
            ADMIN,
          ),
        );
        assert.deepEqual(
          history.map((h) => h.kind),
          ["server", "server", "users", "users", "users", "groups", "groups"],
        );
        assert.equal(history[0]?.values.count, 178);
        assert.equal(history[2]?.values.rows, 2);
        assert.equal(history[2]?.values.fmsgs, 48);

        // removing the customer removes its reports: the same code starts empty
        assertOk(await call(`${m().ui}/customer/remove`, { id: c.id }, "json", ADMIN));
        assertOk(await call(`${m().ui}/customer/add`, customer(code("t")), "json", ADMIN));
        assert.deepEqual(assertOk(await call(`${m().ui}/user/list`, { code: code("t") }, "query", ADMIN)), []);
        assert.deepEqual(assertOk(await call(`${m().ui}/group/list`, { code: code("t") }, "query", ADMIN)), []);
        const again = assertOk(await call<CustomerView[]>(`${m().ui}/customer/list`, null, "query", ADMIN));
        assert.equal(again.find((x) => x.code === code("t"))?.lastReport, null);
      });

      test("telemetry: a bad batch stores nothing", async () => {
        assertOk(await call(`${m().ui}/customer/add`, customer(code("b")), "json", ADMIN));
        const row = (uuid: string, extra: Record<string, unknown> = {}) => ({
          code: code("b"),
          uuid,
          fmsgs: 1,
          ...extra,
        });
        const users = async () =>
          assertOk(await call<unknown[]>(`${m().ui}/user/list`, { code: code("b") }, "query", ADMIN)).length;
        const commit = (params: Record<string, unknown> | string, style: Style = "json") =>
          call(`${m().api}/api/user/commit`, params, style);
        assertFail(await commit({ data: [row("a"), row("b", { fmsgs: "many" })] }), 400, "data\\[1\\]: fmsgs");
        assertFail(
          await commit({ data: [row("a"), { ...row("b"), uuid: "" }] }),
          400,
          "data\\[1\\]: missing field: uuid",
        );
        assertFail(await commit({ data: [row("a"), { ...row("b"), code: "other" }] }), 400, "same code");
        assertFail(await commit({ data: [row("a"), "not an object"] }), 400, "data\\[1\\]");
        assertFail(await commit({ data: "[{not json" }, "form"), 400, "not valid JSON");
        assertFail(await commit({ data: '{"code":"x"}' }, "form"), 400, "array");
        assertFail(await commit({}), 400, "missing field: data");
        assertFail(await commit({ data: [{ ...row("a"), code: "nobody" }] }), 404);
        assertFail(
          await commit({ data: Array.from({ length: 51 }, (_, i) => ({ uuid: `u${i}`, code: "0" })) }),
          400,
          "more than 50",
        );
        assertFail(await commit({ data: `${"[".repeat(40)}${"]".repeat(40)}` }, "form"), 400, "deeply");
        // over the console's body limit (4096 bytes in this test): refused whole
        assertFail(
          await commit({
            data: [
              row("a", { nickname: "x".repeat(120) }),
              ...Array.from({ length: 40 }, (_, i) => row(`z${i}`, { nickname: "y".repeat(100) })),
            ],
          }),
          413,
        );
        assert.equal(await users(), 0, "nothing of any refused batch was stored");
        const gcommit = (params: Record<string, unknown>) => call(`${m().api}/api/group/commit`, params, "json");
        assertFail(
          await gcommit({
            data: [
              { code: code("b"), gid: "g" },
              { code: code("b"), gid: "h", ucount: -3 },
            ],
          }),
          400,
          "ucount",
        );
        assert.deepEqual(assertOk(await call(`${m().ui}/group/list`, { code: code("b") }, "query", ADMIN)), []);
        // an empty batch is fine and stores nothing
        assert.deepEqual(assertOk(await commit({ data: [] })), { stored: 0 });
      });
    });
  }

  test("the console's own port answers unknown paths with the envelope; the main port keeps /group/list for chat33", async () => {
    assertFail(await call(`${consoleBase}/nope`, null, "query"), 404);
    // /group/list at the root of the main port belongs to chat33 (chat rooms), never to the console
    const root = await fetch(`${s.base}/group/list`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const body = (await root.json()) as Record<string, unknown>;
    assert.notEqual(body.msg, "admin token required");
    assert.ok(!("data" in body && body.code === 0));
  });
});
