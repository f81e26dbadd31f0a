import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";

/**
 * Start-up failures an operator can fix by one setting: the real CLI is started against a closed
 * port on 127.0.0.1 (PostgreSQL, Redis), a port another process holds, and a data directory that
 * cannot be written. Each must end with exit status 3 and ONE line on stderr that names the
 * setting — no stack trace, no credentials.
 */
const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "parley.mjs");

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

/** A port on 127.0.0.1 that nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("start-up errors: one line naming the setting, exit status 3", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "parley-cli-"));
    env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
    Object.assign(env, {
      PARLEY_DATA_DIR: join(dir, "data"),
      PARLEY_PORT: "0",
      PARLEY_HOST: "127.0.0.1",
      PARLEY_ADMIN_TOKEN: "startup-test-token",
      PARLEY_LOG_LEVEL: "warn",
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function fails(args: string[], extra: NodeJS.ProcessEnv, setting: string, reason: RegExp): Promise<string> {
    const started = Date.now();
    const e = await run(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, timeout: 30_000 }).then(
      (r) => assert.fail(`exited 0: ${r.stdout}`),
      (err: { code?: number; stderr?: string }) => err,
    );
    const stderr = e.stderr ?? "";
    assert.equal(e.code, 3, stderr);
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
    assert.match(lines[0], /^parley: /);
    assert.ok(lines[0].includes(setting), `${setting} named in: ${lines[0]}`);
    assert.match(lines[0], reason);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    assert.ok(Date.now() - started < 20_000, "fails within the probes' 5 s timeouts, not after retries");
    return lines[0];
  }

  test("PostgreSQL unreachable (serve and migrate): PARLEY_DATABASE_URL, without the password", async () => {
    const url = `postgres://parley:very-secret-pw@127.0.0.1:${await closedPort()}/parley`;
    for (const cmd of ["serve", "migrate"]) {
      const line = await fails(
        [cmd],
        { PARLEY_DATABASE_URL: url },
        "PARLEY_DATABASE_URL",
        /cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/parley: .*ECONNREFUSED/,
      );
      assert.doesNotMatch(line, /very-secret-pw/);
    }
  });

  test("Redis unreachable: PARLEY_REDIS_URL", async () => {
    const url = `redis://:redis-secret@127.0.0.1:${await closedPort()}`;
    const line = await fails(
      ["serve"],
      { PARLEY_REDIS_URL: url },
      "PARLEY_REDIS_URL",
      /cannot reach Redis at 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    assert.doesNotMatch(line, /redis-secret/);
  });

  test("port in use: PARLEY_PORT", async () => {
    const holder = createServer();
    const port = await listen(holder);
    try {
      await fails(
        ["serve"],
        { PARLEY_PORT: String(port) },
        "PARLEY_PORT",
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  test("data directory not writable: PARLEY_DATA_DIR (serve and user create)", async () => {
    // A regular file where a directory should be stops even root (who ignores permission bits).
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "");
    await fails(
      ["serve"],
      { PARLEY_DATA_DIR: join(file, "data") },
      "PARLEY_DATA_DIR",
      /data directory .* is not writable: ENOTDIR/,
    );
    await fails(
      ["user", "create", "--username=x1"],
      { PARLEY_DATA_DIR: join(file, "data") },
      "PARLEY_DATA_DIR",
      /not writable/,
    );
    if (process.getuid?.() !== 0) {
      const ro = join(dir, "read-only");
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      try {
        await fails(["serve"], { PARLEY_DATA_DIR: ro }, "PARLEY_DATA_DIR", /not writable: EACCES/);
      } finally {
        chmodSync(ro, 0o700);
      }
    }
  });
});
