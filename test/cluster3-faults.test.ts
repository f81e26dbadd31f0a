import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import {
  ADMIN,
  type Cluster,
  chat33,
  directHistory,
  gateway,
  liveSocket,
  type MsgFrame,
  type NodeProc,
  nextWhere,
  type Person,
  person,
  probe,
  ResilientSender,
  servicesOrSkip,
  startCluster,
  until,
} from "./helpers/cluster3.ts";
import { AccessClient } from "./helpers/im-client.ts";
import { freePort } from "./helpers/ports.ts";
import { post } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Faults of a three-process cluster on its own Redis (a redis-server this test starts on a free
 * loopback port, so killing it disturbs nobody else): `kill -9` of one node leaves the others
 * serving and its clients leave every presence list and count within the node TTL; a Redis
 * restart during traffic is survived — nodes reconnect, presence is written again, no
 * acknowledged message is lost or duplicated, and the receiver recovers what pub/sub dropped
 * through history by seq.
 */
type Reply = Record<string, unknown> & { code: number };

class OwnRedis {
  proc: ChildProcess | null = null;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const proc = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    this.proc = proc;
    await until("redis-server up", async () => {
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on("error", () => {});
      try {
        await r.connect();
        return (await r.ping()) === "PONG";
      } finally {
        r.disconnect();
      }
    });
  }
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await gone;
  }
}

