import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import {
  ADMIN,
  type Cluster,
  chat33,
  gateway,
  liveSocket,
  type MsgFrame,
  type NodeProc,
  nextWhere,
  person,
  probe,
  servicesOrSkip,
  startCluster,
  until,
} from "./helpers/cluster3.ts";
import { AccessClient } from "./helpers/im-client.ts";
import { post } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Three real `parley serve` processes on one PostgreSQL database and one Redis, behaving as one
 * server: chat33 clients spread over the nodes exchange direct, group and chat-room messages and
 * a red packet; gateway and 003 pushes made on one node reach clients on the others; online lists
 * and counts are exact on every node; the node registry lists the three nodes; a drain requested
 * on node A drains node C (iplist without it, its sockets closed with 1013, upgrades refused).
 */
type Reply = Record<string, unknown> & { code: number };

describe("cluster of three processes: one server for every surface", { skip: servicesOrSkip() }, () => {
  test("messages, red packet, pushes, exact presence, node registry and drain", { timeout: 170_000 }, async () => {
    const cl: Cluster = await startCluster(3);
    const [a, b, c] = cl.nodes;
    const sockets: Array<{ close(): void }> = [];
    const im = async (node: NodeProc, path: string, init: RequestInit = {}): Promise<Reply> =>
      (await (await fetch(`${node.base}${path}`, { ...init, headers: ADMIN })).json()) as Reply;
    const gw = (node: NodeProc, path: string, body: unknown) =>
      post<{ code: number; msg: string; data: unknown }>(`${node.base}/api/${path}`, body, { SystemId: "c3sys" });
    let step = "start";
    try {
      // -- people, spread over the nodes ------------------------------------------------------
      step = "people, spread over the nodes";
      const co = await cl.admin<{ id: number }>(a, "/org/companies", { text: "Cluster Three" });
      const alice = await person(cl, a, { nickname: "Alice", companyId: co.id });
      const bob = await person(cl, b, { nickname: "Bob", companyId: co.id });
      const carol = await person(cl, c, { nickname: "Carol", companyId: co.id });
      const mgr = await person(cl, a, { nickname: "Manager", admin: true });
      // each socket is proved live by a 003 push made on another node
      const sa = await liveSocket(a, alice, c);
      const sb = await liveSocket(b, bob, a);
      const sc = await liveSocket(c, carol, b);
      sockets.push(sa, sb, sc);
      // the node registry counts each node's connections, users and sessions
      const registry = new Redis(cl.redisUrl);
      try {
        await until("registry totals per node", async () => {
          const raw = await registry.hgetall(`${cl.prefix}nodeinfo`);
          const byId = new Map(Object.entries(raw).map(([id, v]) => [id, JSON.parse(v) as { conns: Reply }]));
          return cl.nodes.every((n) => {
            const conns = byId.get(n.nodeId)?.conns;
            return conns?.total === 1 && conns.users === 1 && conns.sessions === 1 && conns.chat33 === 1;
          });
        });
      } finally {
        registry.disconnect();
      }

      // -- direct messages cross nodes, with a gapless seq ------------------------------------

      step = "direct messages cross nodes, with a gapless seq";
      const say = (s: TestClient, channelType: number, targetId: string, msgId: string) =>
        s.ws.send(JSON.stringify({ eventType: 0, msgId, channelType, targetId, msgType: 1, msg: { content: msgId } }));
      const isMsg = (msgId: string) => (f: MsgFrame) => f.eventType === 0 && f.msgId === msgId;
      say(sa, 3, bob.id, "d-1");
      const d1 = await nextWhere<MsgFrame>(sa, isMsg("d-1"));
      assert.ok(d1.logId, JSON.stringify(d1));
      assert.deepEqual(await nextWhere<MsgFrame>(sb, isMsg("d-1")), d1, "bob on node B gets alice's message from A");
      say(sc, 3, alice.id, "d-2");
      const d2 = await nextWhere<MsgFrame>(sc, isMsg("d-2"));
      assert.deepEqual(await nextWhere<MsgFrame>(sa, isMsg("d-2")), d2);
      say(sb, 3, alice.id, "d-3");
      const d3 = await nextWhere<MsgFrame>(sb, isMsg("d-3"));
      assert.deepEqual(await nextWhere<MsgFrame>(sa, isMsg("d-3")), d3);
      assert.deepEqual([d1.seq, d3.seq], [1, 2], "one conversation, two writers on two nodes, gapless");

      // -- a chat33 group with one member per node --------------------------------------------

      step = "a chat33 group with one member per node";
      const created = await chat33<{ roomId: string }>(a, alice, "/room/create", { users: [bob.id, carol.id] });
      assert.equal(created.result, 0, created.message);
      const roomId = created.data.roomId;
      say(sc, 2, roomId, "g-1");
      const g1 = await nextWhere<MsgFrame>(sc, isMsg("g-1"));
      assert.ok(g1.logId, JSON.stringify(g1));
      assert.deepEqual(await nextWhere<MsgFrame>(sa, isMsg("g-1")), g1);
      assert.deepEqual(await nextWhere<MsgFrame>(sb, isMsg("g-1")), g1);
      for (const [node, p] of [
        [a, alice],
        [b, bob],
        [c, carol],
      ] as const) {
        const online = await chat33(node, p, "/room/getOnlineNumber", { roomId });
        assert.deepEqual(online.data, { onlineNumber: 3 }, `group online count on node ${node.name}`);
      }

      // -- a chat room: audience on three nodes, a guest, exact counts everywhere --------------

      step = "a chat room: audience on three nodes, a guest, exact counts everywhere";
      const added = await chat33<{ groupId: string }>(a, mgr, "/group/addGroup", { groupName: "c3 room" });
      assert.equal(added.result, 0, added.message);
      const rid = added.data.groupId;
      const join = async (s: TestClient) => {
        s.ws.send(JSON.stringify({ eventType: 1, msgId: `j-${rid}`, groupId: rid }));
        const r = await nextWhere<{ msgId?: string; code?: number }>(s, (f) => f.msgId === `j-${rid}`);
        assert.equal(r.code, 0, JSON.stringify(r));
      };
      const guest = new TestClient(`${c.ws}/ws?uuid=c3-guest-1`);
      sockets.push(guest);
      await guest.opened;
      for (const s of [sa, sb, sc, guest]) await join(s);
      const roomCount = async (node: NodeProc) =>
        (await chat33<{ totalNumber: number }>(node, mgr, "/group/getOnlineNumber", { groupId: rid })).data.totalNumber;
      for (const node of cl.nodes) assert.equal(await roomCount(node), 4, `chat-room audience on ${node.name}`);
      say(sb, 1, rid, "r-1");
      const r1 = await nextWhere<MsgFrame>(sb, isMsg("r-1"));
      for (const s of [sa, sc, guest]) assert.deepEqual(await nextWhere<MsgFrame>(s, isMsg("r-1")), r1);

      // -- a red packet sent on A, claimed on B and C ------------------------------------------

      step = "a red packet sent on A, claimed on B and C";
      const dep = await cl.admin<{ balance: number }>(c, "/wallet/deposit", {
        userId: alice.id,
        coin: 1,
        amount: 30,
        idempotencyKey: "c3-dep-1",
      });
      assert.equal(dep.balance, 30);
      const sent = await chat33<{ packetId: string }>(a, alice, "/red-packet/send", {
        cType: 1,
        toId: roomId,
        coin: 1,
        type: 2,
        amount: 3,
        size: 3,
        remark: "c3",
      });
      assert.equal(sent.result, 0, sent.message);
      const packetId = sent.data.packetId;
      const isPacket = (f: MsgFrame) => f.eventType === 0 && f.msgType === 4 && f.msg.packetId === packetId;
      await nextWhere<MsgFrame>(sb, isPacket);
      await nextWhere<MsgFrame>(sc, isPacket);
      const claims = await Promise.all([
        chat33<{ amount: number }>(b, bob, "/red-packet/receive-entry", { packet_id: packetId }),
        chat33<{ amount: number }>(c, carol, "/red-packet/receive-entry", { packet_id: packetId }),
      ]);
      for (const cl0 of claims) assert.equal(cl0.result, 0, cl0.message);
      const again = await chat33(a, bob, "/red-packet/receive-entry", { packet_id: packetId });
      assert.notEqual(again.result, 0, "a second claim on another node is refused");
      const bal = async (node: NodeProc, p: typeof alice) =>
        (
          await chat33<{ balances: Array<{ coin: number; amount: number }> }>(node, p, "/red-packet/balance", {})
        ).data.balances.find((x) => x.coin === 1)?.amount ?? 0;
      assert.deepEqual([await bal(c, alice), await bal(a, bob), await bal(b, carol)], [27, 1, 1]);

      // -- gateway: clients on three nodes, bound and pushed through other nodes ---------------

      step = "gateway: clients on three nodes, bound and pushed through other nodes";
      assert.equal((await post<Reply>(`${a.base}/api/register`, { systemId: "c3sys" })).body.code, 0);
      const ga = await gateway(a, "c3sys");
      const gb = await gateway(b, "c3sys");
      const gc = await gateway(c, "c3sys");
      sockets.push(ga.c, gb.c, gc.c);
      for (const [g, via, uid] of [
        [ga, c, "ua"],
        [gb, a, "ub"],
        [gc, b, "uc"],
      ] as const) {
        const r = await gw(via, "bind_to_group", { clientId: g.clientId, groupName: "grp", userId: uid });
        assert.equal(r.body.code, 0, JSON.stringify(r.body));
      }
      const sentG = await gw(b, "send_to_group", { sendUserId: "s", groupName: "grp", code: 7, msg: "m", data: "all" });
      const mid = (sentG.body.data as { messageId: string }).messageId;
      for (const g of [ga, gb, gc])
        assert.equal((await nextWhere<{ messageId?: string }>(g.c, (f) => f.messageId === mid)).messageId, mid);
      const one = await gw(c, "send_to_client", {
        clientId: ga.clientId,
        sendUserId: "s",
        code: 8,
        msg: "m",
        data: "one",
      });
      assert.equal(one.body.code, 0, JSON.stringify(one.body));
      const oneId = (one.body.data as { messageId: string }).messageId;
      assert.equal(
        (await nextWhere<{ messageId?: string; code?: number }>(ga.c, (f) => f.messageId === oneId)).code,
        8,
      );
      assert.ok(await gb.c.silent(300), "a message to one connection reaches that connection only");
      const all = new Set([ga.clientId, gb.clientId, gc.clientId]);
      for (const node of cl.nodes) {
        const list = (await gw(node, "get_online_list", { groupName: "grp" })).body.data as {
          count: number;
          list: string[];
        };
        assert.equal(list.count, 3, `gateway group online list on ${node.name}`);
        assert.deepEqual(new Set(list.list), all);
        assert.equal(((await gw(node, "get_online_list", {})).body.data as { count: number }).count, 3);
      }

      // -- 003: an access session on C, status and statistics from the others ---------------------

      step = "003: an access session on C, status and statistics from the others";
      const sid = (await im(a, `/im/register?uid=${alice.id}&nation=1&city=1&town=1`)).sid as number;
      const ipl = await im(b, `/im/iplist?type=2&uid=${alice.id}&sid=${sid}&clientip=127.0.0.1`);
      assert.deepEqual(
        new Set(ipl.iplist as string[]),
        new Set(cl.nodes.map((n) => `127.0.0.1:${n.port}`)),
        "iplist names the three nodes (from the node registry)",
      );
      const acc = await AccessClient.open("ws", `127.0.0.1:${c.port}`);
      sockets.push(acc);
      assert.equal((await acc.online({ uid: Number(alice.id), sid, token: ipl.token })).code, 0);
      for (const node of [a, b]) {
        const st = await im(node, `/im/query?option=user-status&uid=${alice.id}`);
        assert.equal(st.status, 1, `alice online seen from ${node.name}`);
      }
      const pushed = await fetch(`${a.base}/im/push?dim=sid&sid=${sid}`, {
        method: "POST",
        headers: ADMIN,
        body: "to-the-session",
      });
      assert.equal(((await pushed.json()) as Reply).code, 0);
      assert.equal((await acc.nextRaw(10_000)).toString(), "to-the-session");
      const listend = await until("the registry lists 3 nodes × (WS, TCP) with totals", async () => {
        const l = (await im(b, "/im/config?action=list&option=listend")).list as Array<{
          nid: number;
          type: number;
          ipaddr: string;
          status: number;
          total: number;
        }>;
        const cWs = l.find((r) => r.ipaddr === `127.0.0.1:${c.port}`);
        return l.length === 6 && cWs && cWs.total === 1 ? l : null;
      });
      assert.equal(new Set(listend.map((r) => r.nid)).size, 3);
      assert.ok(listend.every((r) => r.status === 1));

      // -- drain node C from node A ----------------------------------------------------------------

      step = "drain node C from node A";
      const cRow = listend.find((r) => r.ipaddr === `127.0.0.1:${c.port}`);
      assert.ok(cRow);
      const del = await im(a, `/im/config?action=del&option=listend&nid=${cRow.nid}&ipaddr=127.0.0.1&port=${c.port}`);
      assert.equal(del.code, 0, JSON.stringify(del));
      assert.equal((await sc.closed).code, 1013, "chat33 socket on C: reconnect elsewhere");
      assert.equal((await gc.c.closed).code, 1013, "gateway socket on C: reconnect elsewhere");
      assert.equal((await guest.closed).code, 1013);
      assert.equal((await acc.next(10_000)).cmd, "kick");
      const after = await im(b, `/im/iplist?type=2&uid=${alice.id}&sid=${sid}&clientip=127.0.0.1`);
      assert.deepEqual(new Set(after.iplist as string[]), new Set([a, b].map((n) => `127.0.0.1:${n.port}`)));
      const rows = (await im(a, "/im/config?action=list&option=listend")).list as Array<{
        nid: number;
        status: number;
      }>;
      assert.ok(
        rows.filter((r) => r.nid === cRow.nid).every((r) => r.status === 2),
        "C is listed as draining",
      );
      assert.equal((await fetch(`${c.base}/readyz`)).status, 503);
      await assert.rejects(new TestClient(`${c.ws}/ws?uuid=late`).opened, /503/);
      // carol comes back through another node and is reached again; C's clients left every list
      const sc2 = await liveSocket(a, carol, b);
      sockets.push(sc2);
      say(sa, 3, carol.id, "d-4");
      const d4 = await nextWhere<MsgFrame>(sa, isMsg("d-4"));
      assert.deepEqual(await nextWhere<MsgFrame>(sc2, isMsg("d-4")), d4);
      for (const node of [a, b]) {
        const list = (await gw(node, "get_online_list", { groupName: "grp" })).body.data as { list: string[] };
        assert.deepEqual(new Set(list.list), new Set([ga.clientId, gb.clientId]));
        assert.equal(await roomCount(node), 2, "the chat room lost C's user and guest");
      }
      await probe(sb, c, bob.id); // a drained node still serves HTTP (pushes from C reach B)
    } catch (e) {
      throw new Error(`step "${step}": ${(e as Error).message}`, { cause: e });
    } finally {
      for (const s of sockets) s.close();
      await cl.close();
    }
  });
});
