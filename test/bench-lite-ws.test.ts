// The load generators' small WebSocket client (bench/lib/lite-ws.ts) against the `ws` server:
// handshake, every payload-length encoding, many frames per read and frames split across reads,
// fragmented messages, ping/pong, masked client frames, the server's close and a refused upgrade.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { type WebSocket, WebSocketServer } from "ws";
import { LiteWs } from "../bench/lib/lite-ws.ts";

let server: http.Server;
let wss: WebSocketServer;
let port: number;
let nextServerSide: ((ws: WebSocket) => void) | null = null;

before(async () => {
  server = http.createServer();
  wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    if (req.headers["x-refuse"]) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      (ws as WebSocket & { reqHeaders?: http.IncomingHttpHeaders }).reqHeaders = req.headers;
      nextServerSide?.(ws);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => server.close(() => r()));
});

type Opened = { client: LiteWs; peer: WebSocket; got: Buffer[]; closed: Promise<string> };

async function open(headers?: Record<string, string>, protocol?: string): Promise<Opened> {
  const peer = new Promise<WebSocket>((r) => {
    nextServerSide = r;
  });
  const got: Buffer[] = [];
  let onClose: (why: string) => void = () => {};
  const closed = new Promise<string>((r) => {
    onClose = r;
  });
  let opened: () => void = () => {};
  const isOpen = new Promise<void>((r) => {
    opened = r;
  });
  const client = new LiteWs({
    port,
    path: "/x",
    headers,
    protocol,
    onOpen: () => opened(),
    onMessage: (buf, start, end) => got.push(Buffer.from(buf.subarray(start, end))),
    onClose: (why) => onClose(why),
  });
  await isOpen;
  return { client, peer: await peer, got, closed };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

test("handshake carries the extra headers; every length encoding and many frames per read arrive intact", async () => {
  const o = await open({ "FZM-UUID": "guest-1" });
  assert.equal((o.peer as WebSocket & { reqHeaders?: http.IncomingHttpHeaders }).reqHeaders?.["fzm-uuid"], "guest-1");
  const sizes = [0, 1, 125, 126, 300, 65535, 65536, 200_000];
  const sent = sizes.map((n, i) => Buffer.alloc(n, 97 + (i % 26)));
  for (const b of sent) o.peer.send(b.toString(), { binary: false });
  // 2 000 small frames in a burst: several per read, some split across reads
  const burst = Array.from({ length: 2000 }, (_, i) => `pbm|${i}|${"p".repeat(i % 300)}`);
  for (const s of burst) o.peer.send(s);
  await until(() => o.got.length === sent.length + burst.length, "every frame arrived");
  for (let i = 0; i < sent.length; i++) assert.ok(o.got[i].equals(sent[i]), `frame of ${sizes[i]} bytes`);
  for (let i = 0; i < burst.length; i++) assert.equal(o.got[sent.length + i].toString(), burst[i]);
  o.client.terminate();
});

test("fragmented messages are reassembled; pings are answered; client frames are masked and readable", async () => {
  const o = await open(undefined, "xmpp");
  assert.equal(o.peer.protocol, "xmpp");
  o.peer.send("hel", { fin: false });
  o.peer.send("lo ", { fin: false });
  o.peer.send("world", { fin: true });
  await until(() => o.got.length === 1, "the fragmented message arrived");
  assert.equal(o.got[0].toString(), "hello world");
  const pong = new Promise<Buffer>((r) => o.peer.once("pong", r));
  o.peer.ping(Buffer.from("are-you-there"));
  assert.equal((await pong).toString(), "are-you-there");
  const heard = new Promise<string>((r) => o.peer.once("message", (d: Buffer) => r(d.toString())));
  const text = `{"say":"${"x".repeat(70_000)}"}`;
  o.client.send(text);
  assert.equal(await heard, text);
  o.client.terminate();
});

test("the server's close is answered and reported; a refused upgrade is reported as a close", async () => {
  const o = await open();
  const code = new Promise<number>((r) => o.peer.once("close", (c: number) => r(c)));
  o.peer.close(4001, "bye");
  assert.equal(await o.closed, "closed by the server");
  assert.equal(await code, 4001);
  assert.equal(o.client.isOpen, false);

  const refused = await new Promise<string>((r) => {
    new LiteWs({ port, path: "/x", headers: { "X-Refuse": "1" }, onMessage: () => {}, onClose: r });
  });
  assert.match(refused, /handshake refused: HTTP\/1.1 403/);
});
