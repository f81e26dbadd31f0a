import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { REDIS_URL } from "./helpers/backend.ts";
import type { Env } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Issue 11 item 8: the membership of a hot group is not read from storage per message. Members
 * on real sockets; the storage queries are counted by the server's own metric
 * (`parley_storage_query_duration_seconds_count`, every query through the storage layer).
 */
describe(`group fan-out reads no membership per message (${REDIS_URL ? "PostgreSQL + Redis" : "SQLite"})`, () => {
  test("40 messages to a 30-member group cost far fewer than one storage select each; every member gets every message", async () => {
    const s = await startServer({ "chat33.msgRatePerConnection": 1000, "chat33.msgRatePerUser": 1000 });
    const clients: TestClient[] = [];
    try {
      const members = [];
      for (let i = 0; i < 30; i++) {
        const mobile = `1380000${String(i).padStart(4, "0")}`;
        const user = await s.app.accounts.createUser({ mobile, password: "pass-1234", nickname: `m${i}` });
        const r = await post<Env<{ token: string }>>(
          `${s.base}/user/pwdLogin`,
          { mobile, password: "pass-1234" },
          { "FZM-DEVICE": "iOS" },
        );
        assert.equal(r.body.result, 0, r.body.message);
        members.push({ user, token: r.body.data.token });
      }
      const group = await s.app.groups.create(members[0].user, {
        name: "hot",
        userIds: members.slice(1).map((m) => m.user.id),
      });
      for (const m of members) {
        const c = new TestClient(`${s.ws}/ws?token=${m.token}&device=iOS`);
        clients.push(c);
        await c.opened;
      }
      await socketsReady(s.app);
      const sender = clients[0];
      const say = (i: number) =>
        sender.ws.send(
          JSON.stringify({
            eventType: 0,
            msgId: `hot-${i}`,
            channelType: 2,
            targetId: String(group.id),
            msgType: 1,
            msg: { content: `m${i}` },
          }),
        );
      const selects = async () => {
        const text = await (await fetch(`${s.base}/metrics`)).text();
        const m = /^parley_storage_query_duration_seconds_count\{op="select"\} (\d+)/m.exec(text);
        return Number(m?.[1] ?? 0);
      };
      /** Sends message i and waits until every member's socket has it (the sender's echo included). */
      const round = async (i: number) => {
        say(i);
        for (const c of clients) {
          for (;;) {
            const f = await c.next<{ eventType: number; msgId?: string }>(5000);
            if (f.eventType === 0 && f.msgId === `hot-${i}`) break;
          }
        }
      };
      await round(0); // warms the group's per-node cache (and the sender's user row)
      const before = await selects();
      const N = 40;
      for (let i = 1; i <= N; i++) await round(i);
      const perMessage = ((await selects()) - before) / N;
      assert.ok(perMessage < 0.5, `storage selects per group message: ${perMessage}`);
    } finally {
      for (const c of clients) c.close();
      await s.close();
    }
  });
});
