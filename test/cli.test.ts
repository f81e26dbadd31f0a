import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { envName, flagName, KEYS } from "../src/config/schema.ts";

import { gatewayClient } from "./helpers/ws-client.ts";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "parley.mjs");
const cleanEnv = () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
  return env;
};

describe("parley CLI", () => {
  test("--help lists every option with its env var", async () => {
    const { stdout } = await run(process.execPath, [BIN, "--help"], { env: cleanEnv() });
    for (const cmd of ["serve", "migrate", "admin-token"]) assert.ok(stdout.includes(cmd));
    for (const k of KEYS) {
      assert.ok(stdout.includes(flagName(k.path)), `${flagName(k.path)} listed`);
      assert.ok(stdout.includes(envName(k.path)), `${envName(k.path)} listed`);
    }
  });

  test("migrate, admin-token rotate, and a bad option", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-cli-"));
    const env = { ...cleanEnv(), PARLEY_DATA_DIR: dir };
    assert.match(
      (await run(process.execPath, [BIN, "migrate"], { env })).stdout,
      /applied: 0001_foundation, 0002_accounts, 0003_messages, 0004_files/,
    );
    assert.match((await run(process.execPath, [BIN, "migrate"], { env })).stdout, /up to date/);
    const { stdout } = await run(process.execPath, [BIN, "admin-token", "rotate"], { env });
    assert.match(stdout.trim(), /^pa_[A-Za-z0-9_-]{43}$/);
    assert.match(readFileSync(join(dir, "admin-token.sha256"), "utf8"), /^[0-9a-f]{64}\n$/);
    assert.match((await run(process.execPath, [BIN, "admin-token"], { env })).stdout, /stored hashed/);
    await assert.rejects(
      run(process.execPath, [BIN, "serve", "--bogus=1"], { env }),
      (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 2);
        assert.match(e.stderr ?? "", /unknown option --bogus/);
        return true;
      },
    );
  });

  test("serve: prints the generated admin token once, serves, and exits 0 on SIGTERM closing sockets with 1001", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-cli-"));
    // The CLI test always uses the embedded defaults: it proves the two-command quick start.
    const env = {
      ...cleanEnv(),
      PARLEY_DATA_DIR: dir,
      PARLEY_PORT: "0",
      PARLEY_HOST: "127.0.0.1",
      PARLEY_LOG_LEVEL: "info",
    };
    const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line in: ${out}`)), 20000);
      child.stdout.on("data", () => {
        const m = /"port":(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    assert.match(out, /Parley admin token \(shown once/);
    const token = /\n {4}(pa_[A-Za-z0-9_-]{43})\n/.exec(out)?.[1];
    assert.ok(token);
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    await fetch(`${base}/api/register`, { method: "POST", body: JSON.stringify({ systemId: "s" }) });
    const { c } = await gatewayClient(`ws://127.0.0.1:${port}`, "s");
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    assert.equal((await c.closed).code, 1001);
    assert.equal(await exited, 0);
    assert.match(out, /shutting down/);
  });
});
