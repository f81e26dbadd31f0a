import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { createBackend, DATABASE_URL, type TestBackend } from "./helpers/backend.ts";
import { freePort } from "./helpers/ports.ts";
import { childEnv, type ServeChild, spawnServe, stopServe } from "./helpers/process-server.ts";
import { startServer } from "./helpers/server.ts";

/**
 * Shared files across nodes (docs/OPERATIONS.md "File storage"): two `parley serve` processes,
 * each with a data directory of its own, on one PostgreSQL database with `files.store=database`.
 * What is uploaded through one node is served by the other — whole, in ranges, thumbnails — and a
 * node on the local store (the control) does not have it.
 */
const MAX_BYTES = 8 * 1024 * 1024;

type Node = ServeChild;

type Uploaded = { code: number; data: { hdUrl: string; thumbUrl: string; size: number } };

async function startNode(backend: TestBackend, store: "database" | "local"): Promise<Node> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "parley-node-"));
  const env = childEnv(port, dataDir, {
    PARLEY_DATA_DIR: dataDir,
    PARLEY_DATABASE_URL: backend.databaseUrl,
    PARLEY_REDIS_URL: backend.redisUrl,
    PARLEY_REDIS_PREFIX: backend.redisPrefix,
    PARLEY_ADMIN_TOKEN: "test-admin-token",
    PARLEY_LOG_LEVEL: "warn",
    PARLEY_RUN_FROM: "src",
    PARLEY_FILES_STORE: store,
    PARLEY_FILES_CHUNK_BYTES: "65536",
    PARLEY_FILES_MAX_BYTES: String(MAX_BYTES),
    PARLEY_FILES_THUMBNAIL_PX: "64",
    // the local-store control node joins a cluster whose nodes keep files in the database: the
    // start guard refuses such mixed settings unless told this is deliberate (a rolling change)
    ...(store === "local" ? { PARLEY_CLUSTER_ALLOW_MIXED_SETTINGS: "1" } : {}),
  });
  return spawnServe(port, dataDir, env);
}

const stopNode = stopServe;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const pathOf = (url: string) => new URL(url).pathname;

/** The response body's sha256 and length, read as a stream (never one buffer of the whole file). */
async function digest(res: Response): Promise<{ sha: string; length: number }> {
  assert.ok(res.body);
  const h = createHash("sha256");
  let length = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    h.update(c);
    length += c.length;
  }
  return { sha: h.digest("hex"), length };
}

describe("files across nodes: files.store=database on PostgreSQL, two server processes", () => {
  let backend: TestBackend;
  let token = "";
  const nodes: Node[] = [];

  const upload = async (node: Node, bytes: Buffer, name: string, type: string) => {
    const form = new FormData();
    form.append("file", new Blob([bytes], { type }), name);
    const res = await fetch(`${node.base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: token },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as Uploaded };
  };

  before(async () => {
    if (!DATABASE_URL) return;
    backend = await createBackend();
    // a user and a session in the shared database (migrations run here too)
    const setup = await startServer({}, { backend });
    const alice = await setup.app.accounts.createUser({ username: "alice", password: "secret-pw1", nickname: "A" });
    token = (await setup.app.accounts.startSession(alice, { device: "pc" })).token;
    await setup.close();
    nodes.push(await startNode(backend, "database"), await startNode(backend, "database"));
  });
  after(async () => {
    for (const n of nodes) await stopNode(n);
    await backend?.cleanup();
  });

  test("an image uploaded through node A: node B serves it, its thumbnail and byte ranges", async (t) => {
    if (!DATABASE_URL) return t.skip("PostgreSQL not configured (PARLEY_DATABASE_URL)");
    const [a, b] = nodes;
    const bytes = await sharp({ create: { width: 400, height: 300, channels: 3, background: "#2a6" } })
      .png()
      .toBuffer();
    const up = await upload(a, bytes, "photo.png", "image/png");
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(pathOf(up.body.data.hdUrl), `/files/${sha256(bytes)}`);
    assert.notEqual(up.body.data.thumbUrl, up.body.data.hdUrl);

    const full = await fetch(`${b.base}${pathOf(up.body.data.hdUrl)}`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get("content-type"), "image/png");
    assert.equal(full.headers.get("content-length"), String(bytes.length));
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), bytes);

    const thumb = await fetch(`${b.base}${pathOf(up.body.data.thumbUrl)}`);
    assert.equal(thumb.status, 200);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48], "the thumbnail node A made");

    const part = await fetch(`${b.base}${pathOf(up.body.data.hdUrl)}`, { headers: { range: "bytes=10-99" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 10-99/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(10, 100));

    const head = await fetch(`${b.base}${pathOf(up.body.data.hdUrl)}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(bytes.length));

    // the control: a node on its own local store has the row (shared database) but not the bytes
    const local = await startNode(backend, "local");
    nodes.push(local);
    const missing = await fetch(`${local.base}${pathOf(up.body.data.hdUrl)}`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });

  test("a large file uploaded through node B streams from node A; the size limit holds on both", async (t) => {
    if (!DATABASE_URL) return t.skip("PostgreSQL not configured (PARLEY_DATABASE_URL)");
    const [a, b] = nodes;
    const bytes = randomBytes(MAX_BYTES - 12345); // about 128 chunks of 64 KiB
    const up = await upload(b, bytes, "backup.bin", "application/octet-stream");
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.data.size, bytes.length);
    const path = pathOf(up.body.data.hdUrl);

    const whole = await fetch(`${a.base}${path}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-length"), String(bytes.length));
    assert.deepEqual(await digest(whole), { sha: sha256(bytes), length: bytes.length });

    // a range that starts and ends inside chunks and spans many of them
    const start = 3 * 65536 + 100;
    const end = 70 * 65536 + 5;
    const part = await fetch(`${a.base}${path}`, { headers: { range: `bytes=${start}-${end}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-length"), String(end - start + 1));
    assert.deepEqual(await digest(part), { sha: sha256(bytes.subarray(start, end + 1)), length: end - start + 1 });

    // a suffix range: the last 1000 bytes
    const tail = await fetch(`${a.base}${path}`, { headers: { range: "bytes=-1000" } });
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(bytes.length - 1000));

    for (const node of [a, b]) {
      const big = await upload(node, randomBytes(MAX_BYTES + 1), "too-big.bin", "application/octet-stream");
      assert.equal(big.status, 413, "files.maxBytes");
    }
  });
});
