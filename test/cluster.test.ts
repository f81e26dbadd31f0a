import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createBackend, REDIS_URL } from "./helpers/backend.ts";
import { post, startServer } from "./helpers/server.ts";
import { gatewayClient } from "./helpers/ws-client.ts";

/**
 * Two real nodes sharing storage and a hub: the in-process bus in the default run, PostgreSQL +
 * Redis in CI's second run. A client lives on node A; everything is driven through node B.
 */
describe(`gateway across a cluster (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  test("push, bind, group fan-out, online list and close work across nodes", async () => {
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const a = await startServer({}, { backend, memoryBus });
    const b = await startServer({}, { backend, memoryBus });
    try {
      assert.notEqual(a.app.hub.nodeId, b.app.hub.nodeId);
      const api = (s: typeof a, path: string, body: unknown) =>
        post(`${s.base}/api/${path}`, body, { SystemId: "sys" });
      assert.equal((await post(`${a.base}/api/register`, { systemId: "sys" })).body.code, 0);
      assert.equal((await post(`${b.base}/api/register`, { systemId: "sys" })).body.msg, "该系统ID已被注册");

      const onA = await gatewayClient(a.ws, "sys");
      const onB = await gatewayClient(b.ws, "sys");

      const r = await api(b, "send_to_client", {
        clientId: onA.clientId,
        sendUserId: "u",
        code: 3,
        msg: "m",
        data: { x: 1 },
      });
      assert.equal(r.body.code, 0);
      assert.deepEqual(await onA.c.next(), {
        ...(r.body.data as object),
        sendUserId: "u",
        code: 3,
        msg: "m",
        data: { x: 1 },
      });

      const multi = await api(b, "send_to_clients", {
        clientIds: [onA.clientId, onB.clientId],
        sendUserId: "u",
        code: 4,
        msg: "m",
        data: "both",
      });
      const { messageId } = multi.body.data as { messageId: string };
      assert.equal((await onA.c.next()).messageId, messageId);
      assert.equal((await onB.c.next()).messageId, messageId);

      assert.equal(
        (await api(b, "bind_to_group", { clientId: onA.clientId, groupName: "g", userId: "ua" })).body.code,
        0,
      );
      assert.equal((await onA.c.next()).code, 1001);
      assert.equal(
        (await api(a, "bind_to_group", { clientId: onB.clientId, groupName: "g", userId: "ub" })).body.code,
        0,
      );
      assert.equal((await onA.c.next()).code, 1001);
      assert.equal((await onB.c.next()).code, 1001);

      const g = await api(b, "send_to_group", { sendUserId: "u", groupName: "g", code: 5, msg: "m", data: ["fan"] });
      const gid = (g.body.data as { messageId: string }).messageId;
      assert.equal((await onA.c.next()).messageId, gid);
      assert.equal((await onB.c.next()).messageId, gid);

      for (const s of [a, b]) {
        const list = (await api(s, "get_online_list", { groupName: "g" })).body.data as {
          count: number;
          list: string[];
        };
        assert.equal(list.count, 2);
        assert.deepEqual(new Set(list.list), new Set([onA.clientId, onB.clientId]));
        const all = (await api(s, "get_online_list", {})).body.data as { count: number };
        assert.equal(all.count, 2);
      }

      assert.equal((await api(b, "close_client", { clientId: onA.clientId })).body.code, 0);
      assert.equal((await onA.c.closed).code, 1000);
      const off = await onB.c.next<{ code: number; data: string }>();
      assert.equal(off.code, 1002);
      assert.equal(JSON.parse(off.data).clientId, onA.clientId);
      const after = (await api(a, "get_online_list", { groupName: "g" })).body.data as { list: string[] };
      assert.deepEqual(after.list, [onB.clientId]);

      // a node that leaves takes its clients out of every list
      const onA2 = await gatewayClient(a.ws, "sys");
      assert.equal(((await api(b, "get_online_list", {})).body.data as { count: number }).count, 2);
      await a.close();
      await onA2.c.closed;
      assert.deepEqual(((await api(b, "get_online_list", {})).body.data as { list: string[] }).list, [onB.clientId]);
      // pushing to a client of a node that is gone is still a success (live-only), never a hang
      const gone = await api(b, "send_to_client", {
        clientId: onA2.clientId,
        sendUserId: "u",
        code: 0,
        msg: "m",
        data: "x",
      });
      assert.equal(gone.body.code, 0);
      onB.c.close();
    } finally {
      await a.close();
      await b.close();
      await backend.cleanup();
    }
  });
});
