import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { ADMIN_PAGES } from "../src/surfaces/webapp/admin.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { expectUnbuiltThenBuilt, rawGet as get, makeBuildDir } from "./helpers/static-site.ts";

/**
 * Serving the admin console (src/surfaces/webapp/admin.ts, docs/admin-console.md) from a build
 * folder made here: the same rules as /app/ (hashed assets immutable, index.html no-cache, ETag,
 * gzip, the CSP, client-side routes, 404 for missing assets and path tricks), the admin API under
 * /admin/api still answering (and still refusing without the token), an unbuilt console, and
 * `web.adminEnabled=false`.
 */

const INDEX = `<!doctype html><html><head><script type="module" src="/admin/assets/index-Adm1n_-x.js"></script></head><body><div id="root"></div></body></html>`;
const SCRIPT = `console.log(${JSON.stringify("admin".repeat(1000))});`;
const APP_INDEX = `<!doctype html><title>app</title>`;

describe("admin console serving", () => {
  const admin = makeBuildDir("parley-admindist-", { "index.html": INDEX, "assets/index-Adm1n_-x.js": SCRIPT });
  const app = makeBuildDir("parley-webdist-", { "index.html": APP_INDEX });
  let s: TestServer;

  before(async () => {
    s = await startServer({ "web.adminDir": admin.dir, "web.dir": app.dir });
  });
  after(async () => {
    await s.close();
    admin.remove();
    app.remove();
  });

  test("/admin redirects to /admin/; index.html is no-cache with the same CSP as /app/", async () => {
    const r0 = await get(s.base, "/admin");
    assert.equal(r0.status, 301);
    assert.equal(r0.headers.location, "/admin/");
    const r = await get(s.base, "/admin/");
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), INDEX);
    assert.match(String(r.headers["content-type"]), /^text\/html/);
    assert.equal(r.headers["cache-control"], "no-cache");
    const csp = String(r.headers["content-security-policy"]);
    assert.equal(csp, String((await get(s.base, "/app/")).headers["content-security-policy"]), "one policy for both");
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["referrer-policy"], "no-referrer");
  });

  test("hashed assets: immutable for a year, ETag + 304, gzip when asked", async () => {
    const r = await get(s.base, "/admin/assets/index-Adm1n_-x.js");
    assert.equal(r.status, 200);
    assert.equal(r.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(r.body.toString(), SCRIPT);
    const etag = String(r.headers.etag);
    assert.equal((await get(s.base, "/admin/assets/index-Adm1n_-x.js", { "if-none-match": etag })).status, 304);
    const gz = await get(s.base, "/admin/assets/index-Adm1n_-x.js", { "accept-encoding": "gzip" });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(gunzipSync(gz.body).toString(), SCRIPT);
  });

  test("client routes get the console; missing assets and path tricks are 404", async () => {
    assert.deepEqual(
      ADMIN_PAGES,
      [
        ...readFileSync(join(import.meta.dirname, "..", "web", "admin", "src", "main.tsx"), "utf8").matchAll(
          /\{ id: "([a-z]+)", title:/g,
        ),
      ].map((m) => m[1]),
      "the server serves exactly the console's pages",
    );
    for (const p of ADMIN_PAGES.map((x) => `/admin/${x}`)) {
      const r = await get(s.base, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.body.toString(), INDEX, p);
      assert.equal(r.headers["cache-control"], "no-cache", p);
    }
    for (const p of [
      "/admin/assets/nope-Adm1n_-x.js",
      "/admin/x.png",
      "/admin/..%2f..%2fpackage.json",
      "/admin/%2e%2e/x.js",
    ]) {
      const r = await get(s.base, p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body.toString(), /"name":\s*"parley"/, p);
    }
  });

  test("the admin API under /admin/api is not shadowed: 401 without the token, JSON with it", async () => {
    const no = await get(s.base, "/admin/api/users");
    assert.equal(no.status, 401);
    assert.equal(JSON.parse(no.body.toString()).msg, "admin token required");
    const unknown = await get(s.base, "/admin/api/nothing-here");
    assert.equal(unknown.status, 401, "unknown admin API paths stay behind the token");
    const unknownWith = await get(s.base, "/admin/api/nothing-here", { authorization: "Bearer test-admin-token" });
    assert.equal(unknownWith.status, 404);
    assert.equal(JSON.parse(unknownWith.body.toString()).code, 404, "the admin API's own 404 envelope");
    const ok = await get(s.base, "/admin/api/users?size=1", { authorization: "Bearer test-admin-token" });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body.toString()).code, 0);
    assert.equal((await get(s.base, "/app/")).body.toString(), APP_INDEX, "/app/ serves its own build");
  });
});

describe("admin console serving: not built, disabled", () => {
  test("without a build /admin/ answers 503 with the build command and picks the build up later", async () => {
    const built = await expectUnbuiltThenBuilt("web.adminDir", "/admin/", INDEX);
    assert.equal(built.status, 200);
  });

  test("web.adminEnabled=false serves no console, the admin API stays", async () => {
    const s = await startServer({ "web.adminEnabled": false });
    try {
      assert.equal((await get(s.base, "/admin/")).status, 404);
      assert.equal((await get(s.base, "/admin/people")).status, 404);
      assert.equal((await get(s.base, "/admin/api/users")).status, 401);
    } finally {
      await s.close();
    }
  });
});
