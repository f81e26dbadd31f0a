import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { post, startServer } from "./helpers/server.ts";

function ask<T>(child: ChildProcess, msg: object, timeoutMs = 60000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not answer ${JSON.stringify(msg)}`)), timeoutMs);
    child.once("message", (m: T & { error?: string }) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    child.send(msg);
  });
}

test("5 000 clients in one group (in a separate process) all receive a push", { timeout: 180000 }, async () => {
  const N = 5000;
  // Without the 1001 notices: filling a group of n with notices costs n²/2 frames (12.5 M here);
  // the notices themselves are tested in gateway.test.ts.
  const s = await startServer({ "gateway.groupNotices": false });
  const child = fork(join(import.meta.dirname, "fixtures", "gateway-clients.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    await post(`${s.base}/api/register`, { systemId: "big" });
    const { ids } = await ask<{ ids: string[] }>(child, { cmd: "connect", url: `${s.ws}/ws?systemId=big`, n: N });
    assert.equal(new Set(ids).size, N);
    // bind all of them, 100 requests in flight
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < N) {
          const clientId = ids[next++];
          const r = await post(`${s.base}/api/bind_to_group`, { clientId, groupName: "all" }, { SystemId: "big" });
          assert.equal(r.body.code, 0);
        }
      }),
    );
    const list = (await post(`${s.base}/api/get_online_list`, { groupName: "all" }, { SystemId: "big" })).body.data as {
      count: number;
    };
    assert.equal(list.count, N);
    const marker = "marker-5000-clients";
    await ask(child, { cmd: "watch", marker });
    const r = await post(
      `${s.base}/api/send_to_group`,
      { sendUserId: "u", groupName: "all", code: 0, msg: "m", data: { marker } },
      { SystemId: "big" },
    );
    assert.equal(r.body.code, 0);
    const { count } = await ask<{ count: number }>(child, { cmd: "wait" });
    assert.equal(count, N);
    assert.equal(s.app.realtime.stats.slowConsumers.get("gateway") ?? 0, 0);
  } finally {
    child.send({ cmd: "exit" });
    await new Promise((r) => child.once("exit", r));
    await s.close();
  }
});
