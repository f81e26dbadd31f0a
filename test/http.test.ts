import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { gatewayClient } from "./helpers/ws-client.ts";

describe("operational endpoints", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test("/healthz and /readyz", async () => {
    const h = (await (await fetch(`${s.base}/healthz`)).json()) as { status: string; node: string };
    assert.equal(h.status, "ok");
    assert.match(h.node, /^[0-9a-f]{16}$/);
    const r = await fetch(`${s.base}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ready: true });
  });

  test("/metrics exposes connections, frames in/out and the HTTP latency histogram", async () => {
    await post(`${s.base}/api/register`, { systemId: "m" });
    const { c, clientId } = await gatewayClient(s.ws, "m");
    c.ws.send("hello");
    await post(
      `${s.base}/api/send_to_client`,
      { clientId, sendUserId: "u", code: 0, msg: "m", data: "x" },
      { SystemId: "m" },
    );
    await c.next();
    const text = await (await fetch(`${s.base}/metrics`)).text();
    assert.match(text, /parley_ws_connections\{surface="gateway"\} 1/);
    assert.match(text, /parley_ws_frames_out_total\{surface="gateway"\} 2/);
    assert.match(text, /parley_ws_frames_in_total\{surface="gateway"\} 1/);
    assert.match(
      text,
      /parley_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/api\/send_to_client",status="200"\}/,
    );
    assert.match(text, /parley_process_resident_memory_bytes/);
    c.close();
  });

  test("OpenAPI at /docs documents every gateway route", async () => {
    assert.equal((await fetch(`${s.base}/docs`)).status, 200);
    const spec = (await (await fetch(`${s.base}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(spec.openapi, /^3\./);
    for (const p of [
      "register",
      "send_to_client",
      "send_to_clients",
      "bind_to_group",
      "send_to_group",
      "get_online_list",
      "close_client",
    ])
      assert.ok(spec.paths[`/api/${p}`], p);
    for (const p of ["/healthz", "/readyz", "/metrics"]) assert.ok(spec.paths[p], p);
  });

  test("unknown routes are 404, not 500", async () => {
    assert.equal((await fetch(`${s.base}/nope`)).status, 404);
  });
});