describe("cluster of three processes: node death and Redis restart", { skip: servicesOrSkip() }, () => {
  let redis: OwnRedis;
  let cl: Cluster;
  const sockets: Array<{ close(): void }> = [];
  let mgr: Person;
  const gw = (node: NodeProc, path: string, body: unknown) =>
    post<{ code: number; msg: string; data: unknown }>(`${node.base}/api/${path}`, body, { SystemId: "c3f" });
  const im = async (node: NodeProc, path: string): Promise<Reply> =>
    (await (await fetch(`${node.base}${path}`, { headers: ADMIN })).json()) as Reply;
  const onlineList = async (node: NodeProc, groupName?: string) =>
    new Set(((await gw(node, "get_online_list", groupName ? { groupName } : {})).body.data as { list: string[] }).list);
  const same = (x: Set<string>, y: Set<string>) => x.size === y.size && [...x].every((v) => y.has(v));

  before(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    cl = await startCluster(3, { redisUrl: redis.url });
    mgr = await person(cl, cl.nodes[0], { nickname: "Mgr", admin: true });
    assert.equal((await post<Reply>(`${cl.nodes[0].base}/api/register`, { systemId: "c3f" })).body.code, 0);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await cl?.close();
    await redis?.kill();
  });

  test("kill -9 of one node: the others serve on, its clients leave presence, it rejoins clean", async () => {
    const [a, b, c] = cl.nodes;
    const co = await cl.admin<{ id: number }>(a, "/org/companies", { text: "Faults" });
    const alice = await person(cl, a, { nickname: "Alice", companyId: co.id });
    const bob = await person(cl, b, { nickname: "Bob", companyId: co.id });
    const room = await chat33<{ groupId: string }>(a, mgr, "/group/addGroup", { groupName: "fault room" });
    const rid = room.data.groupId;
    const roomCount = async (node: NodeProc) =>
      (await chat33<{ totalNumber: number }>(node, mgr, "/group/getOnlineNumber", { groupId: rid })).data.totalNumber;

    // a gateway client and a chat-room guest on each node, and a 003 session on C
    const gws = [];
    for (const node of cl.nodes) {
      const g = await gateway(node, "c3f");
      sockets.push(g.c);
      assert.equal(
        (await gw(a, "bind_to_group", { clientId: g.clientId, groupName: "g", userId: node.name })).body.code,
        0,
      );
      gws.push(g);
      const guest = new TestClient(`${node.ws}/ws?uuid=guest-${node.name}`);
      sockets.push(guest);
      await guest.opened;
      guest.ws.send(JSON.stringify({ eventType: 1, msgId: "j", groupId: rid }));
      assert.equal((await nextWhere<{ msgId?: string; code?: number }>(guest, (f) => f.msgId === "j")).code, 0);
    }
    const sid = (await im(a, `/im/register?uid=${alice.id}&nation=1&city=1&town=1`)).sid as number;
    const ipl = await im(b, `/im/iplist?type=2&uid=${alice.id}&sid=${sid}&clientip=127.0.0.1`);
    const acc = await AccessClient.open("ws", `127.0.0.1:${c.port}`);
    sockets.push(acc);
    assert.equal((await acc.online({ uid: Number(alice.id), sid, token: ipl.token })).code, 0);
    const everyone = new Set(gws.map((g) => g.clientId));
    for (const node of cl.nodes) {
      assert.ok(same(await onlineList(node, "g"), everyone));
      assert.equal(await roomCount(node), 3);
    }
    assert.equal((await im(a, `/im/query?option=user-status&uid=${alice.id}`)).status, 1);

    // kill -9 node C: no goodbye at all
    const killedAt = Date.now();
    await c.kill9();
    const survivors = new Set(gws.slice(0, 2).map((g) => g.clientId));
    for (const node of [a, b]) {
      await until(
        `node ${node.name}: C's gateway client left the lists`,
        async () => same(await onlineList(node, "g"), survivors) && same(await onlineList(node), survivors),
      );
      await until(`node ${node.name}: C's guest left the chat room`, async () => (await roomCount(node)) === 2);
    }
    await until("alice's access session on C is offline", async () => {
      const st = await im(b, `/im/query?option=user-status&uid=${alice.id}`);
      return st.status === 0;
    });
    const iplist = await im(a, `/im/iplist?type=2&uid=${alice.id}&sid=${sid}&clientip=127.0.0.1`);
    assert.deepEqual(new Set(iplist.iplist as string[]), new Set([a, b].map((n) => `127.0.0.1:${n.port}`)));
    const rows = (await im(b, "/im/config?action=list&option=listend")).list as unknown[];
    assert.equal(rows.length, 4, "the registry holds the two live nodes only");
    process.stderr.write(
      `# presence corrected ${Date.now() - killedAt} ms after kill -9 (node TTL ${cl.vars.PARLEY_CLUSTER_NODE_TTL_MS} ms)\n`,
    );

    // the others serve on: a group push from A reaches the clients on A and B, a direct message crosses
    const sent = await gw(a, "send_to_group", { sendUserId: "s", groupName: "g", code: 9, msg: "m", data: "after" });
    const mid = (sent.body.data as { messageId: string }).messageId;
    for (const g of gws.slice(0, 2)) await nextWhere<{ messageId?: string }>(g.c, (f) => f.messageId === mid);
    const sa = await liveSocket(a, alice, b);
    const sb = await liveSocket(b, bob, a);
    sockets.push(sa, sb);
    sa.ws.send(
      JSON.stringify({
        eventType: 0,
        msgId: "k-1",
        channelType: 3,
        targetId: bob.id,
        msgType: 1,
        msg: { content: "x" },
      }),
    );
    const echo = await nextWhere<MsgFrame>(sa, (f) => f.msgId === "k-1");
    assert.deepEqual(await nextWhere<MsgFrame>(sb, (f) => f.msgId === "k-1"), echo);

    // C restarts with the same node id: back in the registry, no ghost of its previous life
    await c.start();
    await until("C back in the registry", async () => {
      const l = (await im(a, "/im/config?action=list&option=listend")).list as unknown[];
      return l.length === 6;
    });
    for (const node of cl.nodes) {
      assert.ok(same(await onlineList(node, "g"), survivors), `no ghost on ${node.name}`);
      assert.equal(await roomCount(node), 2);
    }
  });

  test("Redis restart during traffic: reconnect, presence rewritten, no acknowledged message lost", async () => {
    const [a, b] = cl.nodes;
    const co = await cl.admin<{ id: number }>(a, "/org/companies", { text: "Redis restart" });
    const dan = await person(cl, a, { nickname: "Dan", companyId: co.id });
    const eve = await person(cl, b, { nickname: "Eve", companyId: co.id });
    // eve's receiver on B; dan sends from any live node, one message at a time, retrying until acked
    const recv = await liveSocket(b, eve, a);
    sockets.push(recv);
    const live = new Map<string, number>();
    recv.ws.on("message", (d: Buffer) => {
      const f = JSON.parse(d.toString()) as MsgFrame;
      if (f.eventType === 0 && f.fromId === dan.id && f.logId) live.set(f.msgId, f.seq);
    });
    const gA = await gateway(a, "c3f");
    const gB = await gateway(b, "c3f");
    sockets.push(gA.c, gB.c);
    for (const g of [gA, gB])
      assert.equal((await gw(b, "bind_to_group", { clientId: g.clientId, groupName: "rr", userId: "u" })).body.code, 0);
    const pair = new Set([gA.clientId, gB.clientId]);

    const sender = new ResilientSender(() => cl.nodes, dan, eve, "rr");
    await until("traffic flowing", async () => sender.acked.size >= 10);
    const beforeRestart = sender.acked.size;
    await redis.kill();
    // while Redis is down: what needs it answers the surface's "unavailable" error, never a 500
    const during = await gw(a, "get_online_list", { groupName: "rr" });
    assert.notEqual(during.status, 500, JSON.stringify(during.body));
    assert.notEqual(during.body.code, 0, JSON.stringify(during.body));
    await new Promise((r) => setTimeout(r, 1000)); // down for a while: sends keep trying
    await redis.start();
    await until("traffic flowing after the restart", async () => sender.acked.size >= beforeRestart + 10, 60_000);
    await sender.stop();

    // every node is back: registry, presence (written again from the nodes' memory), fan-out
    for (const node of cl.nodes) {
      await until(`${node.name}: gateway list exact again`, async () => same(await onlineList(node, "rr"), pair));
      await until(`${node.name}: three nodes in the registry`, async () => {
        const l = (await im(node, "/im/config?action=list&option=listend")).list as unknown[];
        return l.length === 6;
      });
    }
    await probe(recv, cl.nodes[2], eve.id);

    // no acknowledged message lost or stored twice; seq gapless
    const history = await directHistory(a, dan, eve);
    const stored = new Map<string, number>();
    for (const m of history) {
      assert.ok(!stored.has(m.msgId), `msgId ${m.msgId} stored twice`);
      stored.set(m.msgId, m.seq);
    }
    assert.deepEqual(
      history.map((m) => m.seq),
      history.map((_, i) => i + 1),
      "seq gapless from 1",
    );
    for (const [msgId, ack] of sender.acked) assert.equal(stored.get(msgId), ack.seq, `acked ${msgId} stored`);
    // the receiver: what pub/sub delivered, plus the gaps read from history by seq
    const seen = new Set(live.values());
    const recovered = history.filter((m) => !seen.has(m.seq));
    const union = new Set([...live.keys(), ...recovered.map((m) => m.msgId)]);
    for (const msgId of sender.acked.keys()) assert.ok(union.has(msgId), `receiver has ${msgId}`);
    process.stderr.write(
      `# redis restart: ${sender.acked.size} acked (${beforeRestart} before), ${live.size} live at the receiver, ${recovered.length} recovered from history, ${sender.reconnects} sender connections\n`,
    );
  });
});
