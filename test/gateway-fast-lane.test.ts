import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { MAX_JSON_DEPTH } from "../src/core/json-limits.ts";
import { FastLane } from "../src/http/fast-lane.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { gatewayClient, type TestClient } from "./helpers/ws-client.ts";

/**
 * The fast lane (src/http/fast-lane.ts) answers the gateway's push routes without Fastify's
 * per-request machinery. Every request below is sent twice: to the route's path (the lane takes
 * it) and to the same path with an empty query string (`?`: the lane leaves anything with a query
 * to Fastify, whose router ignores it) — and the two answers must be the same.
 */

const SYS = "lane-sys";
const LOCKED = "lane-locked";
const SECRET = "lane-secret-0123456789";

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function raw(base: string, path: string, body: string, headers: Record<string, string>): Promise<Raw> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search || (path.endsWith("?") ? "?" : "")}`,
        method: "POST",
        agent: false,
        headers: { "content-length": String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const nested = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);

describe("gateway fast lane", () => {
  let s: TestServer;
  let client: TestClient;
  let clientId: string;
  let lockedClient: TestClient;
  let lockedId: string;

  before(async () => {
    s = await startServer();
    assert.equal((await post(`${s.base}/api/register`, { systemId: SYS })).body.code, 0);
    assert.equal((await post(`${s.base}/api/register`, { systemId: LOCKED, secret: SECRET })).body.code, 0);
    ({ c: client, clientId } = await gatewayClient(s.ws, SYS));
    ({ c: lockedClient, clientId: lockedId } = await gatewayClient(s.ws, LOCKED));
  });
  after(async () => {
    client.close();
    lockedClient.close();
    await s.close();
  });

  test("is on for the push routes, not for the others", () => {
    const lane = FastLane.of(s.app.http);
    assert.ok(lane);
    assert.deepEqual(lane.paths().sort(), [
      "/api/bind_to_group",
      "/api/send_to_client",
      "/api/send_to_clients",
      "/api/send_to_group",
    ]);
  });

  test("a push answers like Fastify, reaches the client, and is counted in the request metric", async () => {
    const count = async (): Promise<number> => {
      const text = await (await fetch(`${s.base}/metrics`)).text();
      const m =
        /parley_http_request_duration_seconds_count\{[^}]*route="\/api\/send_to_client"[^}]*status="200"[^}]*\} (\d+)/.exec(
          text,
        );
      return m?.[1] ? Number(m[1]) : 0;
    };
    const before = await count();
    const body = JSON.stringify({ clientId, sendUserId: "u1", code: 7, msg: "hi", data: { text: "hello" } });
    const headers = { SystemId: SYS, "content-type": "application/json" };
    const lane = await raw(s.base, "/api/send_to_client", body, headers);
    const fastify = await raw(s.base, "/api/send_to_client?", body, headers);
    for (const r of [lane, fastify]) {
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(r.headers["content-length"], String(Buffer.byteLength(r.text)));
      const env = JSON.parse(r.text) as { code: number; msg: string; data: { messageId: string } };
      assert.equal(env.code, 0);
      assert.equal(env.msg, "success");
      assert.match(env.data.messageId, /^[0-9a-f]{16}$/);
      const frame = await client.next<Record<string, unknown>>();
      assert.deepEqual(frame, {
        messageId: env.data.messageId,
        sendUserId: "u1",
        code: 7,
        msg: "hi",
        data: { text: "hello" },
      });
    }
    assert.deepEqual(Object.keys(lane.headers).sort(), Object.keys(fastify.headers).sort());
    // the lane's request and Fastify's are both counted under the route
    assert.equal((await count()) - before, 2);
  });

  const cases: Array<{ name: string; path: string; body: () => string; headers?: () => Record<string, string> }> = [
    { name: "malformed JSON", path: "send_to_client", body: () => '{"clientId": ' },
    { name: "JSON nested too deep", path: "send_to_group", body: () => nested(MAX_JSON_DEPTH + 1) },
    { name: "JSON exactly at the depth limit", path: "send_to_group", body: () => nested(MAX_JSON_DEPTH) },
    { name: "a blank body", path: "send_to_client", body: () => "   " },
    { name: "a JSON string", path: "send_to_client", body: () => '"x"' },
    {
      name: "a missing field",
      path: "send_to_client",
      body: () => JSON.stringify({ clientId, code: 0, msg: "", data: "" }),
    },
    {
      name: "an unknown field",
      path: "send_to_client",
      body: () => JSON.stringify({ clientId, sendUserId: "", code: 0, msg: "", data: "", bogus: 1 }),
    },
    {
      name: "a wrongly typed field",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: "0", msg: "", data: "" }),
    },
    {
      name: "a field over its size limit",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "m".repeat(4097), data: "" }),
    },
    {
      name: "a code beyond 32 bits",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 2 ** 31, msg: "", data: "" }),
    },
    {
      name: "a bad data type (union)",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: 5 }),
    },
    {
      name: "an empty client id list",
      path: "send_to_clients",
      body: () => JSON.stringify({ clientIds: [], sendUserId: "", code: 0, msg: "", data: "" }),
    },
    {
      name: "a forged client id",
      path: "send_to_client",
      body: () => JSON.stringify({ clientId: "A".repeat(56), sendUserId: "", code: 0, msg: "", data: "" }),
    },
    {
      name: "another system's client id",
      path: "send_to_client",
      body: () => JSON.stringify({ clientId: lockedId, sendUserId: "", code: 0, msg: "", data: "" }),
    },
    {
      name: "no SystemId",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: "" }),
      headers: () => ({}),
    },
    {
      name: "an unknown SystemId",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: "" }),
      headers: () => ({ SystemId: "nobody" }),
    },
    {
      name: "a missing SystemSecret",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: "" }),
      headers: () => ({ SystemId: LOCKED }),
    },
    {
      name: "a wrong SystemSecret",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: "" }),
      headers: () => ({ SystemId: LOCKED, SystemSecret: "wrong-secret-0123456789" }),
    },
    {
      name: "the right SystemSecret",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "nobody-here", sendUserId: "", code: 0, msg: "", data: "" }),
      headers: () => ({ SystemId: LOCKED, SystemSecret: SECRET }),
    },
    {
      name: "bind to a group",
      path: "bind_to_group",
      body: () => JSON.stringify({ clientId, groupName: "lane-group", userId: "u" }),
    },
    {
      name: "a body over the body limit (left to Fastify)",
      path: "send_to_group",
      body: () => JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: "x".repeat(2_000_000) }),
    },
  ];

  for (const c of cases) {
    test(`${c.name}: the same answer on both paths`, async () => {
      const headers = { "content-type": "application/json", ...(c.headers ? c.headers() : { SystemId: SYS }) };
      const lane = await raw(s.base, `/api/${c.path}`, c.body(), headers);
      const fastify = await raw(s.base, `/api/${c.path}?`, c.body(), headers);
      assert.equal(lane.status, fastify.status);
      const strip = (t: string) => t.replace(/"messageId":"[0-9a-f]{16}"/, '"messageId":"-"');
      assert.equal(strip(lane.text), strip(fastify.text));
      for (const h of ["content-type", "content-length", "connection"])
        assert.equal(lane.headers[h], fastify.headers[h], `${h} header`);
      assert.equal(JSON.parse(lane.text).code === 0, fastify.status === 200 && JSON.parse(fastify.text).code === 0);
    });
  }

  test("other content types, empty bodies and other methods stay on Fastify and answer as before", async () => {
    const body = JSON.stringify({ groupName: "g", sendUserId: "", code: 0, msg: "", data: "" });
    const text = await raw(s.base, "/api/send_to_group", body, { SystemId: SYS, "content-type": "text/plain" });
    assert.equal(text.status, 200);
    assert.equal(JSON.parse(text.text).code, 0);
    const empty = await raw(s.base, "/api/send_to_group", "", { SystemId: SYS, "content-type": "application/json" });
    assert.equal(empty.status, 200);
    assert.equal(JSON.parse(empty.text).code, -1);
    const res = await fetch(`${s.base}/api/send_to_client`, { method: "PUT" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
  });
});

describe("gateway fast lane with request logging on", () => {
  test("is not installed (Fastify logs every request)", async () => {
    const s = await startServer({ requestLog: true });
    try {
      assert.equal(FastLane.of(s.app.http), null);
      const r = await post(`${s.base}/api/send_to_group`, {
        groupName: "g",
        sendUserId: "",
        code: 0,
        msg: "",
        data: "",
      });
      assert.equal(r.body.code, -1); // no SystemId
    } finally {
      await s.close();
    }
  });
});
