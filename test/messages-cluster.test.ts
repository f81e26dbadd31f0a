import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createBackend, REDIS_URL } from "./helpers/backend.ts";
import type { Env, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Direct messaging across two nodes sharing storage and a hub (in-process bus by default,
 * PostgreSQL + Redis in CI's second run): sockets of one conversation live on different nodes.
 */
describe(`direct messages across a cluster (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  test("chat33 and enterprise sockets on two nodes; retries, replaced sessions and revocations cross nodes", async () => {
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const a = await startServer({}, { backend, memoryBus });
    const b = await startServer({}, { backend, memoryBus });
    const clients: TestClient[] = [];
    try {
      const co = await a.app.org.createCompany({ text: "Cluster Co" });
      const alice = await a.app.accounts.createUser({ mobile: "13500000001", password: "pass-123", companyId: co.id });
      const bob = await a.app.accounts.createUser({
        username: "bob",
        mobile: "13500000002",
        password: "pass-123",
        companyId: co.id,
      });
      const chat33Login = async (s: TestServer, mobile: string) => {
        const r = await post<Env<{ token: string }>>(
          `${s.base}/user/pwdLogin`,
          { mobile, password: "pass-123" },
          { "FZM-DEVICE": "iOS" },
        );
        assert.equal(r.body.result, 0, r.body.message);
        return r.body.data.token;
      };
      const open = async (url: string) => {
        const c = new TestClient(url);
        clients.push(c);
        await c.opened;
        return c;
      };

      const aliceWs = await open(`${a.ws}/ws?token=${await chat33Login(a, "13500000001")}&device=iOS`);
      await socketsReady(a.app);
      const bobWs = await open(`${b.ws}/ws?token=${await chat33Login(b, "13500000002")}&device=iOS`);
      await socketsReady(b.app);
      const ent = await post<{ data: { authorization: string } }>(`${b.base}/auth/login`, {
        account: "bob",
        password: "pass-123",
        platform: "pc",
      });
      const bobPc = await open(`${b.ws}/socket?authorization=${ent.body.data.authorization}&platform=pc`);
      assert.equal((await bobPc.next<{ code: number }>()).code, 1000);

      const send = (msgId: string, content: string) =>
        aliceWs.ws.send(
          JSON.stringify({
            eventType: 0,
            msgId,
            channelType: 3,
            targetId: String(bob.id),
            msgType: 1,
            msg: { content },
          }),
        );
      send("m-1", "hello from node A");
      const echo = await aliceWs.next<MsgFrame>();
      assert.equal(echo.msgId, "m-1");
      const atBob = await bobWs.next<MsgFrame>();
      assert.deepEqual(atBob, echo, "the recipient on the other node gets the same frame");
      const atPc = await bobPc.next<{ code: number; data: { content: string; id: string; seq: number } }>();
      assert.equal(atPc.code, 1100);
      assert.equal(atPc.data.content, "hello from node A");
      assert.equal(atPc.data.id, "m-1");

      // a retry answers the sender only, on its node; nothing new crosses to node B
      send("m-1", "hello from node A");
      assert.equal((await aliceWs.next<MsgFrame>()).logId, echo.logId);
      assert.ok(await bobWs.silent(300));
      assert.ok(await bobPc.silent(50));

      // bob answers from node B through the enterprise API; alice on node A receives it
      const saved = await post<{ code: number }>(
        `${b.base}/api/save_single_msg`,
        { content: "hi alice", id: "cnbift-1", receiverId: alice.id, senderId: bob.id, type: 1 },
        { authorization: ent.body.data.authorization },
      );
      assert.equal(saved.body.code, 200);
      const reply = await aliceWs.next<MsgFrame>();
      assert.deepEqual([reply.fromId, reply.msgType, reply.msg], [String(bob.id), 1, { content: "hi alice" }]);
      // bob's other devices see his own message too (multi-device)
      assert.equal((await bobWs.next<MsgFrame>()).logId, reply.logId);
      assert.equal((await bobPc.next<{ code: number }>()).code, 1100);

      // seq stayed gapless across the two nodes' writers
      const conv = await a.app.messages.findDirect(alice.id, bob.id);
      const all = await a.app.storage.messages.since(conv?.id ?? 0, 0, 10);
      assert.deepEqual(
        all.map((m) => m.seq),
        [1, 2],
      );

      // a newer iOS login of bob on node A ends his iOS socket on node B (-1007, close 4003)
      await chat33Login(a, "13500000002");
      const kicked = await bobWs.next<{ code: number }>();
      assert.equal(kicked.code, -1007);
      assert.equal((await bobWs.closed).code, 4003);
      // logging the PC out on node A closes its socket on node B with 1003
      await fetch(`${a.base}/auth/logout?authorization=${ent.body.data.authorization}`);
      assert.equal((await bobPc.next<{ code: number }>()).code, 1003);
      assert.equal((await bobPc.closed).code, 4001);
    } finally {
      for (const c of clients) c.close();
      await a.close();
      await b.close();
      await backend.cleanup();
    }
  });
});
