import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { LocalFileStore } from "../src/adapters/files/local-file-store.ts";
import { type FileStoreTables, SqlFileStore } from "../src/adapters/files/sql-file-store.ts";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { AppError } from "../src/ports/errors.ts";
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
  make(): Promise<{
    a: FileStore;
    b: FileStore;
    close(): Promise<void>;
    queries?: () => number;
    /** Staged bytes in the backing store (temp files; staging rows and their chunks). */
    leftovers(): Promise<number>;
  }>;
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
  const db = sa.db.withTables<FileStoreTables>();
  return {
    a: new SqlFileStore(sa.db, CHUNK),
    b: new SqlFileStore((sb ?? sa).db, CHUNK),
    queries: () => chunkQueries,
    async leftovers() {
      const blobs = await db.selectFrom("file_blobs").select("key").where("key", "like", "~%").execute();
      const chunks = await db.selectFrom("file_chunks").select("idx").where("key", "like", "~%").execute();
      return blobs.length + chunks.length;
    },
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
        leftovers: async () => (existsSync(join(dir, ".tmp")) ? readdirSync(join(dir, ".tmp")).length : 0),
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

    test("stage: pieces of any size are hashed and written as they come; invisible until commit", async () => {
      const { a, b } = made;
      const bytes = randomBytes(9 * CHUNK + 123);
      const sizes = [1, 7, CHUNK, CHUNK - 1, 3 * CHUNK + 2, 5];
      const staged = await a.stage(pieces(bytes, sizes));
      assert.equal(staged.key, sha256(bytes));
      assert.equal(staged.size, bytes.length);
      assert.equal(await b.exists(staged.key), false, "staged is not stored");
      assert.equal(await b.get(staged.key), null);
      assert.ok((await made.leftovers()) > 0, "the staged bytes are in the store, not in memory");
      assert.equal(await staged.commit(), staged.key);
      assert.equal(await staged.commit(), staged.key, "commit is idempotent");
      await staged.discard(); // a no-op after commit
      assert.equal(await made.leftovers(), 0);
      assert.equal(await b.size(staged.key), bytes.length);
      assert.ok((await bytesOf(b, staged.key)).equals(bytes));
      assert.ok(
        (await bytesOf(b, staged.key, { start: CHUNK - 2, end: 4 * CHUNK + 9 })).equals(
          bytes.subarray(CHUNK - 2, 4 * CHUNK + 10),
        ),
      );
      const empty = await a.stage([]);
      assert.equal(await empty.commit(), sha256(Buffer.alloc(0)));
      assert.equal((await bytesOf(a, empty.key)).length, 0);
    });

    test("stage: a source that fails mid-stream (a cut connection) leaves nothing behind", async () => {
      const { a, b } = made;
      const bytes = randomBytes(6 * CHUNK + 5);
      async function* cut(): AsyncGenerator<Buffer> {
        yield bytes.subarray(0, 2 * CHUNK + 10);
        yield bytes.subarray(2 * CHUNK + 10, 4 * CHUNK);
        await new Promise((r) => setTimeout(r, 5));
        throw Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
      }
      await assert.rejects(a.stage(cut()), /Premature close/);
      assert.equal(await made.leftovers(), 0, "no temp file, no staging row, no chunk");
      assert.equal(await b.exists(sha256(bytes)), false);
      assert.equal(await b.exists(sha256(bytes.subarray(0, 4 * CHUNK))), false);
    });

    test("stage: more than maxBytes is refused as soon as it arrives; the source is not read on", async () => {
      const { a } = made;
      const maxBytes = 5 * CHUNK;
      let pulled = 0;
      async function* endless(): AsyncGenerator<Buffer> {
        for (;;) {
          pulled++;
          yield randomBytes(CHUNK / 2);
        }
      }
      await assert.rejects(
        a.stage(endless(), { maxBytes }),
        (e: unknown) => e instanceof AppError && e.reason === "file_too_large" && e.code === "invalid_argument",
      );
      assert.equal(pulled, 11, "ten pieces fit, the eleventh is one too many");
      assert.equal(await made.leftovers(), 0);
      const exact = await a.stage(pieces(randomBytes(maxBytes), [CHUNK]), { maxBytes });
      assert.equal(exact.size, maxBytes, "exactly maxBytes is accepted");
      await exact.discard();
      assert.equal(await made.leftovers(), 0);
      assert.equal(await a.exists(exact.key), false, "discarded, never stored");
      await assert.rejects(exact.commit(), "a discarded stage cannot be committed");
    });

    test("stage: the same content streamed at once on both nodes — one blob, the same key, no leftovers", async () => {
      const { a, b } = made;
      const bytes = randomBytes(12 * CHUNK + 77);
      const staged = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).stage(pieces(bytes, [CHUNK + i, 333]))),
      );
      assert.deepEqual(new Set(staged.map((s) => s.key)), new Set([sha256(bytes)]));
      const keys = await Promise.all(staged.map((s) => s.commit()));
      assert.deepEqual(new Set(keys), new Set([sha256(bytes)]));
      assert.equal(await made.leftovers(), 0, "the losers' staged copies are gone");
      assert.ok((await bytesOf(a, keys[0] as string)).equals(bytes));
      assert.ok((await bytesOf(b, keys[0] as string)).equals(bytes));
      // and once it is stored, a new stage of it commits to the same blob
      const again = await a.stage(pieces(bytes, [4 * CHUNK]));
      assert.equal(await again.commit(), sha256(bytes));
      assert.equal(await made.leftovers(), 0);
      assert.equal(await b.size(sha256(bytes)), bytes.length);
    });

    test("sweepStaged: what a killed process left is removed once old enough; a fresh stage is kept", async () => {
      const { a, b } = made;
      const bytes = randomBytes(3 * CHUNK + 1);
      const orphan = await a.stage(pieces(bytes, [CHUNK])); // never committed nor discarded
      assert.equal(await b.sweepStaged(60_000), 0, "younger than the age: an upload in progress");
      assert.ok((await made.leftovers()) > 0);
      await new Promise((r) => setTimeout(r, 20));
      assert.ok((await b.sweepStaged(10)) >= 1);
      assert.equal(await made.leftovers(), 0);
      assert.equal(await a.exists(orphan.key), false);
    });
  });
}

/** `bytes` as an async source of pieces cycling through `sizes`. */
async function* pieces(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number;
    yield bytes.subarray(at, at + n);
    at += n;
    await new Promise((r) => setImmediate(r));
  }
}
