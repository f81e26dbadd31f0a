import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { invalid } from "../../ports/errors.ts";
import { type FileStore, isBlobKey, type StagedBlob } from "../../ports/file-store.ts";
import type { Database } from "../sql/schema.ts";

/** The two tables of migration 0013 (`file_blobs`, `file_chunks`). */
export type FileStoreTables = {
  file_blobs: {
    /** sha256 hex of the bytes: the FileStore key. */
    key: string;
    size: number;
    /** Bytes per chunk of this blob (the last chunk may be shorter). */
    chunk_bytes: number;
    created_at: number;
  };
  file_chunks: {
    key: string;
    /** 0-based chunk number. */
    idx: number;
    data: Buffer;
  };
};

/** Staging rows' keys start with this (a blob key is hex only, so none of them can be read). */
const STAGING_PREFIX = "~";

/** Default bytes per chunk (`files.chunkBytes`). */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

/**
 * FileStore in the database every node already shares (`files.store=database`): one `file_blobs`
 * row per blob and its bytes split into `file_chunks` rows (`bytea` on PostgreSQL, `blob` on
 * SQLite) of `chunkBytes` each. Why rows and not PostgreSQL large objects: reading a large object
 * needs an open transaction for the whole download (a slow client would pin a pooled connection
 * and hold back vacuum), large objects have no owner row (orphans need `vacuumlo`) and are not
 * carried by logical replication; chunk rows are read one short query at a time, are dumped and
 * restored with the rest of the database, and work the same on SQLite.
 *
 * - `put` writes the blob row and every chunk in one transaction, so a reader (who always starts
 *   from the blob row) sees the whole blob or none of it. Two nodes storing the same bytes at once
 *   serialise on the blob row's primary key: the second one's insert waits for the first to commit
 *   and then does nothing.
 * - `stage` (uploads) streams: the bytes are cut into chunk rows as they arrive, each row inserted
 *   on its own (a short statement, no transaction held while the client sends — on SQLite that
 *   would stop every other query of the node) under a staging blob row whose key starts with `~`
 *   (never a well-formed key, so no reader can see it). One insert is in flight while the next
 *   chunk fills: about two chunks in memory per upload. The commit is one short transaction that
 *   inserts the blob row and re-keys the staged chunks to it (or, when the bytes are stored
 *   already, deletes them); a failed or discarded stage deletes its rows, and `sweepStaged`
 *   deletes what a killed process left (by the staging row's start time).
 * - `get` streams chunk by chunk with back-pressure (one chunk query at a time, only while the
 *   reader wants more), so a download holds at most about one chunk in memory and no connection
 *   between chunks; a byte range reads only the chunks it covers.
 */
export class SqlFileStore implements FileStore {
  private readonly db: Kysely<Database & FileStoreTables>;

