import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createBackend, type TestBackend } from "./helpers/backend.ts";
import { freePort } from "./helpers/ports.ts";
import { childEnv, type ServeChild, spawnServe, stopServe } from "./helpers/process-server.ts";
import { startServer } from "./helpers/server.ts";

/**
 * Uploads stream, so a node's memory does not grow with the uploads in flight (issue 19: "the
 * server's memory stays bounded"): a real `parley serve` process takes 20 concurrent uploads of
 * 8 MiB each (160 MiB in flight), on the local store and on the database store of this run's
 * database (SQLite, or PostgreSQL when configured), and its peak RSS (VmHWM, reset after a warm-up
 * round of 10 such uploads that fills the fixed-size caches) grows by far less than the 160 MiB a buffering server needs — at most a quarter of it.
 * Every upload is checked afterwards (size and sha256 of what the server stored).
 */
const MIB = 1024 * 1024;
const SIZE = 8 * MIB;
const UPLOADS = 20;
const PIECE = 64 * 1024;
const BOUNDARY = "----parley-memory-test";

type Node = ServeChild;

async function startNode(backend: TestBackend, store: "local" | "database"): Promise<Node> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "parley-upmem-"));
  const env = childEnv(port, dataDir, {
    PARLEY_DATA_DIR: backend.databaseUrl ? dataDir : backend.dataDir,
    PARLEY_DATABASE_URL: backend.databaseUrl,
    PARLEY_REDIS_URL: backend.redisUrl,
    PARLEY_REDIS_PREFIX: backend.redisPrefix,
    PARLEY_ADMIN_TOKEN: "test-admin-token",
    PARLEY_LOG_LEVEL: "warn",
    PARLEY_RUN_FROM: "src",
    PARLEY_FILES_STORE: store,
    PARLEY_FILES_MAX_BYTES: String(SIZE + MIB),
    PARLEY_FILES_MAX_CONCURRENT_UPLOADS: String(UPLOADS),
  });
  return spawnServe(port, dataDir, env);
}

const stopNode = stopServe;

/** kB figures of /proc/<pid>/status. */
function procStatus(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, field);
  return Number(m[1]) * 1024;
}

/** Streams one upload of `size` fresh random bytes (never all in memory here either); its answer and sha256. */
function upload(base: string, token: string, size: number): Promise<{ status: number; body: string; sha: string }> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    const req = request(`${base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: token, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    });
    req.on("error", reject);
    req.on("response", (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString(), sha: h.digest("hex") }),
      );
    });
    req.write(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = randomBytes(Math.min(PIECE, size - sent));
        h.update(piece);
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      req.end(`\r\n--${BOUNDARY}--\r\n`);
    };
    pump();
  });
}

for (const store of ["local", "database"] as const) {
  describe(`upload memory, files.store=${store}: ${UPLOADS} concurrent uploads of ${SIZE / MIB} MiB`, () => {
    let backend: TestBackend;
    let node: Node;
    let token = "";

    before(async () => {
      backend = await createBackend();
      // a user and a session in the node's database (migrations run here too)
      const setup = await startServer({}, { backend });
      const alice = await setup.app.accounts.createUser({ username: "alice", password: "secret-pw1", nickname: "A" });
      token = (await setup.app.accounts.startSession(alice, { device: "pc" })).token;
      await setup.close();
      node = await startNode(backend, store);
    });
    after(async () => {
      if (node) await stopNode(node);
      await backend?.cleanup();
    });

    test("peak RSS grows by far less than the bytes in flight; every upload stored whole", async () => {
      const pid = node.proc.pid as number;
      // warm-up: pools, JIT, and the caches a node fills once whatever the load (SQLite's page
      // cache is 64 MiB) — half the measured load, at once
      for (const warm of await Promise.all(Array.from({ length: UPLOADS / 2 }, () => upload(node.base, token, SIZE))))
        assert.equal(warm.status, 200, warm.body);
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS
      const baseline = procStatus(pid, "VmRSS");

      const results = await Promise.all(Array.from({ length: UPLOADS }, () => upload(node.base, token, SIZE)));
      const peak = procStatus(pid, "VmHWM");
      const growth = peak - baseline;
      console.log(
        `files.store=${store}${backend.databaseUrl ? " (PostgreSQL)" : " (SQLite)"}: ${UPLOADS} × ${SIZE / MIB} MiB; RSS before ${(baseline / MIB).toFixed(1)} MiB, peak ${(peak / MIB).toFixed(1)} MiB, growth ${(growth / MIB).toFixed(1)} MiB`,
      );
      for (const r of results) {
        assert.equal(r.status, 200, r.body);
        const data = (JSON.parse(r.body) as { data: { hdUrl: string; size: number } }).data;
        assert.equal(data.size, SIZE);
        assert.equal(new URL(data.hdUrl).pathname, `/files/${r.sha}`, "stored under the sha256 of what was sent");
      }
      assert.ok(
        growth < (UPLOADS * SIZE) / 4,
        `peak RSS grew by ${(growth / MIB).toFixed(1)} MiB for ${(UPLOADS * SIZE) / MIB} MiB in flight`,
      );
      // and what is stored is whole: one of them read back through the server
      const one = JSON.parse((results[7] as { body: string }).body) as { data: { hdUrl: string } };
      const res = await fetch(`${node.base}${new URL(one.data.hdUrl).pathname}`);
      const h = createHash("sha256");
      let length = 0;
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
        h.update(c);
        length += c.length;
      }
      assert.deepEqual({ sha: h.digest("hex"), length }, { sha: (results[7] as { sha: string }).sha, length: SIZE });
    });
  });
}
