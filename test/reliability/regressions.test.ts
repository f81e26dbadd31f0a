import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createBackend, type TestBackend } from "../helpers/backend.ts";
import type { TestServer } from "../helpers/server.ts";
import { startNode } from "./world.ts";

/**
 * Regressions for what the reliability fuzzers found, on this run's storage (the PostgreSQL run
 * is the one that failed): each was an answer ≥ 500.
 */
describe("reliability regressions", () => {
  let backend: TestBackend;
  let s: TestServer;
  before(async () => {
    backend = await createBackend();
    s = await startNode({}, { backend });
  });
  after(async () => {
    await s?.close();
    await backend?.cleanup();
  });
  const admin = (path: string, body?: unknown) =>
    fetch(`${s.base}/admin/api${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: "Bearer test-admin-token",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("admin API: a NUL in stored or searched text is a 400, not a 500 (PostgreSQL text cannot hold it)", async () => {
    const dict = await admin("/org/dict", { type: "sex", code: "\u0000", text: "x" });
    assert.equal(dict.status, 400, await dict.text());
    assert.equal((await admin("/org/dict", { type: "sex", code: "9", text: "a\u0000b" })).status, 400);
    assert.equal((await admin("/org/companies", { text: "co\u0000" })).status, 400);
    assert.equal((await admin(`/users?query=${encodeURIComponent("a\u0000")}`)).status, 400);
    assert.equal((await admin(`/sms/outbox?mobile=${encodeURIComponent("\u0000")}`)).status, 400);
    // the same requests without the NUL still work
    assert.equal((await admin("/org/dict", { type: "sex", code: "9", text: "ok" })).status, 200);
    assert.equal((await admin(`/users?query=a`)).status, 200);
  });

  test("every surface: a NUL reaching PostgreSQL text is the surface's bad-input answer, not a 500", async () => {
    const answers: Array<[string, number, unknown]> = [];
    const call = async (what: string, url: string, init: RequestInit) => {
      const r = await fetch(`${s.base}${url}`, init);
      answers.push([what, r.status, await r.json().catch(() => null)]);
    };
    const json = (body: unknown, headers: Record<string, string> = {}) => ({
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    await call(
      "chat33 pwdLogin",
      "/user/pwdLogin",
      json({ mobile: "a\u0000", password: "secret-pass-1" }, { "FZM-DEVICE": "iOS" }),
    );
    await call("enterprise login", `/auth/login?account=a%00&password=secret-pass-1&platform=pc&device=pc`, {
      method: "POST",
    });
    await call("enterprise scan_login_url", "/auth/scan_login_url?platform=a%00&device=pc", { method: "GET" });
    await call("gateway register", "/api/register", json({ systemId: "a\u0000" }));
    for (const [what, status, body] of answers) {
      assert.ok(status < 500, `${what}: ${status} ${JSON.stringify(body)}`);
      assert.notEqual((body as { result?: number } | null)?.result, -9000, what);
    }
  });
});
