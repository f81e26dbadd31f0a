import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createBackend, REDIS_URL } from "./helpers/backend.ts";
import type { Env, MsgFrame } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Groups across two nodes sharing storage and a hub (in-process bus by default, PostgreSQL +
 * Redis in CI's second run): members on different nodes, membership changes made on one node
 * apply at once on the other (its cached membership is dropped through the hub).
 */
describe(`groups across a cluster (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  test("members on two nodes: events, messages, kick, mute and online count cross nodes", async () => {
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const opts = { "groups.onlineNoticeMs": 3_600_000 };
    const a = await startServer(opts, { backend, memoryBus });
    const b = await startServer(opts, { backend, memoryBus });
    const clients: TestClient[] = [];
    try {
      let n = 0;
      const person = async (nickname: string) => {
        const mobile = `1350000${String(++n).padStart(4, "0")}`;
        const user = await a.app.accounts.createUser({ mobile, password: "pass-123", nickname });
        const r = await post<Env<{ token: string }>>(
          `${a.base}/user/pwdLogin`,
          { mobile, password: "pass-123" },
          { "FZM-DEVICE": "iOS" },
        );
        assert.equal(r.body.result, 0, r.body.message);
        return { user, token: r.body.data.token };
      };
      const open = async (s: TestServer, token: string) => {
        const c = new TestClient(`${s.ws}/ws?token=${token}&device=iOS`);
        clients.push(c);
        await c.opened;
        await socketsReady(s.app);
        return c;
      };
      const call = async (s: TestServer, token: string, path: string, body: unknown) =>
        (await post<Env>(`${s.base}${path}`, body, { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": token })).body;
      const say = (c: TestClient, roomId: string, content: string, msgId: string) =>
        c.ws.send(
          JSON.stringify({ eventType: 0, msgId, channelType: 2, targetId: roomId, msgType: 1, msg: { content } }),
        );

      const owner = await person("Owner");
      const m = await person("Mem");
      const k = await person("Kicked");
      const so = await open(a, owner.token);
      const sm = await open(b, m.token);
      const sk = await open(b, k.token);

      // create on A: the members' sockets on B get their event 20 (the creator one per member)
      const created = await call(a, owner.token, "/room/create", { users: [String(m.user.id), String(k.user.id)] });
      assert.equal(created.result, 0, created.message);
      const roomId = (created.data as { roomId: string }).roomId;
      for (const [c, n] of [
        [so, 3],
        [sm, 1],
        [sk, 1],
      ] as const) {
        const joined = new Set<string>();
        for (let i = 0; i < n; i++) {
          const e = await c.next<{ eventType: number; userId: string }>();
          assert.equal(e.eventType, 20);
          joined.add(e.userId);
        }
        assert.equal(joined.size, n);
      }
      // the online count is cluster-wide
      const online = await call(a, owner.token, "/room/getOnlineNumber", { roomId });
      assert.deepEqual(online.data, { onlineNumber: 3 });

      // a message from B reaches A and B once each
      say(sm, roomId, "from B", "c-1");
      const echo = await sm.next<MsgFrame>();
      assert.deepEqual(await so.next<MsgFrame>(), echo);
      assert.deepEqual(await sk.next<MsgFrame>(), echo);

      // node B has the group cached now; a kick on A applies on B at once
      assert.equal((await call(a, owner.token, "/room/kickOut", { roomId, users: [String(k.user.id)] })).result, 0);
      for (const c of [so, sm, sk]) assert.equal((await c.next<{ eventType: number; type: number }>()).type, 2);
      say(sk, roomId, "still in?", "c-2");
      assert.deepEqual(await sk.next(), { eventType: 0, msgId: "c-2", code: -3001, content: "用户没有加入聊天群权限" });
      say(so, roomId, "after the kick", "c-3");
      assert.equal((await so.next<MsgFrame>()).msgId, "c-3");
      assert.equal((await sm.next<MsgFrame>()).msgId, "c-3");
      assert.equal(await sk.silent(), true, "the kicked member on node B hears nothing");
      // a mute set on A holds for a send on B
      const until = Date.now() + 60_000;
      const muted = await call(a, owner.token, "/room/setMutedSingle", {
        roomId,
        userId: String(m.user.id),
        deadline: until,
      });
      assert.equal(muted.result, 0, muted.message);
      assert.equal((await sm.next<{ eventType: number }>()).eventType, 3);
      say(sm, roomId, "muted", "c-4");
      assert.equal((await sm.next<{ code: number }>()).code, -2007);
      // the history is the same on both nodes
      const logA = await call(a, owner.token, "/room/chatLog", { id: roomId, number: 10 });
      const logB = await call(b, m.token, "/room/chatLog", { id: roomId, number: 10 });
      assert.deepEqual(logA.data, logB.data);
      assert.deepEqual(
        (logA.data as { logs: Array<{ msgId: string }> }).logs.map((l) => l.msgId),
        ["c-3", "c-1"],
      );
    } finally {
      for (const c of clients) c.close();
      await a.close();
      await b.close();
      await backend.cleanup();
    }
  });
});
