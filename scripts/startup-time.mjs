#!/usr/bin/env node
// Measures how long `parley serve` takes from spawn to its "listening on" line, from dist/ (after
// `npm run build`) and from src/ through tsx: `node scripts/startup-time.mjs [runs]` (default 5).
// Uses a temp data dir (migrated by a first, unmeasured start), port 0 and 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[2] ?? 5);
const bin = join(import.meta.dirname, "..", "bin", "parley.mjs");
const dir = mkdtempSync(join(tmpdir(), "parley-startup-"));

function start(from) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const env = { ...process.env, PARLEY_RUN_FROM: from, PARLEY_DATA_DIR: dir, PARLEY_PORT: "0" };
    Object.assign(env, { PARLEY_HOST: "127.0.0.1", PARLEY_ADMIN_TOKEN: "startup-time", PARLEY_LOG_FORMAT: "json" });
    const child = spawn(process.execPath, [bin, "serve"], { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let ms = 0;
    child.stdout.on("data", (d) => {
      out += d;
      if (!ms && out.includes("listening on")) {
        ms = performance.now() - t0;
        child.kill("SIGTERM");
      }
    });
    child.on("exit", (code) => (ms ? resolve(ms) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

try {
  await start("src"); // migrates the data dir
  for (const from of ["dist", "src"]) {
    const times = [];
    for (let i = 0; i < runs; i++) times.push(await start(from));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    process.stdout.write(
      `${from.padEnd(4)}  median ${Math.round(median)} ms  (min ${Math.round(times[0])}, max ${Math.round(times.at(-1))}, ${runs} runs)\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
