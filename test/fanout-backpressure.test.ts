import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { WebSocket } from "ws";
import { MAX_PENDING_EVENTS } from "../src/realtime/fanout.ts";
import { REDIS_URL } from "./helpers/backend.ts";
import { post, startServer } from "./helpers/server.ts";

/**
 * Bench (d) in small, with the answers checked (BENCHMARKS.md "bench (d) lost deliveries"): many
 * concurrent `send_to_group` pushes to a gateway group big enough for the shard-by-shard passes
 * (>= COALESCE_MIN = 256 members), over real sockets. Every client must receive every accepted
 * push exactly once, in order per sender, and the fan-out queue behind the pass stays bounded
 * (the pushes wait for room instead). A push answered busy (503) is retried by its sender, like a
 * real caller would; it was not pushed, so it must not arrive twice.
 */
const MEMBERS = 300;
const SENDERS = 320; // more pushes in flight than the queue bound, so admission has work to do
const PER_SENDER = 3;

/**
 * The pusher process: SENDERS senders at once, each sending PER_SENDER pushes one after the other
 * (so their order is the sender's order); a busy answer (503, documented body) is sent again.
 * Prints {ok, busy, bad}.
 */
const PUSHER = `
const http = require("node:http");
const [base, senders, per] = process.argv.slice(1);
const url = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(senders) });
const BUSY = JSON.stringify({ code: -1, msg: "服务暂不可用", data: [] });
let ok = 0, busy = 0;
const bad = [];
function post(body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: url.hostname, port: url.port, path: "/api/send_to_group", method: "POST", agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data), SystemId: "bp" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}
async function sender(k) {
  for (let seq = 0; seq < Number(per); seq++) {
    for (;;) {
      const r = await post({ sendUserId: "s" + k, groupName: "big", code: 0, msg: "m", data: { seq } });
      if (r.status === 503 && r.text === BUSY) { busy++; continue; }
      if (r.status === 200 && JSON.parse(r.text).code === 0) ok++;
      else if (bad.length < 5) bad.push(r.status + " " + r.text);
      break;
    }
  }
}
Promise.all(Array.from({ length: Number(senders) }, (_, k) => sender(k))).then(() => {
  process.stdout.write(JSON.stringify({ ok, busy, bad }));
  agent.destroy();
});
`;

type Seen = Map<string, number[]>;

test(`${SENDERS} concurrent senders to a ${MEMBERS}-member gateway group: every push exactly once, in order per sender (${REDIS_URL ? "Redis hub" : "memory hub"})`, {
  timeout: 300_000,
}, async () => {
  const s = await startServer({ "gateway.groupNotices": false });
  const sockets: WebSocket[] = [];
  try {
    assert.equal((await post(`${s.base}/api/register`, { systemId: "bp" })).body.code, 0);
    const seen: Seen[] = [];
    const ids = await Promise.all(
      Array.from(
        { length: MEMBERS },
        (_, i) =>
          new Promise<string>((resolve, reject) => {
            const ws = new WebSocket(`${s.ws}/ws?systemId=bp`, { perMessageDeflate: false });
            sockets.push(ws);
            const mine: Seen = new Map();
            seen[i] = mine;
            ws.once("error", reject);
            ws.once("message", (d) => {
              resolve(String(JSON.parse(d.toString()).data.clientId));
              ws.on("message", (m) => {
                const f = JSON.parse(m.toString()) as { sendUserId: string; data: { seq: number } };
                let list = mine.get(f.sendUserId);
                if (!list) {
                  list = [];
                  mine.set(f.sendUserId, list);
                }
                list.push(f.data.seq);
              });
            });
          }),
      ),
    );
    for (const clientId of ids) {
      const r = await post(`${s.base}/api/bind_to_group`, { clientId, groupName: "big" }, { SystemId: "bp" });
      assert.equal(r.body.code, 0);
    }
    const realtime = s.app.realtime;
    // sample the fan-out queue every turn while the pushes run
    let maxPending = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxPending = Math.max(maxPending, realtime.fanoutLoad.pending);
        await new Promise((r) => setImmediate(r));
      }
    })();
    // The pushes come from another process (keep-alive, all senders at once), so this process is
    // the server only and the fan-out, not the HTTP client, is what falls behind.
    const child = spawn(process.execPath, ["-e", PUSHER, s.base, String(SENDERS), String(PER_SENDER)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    assert.equal(code, 0, out);
    const result = JSON.parse(out) as { ok: number; busy: number; bad: string[] };
    assert.deepEqual(result.bad, []);
    assert.equal(result.ok, SENDERS * PER_SENDER);
    const busy = result.busy;
    const push = async (sendUserId: string, seq: number) => {
      const r = await post(
        `${s.base}/api/send_to_group`,
        { sendUserId, groupName: "big", code: 0, msg: "m", data: { seq } },
        { SystemId: "bp" },
      );
      assert.equal(r.body.code, 0, JSON.stringify(r.body));
    };
    // a last push: the topic keeps its order, so once it arrived everywhere nothing else is on its way
    await push("last", 0);
    const everyoneHasLast = () => seen.every((m) => m.get("last")?.length === 1);
    while (!everyoneHasLast()) await new Promise((r) => setTimeout(r, 20));
    sampling = false;
    await sampler;

    const want = Array.from({ length: PER_SENDER }, (_, i) => i);
    for (let i = 0; i < MEMBERS; i++) {
      const m = seen[i];
      assert.equal(m.size, SENDERS + 1, `client ${i} heard from ${m.size} senders`);
      for (let k = 0; k < SENDERS; k++) assert.deepEqual(m.get(`s${k}`), want, `client ${i}, sender s${k}`);
    }
    assert.equal(realtime.stats.slowConsumers.get("gateway") ?? 0, 0);
    // Memory hub: admission and publish happen in one turn, so the bound is exact. Redis hub:
    // pushes on their way through Redis are not in the queue yet when admitted.
    const bound = MAX_PENDING_EVENTS + (REDIS_URL ? SENDERS : 0);
    assert.ok(maxPending <= bound, `fan-out queue reached ${maxPending} (bound ${bound}); ${busy} busy answers`);
  } finally {
    for (const ws of sockets) ws.terminate();
    await s.close();
  }
});
