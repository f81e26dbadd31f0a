#!/usr/bin/env node
// Builds the web client (web/app → web/dist, docs/web.md) and the admin console (web/admin →
// web/admin/dist, docs/admin-console.md). Run by `npm install` (prepare) and
// `npm run build:web`. Without Vite (an install with --omit=dev) it says so and exits 0: the
// server then answers /app/ with 503 and this command, instead of the install failing.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
let vite;
try {
  vite = await import(require.resolve("vite", { paths: [root] }));
} catch {
  console.warn("build-web: vite is not installed (npm install without dev dependencies?): web client not built");
  process.exit(0);
}
const started = Date.now();
await vite.build({ configFile: join(root, "web/vite.config.ts"), logLevel: process.env.CI ? "warn" : "info" });
if (!existsSync(join(root, "web/dist/index.html"))) {
  console.error("build-web: the build wrote no web/dist/index.html");
  process.exit(1);
}
console.log(`build-web: web/dist built in ${Date.now() - started} ms`);

// The admin console (web/admin → web/admin/dist, docs/admin-console.md), built the same way.
const adminStarted = Date.now();
await vite.build({ configFile: join(root, "web/admin/vite.config.ts"), logLevel: process.env.CI ? "warn" : "info" });
if (!existsSync(join(root, "web/admin/dist/index.html"))) {
  console.error("build-web: the build wrote no web/admin/dist/index.html");
  process.exit(1);
}
console.log(`build-web: web/admin/dist built in ${Date.now() - adminStarted} ms`);
