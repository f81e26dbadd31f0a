import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createBackend, REDIS_URL } from "./helpers/backend.ts";
import type { Env, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * A chat room's audience across two nodes sharing storage and a hub (in-process bus by default,
 * PostgreSQL + Redis in CI's second run): counts stay exact through a second device on the other
 * node, guests, an abrupt disconnect and the death of a node.
 */
describe(`chat-room audience across a cluster (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  test("one person on two nodes counts once; a message crosses nodes; abrupt disconnect and node death leave the counts exact", async () => {
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const a = await startServer({}, { backend, memoryBus });
    const b = await startServer({}, { backend, memoryBus });
    const clients: TestClient[] = [];
    let bClosed = false;
    try {
      await a.app.accounts.createUser({ mobile: "13600000001", password: "pass-123", nickname: "Alice" });
      const room = await a.app.chatrooms.create({ adminToken: true }, { name: "cluster room", avatar: "" });
      const login = async (s: TestServer, device: string) => {
        const r = await post<Env<{ token: string }>>(
          `${s.base}/user/pwdLogin`,
          { mobile: "13600000001", password: "pass-123" },
          { "FZM-DEVICE": device },
        );
        assert.equal(r.body.result, 0, r.body.message);
        return r.body.data.token;
      };
      const open = async (s: TestServer, query: string) => {
        const c = new TestClient(`${s.ws}/ws?${query}`);
        clients.push(c);
        await c.opened;
        await socketsReady(s.app);
        c.ws.send(JSON.stringify({ eventType: 1, msgId: "j", groupId: String(room.id) }));
        assert.equal((await c.next<{ code: number }>()).code, 0);
        return c;
      };
      const counts = () => a.app.chatrooms.audience.counts(room.id);
      const until = async (want: { users: number; guests: number }) => {
        let got = await counts();
        for (let i = 0; i < 100 && JSON.stringify(got) !== JSON.stringify(want); i++) {
          await new Promise((r) => setTimeout(r, 20));
          got = await counts();
        }
        assert.deepEqual(got, want);
      };

      const onA = await open(a, `token=${await login(a, "iOS")}&device=iOS`);
      const onB = await open(b, `token=${await login(b, "Android")}&device=Android`);
      const guestB = await open(b, "uuid=guest-b-1");
      const guestB2 = await open(b, "uuid=guest-b-2");
      await until({ users: 1, guests: 2 });
      assert.deepEqual(await b.app.chatrooms.audience.counts(room.id), { users: 1, guests: 2 }, "same on both nodes");

      onA.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId: "x-1",
          channelType: 1,
          targetId: String(room.id),
          msgType: 1,
          msg: { content: "hi" },
        }),
      );
      const echo = await onA.next<MsgFrame>();
      for (const c of [onB, guestB, guestB2]) assert.deepEqual(await c.next(), echo);

      // an abrupt disconnect on node B: the guest leaves at once, Alice still counts (node A)
      guestB2.ws.terminate();
      await until({ users: 1, guests: 1 });
      onB.ws.terminate();
      await until({ users: 1, guests: 1 });

      // node B dies (its hub goes without a goodbye from its sockets): its guest vanishes
      await b.app.hub.stop();
      await until({ users: 1, guests: 0 });
      onA.close();
      await until({ users: 0, guests: 0 });
      void guestB;
    } finally {
      for (const c of clients) c.close();
      await a.close();
      if (!bClosed) {
        bClosed = true;
        await b.close();
      }
      await backend.cleanup();
    }
  });
});
