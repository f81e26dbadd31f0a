import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { LocalFileStore } from "../src/adapters/files/local-file-store.ts";
import { SqlFileStore } from "../src/adapters/files/sql-file-store.ts";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import type { FileStore } from "../src/ports/file-store.ts";
import { createPgDatabase, DATABASE_URL } from "./helpers/backend.ts";

/**
 * The FileStore contract (src/ports/file-store.ts), run over every adapter of this run: the local
 * disk store always, the database store (files.store=database) on SQLite always and on
 * PostgreSQL when configured. Each backend gives two store instances over the same backing store
 * — two nodes of a cluster (two SqlStorage pools on one database; two LocalFileStores on one
 * directory, i.e. a shared volume).
 */
interface Backend {
  name: string;
  /** Bytes per chunk row (database stores): small, so the tests cross chunk boundaries. */
  chunkBytes?: number;
  make(): Promise<{ a: FileStore; b: FileStore; close(): Promise<void>; queries?: () => number }>;
}

const CHUNK = 1000;

/**
 * PostgreSQL: two pools, as two nodes have. SQLite is one node's database (a cluster runs on
 * PostgreSQL): its second store shares the connection — two better-sqlite3 connections in one
 * process would block each other's event loop on the write lock.
 */
async function sqlBackend(databaseUrl: string, sqliteFile: string) {
  let chunkQueries = 0;
  const open = (count: boolean) =>
    new SqlStorage({
      databaseUrl,
      sqliteFile,
      checkpointThread: false,
      onQuery: count
        ? (op) => {
            if (op === "select") chunkQueries++;
          }
        : undefined,
    });
  const sa = open(true);
  await sa.migrate();
  const sb = databaseUrl ? open(false) : null;
  return {
    a: new SqlFileStore(sa.db, CHUNK),
    b: new SqlFileStore((sb ?? sa).db, CHUNK),
    queries: () => chunkQueries,
    async close() {
      await sa.close();
      await sb?.close();
    },
  };
}

