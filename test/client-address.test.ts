import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { ConfigError, loadConfig } from "../src/config/load.ts";
import { clientAddress, parseTrustProxy } from "../src/http/client-address.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/** Issue 10 item 1: the client address is the first untrusted hop, for HTTP and WebSocket alike. */

const fakeReq = (peer: string, xff?: string) =>
  ({
    socket: { remoteAddress: peer },
    headers: xff === undefined ? {} : { "x-forwarded-for": xff },
  }) as IncomingMessage;

describe("http.trustProxy parsing and the address rule", () => {
  test("empty/false/0 trust nobody: the TCP peer, whatever X-Forwarded-For says", () => {
    for (const spec of ["", "false", "0"]) {
      assert.equal(parseTrustProxy(spec), null);
      assert.equal(clientAddress(fakeReq("192.0.2.1", "203.0.113.9"), parseTrustProxy(spec)), "192.0.2.1");
    }
  });

  test("a hop count trusts that many nearest hops; invented left-most entries are never reached", () => {
    const one = parseTrustProxy("1");
    assert.equal(clientAddress(fakeReq("10.0.0.2", "203.0.113.9, 198.51.100.7"), one), "198.51.100.7");
    assert.equal(clientAddress(fakeReq("10.0.0.2"), one), "10.0.0.2");
    const two = parseTrustProxy("2");
    assert.equal(clientAddress(fakeReq("10.0.0.2", "203.0.113.9, 198.51.100.7, 10.0.0.3"), two), "198.51.100.7");
  });

  test("an address/CIDR list trusts those hops only", () => {
    const trust = parseTrustProxy("loopback, 10.0.0.0/8,2001:db8::/32");
    assert.equal(clientAddress(fakeReq("127.0.0.1", "1.1.1.1, 198.51.100.7, 10.1.2.3"), trust), "198.51.100.7");
    assert.equal(clientAddress(fakeReq("::ffff:127.0.0.1", "198.51.100.8"), trust), "198.51.100.8");
    assert.equal(clientAddress(fakeReq("2001:db8::5", "198.51.100.9"), trust), "198.51.100.9");
    // a peer that is not a trusted proxy is the client, whatever it forwards
    assert.equal(clientAddress(fakeReq("192.0.2.1", "198.51.100.7"), trust), "192.0.2.1");
    // all hops trusted: the farthest one
    assert.equal(clientAddress(fakeReq("127.0.0.1", "10.0.0.9"), trust), "10.0.0.9");
  });

  test("config: true is refused with a hint, nonsense is refused, a JSON false still means none", () => {
    const load = (v: unknown) => loadConfig({ env: {}, overrides: { "http.trustProxy": v } });
    assert.throws(
      () => load("true"),
      (e: unknown) => e instanceof ConfigError && /hop count|number of proxies/.test(e.message),
    );
    assert.throws(() => load(true), ConfigError);
    assert.throws(() => load("10.0.0.0/33"), ConfigError);
    assert.throws(() => load("proxy.example"), ConfigError);
    assert.equal(load(false).config.http.trustProxy, "false");
    assert.equal(load("1").config.http.trustProxy, "1");
    assert.equal(load("loopback,10.0.0.0/8").config.http.trustProxy, "loopback,10.0.0.0/8");
  });
});

const isreg = (s: TestServer, i: number, xff: string) =>
  post<{ result: number }>(
    `${s.base}/user/isreg`,
    { mobile: `1380000${String(i).padStart(4, "0")}` },
    { "X-Forwarded-For": xff },
  );

describe("rate limits key on the first untrusted hop — one trusted proxy (http.trustProxy=1)", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ "http.trustProxy": "1" });
  });
  after(() => s.close());

  test("32 /user/isreg calls with invented left-most X-Forwarded-For entries hit -1012", async () => {
    const results: number[] = [];
    for (let i = 0; i < 32; i++) results.push((await isreg(s, i, `203.0.113.${i}, 198.51.100.7`)).body.result);
    assert.deepEqual(results.slice(0, 30), Array(30).fill(0));
    assert.deepEqual(results.slice(30), [-1012, -1012]);
  });

  test("clients behind the proxy do not share one bucket", async () => {
    for (let i = 0; i < 32; i++) assert.equal((await isreg(s, i, `198.51.100.${100 + i}`)).body.result, 0);
  });

  test("login limits key on it too: a spoofed left-most entry does not escape the hard stop", async () => {
    await s.app.accounts.createUser({ username: "spoofed", password: "right-pass" });
    const limit = s.app.config.accounts.loginFailures;
    for (let i = 0; i <= limit; i++) {
      const r = await post(
        `${s.base}/auth/login`,
        { account: "spoofed", password: "wrong-pass" },
        { "X-Forwarded-For": `203.0.113.${i}, 198.51.100.50` },
      );
      assert.equal(r.status, i < limit ? 400 : 429);
    }
    // the same account from another real client is still served
    const other = await post(
      `${s.base}/auth/login`,
      { account: "spoofed", password: "right-pass" },
      { "X-Forwarded-For": "198.51.100.51" },
    );
    assert.equal(other.status, 200);
  });

  test("WebSocket upgrades derive the same address (they never reach Fastify's request)", async () => {
    const c = new TestClient(`${s.ws}/ws?systemId=addr-test`, {
      headers: { "X-Forwarded-For": "203.0.113.77, 198.51.100.60" },
    });
    await c.next();
    const conns = [...s.app.realtime.connections.values()];
    assert.deepEqual(
      conns.map((x) => x.address),
      ["198.51.100.60"],
    );
    c.close();
    await c.closed;
  });
});

describe("rate limits without a trusted proxy (the default)", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test("X-Forwarded-For is ignored: every call is the TCP peer's", async () => {
    const results: number[] = [];
    for (let i = 0; i < 31; i++) results.push((await isreg(s, i, `198.51.100.${i}`)).body.result);
    assert.equal(results[30], -1012);
    const c = new TestClient(`${s.ws}/ws?systemId=addr-test`, { headers: { "X-Forwarded-For": "198.51.100.60" } });
    await c.next();
    assert.deepEqual(
      [...s.app.realtime.connections.values()].map((x) => x.address),
      ["127.0.0.1"],
    );
    c.close();
    await c.closed;
  });
});
