import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { post, startServer, type TestServer } from "./helpers/server.ts";

/**
 * Review finding M5: every integer a request may carry has a minimum and a maximum within the
 * safe-integer range, so no value ajv calls an integer (1e300 is one) reaches a bigint column or a
 * comparison with one — PostgreSQL would answer "value out of range" (an internal error). Walks the
 * request schemas of /docs/json, then sends ±1e300 to every such field of every operation on this
 * run's backend (run it with PARLEY_DATABASE_URL for PostgreSQL): chat33 answers its documented
 * -1001 (参数错误), every surface answers below 500.
 */

interface Schema {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  [k: string]: unknown;
}
interface Media {
  schema?: Schema;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  tags?: string[];
  parameters?: Array<{ in: string; name: string; schema?: Schema; example?: unknown }>;
  requestBody?: { content: Record<string, Media> };
}

const isInt = (s: Schema) =>
  s.type === "integer" || s.type === "number" || (Array.isArray(s.type) && s.type.some((t) => t === "integer"));

/** Every integer/number schema under `s` without both bounds, by JSON path. */
function unbounded(s: unknown, path: string, out: string[]): string[] {
  if (!s || typeof s !== "object") return out;
  const sch = s as Schema;
  if (isInt(sch) && sch.enum === undefined && sch.const === undefined) {
    const ok =
      typeof sch.minimum === "number" &&
      typeof sch.maximum === "number" &&
      sch.minimum >= -Number.MAX_SAFE_INTEGER &&
      sch.maximum <= Number.MAX_SAFE_INTEGER;
    if (!ok) out.push(path);
  }
  for (const [k, v] of Object.entries(sch)) if (k !== "example" && k !== "examples") unbounded(v, `${path}.${k}`, out);
  return out;
}

const exampleOf = (m: Media) =>
  m.example !== undefined ? m.example : m.examples ? Object.values(m.examples)[0]?.value : undefined;

describe("request integers are bounded (no out-of-range bigint reaches storage)", () => {
  let s: TestServer;
  let token = "";
  const ops: Array<{ key: string; path: string; method: string; op: Operation }> = [];
  before(async () => {
    s = await startServer({ adminToken: "bounds-admin-token" });
    const spec = (await (await fetch(`${s.base}/docs/json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    for (const [path, methods] of Object.entries(spec.paths))
      for (const [method, op] of Object.entries(methods)) ops.push({ key: `${method} ${path}`, path, method, op });
    await s.app.accounts.createUser({ mobile: "13911112222", password: "bounds-pass-1", nickname: "B" });
    const r = await post<{ result: number; data: { token: string } }>(
      `${s.base}/user/pwdLogin`,
      { mobile: "13911112222", password: "bounds-pass-1" },
      { "FZM-DEVICE": "iOS" },
    );
    token = r.body.data.token;
    assert.ok(token);
  });
  after(() => s.close());

  test("every integer in a request schema (body, query, path) has a minimum and a maximum", () => {
    const bad: string[] = [];
    for (const { key, op } of ops) {
      for (const p of op.parameters ?? []) unbounded(p.schema, `${key} ${p.in}:${p.name}`, bad);
      for (const [ct, media] of Object.entries(op.requestBody?.content ?? {}))
        unbounded(media.schema, `${key} ${ct}`, bad);
    }
    assert.deepEqual(bad, []);
  });

  test("±1e300 in any integer field: chat33 -1001, and never a 5xx on any surface", async () => {
    const headers = (path: string): Record<string, string> =>
      path.startsWith("/admin/")
        ? { authorization: "Bearer bounds-admin-token" }
        : { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": token };
    let chat33Fields = 0;
    let sent = 0;
    for (const { key, path, method, op } of ops) {
      const json = op.requestBody?.content["application/json"];
      const example = json ? exampleOf(json) : undefined;
      const bodyInts =
        json?.schema?.properties && example && typeof example === "object"
          ? Object.entries(json.schema.properties)
              .filter(([, p]) => isInt(p) || (Array.isArray(p.anyOf) && (p.anyOf as Schema[]).some(isInt)))
              .map(([name]) => name)
          : [];
      const queryInts = (op.parameters ?? []).filter((p) => p.in === "query" && p.schema && isInt(p.schema));
      const chat33 = op.tags?.[0]?.startsWith("chat33") ?? false;
      for (const value of [1e300, -1e300]) {
        for (const name of bodyInts) {
          const body = JSON.stringify({ ...(example as object), [name]: value });
          assert.ok(body.includes("e+300") || body.includes("e300"), body);
          const res = await fetch(`${s.base}${path}`, {
            method: method.toUpperCase(),
            headers: { "content-type": "application/json", ...headers(path) },
            body,
          });
          const text = await res.text();
          sent++;
          assert.ok(res.status < 500, `${key} ${name}=${value}: HTTP ${res.status} ${text}`);
          if (chat33) {
            chat33Fields++;
            assert.equal(JSON.parse(text).result, -1001, `${key} ${name}=${value}: ${text}`);
          }
        }
        for (const p of queryInts) {
          const res = await fetch(`${s.base}${path.replace(/\{[^}]+\}/g, "1")}?${p.name}=${value}`, {
            method: method.toUpperCase(),
            headers: headers(path),
          });
          sent++;
          assert.ok(res.status < 500, `${key} ?${p.name}=${value}: HTTP ${res.status} ${await res.text()}`);
        }
      }
    }
    // the fields of the review (room deadlines, /group/list times, /friend/list time) were among them
    assert.ok(chat33Fields >= 10, `${chat33Fields} chat33 fields`);
    assert.ok(sent >= 20, `${sent} requests`);
  });

  test("the review's scenarios: a 1e300 mute deadline or time bound is -1001, nothing is stored", async () => {
    const h = { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": token };
    for (const [path, body] of [
      ["/room/setMutedSingle", { roomId: "1", userId: "1", deadline: 1e300 }],
      ["/room/setMutedList", { roomId: "1", listType: 2, users: ["1"], deadline: 1e300 }],
      ["/group/list", { groupStatus: 3, startTime: 1e300 }],
      ["/group/list", { groupStatus: 3, endTime: 1e20 }],
      ["/friend/list", { type: 3, time: 1e300 }],
    ] as const) {
      const r = await post<{ result: number }>(`${s.base}${path}`, body, h);
      assert.equal(r.status, 200, path);
      assert.equal(r.body.result, -1001, `${path} ${JSON.stringify(r.body)}`);
    }
    // within the range, the same routes answer normally
    const ok = await post<{ result: number }>(`${s.base}/group/list`, { groupStatus: 3, endTime: Date.now() }, h);
    assert.equal(ok.body.result, 0);
  });
});
