import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import type { ParleyClient } from "../web/sdk/client.ts";
import type { ServerFrame } from "../web/sdk/types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { befriend, registeredClient, startClient, until } from "./helpers/web-users.ts";

/**
 * 1:1 read state (Parley extension, docs/chat33.md "Read state"): `/chat33/readState` answers
 * both read cursors of a friend conversation; moving one (`/chat33/markRead` type 2) sends event
 * 61 to both users' sockets opened with `/ws?readEvents=1` — never to a plain `/ws` (the seed has
 * no read event) nor to the later dialect's `/ws/`.
 */
describe("chat33 — 1:1 read state (/chat33/readState, event 61)", () => {
  let s: TestServer;
  const clients: ParleyClient[] = [];

  before(async () => {
    s = await startServer();
  });
  after(async () => {
    for (const c of clients) c.stop();
    await s?.close();
  });

  test("the reader's cursor reaches the sender as event 61 and in /chat33/readState", async () => {
    const a = await registeredClient(s, "A");
    const b = await registeredClient(s, "B");
    clients.push(a.client, b.client);
    await befriend(a.client, b.client);
    // the web client's sockets ask for event 61 (`?readEvents=1`)
    a.client.opts.readEvents = true;
    b.client.opts.readEvents = true;
    await startClient(s, a.client);
    await startClient(s, b.client);
    const framesA: ServerFrame[] = [];
    const framesB: ServerFrame[] = [];
    a.client.socket?.on("frame", (f) => framesA.push(f));
    b.client.socket?.on("frame", (f) => framesB.push(f));
    // a later-dialect socket of A (as 33cn/chat33-pc opens it): must not hear event 61
    const later = new WebSocket(`${s.base.replace("http", "ws")}/ws/`, {
      headers: { "FZM-DEVICE": "PC", "FZM-AUTH-TOKEN": a.client.api.token ?? "" },
    });
    const laterFrames: Array<{ eventType: number }> = [];
    later.on("message", (d) => laterFrames.push(JSON.parse(String(d))));
    await new Promise((r) => later.once("open", r));
    // and a plain seed `/ws` socket of A
    const plain = new WebSocket(`${s.base.replace("http", "ws")}/ws`, {
      headers: { "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": a.client.api.token ?? "" },
    });
    const plainFrames: Array<{ eventType: number }> = [];
    plain.on("message", (d) => plainFrames.push(JSON.parse(String(d))));
    await new Promise((r) => plain.once("open", r));
    await socketsReady(s.app);

    const before0 = await a.client.api.call<{ readSeq: number; peerReadSeq: number }>("/chat33/readState", {
      id: b.me.id,
    });
    // the friendship notice ("你们已经成为好友了") is the conversation's first message, read by both
    assert.deepEqual(before0, { readSeq: 1, peerReadSeq: 1 });

    const m1 = await a.client.sendText(`3:${b.me.id}`, "one");
    const m2 = await a.client.sendText(`3:${b.me.id}`, "two");
    const st = await a.client.api.call<{ readSeq: number; peerReadSeq: number }>("/chat33/readState", {
      id: b.me.id,
    });
    assert.equal(st.peerReadSeq, 1, "B has read none of them yet");

    await b.client.api.markRead(2, a.me.id, m1.logId);
    await until(() => framesA.some((f) => f.eventType === 61), "event 61 at A");
    const f61 = framesA.find((f) => f.eventType === 61) as unknown as Record<string, unknown>;
    assert.equal(f61.channelType, 3);
    assert.equal(f61.fromId, b.me.id, "the reader");
    assert.equal(f61.targetId, a.me.id);
    assert.equal(f61.logId, m1.logId);
    assert.equal(f61.seq, m1.seq);
    // the reader's own sockets hear it too (another device of B learns the cursor moved)
    await until(() => framesB.some((f) => f.eventType === 61), "event 61 at B");

    const mid = await a.client.api.call<{ readSeq: number; peerReadSeq: number }>("/chat33/readState", {
      id: b.me.id,
    });
    assert.equal(mid.peerReadSeq, m1.seq);
    assert.ok(mid.peerReadSeq < m2.seq, "the second message is not read yet");
    const fromB = await b.client.api.call<{ readSeq: number; peerReadSeq: number }>("/chat33/readState", {
      id: a.me.id,
    });
    assert.equal(fromB.readSeq, m1.seq, "B's own cursor");

    await b.client.api.markRead(2, a.me.id);
    await until(async () => {
      const r = await a.client.api.call<{ peerReadSeq: number }>("/chat33/readState", { id: b.me.id });
      return r.peerReadSeq === m2.seq;
    }, "all read");
    await until(() => framesA.filter((f) => f.eventType === 61).length >= 2, "second event 61");
    assert.equal(
      laterFrames.filter((f) => f.eventType === 61).length,
      0,
      "the later dialect's socket gets no event 61",
    );
    assert.equal(plainFrames.filter((f) => f.eventType === 61).length, 0, "nor a plain /ws socket");
    later.close();
    plain.close();
  });

  test("errors: yourself -2021, unknown user -2001, bad id -1001", async () => {
    const a = await registeredClient(s, "C");
    clients.push(a.client);
    const call = (id: unknown) =>
      a.client.api.call("/chat33/readState", { id }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? -1,
      );
    assert.equal(await call(a.me.id), -2021);
    assert.equal(await call("999999999"), -2001);
    assert.equal(await call({}), -1001);
  });
});
