import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import sharp from "sharp";
import { createBackend } from "./helpers/backend.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * docs/OPERATIONS.md "File storage", switching an installation from `files.store=local` to
 * `database`: `parley files import-local`, then the server on the database store serves the old
 * uploads without `<dataDir>/files` (on SQLite, and on PostgreSQL when configured).
 */
const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "parley.mjs");

function cliEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
  return { ...env, PARLEY_LOG_LEVEL: "warn", PARLEY_RUN_FROM: "src", ...overrides };
}

async function upload(server: TestServer, token: string, bytes: Buffer, name: string, type: string) {
  const form = new FormData();
  form.append("file", new Blob([bytes], { type }), name);
  const r = await fetch(`${server.base}/api/file_upload`, {
    method: "POST",
    headers: { authorization: token },
    body: form,
  });
  const body = (await r.json()) as { code: number; data: { hdUrl: string; thumbUrl: string } };
  assert.equal(body.code, 200, JSON.stringify(body));
  return { hd: new URL(body.data.hdUrl).pathname, thumb: new URL(body.data.thumbUrl).pathname };
}

test("files import-local: local uploads copied into the database store, served from there", async () => {
  const backend = await createBackend();
  const env = cliEnv({
    PARLEY_DATA_DIR: backend.dataDir,
    PARLEY_DATABASE_URL: backend.databaseUrl,
    PARLEY_FILES_STORE: "database",
  });
  let server = await startServer({ redisUrl: "", "files.thumbnailPx": 32 }, { backend });
  try {
    const alice = await server.app.accounts.createUser({ username: "alice", password: "secret-pw1", nickname: "A" });
    const token = (await server.app.accounts.startSession(alice, { device: "pc" })).token;
    const image = await sharp({ create: { width: 120, height: 80, channels: 3, background: "#c33" } })
      .png()
      .toBuffer();
    const text = Buffer.from("an attachment uploaded before the switch\n");
    const img = await upload(server, token, image, "a.png", "image/png");
    const doc = await upload(server, token, text, "a.txt", "text/plain");
    assert.notEqual(img.thumb, img.hd);
    await server.app.close();

    // refused unless the target is the database store
    await assert.rejects(
      run(process.execPath, [BIN, "files", "import-local"], { env: { ...env, PARLEY_FILES_STORE: "local" } }),
      /set files\.store=database/,
    );
    // a stray file and a blob whose bytes do not match its name are reported, not imported
    const files = join(backend.dataDir, "files");
    writeFileSync(join(files, "README"), "not a blob");
    const fake = "ab".repeat(32);
    mkdirSync(join(files, "ab"), { recursive: true });
    writeFileSync(join(files, "ab", fake), "bytes of something else");
    const first = await run(process.execPath, [BIN, "files", "import-local"], { env }).catch((e) => e);
    assert.equal(first.code, 1, "exit 1: something was skipped");
    assert.match(first.stdout, /^imported 3, already there 0, skipped 2$/m, "image, thumbnail, text");
    assert.match(first.stderr, /skipped .*README/);
    assert.match(first.stderr, new RegExp(`skipped .*${fake}`));
    rmSync(join(files, "README"));
    rmSync(join(files, "ab"), { recursive: true });
    // again: nothing to do
    const second = await run(process.execPath, [BIN, "files", "import-local"], { env });
    assert.match(second.stdout, /^imported 0, already there 3, skipped 0$/m);

    // the local copies gone, the database store serves every upload and thumbnail
    rmSync(files, { recursive: true, force: true });
    server = await startServer({ redisUrl: "", "files.store": "database" }, { backend });
    for (const [path, bytes] of [
      [img.hd, image],
      [doc.hd, text],
    ] as const) {
      const r = await fetch(`${server.base}${path}`);
      assert.equal(r.status, 200, path);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), bytes);
    }
    const thumb = await fetch(`${server.base}${img.thumb}`);
    assert.equal(thumb.status, 200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.equal(Math.max(meta.width ?? 0, meta.height ?? 0), 32);
  } finally {
    await server.app.close();
    await backend.cleanup();
  }
});
