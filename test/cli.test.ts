import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
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
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "parley-cli-"));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("--help lists every option with its env var", async () => {
    const { stdout } = await run(process.execPath, [BIN, "--help"], { env: cleanEnv() });
    for (const cmd of ["serve", "migrate", "admin-token"]) assert.ok(stdout.includes(cmd));
    for (const k of KEYS) {
      assert.ok(stdout.includes(flagName(k.path)), `${flagName(k.path)} listed`);
      assert.ok(stdout.includes(envName(k.path)), `${envName(k.path)} listed`);
    }
  });

  test("migrate, admin-token rotate, and a bad option", async () => {
    const dir = tempDir();
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
    const dir = tempDir();
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
    // Not a terminal: JSON lines, with one "listening on" line at the default level (info).
    const logLines = out.split("\n").filter((l) => l.startsWith("{"));
    for (const l of logLines) JSON.parse(l);
    const listening = logLines.filter((l) => l.includes("listening on"));
    assert.equal(listening.length, 1, out);
    assert.equal(JSON.parse(listening[0]).level, 30);
    assert.match(
      JSON.parse(listening[0]).msg,
      new RegExp(`^Parley \\S+ listening on http://127\\.0\\.0\\.1:${port} \\(SQLite `),
    );
  });

  test("logFormat=pretty: local-time lines for people, the listening line among them", async () => {
    const dir = tempDir();
    const env = {
      ...cleanEnv(),
      PARLEY_DATA_DIR: dir,
      PARLEY_PORT: "0",
      PARLEY_HOST: "127.0.0.1",
      PARLEY_ADMIN_TOKEN: "pretty-test-token",
      PARLEY_LOG_FORMAT: "pretty",
    };
    const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line in: ${out}`)), 20000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /^.*listening on.*$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
    });
    const exited = new Promise<number | string | null>((r) => child.on("exit", (code, sig) => r(code ?? sig)));
    child.kill("SIGTERM");
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    assert.equal(await exited, 0, out + err);
    assert.match(
      line,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}Parley \S+ listening on http:\/\/127\.0\.0\.1:\d+ \(SQLite .*port=\d+/,
    );
    assert.doesNotMatch(out, /^\{"level"/m, "no JSON lines in pretty mode");
  });

  test("--version, per-command help, and a command without its action prints its usage", async () => {
    const env = cleanEnv();
    const version = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")).version;
    assert.equal((await run(process.execPath, [BIN, "--version"], { env })).stdout, `parley ${version}\n`);
    for (const args of [
      ["user", "--help"],
      ["help", "user"],
    ]) {
      const { stdout } = await run(process.execPath, [BIN, ...args], { env });
      assert.match(stdout, /^Usage: parley user create /);
      assert.doesNotMatch(stdout, /Commands:/, "the command's usage, not the global help");
    }
    assert.match(
      (await run(process.execPath, [BIN, "config", "--help"], { env })).stdout,
      /^Usage: parley config check/,
    );
    await assert.rejects(run(process.execPath, [BIN, "user"], { env }), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr ?? "", /^Usage: parley user create /);
      return true;
    });
  });

  test("config check: effective values with their source, secrets masked; an invalid file exits 2", async () => {
    const dir = tempDir();
    const file = join(dir, "parley.json");
    writeFileSync(file, JSON.stringify({ port: 9000, ws: { maxFrameBytes: 4096 }, logLevel: "debug" }));
    const env = {
      ...cleanEnv(),
      PARLEY_DATABASE_URL: "postgres://parley:db-password-1@127.0.0.1:5432/parley?sslmode=require",
      PARLEY_ADMIN_TOKEN: "admin-token-secret-2",
      PARLEY_LOG_LEVEL: "warn",
    };
    const { stdout } = await run(process.execPath, [BIN, "config", "check", `--config=${file}`, "--port=9001"], {
      env,
    });
    assert.match(stdout, /^configuration is valid\n/);
    const row = (key: string) => new RegExp(`^  ${key.replace(".", "\\.")} +(\\S+) +(.+)$`, "m").exec(stdout)?.slice(1);
    assert.deepEqual(row("port"), ["9001", "flag --port"]);
    assert.deepEqual(row("ws.maxFrameBytes"), ["4096", `file ${file}`]);
    assert.deepEqual(row("logLevel"), ["warn", "env PARLEY_LOG_LEVEL"]);
    assert.deepEqual(row("host"), ["0.0.0.0", "default"]);
    assert.deepEqual(row("databaseUrl"), [
      "postgres://parley:***@127.0.0.1:5432/parley?***",
      "env PARLEY_DATABASE_URL",
    ]);
    assert.deepEqual(row("adminToken"), ["***", "env PARLEY_ADMIN_TOKEN"]);
    assert.doesNotMatch(stdout, /db-password-1|admin-token-secret-2|sslmode/);
    for (const k of KEYS) assert.ok(row(k.path), `${k.path} listed`);

    writeFileSync(file, JSON.stringify({ port: "eighty" }));
    await assert.rejects(
      run(process.execPath, [BIN, "config", "check", `--config=${file}`], { env }),
      (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 2);
        assert.match(e.stderr ?? "", /port must be an integer/);
        return true;
      },
    );
  });

  test("bin/parley.mjs runs dist/ when it is built and current, else src/ through tsx", async () => {
    // A stand-in project: the real bin script and node_modules, a src/ and a dist/ that say who ran.
    const root = tempDir();
    mkdirSync(join(root, "bin"));
    mkdirSync(join(root, "src", "core"), { recursive: true });
    copyFileSync(BIN, join(root, "bin", "parley.mjs"));
    writeFileSync(join(root, "package.json"), '{"type":"module"}\n');
    symlinkSync(join(import.meta.dirname, "..", "node_modules"), join(root, "node_modules"));
    writeFileSync(join(root, "src", "cli.ts"), 'const from: string = "src";\nprocess.stdout.write(from);\n');
    writeFileSync(join(root, "src", "core", "x.ts"), "export {};\n");
    const bin = join(root, "bin", "parley.mjs");
    const who = async (extra: NodeJS.ProcessEnv = {}) =>
      (await run(process.execPath, [bin], { env: { ...cleanEnv(), ...extra } })).stdout;
    assert.equal(await who(), "src", "no dist/: tsx");
    await assert.rejects(
      run(process.execPath, [bin], { env: { ...cleanEnv(), PARLEY_RUN_FROM: "dist" } }),
      /npm run build/,
    );
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "dist", "cli.js"), 'process.stdout.write("dist");\n');
    const at = (file: string, secondsAgo: number) => {
      const t = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(file, t, t);
    };
    at(join(root, "src", "cli.ts"), 60);
    at(join(root, "src", "core", "x.ts"), 60);
    at(join(root, "dist", "cli.js"), 10);
    assert.equal(await who(), "dist", "dist/ newer than every source: dist");
    assert.equal(await who({ PARLEY_RUN_FROM: "src" }), "src", "forced");
    at(join(root, "src", "core", "x.ts"), 0);
    assert.equal(await who(), "src", "a source edited after the build: tsx");
    assert.equal(await who({ PARLEY_RUN_FROM: "dist" }), "dist", "forced");
  });

  test("npm run bench -- --help and bench:messages -- --help print usage instead of starting", async () => {
    const root = join(import.meta.dirname, "..");
    for (const [script, usage] of [
      ["bench/run.ts", /^usage: .*bench\/run\.ts/],
      ["bench/messages.ts", /^usage: npm run bench:messages/],
    ] as const) {
      const { stdout } = await run(process.execPath, ["--import", "tsx", join(root, script), "--help"], {
        env: cleanEnv(),
        cwd: root,
        timeout: 20_000,
      });
      assert.match(stdout, usage);
    }
  });
});
