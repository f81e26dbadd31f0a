import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConfigError } from "../src/config/load.ts";
import { buildApp } from "../src/main.ts";
import { createBackend, testConfig } from "./helpers/backend.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const APP = "https://app.example.com";
const OTHER = "https://evil.example.net";
const ADMIN_TOKEN = "cors-admin-token";
const PASSWORD = "secret-pass-1";

/** One POST route per surface (plus the admin API), each answering 405 to a bare OPTIONS. */
const ROUTES = ["/user/pwdLogin", "/auth/login", "/api/send_to_group", "/admin/api/users"];

const preflight = (base: string, path: string, origin: string, headers = "content-type, authorization") =>
  fetch(`${base}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
  });

describe("CORS (http.corsOrigins)", () => {
  describe("default: closed", () => {
    let s: TestServer;
    before(async () => {
      s = await startServer();
    });
    after(() => s.close());

    test("a preflight gets the route's 405 and no Access-Control-* header, as before", async () => {
      for (const path of ROUTES) {
        const res = await preflight(s.base, path, APP);
        assert.equal(res.status, path.startsWith("/admin") ? 401 : 405, path);
        for (const [k] of res.headers) assert.doesNotMatch(k, /^access-control-/, `${path}: ${k}`);
      }
    });

    test("a cross-origin request gets no Access-Control-* header", async () => {
      const res = await fetch(`${s.base}/user/isreg`, { method: "POST", headers: { origin: APP }, body: "{}" });
      for (const [k] of res.headers) assert.doesNotMatch(k, /^access-control-/, k);
    });
  });

  describe("an allow-list", () => {
    let s: TestServer;
    let token: string;
    before(async () => {
      s = await startServer({ "http.corsOrigins": `${APP}/`, adminToken: ADMIN_TOKEN });
      const alice = await s.app.accounts.createUser({ username: "alice", password: PASSWORD, nickname: "Alice" });
      token = (await s.app.accounts.startSession(alice, { device: "pc" })).token;
    });
    after(() => s.close());

    test("preflights from a listed origin are 204 with the CORS headers on every surface, never 405", async () => {
      for (const path of [...ROUTES, "/files/0000000000000000000000000000000000000000000000000000000000000000"]) {
        const res = await preflight(s.base, path, APP, "content-type, fzm-auth-token, fzm-device, systemid");
        assert.equal(res.status, 204, path);
        assert.equal(res.headers.get("access-control-allow-origin"), APP, path);
        assert.equal(res.headers.get("access-control-allow-credentials"), "true", path);
        assert.match(res.headers.get("access-control-allow-methods") ?? "", /\bPOST\b/, path);
        assert.match(res.headers.get("access-control-allow-methods") ?? "", /\bGET\b/, path);
        assert.equal(
          res.headers.get("access-control-allow-headers"),
          "content-type, fzm-auth-token, fzm-device, systemid",
          path,
        );
        assert.match(res.headers.get("vary") ?? "", /Origin/, path);
        assert.equal(await res.text(), "", path);
      }
    });

    test("preflights from other origins are untouched (405, no CORS headers)", async () => {
      for (const path of ROUTES) {
        const res = await preflight(s.base, path, OTHER);
        assert.notEqual(res.status, 204, path);
        assert.equal(res.headers.get("access-control-allow-origin"), null, path);
      }
    });

    test("requests from the listed origin carry Allow-Origin and credentials, on errors too", async () => {
      const ok = await fetch(`${s.base}/user/isreg`, {
        method: "POST",
        headers: { origin: APP },
        body: JSON.stringify({ mobile: "13900000000" }),
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("access-control-allow-origin"), APP);
      assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
      assert.match(ok.headers.get("access-control-expose-headers") ?? "", /Content-Disposition/);

      const unauth = await fetch(`${s.base}/admin/api/users`, { headers: { origin: APP } });
      assert.equal(unauth.status, 401);
      assert.equal(unauth.headers.get("access-control-allow-origin"), APP, "the error envelope is readable");
      const bad = await fetch(`${s.base}/auth/login`, {
        method: "POST",
        headers: { origin: APP, "content-type": "application/json" },
        body: "{",
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers.get("access-control-allow-origin"), APP);

      const other = await fetch(`${s.base}/user/isreg`, {
        method: "POST",
        headers: { origin: OTHER },
        body: JSON.stringify({ mobile: "13900000000" }),
      });
      assert.equal(other.status, 200, "CORS is the browser's check; the server still answers");
      assert.equal(other.headers.get("access-control-allow-origin"), null);
      assert.equal(other.headers.get("access-control-allow-credentials"), null);
    });

    test("/files: uploads and downloads carry the headers for the listed origin", async () => {
      const form = new FormData();
      form.append("file", new Blob([Buffer.from("hello cors")], { type: "text/plain" }), "a.txt");
      const up = await fetch(`${s.base}/api/file_upload`, {
        method: "POST",
        headers: { authorization: token, origin: APP },
        body: form,
      });
      assert.equal(up.status, 200);
      assert.equal(up.headers.get("access-control-allow-origin"), APP);
      const { hdUrl } = ((await up.json()) as { data: { hdUrl: string } }).data;
      const path = new URL(hdUrl).pathname;
      const res = await fetch(`${s.base}${path}`, { headers: { origin: APP } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "hello cors");
      assert.equal(res.headers.get("access-control-allow-origin"), APP);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true");
      const cross = await fetch(`${s.base}${path}`, { headers: { origin: OTHER } });
      assert.equal(cross.headers.get("access-control-allow-origin"), null);
    });

    test("requests without an Origin are untouched", async () => {
      const res = await fetch(`${s.base}/user/isreg`, { method: "POST", body: "{}" });
      for (const [k] of res.headers) assert.doesNotMatch(k, /^access-control-/, k);
    });
  });

  describe("* with a listed origin", () => {
    let s: TestServer;
    before(async () => {
      s = await startServer({ "http.corsOrigins": `*,${APP}` });
    });
    after(() => s.close());

    test("any origin may call, without credentials; the listed one gets credentials", async () => {
      const any = await preflight(s.base, "/user/pwdLogin", OTHER);
      assert.equal(any.status, 204);
      assert.equal(any.headers.get("access-control-allow-origin"), "*");
      assert.equal(any.headers.get("access-control-allow-credentials"), null);
      const listed = await preflight(s.base, "/user/pwdLogin", APP);
      assert.equal(listed.headers.get("access-control-allow-origin"), APP);
      assert.equal(listed.headers.get("access-control-allow-credentials"), "true");
    });
  });

  test("an entry that is not an origin stops the start with the key's name", async () => {
    for (const bad of ["app.example.com", "https://app.example.com/path", "ftp://x"]) {
      const backend = await createBackend();
      try {
        await assert.rejects(
          buildApp(testConfig(backend, { "http.corsOrigins": bad })),
          (e: unknown) => e instanceof ConfigError && /http\.corsOrigins/.test(e.message),
          bad,
        );
      } finally {
        await backend.cleanup();
      }
    }
  });
});
