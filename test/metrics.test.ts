import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { seedDemo } from "../src/core/demo-seed.ts";
import { VERSION } from "../src/version.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/** The business metrics of docs/OPERATIONS.md, driven through the real surfaces. */
describe("business metrics on /metrics", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    await seedDemo(s.app);
  });
  after(() => s.close());

  const scrape = async () => (await fetch(`${s.base}/metrics`)).text();
  /** The value of one series, 0 when it is absent. */
  const value = (text: string, series: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);

  test("build info, logins, SMS, messages stored and delivered per surface and kind, storage, hub", async () => {
    const before = await scrape();
    assert.ok(
      before.includes(`parley_build_info{version="${VERSION}",node="${process.version}"} 1`),
      "parley_build_info gauge",
    );

    // logins: two ok (chat33 bob, enterprise alice), one failed
    const bob = (
      await post("/user/pwdLogin", { mobile: "13800000002", password: "parley-demo" }, { "FZM-DEVICE": "Web" })
    ).data as { token: string; id: string };
    const alice = (
      await fetch(`${s.base}/auth/login?account=alice&password=parley-demo`, { method: "POST" }).then(
        (r) => r.json() as Promise<{ data: unknown }>,
      )
    ).data as { authorization: string; user: { id: number } };
    const wrong = await post(
      "/user/pwdLogin",
      { mobile: "13800000003", password: "wrong-password" },
      { "FZM-DEVICE": "Web" },
    );
    assert.notEqual(wrong.result, 0);

    // SMS through the log provider
    assert.equal((await post("/send/sms", { mobile: "13900000001" })).result, 0);

    // bob listens on chat33; alice sends on the enterprise surface, twice with the same id
    const ws = new WebSocket(`${s.ws}/ws?token=${bob.token}`);
    await new Promise((r, j) => ws.once("open", r).once("error", j));
    const got = new Promise<string>((r) => ws.once("message", (m) => r(m.toString())));
    const msg = { id: "metrics-1", senderId: alice.user.id, receiverId: Number(bob.id), type: 1, content: "hi" };
    for (let i = 0; i < 2; i++)
      assert.equal((await post("/api/save_single_msg", msg, { authorization: alice.authorization })).code, 200);
    assert.match(await got, /"msgType":1/);
    ws.close();

    const t = await scrape();
    const delta = (series: string) => value(t, series) - value(before, series);
    assert.equal(delta('parley_logins_total{outcome="ok"}'), 2);
    assert.equal(delta('parley_logins_total{outcome="failed"}'), 1);
    assert.equal(delta('parley_sms_sent_total{provider="log",outcome="ok"}'), 1);
    assert.equal(
      delta('parley_messages_stored_total{surface="enterprise",kind="text"}'),
      1,
      "the retry is not counted",
    );
    assert.equal(delta('parley_messages_stored_total{surface="chat33",kind="text"}'), 0);
    assert.ok(delta('parley_messages_delivered_total{surface="chat33",kind="text"}') >= 1);
    assert.ok(delta('parley_storage_query_duration_seconds_count{op="select"}') > 0);
    assert.ok(value(t, 'parley_storage_errors_total{op="select"}') === 0);
    assert.ok(delta("parley_hub_published_total") >= 2, "the message went to both users' topics");
    assert.ok(delta("parley_hub_received_total") >= 1);
    assert.equal(value(t, 'parley_hub_errors_total{op="publish"}'), 0);
  });
});