  constructor(
    db: Kysely<Database>,
    private readonly chunkBytes: number = DEFAULT_CHUNK_BYTES,
  ) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new Error(`chunkBytes must be a positive integer`);
    this.db = db.withTables<FileStoreTables>();
  }

  async put(bytes: Buffer): Promise<string> {
    const key = createHash("sha256").update(bytes).digest("hex");
    if (await this.exists(key)) return key;
    const chunkBytes = this.chunkBytes;
    await this.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .insertInto("file_blobs")
        .values({ key, size: bytes.length, chunk_bytes: chunkBytes, created_at: Date.now() })
        .onConflict((oc) => oc.column("key").doNothing())
        .returning("key")
        .executeTakeFirst();
      if (!claimed) return; // stored meanwhile by another put (this node or another)
      // subarray: views of the caller's buffer, no copy of the whole file
      for (let idx = 0, at = 0; at < bytes.length || idx === 0; idx++, at += chunkBytes) {
        await trx
          .insertInto("file_chunks")
          .values({ key, idx, data: bytes.subarray(at, Math.min(at + chunkBytes, bytes.length)) })
          .execute();
      }
    });
    return key;
  }

  async stage(source: AsyncIterable<Buffer> | Iterable<Buffer>, opts: { maxBytes?: number } = {}): Promise<StagedBlob> {
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const chunkBytes = this.chunkBytes;
    const staging = `${STAGING_PREFIX}${Date.now()}-${randomBytes(8).toString("hex")}`;
    await this.db
      .insertInto("file_blobs")
      .values({ key: staging, size: 0, chunk_bytes: chunkBytes, created_at: Date.now() })
      .execute();
    const hash = createHash("sha256");
    let size = 0;
    let chunks = 0;
    // two buffers taken in turn: one is being inserted while the other fills (a driver is done
    // with a parameter once its statement has finished)
    let buf: Buffer = Buffer.allocUnsafe(chunkBytes);
    let spare: Buffer | null = null;
    let fill = 0;
    // the insert in flight; its failure is kept (never an unhandled rejection) and rethrown below
    let pending: Promise<void> | null = null;
    let failure: unknown = null;
    const flush = async (data: Buffer) => {
      if (pending) await pending;
      if (failure) throw failure;
      const idx = chunks++;
      pending = this.db
        .insertInto("file_chunks")
        .values({ key: staging, idx, data })
        .execute()
        .then(
          () => {},
          (e: unknown) => {
            failure = e;
          },
        );
    };
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > maxBytes) throw invalid("file_too_large", `larger than ${maxBytes} bytes`);
        hash.update(chunk);
        for (let at = 0; at < chunk.length; ) {
          const n = Math.min(chunkBytes - fill, chunk.length - at);
          chunk.copy(buf, fill, at, at + n);
          fill += n;
          at += n;
          if (fill === chunkBytes) {
            const full = buf;
            await flush(full); // returns once the insert before it has finished: `spare` is free
            buf = spare ?? Buffer.allocUnsafe(chunkBytes);
            spare = full;
            fill = 0;
          }
        }
      }
      if (fill > 0 || chunks === 0) await flush(buf.subarray(0, fill)); // an empty blob has one empty chunk, as put's
      await pending;
      if (failure) throw failure;
    } catch (e) {
      await pending; // never delete while an insert of this stage can still land
      await this.dropStaged(staging).catch(() => {});
      throw e;
    }
    const key = hash.digest("hex");
    let state: "staged" | "committed" | "discarded" = "staged";
    return {
      key,
      size,
      commit: async () => {
        if (state === "committed") return key;
        if (state === "discarded") throw new Error("file store: commit of a discarded upload");
        try {
          await this.db.transaction().execute(async (trx) => {
            const claimed = await trx
              .insertInto("file_blobs")
              .values({ key, size, chunk_bytes: chunkBytes, created_at: Date.now() })
              .onConflict((oc) => oc.column("key").doNothing())
              .returning("key")
              .executeTakeFirst();
            if (claimed) {
              const moved = await trx
                .updateTable("file_chunks")
                .set({ key })
                .where("key", "=", staging)
                .executeTakeFirst();
              if (Number(moved.numUpdatedRows) !== chunks)
                throw new Error(
                  `file store: ${chunks - Number(moved.numUpdatedRows)} staged chunks of ${key} are gone`,
                );
            } else {
              await trx.deleteFrom("file_chunks").where("key", "=", staging).execute(); // stored meanwhile
            }
            await trx.deleteFrom("file_blobs").where("key", "=", staging).execute();
          });
        } catch (e) {
          state = "discarded";
          await this.dropStaged(staging).catch(() => {});
          throw e;
        }
        state = "committed";
        return key;
      },
      discard: async () => {
        if (state !== "staged") return;
        state = "discarded";
        await this.dropStaged(staging);
      },
    };
  }

  /** Deletes a stage's chunk rows and its staging row. */
  private async dropStaged(staging: string): Promise<void> {
    await this.db.deleteFrom("file_chunks").where("key", "=", staging).execute();
    await this.db.deleteFrom("file_blobs").where("key", "=", staging).execute();
  }

  async sweepStaged(olderThanMs: number): Promise<number> {
    const rows = await this.db
      .selectFrom("file_blobs")
      .select("key")
      .where("key", "like", `${STAGING_PREFIX}%`)
      .where("created_at", "<", Date.now() - olderThanMs)
      .execute();
    for (const { key } of rows) await this.dropStaged(key);
    return rows.length;
  }

  private async blob(key: string): Promise<{ size: number; chunk_bytes: number } | null> {
    if (!isBlobKey(key)) return null;
    const row = await this.db
      .selectFrom("file_blobs")
      .select(["size", "chunk_bytes"])
      .where("key", "=", key)
      .executeTakeFirst();
    return row ? { size: Number(row.size), chunk_bytes: Number(row.chunk_bytes) } : null;
  }

  async get(key: string, range?: { start: number; end: number }): Promise<{ stream: Readable; size: number } | null> {
    const blob = await this.blob(key);
    if (!blob) return null;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? blob.size - 1, blob.size - 1); // inclusive
    // a buffer of one chunk: the next chunk is fetched only once the reader has taken this one
    const stream = Readable.from(this.chunks(key, blob.chunk_bytes, start, end), {
      objectMode: false,
      highWaterMark: blob.chunk_bytes,
    });
    return { stream, size: blob.size };
  }

  /** The bytes `start..end` (inclusive), one chunk row per step. */
  private async *chunks(key: string, chunkBytes: number, start: number, end: number): AsyncGenerator<Buffer> {
    if (end < start) return;
    const first = Math.floor(start / chunkBytes);
    const last = Math.floor(end / chunkBytes);
    for (let idx = first; idx <= last; idx++) {
      const row = await this.db
        .selectFrom("file_chunks")
        .select("data")
        .where("key", "=", key)
        .where("idx", "=", idx)
        .executeTakeFirst();
      if (!row) throw new Error(`file store: chunk ${idx} of ${key} is missing`);
      const data = toBuffer(row.data);
      const from = idx === first ? start - idx * chunkBytes : 0;
      const to = idx === last ? end - idx * chunkBytes + 1 : data.length;
      yield from === 0 && to === data.length ? data : data.subarray(from, to);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.blob(key)) !== null;
  }

  async size(key: string): Promise<number | null> {
    return (await this.blob(key))?.size ?? null;
  }
}

/** better-sqlite3 and pg both answer Buffers; a Uint8Array is wrapped without a copy. */
function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new Error("file store: a chunk is not binary");
}
