import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { ADMIN_TOKEN, BIN, type Cluster, NodeProc, nodeEnv, servicesOrSkip, startCluster } from "./helpers/cluster3.ts";
import { freePort } from "./helpers/ports.ts";

/**
 * Cluster-mode start guards of `parley serve`: a node with a Redis URL refuses to start on SQLite
 * or without an explicit admin token, and refuses to join a cluster whose live nodes run with other
 * cluster-wide settings — each with exit status 3 and one line naming the setting. With
 * `cluster.allowMixedSettings` it starts, with a warning naming the keys.
 */
const run = promisify(execFile);

describe("cluster mode: start guards", { skip: servicesOrSkip() }, () => {
  const dirs: string[] = [];
  let cl: Cluster | null = null;
  after(async () => {
    await cl?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), "parley-c3g-"));
    dirs.push(d);
    return d;
  };

  /** Runs `parley serve` expecting exit 3; returns its one stderr line. */
  async function refused(vars: Record<string, string>): Promise<string> {
    const e = await run(process.execPath, [BIN, "serve"], { env: nodeEnv(vars), timeout: 90_000 }).then(
      (r) => assert.fail(`started: ${r.stdout}`),
      (err: { code?: number; stderr?: string }) => err,
    );
    const lines = (e.stderr ?? "").trimEnd().split("\n");
    assert.equal(e.code, 3, e.stderr);
    assert.equal(lines.length, 1, `one line, got:\n${e.stderr}`);
    assert.match(lines[0], /^parley: /);
    return lines[0];
  }

  test("Redis with SQLite, or without an admin token: exit 3 naming the setting", async () => {
    const base = {
      PARLEY_HOST: "127.0.0.1",
      PARLEY_PORT: String(await freePort()),
      PARLEY_REDIS_URL: process.env.PARLEY_REDIS_URL ?? "",
      PARLEY_REDIS_PREFIX: `parley-c3g-${randomBytes(4).toString("hex")}:`,
      PARLEY_LOG_LEVEL: "warn",
    };
    const sqlite = await refused({ ...base, PARLEY_DATA_DIR: dataDir(), PARLEY_ADMIN_TOKEN: ADMIN_TOKEN });
    assert.match(sqlite, /cluster mode .* needs PostgreSQL .*\(PARLEY_DATABASE_URL\)$/);
    const noToken = await refused({
      ...base,
      PARLEY_DATA_DIR: dataDir(),
      PARLEY_DATABASE_URL: process.env.PARLEY_DATABASE_URL ?? "",
    });
    assert.match(noToken, /same admin token on every node.*\(PARLEY_ADMIN_TOKEN\)$/);
  });

  test("mixed settings: refused while a live node differs; allowed with a warning", async () => {
    cl = await startCluster(1);
    const [a] = cl.nodes;
    const port = await freePort();
    const vars = { ...cl.vars, PARLEY_PORT: String(port), PARLEY_TCP_PORT: "0" };
    const line = await refused({ ...vars, PARLEY_DATA_DIR: dataDir(), PARLEY_IM_TOKEN_TTL_MS: "60000" });
    assert.match(line, /mixed settings in the cluster: live node [0-9a-f]{16} runs with another im\.tokenTtlMs/);
    assert.match(line, /\(PARLEY_IM_TOKEN_TTL_MS\)$/);
    const token = await refused({ ...vars, PARLEY_DATA_DIR: dataDir(), PARLEY_ADMIN_TOKEN: "another-token" });
    assert.match(token, /another adminToken.*\(PARLEY_ADMIN_TOKEN\)$/);
    assert.ok(!token.includes("another-token") && !token.includes(ADMIN_TOKEN), "no secret in the message");
    // the registry holds a slow salted hash of the token, never the token or a fast hash of it
    const r = new Redis(cl.redisUrl);
    try {
      const info = (await r.hvals(`${cl.prefix}nodeinfo`)).join("\n");
      assert.ok(!info.includes(ADMIN_TOKEN));
      assert.match(info, /"adminToken":"[0-9a-f]{24}"/);
    } finally {
      r.disconnect();
    }
    // node-local settings may differ (ports, data directory, log level, database pool, shutdown timing)
    const b = new NodeProc("b", port, await freePort(), randomBytes(8).toString("hex"), {
      ...cl.vars,
      PARLEY_LOG_LEVEL: "error",
      PARLEY_DATABASE_POOL_SIZE: "3",
      PARLEY_SHUTDOWN_GRACE_MS: "1000",
    });
    cl.nodes.push(b);
    await b.start();
    await b.stop();
    // a rolling change of a cluster-wide setting: allowed explicitly, with a warning naming it
    const c = new NodeProc("c", await freePort(), await freePort(), randomBytes(8).toString("hex"), {
      ...cl.vars,
      PARLEY_IM_TOKEN_TTL_MS: "60000",
      PARLEY_CLUSTER_ALLOW_MIXED_SETTINGS: "1",
    });
    cl.nodes.push(c);
    await c.start();
    assert.match(c.output, /mixed settings in the cluster: live node [0-9a-f]{16} runs with another im\.tokenTtlMs/);
    assert.ok(a.alive);
  });
});
