import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import type { User } from "../src/ports/storage/accounts.ts";
import { createBackend, type TestBackend } from "./helpers/backend.ts";
import { AccessClient } from "./helpers/im-client.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * `GET /admin/api/dashboard` on a two-node cluster (one storage; the in-process bus, or Redis in
 * CI's second run): each node's connections per surface and message counters reach the dashboard
 * of either node, and the rankings carry the groups' and rooms' names.
 */

const TOKEN = "test-admin-token";
const PASSWORD = "dash-pass-1";

interface NodeOut {
  nodeId: string;
  self: boolean;
  answered: boolean;
  draining: boolean;
  version: string;
  startedAt: number;
  connections: Record<string, number>;
  connectionsTotal: number;
  messagesStored: { total: number; bySurface: Record<string, number> };
  rate: { storedPerSecond: number; series: Array<{ t: number; stored: number; delivered: number }> };
}
interface Dashboard {
  at: number;
  nodes: NodeOut[];
  totals: { nodes: number; connections: Record<string, number>; connectionsTotal: number; onlineAccessUsers: number };
  topGroups: {
    byMembers: Array<{ id: number; name: string; markId: string; total: number }>;
    byMessages: Array<{ id: number; name: string; total: number }>;
  };
  topRooms: Array<{ id: number; name: string; status: string; users: number; guests: number; total: number }>;
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("admin dashboard (/admin/api/dashboard) on two nodes", () => {
  let backend: TestBackend;
  let a: TestServer;
  let b: TestServer;
  let alice: User;
  let bob: User;
  const clients: TestClient[] = [];
  const access: AccessClient[] = [];
  let carol: User | null = null;
  const carolId = () => (carol as User).id;

  const dashboard = async (s: TestServer, query = "") => {
    const res = await fetch(`${s.base}/admin/api/dashboard${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { code: number; msg: string; data: Dashboard };
    return { status: res.status, body };
  };
  const data = async (s: TestServer, query = "") => {
    const r = await dashboard(s, query);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
  };
  const nodeOf = (d: Dashboard, s: TestServer) => d.nodes.find((n) => n.nodeId === s.app.hub.nodeId);

  before(async () => {
    backend = await createBackend();
    const memoryBus = new MemoryBus();
    a = await startServer({}, { backend, memoryBus });
    b = await startServer({}, { backend, memoryBus });
    const company = await a.app.org.createCompany({ text: "Dash Co" });
    alice = await a.app.accounts.createUser({ username: "alice", password: PASSWORD, companyId: company.id });
    bob = await a.app.accounts.createUser({ username: "bob", password: PASSWORD, companyId: company.id });
  });
  after(async () => {
    for (const c of clients) c.ws.close();
    for (const c of access) c.close();
    await a.close();
    await b.close();
    await backend.cleanup();
  });

  test("both nodes are listed; connections per surface and stored messages per node; rates from the counters", async () => {
    await until(
      "both nodes registered",
      () => data(a),
      (d) => d.nodes.length === 2,
    );
    const bobToken = (await b.app.accounts.startSession(bob, { device: "pc" })).token;
    const c = new TestClient(`${b.ws}/socket?authorization=${encodeURIComponent(bobToken)}&platform=pc`);
    clients.push(c);
    assert.equal((await c.next<{ code: number }>(10_000)).code, 1000);

    const aliceToken = (await a.app.accounts.startSession(alice, { device: "pc" })).token;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${a.base}/api/save_single_msg`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: aliceToken },
        body: JSON.stringify({
          content: `hi ${i}`,
          id: `dash-${i}-${Date.now()}`,
          receiverId: bob.id,
          senderId: alice.id,
          type: 1,
        }),
      });
      assert.equal(res.status, 200, await res.text());
    }

    // asked on either node, the same picture
    for (const s of [a, b]) {
      const d = await until(
        "the counters in the dashboard",
        () => data(s),
        (x) =>
          nodeOf(x, b)?.connections.enterprise === 1 &&
          nodeOf(x, a)?.messagesStored.bySurface.enterprise === 5 &&
          (nodeOf(x, a)?.rate.series.reduce((n, p) => n + p.stored, 0) ?? 0) >= 1,
      );
      const na = nodeOf(d, a);
      const nb = nodeOf(d, b);
      assert.ok(na && nb);
      assert.equal(d.totals.nodes, 2);
      assert.equal(na.self, s === a);
      assert.equal(nb.self, s === b);
      for (const n of [na, nb]) {
        assert.equal(n.answered, true);
        assert.ok(n.version.length > 0);
        assert.ok(n.startedAt > 0);
      }
      assert.equal(nb.messagesStored.total, 0, "nothing was stored through node b");
      assert.equal(na.messagesStored.total, 5);
      assert.equal(d.totals.connections.enterprise, 1);
      assert.equal(
        d.totals.connectionsTotal,
        d.nodes.reduce((n, x) => n + x.connectionsTotal, 0),
      );
      assert.ok(na.rate.series.length <= 60);
      assert.ok(na.rate.series.every((p) => p.stored >= 0 && Number.isInteger(p.t)));
    }

