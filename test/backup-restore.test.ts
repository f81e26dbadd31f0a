import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { seedDemo } from "../src/core/demo-seed.ts";
import { VERSION } from "../src/version.ts";
import { createBackend, createPgDatabase, DATABASE_URL } from "./helpers/backend.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * docs/OPERATIONS.md "Backup and restore" and "Upgrading", performed step by step: back up a
 * running server, write more, stop, restore the backup, migrate, start again — the data of the
 * backup is there, what came after it is not.
 */
const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "parley.mjs");

function pgDumpAvailable(): boolean {
  try {
    execFileSync("pg_dump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function cliEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
  return { ...env, PARLEY_LOG_LEVEL: "warn", ...overrides };
}

type Page = { code: number; data: { totalElements: number; data: { content: string }[] } };

/** alice (2) → bob (3) on the enterprise surface. */
async function send(server: TestServer, id: string, content: string): Promise<void> {
  const login = await fetch(`${server.base}/auth/login?account=alice&password=parley-demo`, { method: "POST" });
  const token = ((await login.json()) as { data: { authorization: string } }).data.authorization;
  const r = await fetch(`${server.base}/api/save_single_msg`, {
    method: "POST",
    headers: { authorization: token, "content-type": "application/json" },
    body: JSON.stringify({ id, senderId: 2, receiverId: 3, type: 1, content }),
  });
  assert.equal(((await r.json()) as { code: number }).code, 200);
}

/** alice uploads `bytes`; the path of its URL (`/files/<sha256>`). */
async function uploadFile(server: TestServer, bytes: Buffer, name: string): Promise<string> {
  const login = await fetch(`${server.base}/auth/login?account=alice&password=parley-demo`, { method: "POST" });
  const token = ((await login.json()) as { data: { authorization: string } }).data.authorization;
  const form = new FormData();
  form.append("file", new Blob([bytes], { type: "application/octet-stream" }), name);
  const r = await fetch(`${server.base}/api/file_upload`, {
    method: "POST",
    headers: { authorization: token },
    body: form,
  });
  const body = (await r.json()) as { code: number; data: { hdUrl: string } };
  assert.equal(body.code, 200, JSON.stringify(body));
  return new URL(body.data.hdUrl).pathname;
}

async function history(server: TestServer): Promise<string[]> {
  const login = await fetch(`${server.base}/auth/login?account=bob&password=parley-demo`, { method: "POST" });
  const token = ((await login.json()) as { data: { authorization: string } }).data.authorization;
  const r = await fetch(`${server.base}/api/find_single_msg?senderId=2&receiverId=3&page=1&size=20`, {
    method: "POST",
    headers: { authorization: token },
  });
  const page = (await r.json()) as Page;
  assert.equal(page.code, 200);
  return page.data.data.map((m) => m.content);
}

describe("backup, restore and upgrade as docs/OPERATIONS.md prints them", () => {
  test("SQLite: `parley backup` of a running server, restore by copying the file back, migrate, start (messages and files)", async () => {
    const backend = await createBackend();
    // files.store=database: the uploads are in parley.db, so the one backup file holds them too
    const sqlite = { databaseUrl: "", redisUrl: "", "files.store": "database", "files.chunkBytes": 65536 };
    try {
      let server = await startServer(sqlite, { backend });
      await seedDemo(server.app);
      await send(server, "b-1", "before the backup");
      const kept = randomBytes(200_000);
      const keptPath = await uploadFile(server, kept, "kept.bin");
      const backup = join(backend.dataDir, "..", `${backend.dataDir.split("/").pop()}-backup.db`);
      try {
        const env = cliEnv({ PARLEY_DATA_DIR: backend.dataDir });
        // 1. online backup while the server runs
        const { stdout } = await run(process.execPath, [BIN, "backup", `--out=${backup}`], { env });
        assert.match(stdout, /^backup of .*parley\.db written to .*-backup\.db \(\d+ pages\)$/m);
        await assert.rejects(run(process.execPath, [BIN, "backup", `--out=${backup}`], { env }), /already exists/);
        await send(server, "b-2", "after the backup");
        const lostPath = await uploadFile(server, randomBytes(1000), "lost.bin");
        assert.deepEqual(await history(server), ["after the backup", "before the backup"]);
        // 2. stop the server; 3. put the backup in place of parley.db, without the old WAL/SHM files
        await server.app.close();
        const db = join(backend.dataDir, "parley.db");
        renameSync(db, `${db}.broken`);
        rmSync(`${db}-wal`, { force: true });
        rmSync(`${db}-shm`, { force: true });
        copyFileSync(backup, db);
        // 4. migrate (the upgrade step; nothing to do on the same version), 5. start again
        assert.match((await run(process.execPath, [BIN, "migrate"], { env })).stdout, /database is up to date/);
        server = await startServer(sqlite, { backend });
        assert.deepEqual(await history(server), ["before the backup"]);
        assert.equal(existsSync(join(backend.dataDir, "files")), false, "no upload went to <dataDir>/files");
        const got = await fetch(`${server.base}${keptPath}`);
        assert.equal(got.status, 200);
        assert.deepEqual(Buffer.from(await got.arrayBuffer()), kept, "the file of the backup, byte for byte");
        const lost = await fetch(`${server.base}${lostPath}`);
        assert.equal(lost.status, 404, "an upload after the backup is not in the restore");
        await lost.arrayBuffer();
        const health = (await (await fetch(`${server.base}/healthz`)).json()) as { version: string };
        assert.equal(health.version, VERSION);
      } finally {
        await server.app.close();
        rmSync(backup, { force: true });
      }
    } finally {
      await backend.cleanup();
    }
  });

  test("PostgreSQL: pg_dump of a running server, pg_restore into a new database, start on it (messages and files)", async (t) => {
    if (!DATABASE_URL) return t.skip("PostgreSQL not configured (PARLEY_DATABASE_URL)");
    if (!pgDumpAvailable()) return t.skip("pg_dump is not installed");
    const backend = await createBackend();
    const restored = await createPgDatabase(DATABASE_URL);
    const dump = join(backend.dataDir, "parley.dump");
    // uploads in the database (files.store=database), in chunks of 64 KiB: the dump carries them
    const files = { "files.store": "database", "files.chunkBytes": 65536 };
    let server = await startServer({ redisUrl: "", ...files }, { backend });
    try {
      await seedDemo(server.app);
      await send(server, "p-1", "before the dump");
      const kept = randomBytes(300_000);
      const keptPath = await uploadFile(server, kept, "kept.bin");
      await run("pg_dump", ["-Fc", "-f", dump, backend.databaseUrl]);
      await send(server, "p-2", "after the dump");
      const lostPath = await uploadFile(server, randomBytes(1000), "lost.bin");
      await server.app.close();
      await run("pg_restore", ["--no-owner", "-d", restored.url, dump]);
      const env = cliEnv({ PARLEY_DATA_DIR: backend.dataDir, PARLEY_DATABASE_URL: restored.url });
      assert.match((await run(process.execPath, [BIN, "migrate"], { env })).stdout, /database is up to date/);
      server = await startServer({ redisUrl: "", databaseUrl: restored.url, ...files }, { backend });
      assert.deepEqual(await history(server), ["before the dump"]);
      assert.equal(existsSync(join(backend.dataDir, "files")), false, "no upload went to the data directory");
      const got = await fetch(`${server.base}${keptPath}`);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), kept, "the file of the backup, byte for byte");
      const range = await fetch(`${server.base}${keptPath}`, { headers: { range: "bytes=65530-131080" } });
      assert.equal(range.status, 206);
      assert.deepEqual(Buffer.from(await range.arrayBuffer()), kept.subarray(65530, 131081));
      const lost = await fetch(`${server.base}${lostPath}`);
      assert.equal(lost.status, 404, "an upload after the dump is not in the restore");
      await lost.arrayBuffer();
    } finally {
      await server.app.close();
      await restored.drop();
      if (existsSync(dump)) rmSync(dump);
      await backend.cleanup();
    }
  });
});
