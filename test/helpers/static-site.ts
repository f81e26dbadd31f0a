import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startServer } from "./server.ts";

/**
 * Shared set-up of the static-serving tests (test/web-static.test.ts for /app/,
 * test/admin-static.test.ts for /admin/): a raw GET, a build folder written from a map of files,
 * and the "no build yet, then the build appears" check both apps answer the same way.
 */

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET (or another method) with raw headers and the raw body (fetch would follow redirects and decode gzip). */
export function rawGet(base: string, path: string, headers: Record<string, string> = {}, method = "GET") {
  return new Promise<RawReply>((resolve, reject) => {
    const req = request(`${base}${path}`, { headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A fresh folder under the temp dir holding `files` (relative "/"-separated path → content). */
export function makeBuildDir(prefix: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [rel, content] of Object.entries(files)) {
    const full = join(dir, ...rel.split("/"));
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts a server whose `dirKey` ("web.dir" or "web.adminDir") is an empty folder: `path`
 * answers 503 naming the build command, uncached; once `index` is written as index.html the
 * server picks the build up (it looks again at most once a second) and the reply to `path` is
 * returned for the caller's own checks.
 */
export async function expectUnbuiltThenBuilt(
  dirKey: "web.dir" | "web.adminDir",
  path: string,
  index: string,
): Promise<RawReply> {
  const empty = makeBuildDir(dirKey === "web.dir" ? "parley-webdist-" : "parley-admindist-");
  const s = await startServer({ [dirKey]: empty.dir });
  try {
    const r = await rawGet(s.base, path);
    assert.equal(r.status, 503);
    assert.match(r.body.toString(), /npm run build:web/);
    assert.equal(r.headers["cache-control"], "no-store");
    writeFileSync(join(empty.dir, "index.html"), index);
    await new Promise((res) => setTimeout(res, 1100));
    const built = await rawGet(s.base, path);
    assert.equal(built.status, 200);
    return built;
  } finally {
    await s.close();
    empty.remove();
  }
}
