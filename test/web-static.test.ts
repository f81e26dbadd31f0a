import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { startServer, type TestServer } from "./helpers/server.ts";
import { expectUnbuiltThenBuilt, rawGet as get, makeBuildDir } from "./helpers/static-site.ts";

/**
 * Serving the web client (src/surfaces/webapp, docs/web.md) from a build folder made here: the
 * redirect of `/`, cache headers (hashed assets immutable, index.html no-cache), ETags, gzip, the
 * CSP, client-side routes, missing files and path tricks, an unbuilt client, `web.enabled=false`,
 * and CORS staying closed by default.
 */

const INDEX = `<!doctype html><html><head><script type="module" src="/app/assets/index-AbC12_-x.js"></script></head><body><div id="root"></div></body></html>`;
const SCRIPT = `console.log(${JSON.stringify("x".repeat(4000))});`;

describe("web client serving", () => {
  const build = makeBuildDir("parley-webdist-", {
    "index.html": INDEX,
    "assets/index-AbC12_-x.js": SCRIPT,
    "assets/logo-Zz9Yy8Xx.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
  });
  let s: TestServer;

  before(async () => {
    s = await startServer({ "web.dir": build.dir });
  });
  after(async () => {
    await s.close();
    build.remove();
  });

  test("/ redirects to /app/, /app to /app/", async () => {
    const root = await get(s.base, "/");
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, "/app/");
    const app = await get(s.base, "/app");
    assert.equal(app.status, 301);
    assert.equal(app.headers.location, "/app/");
  });

  test("index.html: no-cache, a CSP that allows only this origin, nosniff", async () => {
    const r = await get(s.base, "/app/");
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), INDEX);
    assert.match(String(r.headers["content-type"]), /^text\/html/);
    assert.equal(r.headers["cache-control"], "no-cache");
    const csp = String(r.headers["content-security-policy"]);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, "no inline or remote script");
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
  });

  test("hashed assets are immutable for a year, with an ETag (304) and gzip when asked", async () => {
    const r = await get(s.base, "/app/assets/index-AbC12_-x.js");
    assert.equal(r.status, 200);
    assert.equal(r.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.match(String(r.headers["content-type"]), /^text\/javascript/);
    assert.equal(r.body.toString(), SCRIPT);
    assert.equal(r.headers["content-encoding"], undefined);
    const etag = String(r.headers.etag);
    assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
    const again = await get(s.base, "/app/assets/index-AbC12_-x.js", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const gz = await get(s.base, "/app/assets/index-AbC12_-x.js", { "accept-encoding": "gzip, br" });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.ok(gz.body.length < SCRIPT.length / 10);
    assert.equal(gunzipSync(gz.body).toString(), SCRIPT);
    assert.match(String(gz.headers.vary), /Accept-Encoding/);
    const svg = await get(s.base, "/app/assets/logo-Zz9Yy8Xx.svg");
    assert.equal(svg.headers["content-type"], "image/svg+xml");
  });

  test("client routes get the app; missing assets and path tricks are 404", async () => {
    const route = await get(s.base, "/app/chat/3:8");
    assert.equal(route.status, 200);
    assert.equal(route.body.toString(), INDEX);
    assert.equal(route.headers["cache-control"], "no-cache");
    for (const p of [
      "/app/assets/nope-AbC12_-x.js",
      "/app/favicon.png",
      "/app/..%2f..%2fpackage.json",
      "/app/%2e%2e/x.js",
    ]) {
      const r = await get(s.base, p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body.toString(), /"name":\s*"parley"/, p);
    }
    const head = await get(s.base, "/app/assets/index-AbC12_-x.js", {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(head.body.length, 0);
  });

  test("CORS stays closed by default: no Access-Control-* header for another origin", async () => {
    const r = await fetch(`${s.base}/user/isreg`, {
      method: "POST",
      headers: { origin: "http://evil.test", "content-type": "application/json" },
      body: JSON.stringify({ mobile: "13900000000" }),
    });
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    const pre = await fetch(`${s.base}/user/isreg`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.test", "access-control-request-method": "POST" },
    });
    assert.equal(pre.headers.get("access-control-allow-origin"), null);
  });
});

describe("web client serving: not built, disabled, CORS configured", () => {
  test("without a build /app/ answers 503 with the command that builds it, and picks the build up later", async () => {
    const built = await expectUnbuiltThenBuilt("web.dir", "/app/", INDEX);
    assert.equal(built.status, 200);
    assert.equal(built.body.toString(), INDEX);
  });

  test("web.enabled=false serves nothing at / and /app/", async () => {
    const s = await startServer({ "web.enabled": false });
    try {
      assert.equal((await get(s.base, "/")).status, 404);
      assert.equal((await get(s.base, "/app/")).status, 404);
    } finally {
      await s.close();
    }
  });

  test("http.corsOrigins opens the API to a client served elsewhere, with credentials", async () => {
    const s = await startServer({ "http.corsOrigins": ["http://client.test:5173"] });
    try {
      const pre = await fetch(`${s.base}/user/pwdLogin`, {
        method: "OPTIONS",
        headers: {
          origin: "http://client.test:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": "fzm-device, fzm-auth-token, content-type",
        },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), "http://client.test:5173");
      assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    } finally {
      await s.close();
    }
  });
});
