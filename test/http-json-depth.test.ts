import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MAX_JSON_DEPTH } from "../src/core/json-limits.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { gatewayClient } from "./helpers/ws-client.ts";

/**
 * The shared JSON body parser (src/http/scope.ts) refuses bodies nested deeper than
 * MAX_JSON_DEPTH with each surface's "bad format" answer, before anything is parsed, stored or
 * pushed (issue 8 item 3: a 6 000-deep `data` used to be a 500 on send_to_group and a silent
 * non-delivery on send_to_client / send_to_clients).
 */
const DEEP = 6000;
const nested = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
/** A JSON object text whose `field` holds arrays nested `n` deep (the whole body nests n + 1). */
const withNested = (fields: Record<string, unknown>, field: string, n: number) =>
  `${JSON.stringify(fields).slice(0, -1)}${Object.keys(fields).length ? "," : ""}"${field}":${nested(n)}}`;

const TOKEN = "depth-admin-token";

describe("JSON bodies nested deeper than MAX_JSON_DEPTH", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ adminToken: TOKEN });
    assert.equal((await post(`${s.base}/api/register`, { systemId: "deep" })).body.code, 0);
  });
  after(() => s.close());

  describe("gateway: code -1, nothing delivered, never a success", () => {
    const push = { sendUserId: "u", code: 0, msg: "m" };
    const tooDeep = { code: -1, msg: `请求体JSON嵌套过深(最多${MAX_JSON_DEPTH}层)`, data: [] };

    test("send_to_group, send_to_client and send_to_clients with data nested 6 000 deep", async () => {
      const { c, clientId } = await gatewayClient(s.ws, "deep");
      try {
        assert.equal(
          (await post(`${s.base}/api/bind_to_group`, { clientId, groupName: "g" }, { SystemId: "deep" })).body.code,
          0,
        );
        // its own "online" notice to the group (gateway.groupNotices is on by default)
        assert.equal((await c.next<{ code: number }>()).code, 1001);
        const cases: Array<[string, Record<string, unknown>]> = [
          ["send_to_group", { ...push, groupName: "g" }],
          ["send_to_client", { ...push, clientId }],
          ["send_to_clients", { ...push, clientIds: [clientId] }],
        ];
        for (const [route, fields] of cases) {
          const r = await post(`${s.base}/api/${route}`, withNested(fields, "data", DEEP), { SystemId: "deep" });
          assert.equal(r.status, 400, route);
          assert.deepEqual(r.body, tooDeep, route);
        }
        assert.ok(await c.silent(300), "no frame reaches the client");
        // the socket and the server are fine: the next (shallow) push is the first frame it gets
        const ok = await post(
          `${s.base}/api/send_to_client`,
          { ...push, clientId, data: { a: [1] } },
          { SystemId: "deep" },
        );
        assert.equal(ok.body.code, 0);
        const frame = await c.next<{ data: unknown; messageId: string }>();
        assert.deepEqual(frame.data, { a: [1] });
        assert.equal(frame.messageId, (ok.body.data as { messageId: string }).messageId);
      } finally {
        c.close();
      }
    });

    test("the limit is on the whole body: MAX_JSON_DEPTH levels pass, one more does not", async () => {
      const { c, clientId } = await gatewayClient(s.ws, "deep");
      try {
        // the body object is level 1, so `data` may nest MAX_JSON_DEPTH - 1 levels
        const fits = await post(
          `${s.base}/api/send_to_client`,
          withNested({ ...push, clientId }, "data", MAX_JSON_DEPTH - 1),
          { SystemId: "deep" },
        );
        assert.equal(fits.body.code, 0);
        assert.equal(JSON.stringify((await c.next<{ data: unknown }>()).data), nested(MAX_JSON_DEPTH - 1));
        const over = await post(
          `${s.base}/api/send_to_client`,
          withNested({ ...push, clientId }, "data", MAX_JSON_DEPTH),
          { SystemId: "deep" },
        );
        assert.equal(over.status, 400);
        assert.deepEqual(over.body, tooDeep);
        assert.ok(await c.silent(200));
      } finally {
        c.close();
      }
    });

    test("brackets inside strings do not count", async () => {
      const { c, clientId } = await gatewayClient(s.ws, "deep");
      try {
        const r = await post(
          `${s.base}/api/send_to_client`,
          { ...push, clientId, data: "[".repeat(DEEP) },
          { SystemId: "deep" },
        );
        assert.equal(r.body.code, 0);
        assert.equal((await c.next<{ data: unknown }>()).data, "[".repeat(DEEP));
      } finally {
        c.close();
      }
    });
  });

  test("chat33: HTTP 400, result -1001", async () => {
    const r = await post(`${s.base}/user/isreg`, withNested({}, "mobile", DEEP));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      result: -1001,
      message: `参数错误: 请求体JSON嵌套过深(最多${MAX_JSON_DEPTH}层)`,
      data: {},
    });
  });

  test("enterprise: HTTP 400, code 400", async () => {
    const r = await post(`${s.base}/auth/login`, withNested({ account: "a" }, "password", DEEP));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      data: null,
      code: 400,
      msg: `参数错误: 请求体JSON嵌套过深(最多${MAX_JSON_DEPTH}层)`,
    });
  });

  test("admin: HTTP 400, code 400", async () => {
    const r = await post(`${s.base}/admin/api/users`, withNested({ username: "deep" }, "password", DEEP), {
      authorization: `Bearer ${TOKEN}`,
    });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { code: 400, msg: `body nests deeper than ${MAX_JSON_DEPTH} levels`, data: null });
  });
});
