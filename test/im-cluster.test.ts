import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createBackend, REDIS_URL } from "./helpers/backend.ts";
import { AccessClient } from "./helpers/im-client.ts";
import { freePort } from "./helpers/ports.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * The cluster-admin surface on two nodes sharing storage and a hub: iplist and listend list both
 * nodes, pushes made on one node reach connections on the other, a second `online` of a sid on
 * another node kicks the first (20009), one sampler per cluster, and draining one node from the
 * other.
 */
const ADMIN = { authorization: "Bearer test-admin-token" };
type Reply = Record<string, unknown> & { code: number };

describe(`cluster admin (003) across a cluster (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  test("two nodes: listing, iplist, cross-node push and collision, one sampler, drain", async () => {
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const a = await startServer({ tcpPort: await freePort() }, { backend, memoryBus });
    const b = await startServer({ tcpPort: await freePort() }, { backend, memoryBus });
    const clients: AccessClient[] = [];
    const get = async (s: TestServer, path: string): Promise<Reply> =>
      (await (await fetch(`${s.base}${path}`, { headers: ADMIN })).json()) as Reply;
    try {
      const user = await a.app.accounts.createUser({ mobile: "13512340001", password: "pass-1234", nickname: "c" });
      const reg = await get(b, `/im/register?uid=${user.id}&nation=1&city=1&town=1`);
      const sid = reg.sid as number;
      const nodes = (await get(a, "/im/config?action=list&option=listend")).list as Array<{
        nid: number;
        type: number;
        ipaddr: string;
        status: number;
      }>;
      assert.equal(nodes.length, 4, "two nodes × (WS, TCP)");
      assert.equal(new Set(nodes.map((n) => n.nid)).size, 2);
      const ws = await get(a, `/im/iplist?type=2&uid=${user.id}&sid=${sid}&clientip=127.0.0.1`);
      const tcp = await get(b, `/im/iplist?type=1&uid=${user.id}&sid=${sid}&clientip=127.0.0.1`);
      assert.deepEqual(
        new Set(ws.iplist as string[]),
        new Set([a.base, b.base].map((x) => x.replace("http://", ""))),
        "iplist names both nodes' WebSocket listeners",
      );
      assert.equal((tcp.iplist as string[]).length, 2);

      // a token issued by node a is accepted by node b (one key for the cluster)
      const onB = await AccessClient.open("ws", b.base.replace("http://", ""));
      clients.push(onB);
      assert.equal((await onB.online({ uid: user.id, sid, token: ws.token })).code, 0);
      // a push made on node a reaches the connection on node b, byte for byte
      const body = Buffer.from('{"cross":"node","n":1}');
      const r = await fetch(`${a.base}/im/push?dim=uid&uid=${user.id}`, { method: "POST", headers: ADMIN, body });
      assert.equal(((await r.json()) as Reply).code, 0);
      assert.deepEqual(await onB.nextRaw(), body);
      const br = await fetch(`${a.base}/im/push?dim=broadcast`, { method: "POST", headers: ADMIN, body: "all" });
      assert.equal(((await br.json()) as Reply).code, 0);
      assert.equal((await onB.nextRaw()).toString(), "all");
      // status is cluster-wide
      assert.deepEqual(((await get(a, `/im/query?option=sid-list&uid=${user.id}`)).list as unknown[]).length, 1);

      // the same sid online on node a kicks the connection on node b
      const tcpA = a.app.imAccess?.report().tcp;
      assert.ok(tcpA && (tcp.iplist as string[]).includes(tcpA));
      const onA = await AccessClient.open("tcp", tcpA);
      clients.push(onA);
      assert.equal((await onA.online({ uid: user.id, sid, token: ws.token })).code, 0);
      assert.equal((await onB.next()).data.code, 20009);
      await onB.closed;

      // one sampler per cluster
      const sampled = [await a.app.im.sample(), await b.app.im.sample()];
      assert.equal(sampled.filter(Boolean).length, 1);

      // drain node a from node b: a's access connection is kicked, a leaves iplist
      const aReport = a.app.imAccess?.report();
      assert.ok(aReport?.tcp);
      const [ip, port] = aReport.tcp.split(":");
      assert.equal(
        (await get(b, `/im/config?action=del&option=listend&nid=${aReport.nid}&ipaddr=${ip}&port=${port}`)).code,
        0,
      );
      assert.equal((await onA.next()).cmd, "kick");
      await onA.closed;
      const after = await get(b, `/im/iplist?type=1&uid=${user.id}&sid=${sid}&clientip=127.0.0.1`);
      assert.deepEqual(after.iplist, [b.app.imAccess?.report().tcp]);
    } finally {
      for (const c of clients) c.close();
      await a.close();
      await b.close();
      await backend.cleanup();
    }
  });
});
