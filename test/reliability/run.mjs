#!/usr/bin/env node
// `npm run test:reliability`: the reliability suite (test/reliability/*.test.ts, one file at a
// time, on the backends of this run: SQLite by default, PostgreSQL + Redis with
// PARLEY_DATABASE_URL / PARLEY_REDIS_URL), then the figures every file recorded (requests fuzzed,
// 5xx, acked vs stored, memory) printed as one JSON document. Exits with the tests' status.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const files = readdirSync(here)
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => join("test/reliability", f));
const dir = mkdtempSync(join(tmpdir(), "parley-reliability-"));
const figures = join(dir, "figures.json");
const started = Date.now();
const load = loadavg().map((x) => x.toFixed(1));
const run = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--import",
    "./test/helpers/preload.ts",
    "--test",
    "--test-concurrency=1",
    "--test-timeout=600000",
    ...files,
  ],
  { cwd: join(here, "../.."), stdio: "inherit", env: { ...process.env, PARLEY_RELIABILITY_FIGURES: figures } },
);
const report = {
  command: "npm run test:reliability",
  backend: process.env.PARLEY_DATABASE_URL ? "postgres+redis" : "sqlite",
  node: process.version,
  seconds: Math.round((Date.now() - started) / 1000),
  loadAverageAtStart: load,
  loadAverageAtEnd: loadavg().map((x) => x.toFixed(1)),
  exitCode: run.status,
  figures: existsSync(figures) ? JSON.parse(readFileSync(figures, "utf8")) : {},
};
process.stdout.write(`\n== reliability figures\n${JSON.stringify(report, null, 2)}\n`);
rmSync(dir, { recursive: true, force: true });
process.exit(run.status ?? 1);
