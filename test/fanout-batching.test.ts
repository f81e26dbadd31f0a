import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, mock, test } from "node:test";
import pino from "pino";
import { Connection } from "../src/realtime/connection.ts";
import { ADMIT_TIMEOUT_MS, FanOut, MAX_BATCH_EVENTS, MAX_PENDING_EVENTS } from "../src/realtime/fanout.ts";
import type { ProtocolHandler, RealtimeEvent, RealtimeStats } from "../src/realtime/protocol.ts";
import type { Transport } from "../src/realtime/transport.ts";
import type { Writer } from "../src/realtime/writer.ts";

/**
 * The fan-out pass on its own (src/realtime/fanout.ts), with a recording writer: what reaches
 * each connection, in which writes, and when hooks run. The real-socket version of the same
 * guarantees (gateway groups over WebSockets) is test/fanout-backpressure.test.ts.
 */

/** Frames are the event's `n` followed by a newline, so a concatenated write splits back into events. */
const transport: Transport = {
  name: "t",
  frame: (text) => Buffer.from(`${text}\n`),
  ping() {},
  close() {},
  terminate() {},
  stop() {},
};

type Log = Array<{ kind: "write"; conn: number; events: number[] } | { kind: "hook"; conn: number; event: number }>;

function setup(opts: {
  members: number;
  protocols: Record<string, ProtocolHandler>;
  memberProtocol?: (i: number) => string;
  coalesceMs?: number;
}) {
  const log: Log = [];
  const writer = {
    send(conn: Connection, frame: Buffer, _frames = 1): boolean {
      const events = frame
        .toString()
        .split("\n")
        .filter((s) => s !== "")
        .map(Number);
      log.push({ kind: "write", conn: conn.id, events });
      return true;
    },
  } as unknown as Writer;
  const protocols = new Map<string, ProtocolHandler>();
  for (const [name, h] of Object.entries(opts.protocols)) {
    const onEvent = h.onEvent;
    protocols.set(name, {
      ...h,
      ...(onEvent
        ? {
            onEvent(conn: Connection, e: RealtimeEvent) {
              log.push({ kind: "hook", conn: conn.id, event: Number(e.n) });
              onEvent(conn, e);
            },
          }
        : {}),
    });
  }
  const stats: RealtimeStats = {
    framesIn: new Map(),
    framesOut: new Map(),
    slowConsumers: new Map(),
    open: new Map(),
    messagesDelivered: new Map(),
  };
  const set = new Set<Connection>();
  for (let i = 0; i < opts.members; i++) {
    const c = new Connection(i, opts.memberProtocol?.(i) ?? "p", transport, null, new PassThrough(), Date.now());
    c.topics = new Set(["room"]);
    set.add(c);
  }
  const fanout = new FanOut(
    protocols,
    writer,
    pino({ level: "silent" }),
    stats,
    (t) => (t === "room" ? set : undefined),
    opts.coalesceMs ?? 0,
  );
  return { fanout, log, set };
}

const render = (e: RealtimeEvent) => String(e.n);
const ev = (n: number): RealtimeEvent => ({ type: n % 10 === 3 ? "special" : "msg", n });

/** Resolves once `fanout` has no pass running (each check one event-loop turn later). */
async function idle(fanout: FanOut): Promise<void> {
  while (fanout.activePasses > 0) await new Promise((r) => setImmediate(r));
}

/** The events each connection received, in order, from the write log. */
function received(log: Log): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const e of log)
    if (e.kind === "write") {
      const list = out.get(e.conn) ?? [];
      list.push(...e.events);
      out.set(e.conn, list);
    }
  return out;
}

describe("fan-out pass batching and hooks (recording writer)", () => {
  test("a protocol that hooks every event but has no connection in the topic does not cut its batches", async () => {
    const { fanout, log } = setup({
      members: 300,
      protocols: {
        p: { render },
        // like an access protocol without `hooksType`: wants every event, but nobody of it is in the room
        other: { render, onEvent() {} },
      },
    });
    const N = 200;
    for (let i = 0; i < N; i++) fanout.publish("room", ev(i));
    await idle(fanout);
    const got = received(log);
    assert.equal(got.size, 300);
    for (const list of got.values())
      assert.deepEqual(
        list,
        Array.from({ length: N }, (_, i) => i),
      );
    const writes = log.filter((e) => e.kind === "write" && e.conn === 0).length;
    // published in one burst: full batches from the first one on
    assert.equal(writes, Math.ceil(N / MAX_BATCH_EVENTS));
    assert.equal(
      log.some((e) => e.kind === "hook"),
      false,
    );
  });

  test("with such a connection in the topic, a batch ends at each event it hooks, and its hook runs before the next frame", async () => {
    const hooked = new Set<number>();
    const { fanout, log } = setup({
      members: 300,
      memberProtocol: (i) => (i === 150 ? "hooker" : "p"),
      protocols: {
        p: { render },
        hooker: { render, hooksType: (t) => t === "special", onEvent: (_c, e) => void hooked.add(Number(e.n)) },
      },
    });
    const N = 100;
    for (let i = 0; i < N; i++) fanout.publish("room", ev(i));
    await idle(fanout);
    const specials = Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 === 3);
    assert.deepEqual(
      [...hooked].sort((a, b) => a - b),
      specials,
    );
    for (const list of received(log).values())
      assert.deepEqual(
        list,
        Array.from({ length: N }, (_, i) => i),
      );
    // for the hooking connection: the hook of event k runs before any write that carries a later event
    let hookedUpTo = -1;
    for (const e of log) {
      if (e.conn !== 150) continue;
      if (e.kind === "hook") hookedUpTo = e.event;
      else
        for (const n of e.events) {
          const pendingSpecial = specials.find((s) => s < n && s > hookedUpTo);
          assert.equal(pendingSpecial, undefined, `event ${n} written before the hook of ${pendingSpecial} ran`);
        }
    }
    // and the others still get batches, not one write per event
    const writes = log.filter((e) => e.kind === "write" && e.conn === 0).length;
    assert.ok(writes < N / 2, `${writes} writes for ${N} events`);
  });
});

