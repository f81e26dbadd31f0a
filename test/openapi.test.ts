import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Ajv } from "ajv";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * /docs/json: every operation that needs credentials declares them (and they are real: without
 * them, its own example request gets the surface's authentication answer), every operation has an
 * example request (valid against its own schema) and an example response, and the WebSocket
 * endpoints are described.
 */

interface Media {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Param {
  in: string;
  name: string;
  required?: boolean;
  schema?: Record<string, unknown> & { example?: unknown };
  example?: unknown;
}
interface Operation {
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Param[];
  requestBody?: { content: Record<string, Media> };
  responses?: Record<string, { content?: Record<string, Media> }>;
}
interface Spec {
  info: { description?: string };
  components?: { securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }> };
  paths: Record<string, Record<string, Operation>>;
}

/** Operations anyone may call (the rest need credentials). */
const PUBLIC = new Set([
  "get /healthz",
  "get /readyz",
  "get /metrics",
  "post /send/sms",
  "post /user/sendCode",
  "post /user/isreg",
  "post /v1/send/voice",
  "post /auth/login",
  "get /auth/scan_login_url",
  "post /auth/scan_login_url",
  "get /files/{sha256}",
  "head /files/{sha256}",
  "post /api/register",
  // the admin sign-in (docs/admin.md): it is how an admin session is obtained
  "post /admin/api/session",
  // console (004): the client lookup and the reports (a customer's key travels as a parameter)
  ...["/api/customer/info", "/api/server/commit", "/api/user/commit", "/api/group/commit"].flatMap((p) => [
    `get ${p}`,
    `post ${p}`,
  ]),
  // red packets: the guest path and the packet (a session is optional on detail), the packet page
  "post /red-packet/receive",
  "post /red-packet/entry",
  "post /red-packet/register-entry",
  "post /red-packet/detail",
  "get /packets/pages/open.html",
  // chat33 uploaded images (content-addressed; an <img> sends no headers)
  "get /chat33/files/{sha256}",
  "head /chat33/files/{sha256}",
]);
/** chat33 logins: no session yet, but the device header. */
const DEVICE_ONLY = new Set(["post /user/pwdLogin", "post /user/register", "post /user/phoneLogin"]);

const exampleOf = (m: Media | undefined) =>
  m?.example !== undefined ? m.example : m?.examples ? Object.values(m.examples)[0]?.value : undefined;

describe("OpenAPI at /docs: security, examples, WebSocket endpoints", () => {
  let s: TestServer;
  let spec: Spec;
  const ops: Array<{ key: string; path: string; method: string; op: Operation }> = [];
  before(async () => {
    s = await startServer({ adminToken: "openapi-admin-token" });
    assert.equal((await fetch(`${s.base}/docs`)).status, 200);
    spec = (await (await fetch(`${s.base}/docs/json`)).json()) as Spec;
    for (const [path, methods] of Object.entries(spec.paths))
      for (const [method, op] of Object.entries(methods)) ops.push({ key: `${method} ${path}`, path, method, op });
  });
  after(() => s.close());

  test("the security schemes name each surface's real headers", () => {
    const schemes = spec.components?.securitySchemes ?? {};
    assert.deepEqual(schemes.adminBearer && { type: schemes.adminBearer.type, scheme: schemes.adminBearer.scheme }, {
      type: "http",
      scheme: "bearer",
    });
    const headers: Record<string, string> = {
      chat33Token: "FZM-AUTH-TOKEN",
      chat33Device: "FZM-DEVICE",
      enterpriseAuth: "authorization",
      gatewaySystem: "SystemId",
      gatewaySecret: "SystemSecret",
    };
    for (const [name, header] of Object.entries(headers)) {
      assert.equal(schemes[name]?.type, "apiKey", name);
      assert.equal(schemes[name]?.in, "header", name);
      assert.equal(schemes[name]?.name, header, name);
    }
  });

  test("every operation that needs credentials declares the surface's scheme", () => {
    assert.ok(ops.length >= 60, `${ops.length} operations`);
    const declared = new Set(Object.keys(spec.components?.securitySchemes ?? {}));
    for (const { key, path, op } of ops) {
      if (PUBLIC.has(key)) {
        assert.equal(op.security, undefined, `${key} needs no credentials`);
        continue;
      }
      assert.ok(op.security?.length, `${key} declares security`);
      const used = new Set(op.security.flatMap((alt) => Object.keys(alt)));
      for (const name of used) assert.ok(declared.has(name), `${key}: ${name} is a declared scheme`);
      const tag = op.tags?.[0] ?? "";
      if (path.startsWith("/admin/api/") || tag.startsWith("console"))
        assert.deepEqual(op.security, [{ adminBearer: [] }], key);
      else if (tag.startsWith("gateway")) assert.ok(used.has("gatewaySystem"), key);
      else if (tag.startsWith("enterprise")) assert.deepEqual(op.security, [{ enterpriseAuth: [] }], key);
      else if (tag.startsWith("chat33")) {
        if (DEVICE_ONLY.has(key)) assert.deepEqual(op.security, [{ chat33Device: [] }], key);
        else
          assert.ok(
            op.security.some((alt) => "chat33Token" in alt && "chat33Device" in alt),
            `${key}: FZM-AUTH-TOKEN together with FZM-DEVICE`,
          );
      } else if (tag.startsWith("cluster admin")) assert.ok(used.has("adminBearer"), key);
      else assert.fail(`${key}: an operation of no known surface needs credentials`);
    }
  });

  test("every operation has an example request (valid against its schema) and an example response", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    for (const { key, op } of ops) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (type.startsWith("multipart/")) continue;
        const ex = exampleOf(media);
        assert.notEqual(ex, undefined, `${key}: request example (${type})`);
        const validate = ajv.compile(media.schema ?? {});
        assert.ok(validate(ex), `${key}: request example is valid: ${ajv.errorsText(validate.errors)}`);
      }
      for (const p of op.parameters ?? []) {
        if (p.in === "header") continue;
        const ex = p.example ?? p.schema?.example;
        assert.notEqual(ex, undefined, `${key}: example of ${p.in} parameter ${p.name}`);
        const { example: _e, ...schema } = p.schema ?? {};
        const validate = ajv.compile(schema);
        assert.ok(validate(ex), `${key}: ${p.name} example is valid: ${ajv.errorsText(validate.errors)}`);
      }
      const ok = op.responses?.["200"];
      assert.ok(ok, `${key}: documents its 200 answer`);
      const media = Object.values(ok.content ?? {});
      assert.ok(media.length, `${key}: 200 has content`);
      assert.ok(
        media.some((m) => exampleOf(m) !== undefined),
        `${key}: example response`,
      );
    }
  });

  test("the examples are the seeds' own where the seed has one", () => {
    const res = (key: string) => {
      const [method, path] = key.split(" ") as [string, string];
      return exampleOf(Object.values(spec.paths[path]?.[method]?.responses?.["200"]?.content ?? {})[0]);
    };
    // seed 000's response example for send_to_client, seed 002's for pwdLogin
    assert.deepEqual(res("post /api/send_to_client"), {
      code: 0,
      msg: "success",
      data: { messageId: "5b4646dd8328f4b1" },
    });
    assert.equal((res("post /user/pwdLogin") as { data: { account: string } }).data.account, "8612345678");
  });

  test("without credentials, each secured operation's own example gets the surface's authentication answer", async () => {
    for (const { key, path, method, op } of ops) {
      if (PUBLIC.has(key) || DEVICE_ONLY.has(key) || method === "head") continue;
      let url = path;
      const query = new URLSearchParams();
      for (const p of op.parameters ?? []) {
        const ex = String(p.example ?? p.schema?.example);
        if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(ex));
        if (p.in === "query") query.set(p.name, ex);
      }
      const media = op.requestBody?.content?.["application/json"];
      const body = media ? JSON.stringify(exampleOf(media)) : undefined;
      const qs = query.toString();
      const r = await fetch(`${s.base}${url}${qs ? `?${qs}` : ""}`, {
        method: method.toUpperCase(),
        headers: body ? { "content-type": "application/json" } : {},
        body,
      });
      const answer = (await r.json()) as Record<string, unknown>;
      const tag = op.tags?.[0] ?? "";
      if (path.startsWith("/admin/api/") || tag.startsWith("enterprise") || tag.startsWith("console"))
        assert.equal(r.status, 401, key);
      else if (tag.startsWith("gateway")) assert.deepEqual(answer, { code: -1, msg: "系统ID不能为空", data: [] }, key);
      else if (tag.startsWith("chat33"))
        assert.ok([-1003, -1004, -1006].includes(answer.result as number), `${key}: ${JSON.stringify(answer)}`);
      else if (tag.startsWith("cluster admin")) assert.equal(answer.code, 10005, key);
      else assert.fail(key);
    }
  });

  test("with the declared credentials the example gets past authentication (gateway and admin)", async () => {
    await fetch(`${s.base}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ systemId: "docs-system" }),
    });
    const online = await fetch(`${s.base}/api/get_online_list`, {
      method: "POST",
      headers: { "content-type": "application/json", SystemId: "docs-system" },
      body: JSON.stringify(
        exampleOf(spec.paths["/api/get_online_list"]?.post?.requestBody?.content["application/json"]),
      ),
    });
    assert.deepEqual(await online.json(), { code: 0, msg: "success", data: { count: 0, list: [] } });
    const users = await fetch(`${s.base}/admin/api/users`, {
      headers: { authorization: "Bearer openapi-admin-token" },
    });
    assert.equal(users.status, 200);
  });

  test("the WebSocket endpoints are described on /docs, with their pages", () => {
    const d = spec.info.description ?? "";
    assert.match(d, /WebSocket endpoints/);
    assert.match(d, /GET \/ws\?systemId=/);
    assert.match(d, /GET \/ws` with the token/);
    assert.match(d, /GET \/socket\?authorization=/);
    for (const page of ["docs/gateway.md", "docs/chat33.md", "docs/enterprise.md", "docs/ARCHITECTURE.md"])
      assert.ok(d.includes(page), page);
  });
});
