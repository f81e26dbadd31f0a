import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Issue 8 item 6: a response after which the server closes the socket says `Connection: close`.
 * Raw TCP on 127.0.0.1, so nothing between the test and the server rewrites headers.
 */

/** Writes `request`, reads until the server closes; `reset` when it ended with an error. */
function exchange(port: number, request: string): Promise<{ text: string; reset: string | null }> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let reset: string | null = null;
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", (e: NodeJS.ErrnoException) => {
      reset = e.code ?? e.message;
    });
    sock.on("close", () => resolve({ text: Buffer.concat(chunks).toString("utf8"), reset }));
    sock.write(request);
    setTimeout(() => sock.destroy(), 5000).unref();
  });
}

function parse(text: string) {
  const [head, body] = text.split("\r\n\r\n", 2);
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

describe("Connection: close on responses after which the server closes", () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startServer();
    port = Number(new URL(s.base).port);
  });
  after(() => s.close());

  test("a 20 KB request line: 431 with a JSON body, Connection: close, and a clean close (no reset)", async () => {
    const { text, reset } = await exchange(
      port,
      `GET /healthz?q=${"a".repeat(20 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`,
    );
    const r = parse(text);
    assert.equal(r.status, 431, text.slice(0, 200));
    assert.equal(r.headers.get("connection"), "close");
    assert.equal(Number(r.headers.get("content-length")), Buffer.byteLength(r.body));
    assert.deepEqual(JSON.parse(r.body), {
      error: "Request Header Fields Too Large",
      message: "Exceeded maximum allowed HTTP header size",
      statusCode: 431,
    });
    assert.equal(reset, null);
  });

  test("a malformed request: 400 with Connection: close", async () => {
    const { text } = await exchange(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n");
    const r = parse(text);
    assert.equal(r.status, 400);
    assert.equal(r.headers.get("connection"), "close");
    assert.equal(JSON.parse(r.body).statusCode, 400);
  });

  test("a normal keep-alive request is not closed (two answers on one socket)", async () => {
    const one = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const sock = connect(port, "127.0.0.1");
    let text = "";
    sock.on("data", (c) => {
      text += c.toString();
    });
    sock.write(one + one);
    const deadline = Date.now() + 3000;
    while ((text.match(/HTTP\/1\.1 200/g) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal((text.match(/HTTP\/1\.1 200/g) ?? []).length, 2, text);
    assert.doesNotMatch(text, /connection: close/i);
    sock.destroy();
  });
});
