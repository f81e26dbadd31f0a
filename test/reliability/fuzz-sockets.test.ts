import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import WebSocket from "ws";
import { createBackend, type TestBackend } from "../helpers/backend.ts";
import { type ProcessServer, spawnServer, uncausedErrors } from "../helpers/process-server.ts";
import { record } from "./figures.ts";
import { makeWorld, type World } from "./world.ts";

/**
 * Every socket protocol fuzzed against a real server process: chat33 /ws and /ws/ (signed in and
 * guest), the enterprise /socket, the gateway /ws, the 003 /im/ws and its TCP listener (before
 * and after `online`). Each gets mutated valid frames, random JSON (fast-check), non-JSON text,
 * binary and invalid-UTF-8 frames, deep nesting, an oversized frame and a flood. Passes when no
 * socket is closed with 1011 or answered with the surface's internal-error code, the server never
 * exits and still accepts a new connection, and no error-level line lacks its cause.
 */

const MAX_FRAME = 65536;
const WRONG: unknown[] = [
  null,
  "",
  "x",
  -1,
  0,
  1.5,
  2 ** 64,
  true,
  [],
  {},
  [1, [2]],
  { a: { b: {} } },
  "😀".repeat(500),
];
const INTERNAL = /"(result|code)":(-9000|10001|500)\b/;

interface Outcome {
  frames: number;
  internal: string[];
  closeCode: number;
}

/** A protocol under fuzz: how to open one connection, and its valid frames to mutate. */
interface Target {
  name: string;
  open(): Promise<Conn>;
  valid: Array<Record<string, unknown>>;
}

interface Conn {
  send(data: string | Buffer, opts?: { binary?: boolean }): void;
  /** Bytes of one frame as the transport carries it, unchecked (TCP: any declared length). */
  sendRaw?(b: Buffer): void;
  outcome(): Outcome;
  closed: Promise<void>;
  close(): void;
}

function wsConn(url: string, headers: Record<string, string> = {}): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, maxPayload: 64 * 1024 * 1024 });
    const o: Outcome = { frames: 0, internal: [], closeCode: 0 };
    ws.on("message", (d) => {
      o.frames++;
      const t = d.toString();
      if (INTERNAL.test(t) && o.internal.length < 5) o.internal.push(t.slice(0, 300));
    });
    ws.on("error", () => {});
    const closed = new Promise<void>((r) =>
      ws.once("close", (code) => {
        o.closeCode = code;
        r();
      }),
    );
    ws.once("unexpected-response", (_q, res) => reject(new Error(`${url}: HTTP ${res.statusCode}`)));
    ws.once("open", () =>
      resolve({
        send: (data, opts) => {
          if (ws.readyState === ws.OPEN) ws.send(data, { binary: opts?.binary ?? false });
        },
        outcome: () => o,
        closed,
        close: () => ws.terminate(),
      }),
    );
  });
}

function tcpConn(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, "127.0.0.1");
    const o: Outcome = { frames: 0, internal: [], closeCode: 0 };
    let buf = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const t = buf.toString("utf8", 4, 4 + buf.readUInt32BE(0));
        buf = buf.subarray(4 + buf.readUInt32BE(0));
        o.frames++;
        const close = /^\{"close":(\d+)/.exec(t);
        if (close) o.closeCode = Number(close[1]);
        if (INTERNAL.test(t) && o.internal.length < 5) o.internal.push(t.slice(0, 300));
      }
    });
    sock.on("error", () => {});
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.once("error", reject);
    sock.once("connect", () => {
      const frame = (b: Buffer) => {
        const head = Buffer.allocUnsafe(4);
        head.writeUInt32BE(b.length, 0);
        return Buffer.concat([head, b]);
      };
      resolve({
        send: (data) => {
          if (!sock.destroyed) sock.write(frame(Buffer.isBuffer(data) ? data : Buffer.from(data)));
        },
        sendRaw: (b) => {
          if (!sock.destroyed) sock.write(b);
        },
        outcome: () => o,
        closed,
        close: () => sock.destroy(),
      });
    });
  });
}