describe("fan-out coalescing of a busy topic (ws.fanoutCoalesceMs)", () => {
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };
  const writesOf = (log: Log, conn: number) =>
    log.flatMap((e) => (e.kind === "write" && e.conn === conn ? [e.events] : []));

  test("after a batch of several events, the pass waits and the events published meanwhile leave in one write", async () => {
    const { fanout, log } = setup({ members: 300, protocols: { p: { render } }, coalesceMs: 500 });
    fanout.publish("room", ev(0));
    fanout.publish("room", ev(1)); // one burst: the first batch carries 2 events, so the room is busy
    await turns(5);
    assert.deepEqual(writesOf(log, 0), [[0, 1]]);
    // published one by one while the pass waits: without the wait each would leave on its own
    fanout.publish("room", ev(2));
    await turns(5);
    fanout.publish("room", ev(3));
    await turns(5);
    fanout.publish("room", ev(4));
    assert.deepEqual(writesOf(log, 0), [[0, 1]], "nothing left during the wait");
    await idle(fanout);
    assert.deepEqual(writesOf(log, 0), [
      [0, 1],
      [2, 3, 4],
    ]);
    for (const list of received(log).values()) assert.deepEqual(list, [0, 1, 2, 3, 4]);
  });

  test("one event at a time (a quiet room) never waits", async () => {
    // a wait would take a minute: each event must still leave within a few turns
    const { fanout, log } = setup({ members: 300, protocols: { p: { render } }, coalesceMs: 60_000 });
    for (let n = 0; n < 5; n++) {
      fanout.publish("room", ev(n));
      await turns(6);
      assert.equal(fanout.activePasses, 0, `the pass of event ${n} ended`);
    }
    assert.deepEqual(writesOf(log, 0), [[0], [1], [2], [3], [4]]);
  });

  test("0 turns it off: the events that arrive after a busy batch leave one pass each", async () => {
    const { fanout, log } = setup({ members: 300, protocols: { p: { render } }, coalesceMs: 0 });
    fanout.publish("room", ev(0));
    fanout.publish("room", ev(1));
    await turns(5);
    fanout.publish("room", ev(2));
    await turns(5);
    fanout.publish("room", ev(3));
    await idle(fanout);
    assert.deepEqual(writesOf(log, 0), [[0, 1], [2], [3]]);
  });
});

describe("fan-out admission (backpressure)", () => {
  test("publishers wait in order while the queue is full, are let in as it drains, and nothing is dropped", async () => {
    const { fanout, log } = setup({ members: 300, protocols: { p: { render } } });
    fanout.setShardSizer(() => 100); // three turns per batch
    assert.equal(fanout.admit("room"), null, "no pass: room");
    fanout.publish("room", ev(0)); // starts the pass
    let n = 1;
    while (fanout.admit("room") === null) fanout.publish("room", ev(n++));
    assert.equal(fanout.pendingEvents, MAX_PENDING_EVENTS);
    // 100 more publishers arrive; each publishes once admitted
    const order: number[] = [];
    let maxPending = fanout.pendingEvents;
    const waits = Array.from({ length: 100 }, async (_, i) => {
      const w = fanout.admit("room");
      assert.ok(w, "the queue is full: wait");
      assert.equal(await w, true);
      order.push(i);
      fanout.publish("room", ev(n++));
      maxPending = Math.max(maxPending, fanout.pendingEvents);
    });
    await Promise.all(waits);
    assert.deepEqual(
      order,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.ok(maxPending <= MAX_PENDING_EVENTS, `queue reached ${maxPending}`);
    await idle(fanout);
    assert.equal(fanout.pendingEvents, 0);
    for (const list of received(log).values())
      assert.deepEqual(
        list,
        Array.from({ length: n }, (_, i) => i),
      );
  });

  test("a publisher still waiting after the timeout is told no, and the queue is unchanged", async () => {
    const { fanout, log } = setup({ members: 300, protocols: { p: { render } } });
    fanout.setShardSizer(() => 100);
    mock.timers.enable({ apis: ["setTimeout"] }); // setImmediate stays real: the pass runs normally
    try {
      fanout.publish("room", ev(0));
      let n = 1;
      while (fanout.admit("room") === null) fanout.publish("room", ev(n++));
      const w = fanout.admit("room", ADMIT_TIMEOUT_MS);
      assert.ok(w);
      mock.timers.tick(ADMIT_TIMEOUT_MS); // before the pass had a turn
      assert.equal(await w, false);
      await idle(fanout);
      for (const list of received(log).values())
        assert.deepEqual(
          list,
          Array.from({ length: n }, (_, i) => i),
        );
    } finally {
      mock.timers.reset();
    }
  });
});