const BACKENDS: Backend[] = [
  {
    name: "local",
    async make() {
      const dir = mkdtempSync(join(tmpdir(), "parley-fs-contract-"));
      return {
        a: new LocalFileStore(dir),
        b: new LocalFileStore(dir),
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "database (SQLite)",
    chunkBytes: CHUNK,
    async make() {
      const dir = mkdtempSync(join(tmpdir(), "parley-fs-contract-"));
      const made = await sqlBackend("", join(dir, "t.db"));
      return {
        ...made,
        async close() {
          await made.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
if (DATABASE_URL) {
  BACKENDS.push({
    name: "database (PostgreSQL)",
    chunkBytes: CHUNK,
    async make() {
      const db = await createPgDatabase(DATABASE_URL);
      const made = await sqlBackend(db.url, "");
      return {
        ...made,
        async close() {
          await made.close();
          await db.drop();
        },
      };
    },
  });
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function bytesOf(store: FileStore, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const got = await store.get(key, range);
  assert.ok(got, `blob ${key} is there`);
  return readAll(got.stream);
}

for (const backend of BACKENDS) {
  describe(`file store contract: ${backend.name}`, () => {
    let made: Awaited<ReturnType<Backend["make"]>>;
    before(async () => {
      made = await backend.make();
    });
    after(async () => {
      await made?.close();
    });

    test("content-addressed and idempotent: the key is the sha256 of the bytes", async () => {
      const { a } = made;
      const key = await a.put(Buffer.from("hello"));
      assert.equal(key, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
      assert.equal(await a.put(Buffer.from("hello")), key, "the same bytes again: the same key");
      assert.equal(await a.exists(key), true);
      assert.equal(await a.size(key), 5);
      const got = await a.get(key);
      assert.ok(got);
      assert.equal(got.size, 5);
      assert.equal((await readAll(got.stream)).toString(), "hello");
    });

    test("unknown keys and anything that is not a key: null / false, never an error", async () => {
      const { a } = made;
      const key = await a.put(Buffer.from("known"));
      const unknown = sha256(Buffer.from("never stored"));
      for (const bad of [unknown, "../../etc/passwd", `${key.slice(0, 63)}/`, key.toUpperCase(), "", `${key}0`]) {
        assert.equal(await a.exists(bad), false, bad);
        assert.equal(await a.size(bad), null, bad);
        assert.equal(await a.get(bad), null, bad);
      }
    });

    test("several chunks: whole blob and byte ranges, across and on chunk boundaries", async () => {
      const { a } = made;
      const bytes = randomBytes(10 * CHUNK + 337);
      const key = await a.put(bytes);
      assert.equal(key, sha256(bytes));
      assert.equal(await a.size(key), bytes.length);
      assert.ok((await bytesOf(a, key)).equals(bytes), "the whole blob");
      const last = bytes.length - 1;
      const ranges = [
        [0, 0],
        [0, CHUNK - 1],
        [CHUNK - 1, CHUNK],
        [CHUNK, 2 * CHUNK - 1],
        [17, 4321],
        [3 * CHUNK + 5, 3 * CHUNK + 5],
        [last - 336, last],
        [last, last],
        [0, last],
      ];
      for (const [start, end] of ranges) {
        const got = await a.get(key, { start, end });
        assert.ok(got);
        assert.equal(got.size, bytes.length, "size is the whole blob's");
        assert.ok((await readAll(got.stream)).equals(bytes.subarray(start, end + 1)), `bytes=${start}-${end}`);
      }
    });

    test("an empty blob", async () => {
      const { a, b } = made;
      const key = await a.put(Buffer.alloc(0));
      assert.equal(key, sha256(Buffer.alloc(0)));
      assert.equal(await b.size(key), 0);
      assert.equal((await bytesOf(b, key)).length, 0);
    });

    test("two nodes: what one stores the other reads, whole and in ranges", async () => {
      const { a, b } = made;
      const bytes = randomBytes(5 * CHUNK + 1);
      const key = await a.put(bytes);
      assert.equal(await b.exists(key), true);
      assert.equal(await b.size(key), bytes.length);
      assert.ok((await bytesOf(b, key)).equals(bytes));
      assert.ok(
        (await bytesOf(b, key, { start: CHUNK + 3, end: 4 * CHUNK })).equals(bytes.subarray(CHUNK + 3, 4 * CHUNK + 1)),
      );
      assert.equal(await b.put(bytes), key, "storing it again on the other node is a no-op");
      assert.ok((await bytesOf(a, key)).equals(bytes));
    });

    test("the same bytes put at once on both nodes: one blob, intact", async () => {
      const { a, b } = made;
      const bytes = randomBytes(7 * CHUNK + 11);
      const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).put(bytes)));
      assert.deepEqual(new Set(keys), new Set([sha256(bytes)]));
      assert.ok((await bytesOf(a, keys[0])).equals(bytes));
      assert.ok((await bytesOf(b, keys[0])).equals(bytes));
    });

    test("atomic: a reader on the other node sees no blob or the whole blob, never part of it", async () => {
      const { a, b } = made;
      const bytes = randomBytes(300 * CHUNK + 7);
      const key = sha256(bytes);
      let done = false;
      const putting = a.put(bytes).finally(() => {
        done = true;
      });
      let seenWhole = 0;
      let polls = 0;
      while (!done || seenWhole === 0) {
        polls++;
        const putReturned: boolean = done;
        const got = await b.get(key);
        if (got) {
          assert.equal(got.size, bytes.length, "the size is final as soon as the blob is visible");
          assert.ok((await readAll(got.stream)).equals(bytes), "a visible blob is whole");
          seenWhole++;
        } else assert.equal(putReturned, false, "once put has returned the blob is visible");
      }
      assert.equal(await putting, key);
      assert.ok(polls >= 1 && seenWhole >= 1);
    });

    test("a reader that stops reading stops the store reading (back-pressure)", async (t) => {
      const { a } = made;
      const count = made.queries;
      if (!count) return t.skip("the local store streams from the file system (fs.createReadStream)");
      const bytes = randomBytes(200 * CHUNK);
      const key = await a.put(bytes);
      const got = await a.get(key);
      assert.ok(got);
      const before = count();
      const first = await new Promise<Buffer>((resolve) => got.stream.once("data", resolve));
      got.stream.pause();
      // let every pending pull run: a paused stream must not go on fetching the other chunks
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 50));
      const fetched = count() - before;
      assert.ok(first.length <= CHUNK);
      assert.ok(fetched <= 5, `a paused download fetched ${fetched} of 200 chunks`);
      got.stream.destroy();
    });
  });
}
