import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

/**
 * test/helpers/loopback-only.ts (preloaded by `npm test`): tests reach loopback only. Each case
 * runs in a child process with the same preload, because a refused connection also fails the
 * process that tried it.
 */
function run(code: string) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", "--import", "./test/helpers/preload.ts", "--input-type=module", "-e", code],
    {
      encoding: "utf8",
      timeout: 30_000,
    },
  );
}

test("a connection to a private address is refused where it is made, and the process exits non-zero", () => {
  // nothing is dialled: the refusal comes before any packet (10.0.0.1 appears here as data only)
  const r = run(`import net from "node:net";
    for (const args of [[{ host: "10.0.0.1", port: 9 }], [9, "192.168.1.1"]]) {
      try { net.connect(...args).on("error", () => {}); console.log("connected?"); }
      catch (e) { console.log("refused:", e.message); }
    }`);
  assert.equal(r.stdout.match(/refused: tests may connect to loopback only/g)?.length, 2, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /connected\?/);
  assert.match(r.stderr, /this process tried 10\.0\.0\.1, 192\.168\.1\.1/);
  assert.equal(r.status, 1);
});

test("loopback, localhost and socket paths pass (a closed port on 127.0.0.1 fails as the network says)", () => {
  const r = run(`import net from "node:net";
    const tries = [[{ host: "127.0.0.1", port: 1 }], [1, "localhost"], [{ path: "/nonexistent/parley.sock" }]];
    let left = tries.length;
    for (const args of tries)
      net.connect(...args).on("error", (e) => { console.log("network:", e.code); if (--left === 0) process.exit(0); });`);
  assert.equal(r.stdout.match(/network: (ECONNREFUSED|ENOENT)/g)?.length, 3, r.stdout + r.stderr);
  assert.equal(r.status, 0, r.stderr);
});
