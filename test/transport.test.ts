import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { socketsReady } from "./helpers/ready.ts";
import { startServer } from "./helpers/server.ts";
import { TcpClient, TcpTransport } from "./helpers/tcp-transport.ts";
import { TestClient } from "./helpers/ws-client.ts";

describe("transports: one realtime layer, several wire framings", () => {
  test("a length-prefixed TCP transport shares topics, fan-out (rendered once, framed per transport), node ops and close", async () => {
    const s = await startServer();
    const rt = s.app.realtime;
    let renders = 0;
    rt.registerProtocol("probe", {
      render(event) {
        renders++;
        return JSON.stringify({ got: event.type, n: event.n });
      },
      onMessage(conn, data) {
        rt.sendText(conn, JSON.stringify({ echo: JSON.parse(Buffer.from(data as Buffer).toString("utf8")) }));
      },
    });
    const join = (conn: Parameters<typeof rt.subscribe>[0]) => rt.subscribe(conn, "t:probe");
    rt.route("/probe", async () => ({ accept: true, protocol: "probe", onOpen: join }));
    const tcp = rt.addTransport((sink) => new TcpTransport(sink, "probe", join));
    const port = await tcp.listen();
    const ws = new TestClient(`${s.ws}/probe`);
    await ws.opened;
    const raw = connect(port, "127.0.0.1");
    await new Promise((r) => raw.once("connect", r));
    const t = new TcpClient(raw);
    await socketsReady(s.app);
    try {
      assert.equal(rt.localSubscribers("t:probe"), 2);
      await rt.publish("t:probe", { type: "hello", n: 1 });
      assert.deepEqual(await ws.next(), { got: "hello", n: 1 });
      assert.deepEqual(await t.next(), { got: "hello", n: 1 });
      assert.equal(renders, 1, "rendered once for both transports");

      t.send({ hi: "tcp" });
      assert.deepEqual(await t.next(), { echo: { hi: "tcp" } });

      const conn = [...rt.connections.values()].find((c) => c.transport === tcp);
      assert.ok(conn);
      conn.owner = "probe-owner";
      await rt.send({ nodeId: rt.nodeId, connId: conn.id }, { type: "direct", n: 2 });
      assert.deepEqual(await t.next(), { got: "direct", n: 2 });
      assert.equal(await rt.kick({ nodeId: rt.nodeId, connId: conn.id }, "probe-owner", '{"bye":1}'), true);
      assert.deepEqual(await t.next(), { bye: 1 });
      assert.deepEqual(await t.next(), { close: 4003, reason: "kicked" });
      await t.ended;
    } finally {
      ws.close();
      raw.destroy();
      await s.close();
    }
  });
});