/** The frames thrown at one connection (the last ones break the connection on purpose). */
function framesFor(t: Target, seed: number): Array<{ what: string; data: string | Buffer; binary?: boolean }> {
  const out: Array<{ what: string; data: string | Buffer; binary?: boolean }> = [];
  for (const v of t.valid) {
    out.push({ what: "valid", data: JSON.stringify(v) });
    for (const k of Object.keys(v)) {
      const { [k]: _, ...rest } = v;
      out.push({ what: `without ${k}`, data: JSON.stringify(rest) });
      for (const w of WRONG)
        out.push({ what: `${k}=${JSON.stringify(w).slice(0, 10)}`, data: JSON.stringify({ ...v, [k]: w }) });
      const inner = v[k];
      if (inner && typeof inner === "object")
        for (const ik of Object.keys(inner))
          for (const w of WRONG.slice(0, 6))
            out.push({ what: `${k}.${ik}`, data: JSON.stringify({ ...v, [k]: { ...(inner as object), [ik]: w } }) });
    }
    out.push({ what: "extra", data: `${JSON.stringify(v).slice(0, -1)},"__proto__":{"x":1},"extra":[1]}` });
  }
  for (const r of fc.sample(fc.jsonValue({ maxDepth: 4 }), { numRuns: 150, seed }))
    out.push({ what: "random", data: JSON.stringify(r) ?? "null" });
  for (const r of fc.sample(
    fc.dictionary(
      fc.constantFrom("eventType", "cmd", "seq", "data", "msgId", "msg", "targetId", "channelType", "type"),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    { numRuns: 150, seed: seed + 1 },
  ))
    out.push({ what: "random keys", data: JSON.stringify(r) });
  for (const text of ["", " ", "not json", "{", '{"a":', "[]", "null", "1", '"s"', "{}", "\u0000", '{"a":NaN}'])
    out.push({ what: `text ${JSON.stringify(text)}`, data: text });
  out.push({ what: "binary", data: Buffer.from([0, 1, 2, 0xff]), binary: true });
  out.push({ what: "binary JSON", data: Buffer.from(JSON.stringify(t.valid[0] ?? {})), binary: true });
  out.push({ what: "deep arrays", data: `${"[".repeat(10_000)}${"]".repeat(10_000)}` });
  out.push({ what: "deep objects", data: `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}` });
  out.push({
    what: "near the limit",
    data: JSON.stringify({ ...(t.valid[0] ?? {}), pad: "p".repeat(MAX_FRAME - 200) }),
  });
  return out;
}

describe("fuzzing every socket protocol", () => {
  let backend: TestBackend;
  let server: ProcessServer;
  let w: World;
  const figures: Record<string, unknown> = {};
  let framesSent = 0;

  before(async () => {
    backend = await createBackend();
    w = await makeWorld(backend);
    server = await spawnServer(backend, {}, { tcp: true });
  });
  after(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  /** register + iplist + online for alice over `kind` (the 003 handshake). */
  const imOnline = async (kind: "ws" | "tcp"): Promise<{ conn: Conn; online: Record<string, unknown> }> => {
    const auth = { authorization: `Bearer ${w.alice.chat33}` };
    const reg = (await (
      await fetch(`${server.base}/im/register?uid=${w.alice.user.id}&nation=86&city=10&town=3`, { headers: auth })
    ).json()) as { sid: number };
    const ip = (await (
      await fetch(
        `${server.base}/im/iplist?type=${kind === "tcp" ? 1 : 2}&uid=${w.alice.user.id}&sid=${reg.sid}&clientip=127.0.0.1`,
        { headers: auth },
      )
    ).json()) as { token: string };
    const conn = kind === "ws" ? await wsConn(`${server.ws}/im/ws`) : await tcpConn(server.tcpPort);
    const online = { uid: w.alice.user.id, sid: reg.sid, token: ip.token, app: "fuzz", version: "1.0", terminal: 1 };
    conn.send(JSON.stringify({ cmd: "online", seq: 1, data: online }));
    return { conn, online };
  };

  const targets = (): Target[] => {
    const c33 = { "FZM-AUTH-TOKEN": w.alice.chat33, "FZM-DEVICE": "iOS" };
    const chat33Frames = [
      {
        eventType: 0,
        msgId: "m1",
        channelType: 3,
        targetId: String(w.bob.user.id),
        msgType: 1,
        msg: { content: "hi" },
      },
      { eventType: 0, msgId: "m2", channelType: 2, targetId: String(w.groupId), msgType: 1, msg: { content: "hi" } },
      { eventType: 1, msgId: "j", roomId: String(w.roomId) },
      { eventType: 2, msgId: "l", roomId: String(w.roomId) },
    ];
    const imFrames = [
      { cmd: "ping", seq: 2, data: {} },
      { cmd: "room-join", seq: 3, data: { rid: 1 } },
      { cmd: "room-quit", seq: 4, data: { rid: 1 } },
      {
        cmd: "online",
        seq: 5,
        data: { uid: w.alice.user.id, sid: 1, token: "t", app: "a", version: "1", terminal: 1 },
      },
    ];
    return [
      { name: "chat33 /ws", open: () => wsConn(`${server.ws}/ws`, c33), valid: chat33Frames },
      { name: "chat33 /ws/", open: () => wsConn(`${server.ws}/ws/`, c33), valid: chat33Frames },
      { name: "chat33 guest", open: () => wsConn(`${server.ws}/ws?uuid=fuzz-guest&device=Web`), valid: chat33Frames },
      {
        name: "enterprise /socket",
        open: () => wsConn(`${server.ws}/socket?authorization=${encodeURIComponent(w.alice.enterprise)}&platform=pc`),
        valid: [{ code: 1000, msg: "x", data: {} }, { type: "ping" }],
      },
      {
        name: "gateway /ws",
        open: () => wsConn(`${server.ws}/ws?systemId=${w.systemId}`),
        valid: [{ code: 0, msg: "ping", data: {} }],
      },
      { name: "003 /im/ws before online", open: () => wsConn(`${server.ws}/im/ws`), valid: imFrames },
      { name: "003 /im/ws online", open: async () => (await imOnline("ws")).conn, valid: imFrames },
      { name: "003 TCP before online", open: () => tcpConn(server.tcpPort), valid: imFrames },
      { name: "003 TCP online", open: async () => (await imOnline("tcp")).conn, valid: imFrames },
    ];
  };

  /** Sends `frames` on fresh connections (a new one whenever the server closed the last). */
  const throwAt = async (t: Target, frames: ReturnType<typeof framesFor>) => {
    const outcomes: Outcome[] = [];
    let conn = await t.open();
    let gone = false;
    void conn.closed.then(() => {
      gone = true;
    });
    for (const f of frames) {
      if (gone) {
        outcomes.push(conn.outcome());
        conn = await t.open();
        gone = false;
        void conn.closed.then(() => {
          gone = true;
        });
      }
      conn.send(f.data, { binary: f.binary });
      framesSent++;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    outcomes.push(conn.outcome());
    conn.close();
    return outcomes;
  };

  test("bad, random and oversized frames and floods: no 1011, no internal-error answer, no crash", async () => {
    const all: Record<string, { connections: number; closeCodes: Record<number, number>; internal: string[] }> = {};
    let seed = 7;
    for (const t of targets()) {
      const outcomes = await throwAt(t, framesFor(t, seed++));
      // a frame over the limit: closed with 1009 (WebSocket) / the close frame (TCP)
      const big = await t.open();
      big.send(JSON.stringify({ pad: "p".repeat(MAX_FRAME + 10) }));
      framesSent++;
      await Promise.race([big.closed, new Promise((r) => setTimeout(r, 20_000))]);
      outcomes.push(big.outcome());
      big.close();
      // invalid UTF-8 in a text frame (WebSocket) / a declared length far over the limit (TCP)
      const bad = await t.open();
      if (bad.sendRaw) bad.sendRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
      else bad.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      framesSent++;
      await Promise.race([bad.closed, new Promise((r) => setTimeout(r, 20_000))]);
      outcomes.push(bad.outcome());
      bad.close();
      // a flood: 20 000 frames as fast as the socket takes them
      const flood = await t.open();
      const one = JSON.stringify(t.valid[0]);
      for (let i = 0; i < 20_000; i++) flood.send(one);
      framesSent += 20_000;
      await Promise.race([flood.closed, new Promise((r) => setTimeout(r, 3000))]);
      outcomes.push(flood.outcome());
      flood.close();

      const closeCodes: Record<number, number> = {};
      for (const o of outcomes) closeCodes[o.closeCode] = (closeCodes[o.closeCode] ?? 0) + 1;
      all[t.name] = { connections: outcomes.length, closeCodes, internal: outcomes.flatMap((o) => o.internal) };
      assert.ok(!closeCodes[1011], `${t.name}: closed with 1011 (internal error)`);
      assert.deepEqual(all[t.name].internal, [], `${t.name}: internal-error answers`);
      assert.equal(server.child.exitCode, null, `the server survived ${t.name}`);
      assert.ok((await fetch(`${server.base}/readyz`)).ok);
    }
    // the server still takes a fresh chat33 socket and answers on it
    const c = await wsConn(`${server.ws}/ws`, { "FZM-AUTH-TOKEN": w.bob.chat33, "FZM-DEVICE": "iOS" });
    c.close();
    const uncaused = uncausedErrors(server.logs);
    Object.assign(figures, {
      protocols: Object.keys(all).length,
      framesSent,
      connections: Object.values(all).reduce((a, x) => a + x.connections, 0),
      closeCodes: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.closeCodes])),
      internalErrors: Object.values(all).reduce((a, x) => a + x.internal.length, 0),
      errorLines: server.logs.filter((l) => l.level >= 50).length,
      errorLinesWithoutCause: uncaused.length,
      serverExited: server.child.exitCode !== null,
    });
    record("fuzz sockets", figures);
    assert.deepEqual(uncaused.slice(0, 5), [], "error-level lines without a cause");
  });
});
