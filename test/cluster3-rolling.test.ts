import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ADMIN,
  directHistory,
  type NodeProc,
  person,
  ResilientSender,
  servicesOrSkip,
  startCluster,
  until,
} from "./helpers/cluster3.ts";

/**
 * A rolling restart of a three-process cluster under traffic: each node in turn is drained through
 * another node (/im/config del of its listener: it leaves iplist, closes its sockets with 1013),
 * stopped with SIGTERM, started again with the same id and ports, and seen back in the registry.
 * Two senders keep sending throughout, reconnecting wherever they are sent; at the end every
 * acknowledged message is stored exactly once and each conversation's seq is gapless.
 */
type Row = { nid: number; type: number; ipaddr: string; status: number; total: number };

describe("cluster of three processes: rolling restart", { skip: servicesOrSkip() }, () => {
  test("drain, stop, start each node in turn; no acknowledged message lost", { timeout: 280_000 }, async () => {
    const cl = await startCluster(3);
    const [a] = cl.nodes;
    const senders: ResilientSender[] = [];
    const listend = async (via: NodeProc): Promise<Row[]> =>
      (
        (await (await fetch(`${via.base}/im/config?action=list&option=listend`, { headers: ADMIN })).json()) as {
          list: Row[];
        }
      ).list;
    try {
      const co = await cl.admin<{ id: number }>(a, "/org/companies", { text: "Rolling" });
      const ann = await person(cl, a, { nickname: "Ann", companyId: co.id });
      const ben = await person(cl, a, { nickname: "Ben", companyId: co.id });
      senders.push(
        new ResilientSender(() => cl.nodes, ann, ben, "ab"),
        new ResilientSender(() => cl.nodes, ben, ann, "ba"),
      );
      const acked = () => senders.reduce((n, s) => n + s.acked.size, 0);
      await until("traffic flowing", async () => acked() >= 10);

      const t0 = Date.now();
      const phases: string[] = [];
      for (const [i, node] of cl.nodes.entries()) {
        const via = cl.nodes[(i + 1) % cl.nodes.length];
        const row = (await listend(via)).find((r) => r.ipaddr === `127.0.0.1:${node.port}`);
        assert.ok(row, `node ${node.name} listed`);
        const del = (await (
          await fetch(
            `${via.base}/im/config?action=del&option=listend&nid=${row.nid}&ipaddr=127.0.0.1&port=${node.port}`,
            { headers: ADMIN },
          )
        ).json()) as { code: number };
        assert.equal(del.code, 0);
        const tDrained = Date.now();
        assert.equal((await fetch(`${node.base}/readyz`)).status, 503, `${node.name} is not ready while draining`);
        assert.equal(await node.stop(), 0, `${node.name} stops cleanly`);
        const before = acked();
        const tStopped = Date.now();
        await node.start();
        const tStarted = Date.now();
        await until(`${node.name} back in the registry, serving`, async () => {
          const r = (await listend(via)).filter((x) => x.nid === row.nid);
          return r.length === 2 && r.every((x) => x.status === 1);
        });
        await until(`traffic after restarting ${node.name}`, async () => acked() >= before + 5, 60_000);
        phases.push(
          `${node.name} at ${Date.now() - t0} ms (stop ${tStopped - tDrained}, start ${tStarted - tStopped}, back ${Date.now() - tStarted})`,
        );
      }
      for (const s of senders) await s.stop();

      for (const [s, from, to] of [
        [senders[0], ann, ben],
        [senders[1], ben, ann],
      ] as const) {
        const history = (await directHistory(cl.nodes[2], from, to)).filter((m) => m.fromId === from.id);
        const stored = new Map<string, number>();
        for (const m of history) {
          assert.ok(!stored.has(m.msgId), `${m.msgId} stored twice`);
          stored.set(m.msgId, m.seq);
        }
        for (const [msgId, ack] of s.acked) assert.equal(stored.get(msgId), ack.seq, `acked ${msgId} stored`);
        assert.ok(s.acked.size > 0);
      }
      const all = await directHistory(a, ann, ben);
      assert.deepEqual(
        all.map((m) => m.seq),
        all.map((_, i) => i + 1),
        "one conversation, gapless through three restarts",
      );
      process.stderr.write(
        `# rolling restart: ${acked()} acked, ${all.length} stored, ${senders.map((s) => s.reconnects).join("+")} sender connections; restarted ${phases.join(", ")}\n`,
      );
    } finally {
      for (const s of senders) await Promise.race([s.stop(), new Promise((r) => setTimeout(r, 10_000))]);
      await cl.close();
    }
  });
});