    c.ws.close();
    await until(
      "the closed socket to leave the count",
      () => data(a),
      (x) => (nodeOf(x, b)?.connections.enterprise ?? 0) === 0,
    );
  });

  test("top groups by members and messages, top rooms by audience, with names; ?top limits", async () => {
    carol = await a.app.accounts.createUser({ username: "carol", password: PASSWORD });
    const big = await a.app.groups.create(alice, { name: "Big group", userIds: [bob.id, carolId()] });
    const small = await a.app.groups.create(bob, { name: "Small group", userIds: [] });
    const quiet = await a.app.chatrooms.create({ adminToken: true }, { name: "Quiet room", avatar: "" });
    const busy = await a.app.chatrooms.create({ adminToken: true }, { name: "Busy room", avatar: "" });
    await b.app.chatrooms.join(busy.id, { userId: alice.id });
    await a.app.chatrooms.join(busy.id, { userId: bob.id });
    await a.app.chatrooms.join(busy.id, { guest: "guest-1" });

    const d = await until(
      "the rankings",
      () => data(b),
      (x) => x.topRooms[0]?.id === busy.id && x.topRooms[0]?.total === 3,
    );
    const members = d.topGroups.byMembers;
    const bigRow = members.find((g) => g.id === big.id);
    const smallRow = members.find((g) => g.id === small.id);
    assert.deepEqual(bigRow, { id: big.id, markId: big.markId, name: "Big group", total: 3 });
    assert.deepEqual(smallRow, { id: small.id, markId: small.markId, name: "Small group", total: 1 });
    assert.ok(members.indexOf(bigRow) < members.indexOf(smallRow));
    assert.ok(d.topGroups.byMessages.every((g) => typeof g.name === "string"));
    assert.deepEqual(d.topRooms[0], { id: busy.id, name: "Busy room", status: "open", users: 2, guests: 1, total: 3 });
    assert.equal(d.topRooms.find((r) => r.id === quiet.id)?.total, 0);

    const one = await data(a, "?top=1");
    assert.equal(one.topRooms.length, 1);
    assert.equal(one.topGroups.byMembers.length, 1);
    assert.equal(one.topGroups.byMembers[0]?.id, big.id);
  });

  test("drain a node: its access clients are kicked, the dashboard shows it draining and its connections gone", async () => {
    const admin = { authorization: `Bearer ${TOKEN}` };
    const im = async (s: TestServer, path: string) =>
      (await (await fetch(`${s.base}${path}`, { headers: admin })).json()) as Record<string, unknown>;
    const reg = await im(b, `/im/register?uid=${carolId()}&nation=1&city=1&town=1`);
    const sid = reg.sid as number;
    const ip = await im(b, `/im/iplist?type=2&uid=${carolId()}&sid=${sid}&clientip=127.0.0.1`);
    const client = await AccessClient.open("ws", a.base.replace("http://", ""));
    access.push(client);
    assert.equal((await client.online({ uid: carolId(), sid, token: ip.token as string })).code, 0);
    await until(
      "the access connection in the dashboard",
      () => data(b),
      (x) => nodeOf(x, a)?.connections.im === 1,
    );

    const res = await fetch(`${b.base}/admin/api/nodes/drain`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ nodeId: a.app.hub.nodeId }),
    });
    const body = (await res.json()) as { code: number; data: { nodeId: string; draining: boolean } };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual([body.data.nodeId, body.data.draining], [a.app.hub.nodeId, true]);
    assert.equal((await client.next()).cmd, "kick");
    const d = await until(
      "node a draining with no access connections",
      () => data(b),
      (x) => nodeOf(x, a)?.draining === true && (nodeOf(x, a)?.connections.im ?? 0) === 0,
    );
    assert.equal(nodeOf(d, b)?.draining, false);

    const unknown = await fetch(`${b.base}/admin/api/nodes/drain`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ nodeId: "no-such-node" }),
    });
    assert.equal(unknown.status, 404);
    const noToken = await fetch(`${b.base}/admin/api/nodes/drain`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ nodeId: a.app.hub.nodeId }),
    });
    assert.equal(noToken.status, 401);
  });

  test("the admin credential is required; bad parameters are 400", async () => {
    const none = await fetch(`${a.base}/admin/api/dashboard`);
    assert.equal(none.status, 401);
    for (const q of ["?top=0", "?top=51", "?top=x", "?other=1"]) {
      const r = await dashboard(a, q);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.code, 400);
    }
  });
});
