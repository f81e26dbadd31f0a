import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { gatewayClient } from "./helpers/ws-client.ts";

/** Opens a WebSocket at the TCP level and then never reads (a client that cannot keep up). */
function rawUpgrade(port: number, path: string): Promise<import("node:net").Socket & { rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end >= 0) {
        sock.off("data", onData);
        sock.pause();
        resolve(Object.assign(sock, { rest: head.subarray(end + 4) }));
      }
    };
    sock.on("data", onData);
    sock.on("error", reject);
  });
}

const portOf = (s: TestServer) => Number(new URL(s.base).port);

describe("realtime layer", () => {
  test("a client that never reads is closed as a slow consumer; memory stays bounded; others unaffected", async () => {
    const maxBuffered = 64 * 1024;
    const s = await startServer({ "ws.maxBufferedBytes": maxBuffered });
    try {
      await post(`${s.base}/api/register`, { systemId: "sys" });
      const good = await gatewayClient(s.ws, "sys");
      const bad = await rawUpgrade(portOf(s), "/ws?systemId=sys");
      let first = bad.rest;
      while (first.length < 2 || first.length < 2 + first[1]) {
        bad.resume();
        first = Buffer.concat([first, await new Promise<Buffer>((r) => bad.once("data", r))]);
        bad.pause();
      }
      const firstFrame = first.toString("utf8", 2, 2 + first[1]);
      const badId = (JSON.parse(firstFrame) as { data: { clientId: string } }).data.clientId;
      for (const x of [good.clientId, badId]) {
        await post(`${s.base}/api/bind_to_group`, { clientId: x, groupName: "g" }, { SystemId: "sys" });
      }
      // drain the good client's two 1001 notices
      await good.c.next();
      await good.c.next();

      const payload = "p".repeat(32 * 1024);
      const pushes = 400; // 12.8 MiB in all: far beyond kernel buffers and the 64 KiB budget
      let received = 0;
      const done = new Promise<void>((resolve) => {
        // Count the pushes only: when the slow client is cut off, the group also gets its 1002
        // "客户端下线" notice, which may arrive before the last push.
        good.c.ws.on("message", (m) => {
          if ((JSON.parse(m.toString()) as { msg: string }).msg === "m" && ++received === pushes) resolve();
        });
      });
      let maxSeen = 0;
      for (let i = 0; i < pushes; i++) {
        const r = await post(
          `${s.base}/api/send_to_group`,
          { sendUserId: "u", groupName: "g", code: i, msg: "m", data: payload },
          { SystemId: "sys" },
        );
        assert.equal(r.body.code, 0);
        for (const conn of s.app.realtime.connections.values()) maxSeen = Math.max(maxSeen, conn.socket.writableLength);
      }
      await done;
      assert.equal(received, pushes, "the well-behaved client got every push");
      assert.ok(maxSeen <= maxBuffered + 64, `send buffer bounded: saw ${maxSeen} bytes`);
      assert.equal(s.app.realtime.stats.slowConsumers.get("gateway"), 1);
      // the slow client is out of the registry (cut off at the latest 2 s after the close frame)
      await sleep(2200);
      assert.equal(s.app.realtime.connections.size, 1);
      const metrics = await (await fetch(`${s.base}/metrics`)).text();
      assert.match(metrics, /parley_ws_slow_consumers_total\{surface="gateway"\} 1/);
      bad.destroy();
      good.c.close();
    } finally {
      await s.close();
    }
  });

  test("a peer that never answers pings is closed after the idle timeout; a live one stays", async () => {
    const s = await startServer({ "ws.pingIntervalMs": 100, "ws.idleTimeoutMs": 400 });
    try {
      await post(`${s.base}/api/register`, { systemId: "sys" });
      const live = await gatewayClient(s.ws, "sys"); // the ws client answers pings
      const dead = await rawUpgrade(portOf(s), "/ws?systemId=sys");
      dead.resume(); // reads, but never answers a ping
      const closed = new Promise<number>((resolve) => {
        let buf = Buffer.alloc(0);
        dead.on("data", (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          // find a close frame (opcode 0x8) and read its status code
          for (let i = 0; i + 3 < buf.length; i++) {
            if (buf[i] === 0x88) {
              resolve(buf.readUInt16BE(i + 2));
              return;
            }
          }
        });
      });
      assert.equal(await closed, 4002);
      await sleep(300);
      assert.equal(live.c.ws.readyState, live.c.ws.OPEN, "a client that answers pings is kept");
      live.c.close();
      dead.destroy();
    } finally {
      await s.close();
    }
  });

  test("frames written in one event-loop turn are coalesced and arrive intact and in order", async () => {
    const s = await startServer();
    try {
      await post(`${s.base}/api/register`, { systemId: "sys" });
      const { c } = await gatewayClient(s.ws, "sys");
      const conn = [...s.app.realtime.connections.values()][0];
      const sizes = [0, 1, 125, 126, 127, 65535, 65536, 70000];
      const texts = sizes.map((n, i) => JSON.stringify({ i, pad: "é".repeat(Math.floor(n / 2)) }));
      for (const t of texts) s.app.realtime.sendText(conn, t); // same turn: first direct, rest corked
      for (let i = 0; i < 1000; i++) s.app.realtime.sendText(conn, JSON.stringify({ seq: i }));
      for (const t of texts) assert.deepEqual(await c.next(), JSON.parse(t));
      for (let i = 0; i < 1000; i++) assert.deepEqual(await c.next(), { seq: i });
      c.close();
    } finally {
      await s.close();
    }
  });

  test("holdWrites corks even the first write of a burst and flushes once the microtasks drained", async () => {
    const s = await startServer();
    try {
      await post(`${s.base}/api/register`, { systemId: "sys" });
      const { c } = await gatewayClient(s.ws, "sys");
      const conn = [...s.app.realtime.connections.values()][0];
      const socket = (conn as unknown as { socket: import("node:net").Socket }).socket;
      s.app.realtime.holdWrites();
      s.app.realtime.sendText(conn, JSON.stringify({ n: 0 }));
      assert.equal(socket.writableCorked, 1, "the first write of the burst waits");
      // continuations of the burst (as after a group commit) still join it
      await Promise.resolve();
      s.app.realtime.sendText(conn, JSON.stringify({ n: 1 }));
      assert.equal(socket.writableCorked, 1);
      await new Promise<void>((r) => process.nextTick(r));
      assert.equal(socket.writableCorked, 0, "flushed once the microtasks drained, not on the next loop turn");
      assert.deepEqual(await c.next(), { n: 0 });
      assert.deepEqual(await c.next(), { n: 1 });
      // outside a hold the first write of a turn goes out directly
      s.app.realtime.sendText(conn, JSON.stringify({ n: 2 }));
      assert.equal(socket.writableCorked, 0);
      assert.deepEqual(await c.next(), { n: 2 });
      c.close();
    } finally {
      await s.close();
    }
  });

  test("shutdown closes sockets with 1001 (reconnectable) and readiness turns false first", async () => {
    const s = await startServer();
    await post(`${s.base}/api/register`, { systemId: "sys" });
    const a = await gatewayClient(s.ws, "sys");
    const b = await gatewayClient(s.ws, "sys");
    assert.equal((await fetch(`${s.base}/readyz`)).status, 200);
    const closing = s.close();
    assert.equal((await a.c.closed).code, 1001);
    assert.equal((await b.c.closed).code, 1001);
    await closing;
  });
});
