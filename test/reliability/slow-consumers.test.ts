import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { createBackend, type TestBackend } from "../helpers/backend.ts";
import { type ProcessServer, rssOf, spawnServer } from "../helpers/process-server.ts";
import { gatewayClient, type TestClient } from "../helpers/ws-client.ts";
import { record } from "./figures.ts";

/**
 * Slow consumers against a real server process: SLOW gateway clients open a WebSocket and then
 * never read while tens of thousands of 1 KiB frames are pushed to their group (far beyond the
 * kernel buffers and `ws.maxBufferedBytes`). Each is closed as a slow consumer — the server
 * counts it and, once the client finally reads, it finds the close frame with 1013
 * (TRY_AGAIN_LATER) after the frames that fit — the server's RSS stays bounded (sampled from
 * /proc all along), and the well-behaved clients in the same group get every push.
 */

const SLOW = 5;
const GOOD = 3;
const PUSHES = Number(process.env.PARLEY_SLOW_PUSHES ?? 20_000);
const PAYLOAD = 1024;
const MAX_BUFFERED = 1024 * 1024;

/** A WebSocket opened at the TCP level that then reads nothing. */
function neverReads(port: number, path: string): Promise<Socket> {
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
      if (head.includes("\r\n\r\n")) {
        sock.off("data", onData);
        sock.pause();
        sock.unshift(head.subarray(head.indexOf("\r\n\r\n") + 4));
        resolve(sock);
      }
    };
    sock.on("data", onData);
    sock.on("error", reject);
  });
}

/** Reads a paused raw WebSocket to its end: frames counted, the close code if a close frame came. */
function drain(sock: Socket): Promise<{ frames: number; closeCode: number; bytes: number }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let frames = 0;
    let bytes = 0;
    let closeCode = 0;
    sock.on("data", (d: Buffer) => {
      bytes += d.length;
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) break;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) break;
        if ((buf[0] & 0x0f) === 0x8 && len >= 2) closeCode = buf.readUInt16BE(off);
        else frames++;
        buf = buf.subarray(off + len);
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => resolve({ frames, closeCode, bytes }));
    sock.resume();
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
function push(port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/send_to_group",
        agent,
        headers: { "content-type": "application/json", systemid: "slow" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

describe("slow consumers", () => {
  let backend: TestBackend;
  let server: ProcessServer;
  before(async () => {
    backend = await createBackend();
    server = await spawnServer(backend, { "ws.maxBufferedBytes": MAX_BUFFERED, "gateway.groupNotices": false });
  });
  after(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  test("clients that never read are closed with 1013, memory stays bounded, the others get every push", async () => {
    await fetch(`${server.base}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ systemId: "slow" }),
    });
    const bind = (clientId: string) =>
      fetch(`${server.base}/api/bind_to_group`, {
        method: "POST",
        headers: { "content-type": "application/json", systemid: "slow" },
        body: JSON.stringify({ clientId, groupName: "g" }),
      });
    const good: TestClient[] = [];
    for (let i = 0; i < GOOD; i++) {
      const g = await gatewayClient(server.ws, "slow");
      await bind(g.clientId);
      good.push(g.c);
    }
    const slow: Socket[] = [];
    for (let i = 0; i < SLOW; i++) {
      const sock = await neverReads(server.port, "/ws?systemId=slow");
      // the first frame (its clientId) is read with a throwaway parser, then the socket is paused for good
      const first = await new Promise<Buffer>((r) => {
        sock.once("data", r);
        sock.resume();
      });
      sock.pause();
      const text = first.toString("utf8", 2, 2 + first[1]);
      await bind((JSON.parse(text) as { data: { clientId: string } }).data.clientId);
      slow.push(sock);
    }
    // the good clients count pushes and their latency
    const latencies: number[] = [];
    const received = good.map(() => 0);
    for (const [i, c] of good.entries()) {
      c.ws.on("message", (m) => {
        const f = JSON.parse(m.toString()) as { code: number; data?: { t?: number } };
        if (typeof f.data?.t === "number") {
          received[i]++;
          if (i === 0) latencies.push(Date.now() - f.data.t);
        }
      });
    }

    const rssBefore = await rssOf(server.child.pid ?? 0);
    let rssPeak = rssBefore;
    const sampler = setInterval(async () => {
      rssPeak = Math.max(rssPeak, await rssOf(server.child.pid ?? 0));
    }, 100);
    // once the server has closed them all, the slow clients read at last (within the 2 s the
    // server gives a closing peer): what fitted in the buffers, then the close frame
    const slowCount = async () => {
      const metrics = await (await fetch(`${server.base}/metrics`)).text();
      return Number(/parley_ws_slow_consumers_total\{surface="gateway"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    let pushing = true;
    const drained = (async () => {
      while (pushing && (await slowCount()) < SLOW) await new Promise((r) => setTimeout(r, 100));
      return Promise.all(slow.map(drain));
    })();
    const pad = "p".repeat(PAYLOAD);
    let next = 0;
    let failed = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= PUSHES) return;
          const status = await push(
            server.port,
            JSON.stringify({ sendUserId: "u", groupName: "g", code: i, msg: "m", data: { t: Date.now(), pad } }),
          );
          if (status !== 200) failed++;
        }
      }),
    );
    const pushMs = Date.now() - started;
    pushing = false;
    const end = Date.now() + 120_000;
    while (received.some((n) => n < PUSHES) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, await rssOf(server.child.pid ?? 0));

    const slowClosed = await slowCount();
    const drainedAll = await drained;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
    record("slow consumers", {
      slowClients: SLOW,
      goodClients: GOOD,
      framesPushed: PUSHES,
      frameBytes: PAYLOAD,
      bytesOfferedToEachSlowClient: PUSHES * (PAYLOAD + 60),
      slowConsumersClosed: slowClosed,
      slowClientsSaw1013: drainedAll.filter((d) => d.closeCode === 1013).length,
      slowClientFramesReceivedMax: Math.max(...drainedAll.map((d) => d.frames)),
      goodClientsReceived: received,
      pushFailures: failed,
      pushSeconds: Math.round(pushMs / 100) / 10,
      goodLatencyMsP50: q(0.5),
      goodLatencyMsP99: q(0.99),
      serverRssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      serverRssPeakMiB: Math.round(rssPeak / 2 ** 20),
    });
    assert.equal(failed, 0);
    assert.deepEqual(
      received,
      good.map(() => PUSHES),
      "every well-behaved client got every push",
    );
    assert.equal(slowClosed, SLOW, "every client that never read was closed as a slow consumer");
    assert.ok(
      drainedAll.some((d) => d.closeCode === 1013),
      "the close frame says 1013 (TRY_AGAIN_LATER)",
    );
    for (const d of drainedAll) {
      assert.ok(d.closeCode === 1013 || d.closeCode === 0, `closed with ${d.closeCode}`);
      assert.ok(d.frames < PUSHES, "the slow client was cut off before the end");
    }
    // bounded: the send buffers (≤ maxBufferedBytes each) plus the node's own working set, not the
    // PUSHES × PAYLOAD bytes offered to each slow client
    assert.ok(
      rssPeak - rssBefore < 150 * 2 ** 20,
      `RSS grew by ${Math.round((rssPeak - rssBefore) / 2 ** 20)} MiB (${Math.round((PUSHES * PAYLOAD * SLOW) / 2 ** 20)} MiB were offered to the slow clients)`,
    );
    for (const c of good) c.close();
  });
});
