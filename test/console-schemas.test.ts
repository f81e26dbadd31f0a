import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { customer } from "./helpers/console.ts";
import { freePort } from "./helpers/ports.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * The console's route schemas (seed 004, docs/console.md "Parameters and envelope"): bad input to
 * every route, on both mounts and with GET (query) and POST (JSON, form), gets the console's
 * envelope `{code, msg, data: null}` with the documented status and a message naming the field —
 * never Fastify's default `{statusCode, error, message}` — and nothing is stored; `/docs/json`
 * lists every console route of the main port with its parameters.
 */

const ADMIN = { authorization: "Bearer test-admin-token" };
type Style = "json" | "form" | "query";
type Answer = { status: number; body: Record<string, unknown> };

async function send(url: string, params: Record<string, unknown>, style: Style, admin: boolean): Promise<Answer> {
  const headers: Record<string, string> = admin ? { ...ADMIN } : {};
  const flat = () =>
    new URLSearchParams(
      Object.entries(params).flatMap(
        ([k, v]): Array<[string, string]> =>
          // a list in a form or query means the field given more than once
          Array.isArray(v) && style !== "json"
            ? v.map((x) => [k, String(x)])
            : [[k, typeof v === "string" ? v : JSON.stringify(v)]],
      ),
    ).toString();
  let target = url;
  let body: string | undefined;
  if (style === "json") {
    body = JSON.stringify(params);
    headers["content-type"] = "application/json";
  } else if (style === "form") {
    body = flat();
    headers["content-type"] = "application/x-www-form-urlencoded";
  } else target = `${url}?${flat()}`;
  const res = await fetch(target, { method: style === "query" ? "GET" : "POST", headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function assertRefused(r: Answer, status: number, msg: RegExp, what: string): void {
  assert.deepEqual(Object.keys(r.body).sort(), ["code", "data", "msg"], `${what}: the console envelope`);
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, status, what);
  assert.equal(r.body.data, null, what);
  assert.match(String(r.body.msg), msg, what);
}

/** [route, params, status, message, styles] — every console route has its own bad input. */
type Case = [string, Record<string, unknown>, number, RegExp, Style[]?];

const ALL: Style[] = ["json", "form", "query"];

const apiCases = (code: string): Case[] => {
  const row = (extra: Record<string, unknown> = {}) => ({ code, uuid: "u1", fmsgs: 1, ...extra });
  const grow = (extra: Record<string, unknown> = {}) => ({ code, gid: "g1", ucount: 1, ...extra });
  return [
    ["/api/customer/info", {}, 400, /^missing field: code$/],
    ["/api/customer/info", { code: "a b" }, 400, /^code must be 1 to 64 letters/],
    ["/api/customer/info", { code: "x".repeat(80) }, 400, /^code must be 1 to 64/],
    ["/api/customer/info", { code: 513001 }, 400, /^code must be 1 to 64/, ["json"]],
    ["/api/customer/info", { code: ["a", "b"] }, 400, /^code must be one value/, ["form", "query"]],
    ["/api/server/commit", { name: "n" }, 400, /^missing field: code$/],
    ["/api/server/commit", { code, count: -1 }, 400, /^count must be an integer from 0 to/],
    ["/api/server/commit", { code, updatetimes: "many" }, 400, /^updatetimes must be an integer/],
    ["/api/server/commit", { code, mac: "56:E8" }, 400, /^mac must be 5 to 8 hex octets/],
    ["/api/server/commit", { code, ip: "bad host!" }, 400, /^ip must be a host name or an IP address/],
    ["/api/server/commit", { code, timeout: "2016/09/21" }, 400, /^timeout must be a date YYYY-MM-DD/],
    ["/api/server/commit", { code, name: "a\u0001b" }, 400, /^name must be text of at most 128 characters/],
    ["/api/server/commit", { code, key: "k".repeat(200) }, 400, /^key must be text of at most 128/],
    ["/api/user/commit", {}, 400, /^missing field: data$/],
    ["/api/user/commit", { data: "" }, 400, /^missing field: data$/],
    ["/api/user/commit", { data: "[{not json" }, 400, /^data is not valid JSON$/],
    ["/api/user/commit", { data: '{"code":"x"}' }, 400, /^data must be a JSON array of objects$/],
    ["/api/user/commit", { data: JSON.stringify([row(), "x"]) }, 400, /^data\[1\] must be an object$/],
    ["/api/user/commit", { data: JSON.stringify([row(), row({ fmsgs: -2 })]) }, 400, /^data\[1\]: fmsgs must be/],
    ["/api/user/commit", { data: JSON.stringify([row({ uuid: "" })]) }, 400, /^data\[0\]: missing field: uuid$/],
    ["/api/user/commit", { data: JSON.stringify([{ uuid: "u" }]) }, 400, /^data\[0\]: missing field: code$/],
    ["/api/user/commit", { data: JSON.stringify([row({ code: "a b" })]) }, 400, /^data\[0\]: code must be/],
    [
      "/api/user/commit",
      { data: JSON.stringify(Array.from({ length: 21 }, (_, i) => row({ uuid: `u${i}` }))) },
      400,
      /^data has more than 20 rows$/,
    ],
    ["/api/user/commit", { data: `${"[".repeat(40)}${"]".repeat(40)}` }, 400, /^data is nested too deeply$/],
    ["/api/group/commit", {}, 400, /^missing field: data$/],
    ["/api/group/commit", { data: JSON.stringify([grow({ ucount: "-3" })]) }, 400, /^data\[0\]: ucount must be/],
    ["/api/group/commit", { data: JSON.stringify([grow({ gid: undefined })]) }, 400, /^data\[0\]: missing field: gid/],
    [
      "/api/group/commit",
      { data: JSON.stringify([grow({ ctime: "x".repeat(40) })]) },
      400,
      /^data\[0\]: ctime must be text of at most 32/,
    ],
  ];
};

const uiCases = (): Case[] => [
  ["/customer/add", { ...customer("0z1"), tcpport: "0" }, 400, /^tcpport must be a port from 1 to 65535$/],
  ["/customer/add", { ...customer("0z1"), webport: "65536" }, 400, /^webport must be a port from 1 to 65535$/],
  ["/customer/add", { ...customer("0z1"), fileport: "80a" }, 400, /^fileport must be a port/],
  ["/customer/add", { ...customer("0z1"), timeout: "21-09-2016" }, 400, /^timeout must be a date YYYY-MM-DD$/],
  ["/customer/add", { ...customer("0z1"), timeout: "" }, 400, /^missing field: timeout$/],
  ["/customer/add", { ...customer("0z1"), mac: "56:E8-F6:23:EF" }, 400, /^mac must be 5 to 8 hex octets/],
  ["/customer/add", { ...customer("0z1"), tcphost: "bad host!" }, 400, /^tcphost must be a host name/],
  ["/customer/add", { ...customer("0z1"), ctel: "call me" }, 400, /^ctel must be a phone number/],
  ["/customer/add", { ...customer("0z1"), name: "x".repeat(129) }, 400, /^name must be text of at most 128/],
  ["/customer/add", { ...customer("0z1"), contact: "x".repeat(65) }, 400, /^contact must be text of at most 64/],
  ["/customer/add", { ...customer("0z1"), code: "a b" }, 400, /^code must be 1 to 64/],
  ["/customer/add", { name: "n" }, 400, /^missing field: code$/],
  ["/customer/add", { ...customer("0z1"), code: ["0z1", "0z2"] }, 400, /^code must be one value/, ["form", "query"]],
  ["/customer/update", { name: "n" }, 400, /^missing field: id$/],
  ["/customer/update", { id: "x", tcpport: "" }, 400, /^missing field: tcpport$/],
  ["/customer/update", { id: "x", tcpport: 70000 }, 400, /^tcpport must be a port/, ["json"]],
  ["/customer/update", { id: "x", timeout: "2016-9-1" }, 400, /^timeout must be a date/],
  ["/customer/remove", {}, 400, /^missing field: id$/],
  ["/customer/remove", { id: "x".repeat(65) }, 400, /^id must be text of at most 64/],
  ["/customer/history", {}, 400, /^missing field: code$/],
  ["/customer/history", { code: "0z1", days: "x" }, 400, /^days must be an integer from 0 to 3660$/],
  ["/customer/history", { code: "0z1", limit: 20000 }, 400, /^limit must be an integer from 0 to 10000$/],
  ["/user/list", {}, 400, /^missing field: code$/],
  ["/user/list", { code: "a/b" }, 400, /^code must be 1 to 64/],
  ["/group/list", {}, 400, /^missing field: code$/],
  ["/group/list", { code: ["a", "b"] }, 400, /^code must be one value/, ["form", "query"]],
];

/** Main-port paths of every console route (the UI routes under /console). */
const UI_PATHS = [
  "/customer/list",
  "/customer/add",
  "/customer/update",
  "/customer/remove",
  "/customer/history",
  "/user/list",
  "/group/list",
];
const API_PATHS = ["/api/customer/info", "/api/server/commit", "/api/user/commit", "/api/group/commit"];

describe("console route schemas: bad input gets the console's error, on both mounts", () => {
  let s: TestServer;
  let consoleBase: string;
  before(async () => {
    s = await startServer({ "console.port": await freePort(), "console.maxRows": 20 });
    const addr = s.app.consoleHttp?.server.address();
    assert.ok(addr && typeof addr === "object");
    consoleBase = `http://127.0.0.1:${addr.port}`;
  });
  after(() => s.close());

  const mounts = () => [
    { name: "main port", ui: `${s.base}/console`, api: s.base },
    { name: "console port", ui: consoleBase, api: consoleBase },
  ];

  test("every route refuses its bad input with the documented status and message (GET and POST, JSON, form, query)", async () => {
    for (const m of mounts()) {
      // a real customer, so that what the schema lets through would reach the core and be stored
      const add = await send(`${m.ui}/customer/add`, customer(`0${m.name[0]}ok`), "json", true);
      assert.equal(add.body.code, 0, JSON.stringify(add.body));
      for (const [path, params, status, msg, styles = ALL] of apiCases(`0${m.name[0]}ok`))
        for (const style of styles)
          assertRefused(await send(`${m.api}${path}`, params, style, false), status, msg, `${m.name} ${style} ${path}`);
      for (const [path, params, status, msg, styles = ALL] of uiCases())
        for (const style of styles)
          assertRefused(await send(`${m.ui}${path}`, params, style, true), status, msg, `${m.name} ${style} ${path}`);
      // nothing of it was stored: no customer 0z1, no users, groups or reports of the real one
      const list = await send(`${m.ui}/customer/list`, {}, "query", true);
      const codes = (list.body.data as Array<{ code: string; lastReport: unknown }>).map((c) => c.code);
      assert.ok(!codes.includes("0z1"), `${m.name}: nothing added`);
      const mine = (list.body.data as Array<{ code: string; lastReport: unknown }>).find(
        (c) => c.code === `0${m.name[0]}ok`,
      );
      assert.equal(mine?.lastReport, null, `${m.name}: no server report stored`);
      for (const what of ["/user/list", "/group/list"]) {
        const rows = await send(`${m.ui}${what}`, { code: `0${m.name[0]}ok` }, "query", true);
        assert.deepEqual(rows.body, { code: 0, msg: "success", data: [] }, `${m.name} ${what}`);
      }
    }
  });

  test("unknown parameters are ignored; a body that is not a set of parameters is refused in the envelope", async () => {
    for (const m of mounts()) {
      const ok = await send(`${m.ui}/customer/list`, { _: "1700000000", page: "1" }, "query", true);
      assert.equal(ok.body.code, 0, `${m.name}: ${JSON.stringify(ok.body)}`);
      for (const path of [...UI_PATHS.map((p) => `${m.ui}${p}`), ...API_PATHS.map((p) => `${m.api}${p}`)]) {
        const res = await fetch(path, {
          method: "POST",
          headers: { ...ADMIN, "content-type": "application/json" },
          body: "[1,2]",
        });
        assertRefused(
          { status: res.status, body: (await res.json()) as Record<string, unknown> },
          400,
          /JSON object or a form/,
          `${m.name} ${path}`,
        );
      }
    }
  });

  test("/docs/json lists every console route of the main port with its parameters; the console port has no /docs", async () => {
    const spec = (await (await fetch(`${s.base}/docs/json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            tags?: string[];
            security?: unknown;
            parameters?: Array<{ in: string; name: string; required?: boolean }>;
            requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
            responses?: Record<string, unknown>;
          }
        >
      >;
    };
    const required: Record<string, string[]> = {
      "/api/customer/info": ["code"],
      "/api/server/commit": ["code"],
      "/api/user/commit": ["data"],
      "/api/group/commit": ["data"],
      "/console/customer/list": [],
      "/console/customer/add": ["code", "name", "tcphost", "tcpport", "webhost", "webport", "filehost", "fileport"],
      "/console/customer/update": ["id"],
      "/console/customer/remove": ["id"],
      "/console/customer/history": ["code"],
      "/console/user/list": ["code"],
      "/console/group/list": ["code"],
    };
    assert.deepEqual(
      Object.keys(required).sort(),
      [...API_PATHS, ...UI_PATHS.map((p) => `/console${p}`)].sort(),
      "the table names every route",
    );
    for (const [path, names] of Object.entries(required)) {
      const ops = spec.paths[path];
      assert.ok(ops?.get && ops.post, `${path}: GET and POST documented`);
      assert.deepEqual(Object.keys(ops).sort(), ["get", "post"], `${path}: only GET and POST (405 routes hidden)`);
      for (const op of [ops.get, ops.post]) {
        assert.deepEqual(op.tags, ["console (004)"], path);
        assert.deepEqual(op.security, path.startsWith("/api/") ? undefined : [{ adminBearer: [] }], path);
        assert.ok(op.responses?.["200"] && op.responses["4XX"], `${path}: 200 and 4XX answers`);
      }
      const query = ops.get.parameters?.filter((p) => p.in === "query") ?? [];
      for (const n of names)
        assert.ok(query.find((p) => p.name === n)?.required, `${path}: GET declares ${n} as required`);
      const content = ops.post.requestBody?.content ?? {};
      assert.deepEqual(Object.keys(content).sort(), ["application/json", "application/x-www-form-urlencoded"], path);
      for (const n of names)
        assert.ok(content["application/json"]?.schema.properties?.[n], `${path}: POST body declares ${n}`);
    }
    // the seed's own paths of the console port are the same routes: not a second set in /docs
    assert.equal(spec.paths["/customer/list"], undefined);
    const own = await fetch(`${consoleBase}/docs/json`);
    assert.equal(own.status, 404);
    assert.deepEqual(Object.keys((await own.json()) as object).sort(), ["code", "data", "msg"]);
  });
});
