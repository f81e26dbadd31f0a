#!/usr/bin/env node
// The `parley` command (also `npm start` and `npm run parley`). Runs the compiled dist/cli.js when
// `npm run build` made it and no file under src/ is newer than it; otherwise the TypeScript
// sources through tsx (no build step needed). PARLEY_RUN_FROM=src or =dist forces one of them.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Newest (or oldest) modification time of the files under `dir` whose name ends with `ext`. */
function mtimes(dir, ext, pick) {
  let best = null;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const t = e.isDirectory() ? mtimes(p, ext, pick) : e.name.endsWith(ext) ? statSync(p).mtimeMs : null;
    if (t !== null) best = best === null ? t : pick(best, t);
  }
  return best;
}

function distIsCurrent() {
  if (!existsSync(join(root, "dist", "cli.js"))) return false;
  const oldestBuilt = mtimes(join(root, "dist"), ".js", Math.min);
  const newestSource = mtimes(join(root, "src"), ".ts", Math.max);
  return oldestBuilt !== null && newestSource !== null && oldestBuilt >= newestSource;
}

const from = process.env.PARLEY_RUN_FROM;
if (from && from !== "src" && from !== "dist") {
  process.stderr.write("parley: PARLEY_RUN_FROM must be src or dist\n");
  process.exit(2);
}
if (from === "dist" || (from !== "src" && distIsCurrent())) {
  if (!existsSync(join(root, "dist", "cli.js"))) {
    process.stderr.write("parley: PARLEY_RUN_FROM=dist but dist/cli.js does not exist: run npm run build\n");
    process.exit(2);
  }
  await import("../dist/cli.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli.ts");
}
