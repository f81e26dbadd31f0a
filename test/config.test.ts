import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, loadConfig } from "../src/config/load.ts";
import { envName, flagName, KEYS } from "../src/config/schema.ts";

describe("config", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "parley-cfg-"));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("defaults: port 8080, ./data, SQLite, in-process hub, 64 KiB frames, 25 s pings", () => {
    const { config, warnings } = loadConfig({ env: {} });
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, "./data");
    assert.equal(config.databaseUrl, "");
    assert.equal(config.redisUrl, "");
    assert.equal(config.tcpPort, 0);
    assert.equal(config.ws.maxFrameBytes, 65536);
    assert.equal(config.ws.pingIntervalMs, 25000);
    assert.deepEqual(warnings, []);
  });

  test("names: env and flag names derive from the path", () => {
    assert.equal(envName("ws.maxFrameBytes"), "PARLEY_WS_MAX_FRAME_BYTES");
    assert.equal(envName("databaseUrl"), "PARLEY_DATABASE_URL");
    assert.equal(envName("tcpPort"), "PARLEY_TCP_PORT");
    assert.equal(flagName("gateway.registerRequiresAdmin"), "--gateway-register-requires-admin");
    for (const k of KEYS) assert.ok(k.doc.length > 5, `${k.path} has a doc line`);
  });

  test("precedence: file < env < flags, and the result is frozen", () => {
    const dir = tempDir();
    const file = join(dir, "c.json");
    writeFileSync(
      file,
      JSON.stringify({ port: 1000, ws: { maxFrameBytes: 1000 }, "gateway.prefix": "/f", logLevel: "warn" }),
    );
    const { config } = loadConfig({
      env: { PARLEY_CONFIG: file, PARLEY_PORT: "2000", PARLEY_WS_MAX_FRAME_BYTES: "2000" },
      argv: ["--port=3000"],
    });
    assert.equal(config.port, 3000);
    assert.equal(config.ws.maxFrameBytes, 2000);
    assert.equal(config.gateway.prefix, "/f");
    assert.equal(config.logLevel, "warn");
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.ws));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    });
  });

  test("types are validated; lists and booleans parse", () => {
    const { config } = loadConfig({
      env: { PARLEY_WS_ALLOWED_ORIGINS: "https://a, https://b", PARLEY_GATEWAY_REGISTER_REQUIRES_ADMIN: "yes" },
      argv: ["--request-log"],
    });
    assert.deepEqual(config.ws.allowedOrigins, ["https://a", "https://b"]);
    assert.equal(config.gateway.registerRequiresAdmin, true);
    assert.equal(config.requestLog, true);
    assert.throws(() => loadConfig({ env: { PARLEY_PORT: "eighty" } }), ConfigError);
    assert.throws(() => loadConfig({ env: { PARLEY_PORT: "70000" } }), /≤ 65535/);
    assert.throws(() => loadConfig({ env: { PARLEY_LOG_LEVEL: "loud" } }), /one of/);
    assert.throws(() => loadConfig({ env: { PARLEY_DATABASE_URL: "mysql://x" } }), /postgres/);
    assert.throws(() => loadConfig({ env: {}, argv: ["--no-such-flag=1"] }), /unknown option/);
  });

  test("README's configuration table is the one scripts/config-table.ts generates from the key list", () => {
    const root = join(import.meta.dirname, "..");
    const table = execFileSync(process.execPath, ["--import", "tsx", join(root, "scripts", "config-table.ts")], {
      cwd: root,
      encoding: "utf8",
    });
    assert.ok(
      readFileSync(join(root, "README.md"), "utf8").includes(table),
      "regenerate it: node --import tsx scripts/config-table.ts",
    );
  });

  test("unknown keys and variables are warned about, not fatal", () => {
    const dir = tempDir();
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ prot: 1, ws: { maxFrameByte: 1 } }));
    const { warnings } = loadConfig({ env: { PARLEY_CONFIG: file, PARLEY_PROT: "1", PARLEY_REQUIRE_SERVICES: "1" } });
    assert.equal(warnings.length, 3);
    assert.ok(warnings.some((w) => w.includes('"prot"')));
    assert.ok(warnings.some((w) => w.includes("ws.maxFrameByte")));
    assert.ok(warnings.some((w) => w.includes("PARLEY_PROT")));
  });
});

describe("cluster mode warnings", () => {
  test("a cluster node keeping uploads on its own disk is warned; the database store or one node is not", async () => {
    const { clusterModeWarnings } = await import("../src/adapters/startup-checks.ts");
    const cluster = {
      PARLEY_REDIS_URL: "redis://127.0.0.1:6379",
      PARLEY_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
    };
    const local = loadConfig({ env: cluster }).config;
    const warned = clusterModeWarnings(local);
    assert.equal(warned.length, 1);
    assert.match(warned[0] ?? "", /files\.store=local.*files\.store=database/);
    assert.deepEqual(
      clusterModeWarnings(loadConfig({ env: { ...cluster, PARLEY_FILES_STORE: "database" } }).config),
      [],
    );
    assert.deepEqual(clusterModeWarnings(loadConfig({ env: {} }).config), []);
  });
});
