import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MemoryBus, MemoryHub } from "../src/adapters/hub/memory-hub.ts";
import { RedisHub } from "../src/adapters/hub/redis-hub.ts";
import { AppError, type Reason } from "../src/core/errors.ts";
import type { Hub, Json, Presence } from "../src/ports/hub.ts";
import { dropRedisPrefix, REDIS_URL } from "./helpers/backend.ts";

type TestHub = Hub & { presenceStore(): Presence };

/**
 * One contract suite for the hub port: the in-process hub always, the Redis hub when
 * PARLEY_REDIS_URL is set. Each case builds a three-node "cluster".
 */
const impls: Array<{
  name: string;
  cluster: (n: number) => Promise<{ hubs: TestHub[]; cleanup: () => Promise<void> }>;
}> = [
  {
    name: "memory",
    async cluster(n) {
      const bus = new MemoryBus();
      const hubs = Array.from({ length: n }, () => new MemoryHub(bus));
      for (const h of hubs) await h.start();
      return { hubs, cleanup: async () => {} };
    },
  },
];
if (REDIS_URL) {
  impls.push({
    name: "redis",
    async cluster(n) {
      const prefix = `parley-hub-${randomBytes(4).toString("hex")}:`;
      const hubs = Array.from(
        { length: n },
        () => new RedisHub({ url: REDIS_URL, prefix, heartbeatMs: 200, nodeTtlMs: 1000 }),
      );
      for (const h of hubs) await h.start();
      return { hubs, cleanup: () => dropRedisPrefix(REDIS_URL, prefix) };
    },
  });
}

function collect(hub: Hub): Array<[string, Json]> {
  const got: Array<[string, Json]> = [];
  hub.onMessage((t, p) => got.push([t, p]));
  return got;
}

async function until(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

for (const impl of impls) {
  describe(`hub contract: ${impl.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups) await c();
    });
    const make = async (n: number) => {
      const c = await impl.cluster(n);
      cleanups.push(async () => {
        for (const h of c.hubs) await h.stop().catch(() => {});
        await c.cleanup();
      });
      return c.hubs;
    };

    test("publish reaches subscribed nodes only (including the publisher), in order", async () => {
      const [a, b, c] = await make(3);
      const got = [collect(a), collect(b), collect(c)];
      await a.subscribe("t1");
      await b.subscribe("t1");
      for (let i = 0; i < 50; i++) await c.publish("t1", { i });
      await until(() => got[0].length === 50 && got[1].length === 50);
      await sleep(50);
      assert.equal(got[2].length, 0, "unsubscribed node gets nothing");
      assert.deepEqual(
        got[1].map(([, p]) => (p as { i: number }).i),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.equal(got[0][0][0], "t1");
      await b.unsubscribe("t1");
      await c.publish("t1", { i: 99 });
      await until(() => got[0].length === 51);
      await sleep(50);
      assert.equal(got[1].length, 50, "unsubscribed after unsubscribe");
    });

    test("request reaches exactly one node and returns its answer; errors and timeouts reject", async () => {
      const [a, b] = await make(2);
      b.onRequest((p) => {
        const x = (p as { x: number }).x;
        if (x < 0) throw new AppError("invalid_argument", "negative" as Reason);
        return { doubled: x * 2, node: b.nodeId };
      });
      a.onRequest(() => ({ node: a.nodeId }));
      assert.deepEqual(await a.request(b.nodeId, { x: 21 }), { doubled: 42, node: b.nodeId });
      assert.deepEqual(await a.request(a.nodeId, {}), { node: a.nodeId }, "local requests are handled locally");
      await assert.rejects(
        a.request(b.nodeId, { x: -1 }),
        (e: unknown) => e instanceof AppError && e.reason === ("negative" as Reason),
      );
      await assert.rejects(a.request("0000000000000000", {}, 300), (e: unknown) => e instanceof AppError);
    });

    test("node registry lists live nodes with their info", async () => {
      const hubs = await make(2);
      hubs[0].setNodeInfo({ role: "x" });
      const ids = (await hubs[1].nodes()).map((n) => n.nodeId);
      for (const h of hubs) assert.ok(ids.includes(h.nodeId));
    });

    test("a node's own registry entry is live, not as of its last heartbeat", async () => {
      const [a] = await make(1);
      let conns = 0;
      a.addNodeInfoProvider(() => ({ conns }));
      conns = 7; // no heartbeat or announce since
      const own = (await a.nodes()).find((n) => n.nodeId === a.nodeId);
      assert.equal(own?.info.conns, 7);
    });

    test("presence is the union over live nodes and disappears with a stopped node", async () => {
      const [a, b] = await make(2);
      const pa = a.presenceStore();
      const pb = b.presenceStore();
      await pa.add("s", "m1");
      await pa.add("s", "m2");
      await pb.add("s", "m3");
      await pb.add("other", "zz");
      assert.deepEqual(new Set(await pa.members("s")), new Set(["m1", "m2", "m3"]));
      assert.equal(await pb.count("s"), 3);
      await pa.remove("s", "m1");
      assert.deepEqual(new Set(await pb.members("s")), new Set(["m2", "m3"]));
      await b.stop();
      assert.deepEqual(await pa.members("s"), ["m2"]);
      assert.equal(await pa.count("nothing"), 0);
    });
  });
}
