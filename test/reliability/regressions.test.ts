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
});
