import type { Readable } from "node:stream";

/**
 * Content-addressed blob storage for uploads. Adapters in `src/adapters/files`, chosen by
 * `files.store`: the local disk (`local-file-store.ts`) and chunk rows in the shared database
 * (`sql-file-store.ts`); both pass `test/file-store.contract.test.ts`.
 *
 * Guarantees:
 * - A key is the lowercase sha256 hex of the bytes (64 characters), so the same bytes always get
 *   the same key and a key can never name anything outside the store (no path traversal).
 * - `put` is atomic and idempotent: a reader sees either no blob or the whole blob, never a
 *   partial one; storing bytes that are already stored is a no-op that returns the same key.
 * - `stage` streams: the bytes are hashed and written as they arrive, and an adapter holds a
 *   bounded amount of them in memory (about two of its write units — a chunk row, a file write)
 *   whatever the blob's size. A staged blob is invisible to readers until `commit()`, which is
 *   atomic and idempotent like `put`. A `stage` that fails (the source errors — e.g. the client's
 *   connection was cut — or more than `maxBytes` arrive) and a staged blob that is discarded leave
 *   nothing behind; what a killed process left half-written is removed by `sweepStaged`.
 * - `get`/`exists`/`size` answer null/false for any string that is not a well-formed key.
 * - `get` streams: an adapter never buffers a whole blob to serve it.
 */
export interface FileStore {
  /** Stores the bytes (if not stored yet) and returns their key. */
  put(bytes: Buffer): Promise<string>;
  /**
   * Streams `source` into the store, staged. Rejects with the source's error, or with
   * `invalid_argument`/`file_too_large` as soon as more than `maxBytes` bytes have arrived (the
   * source is not read any further); in both cases the staged bytes are already gone.
   */
  stage(source: AsyncIterable<Buffer> | Iterable<Buffer>, opts?: { maxBytes?: number }): Promise<StagedBlob>;
  /**
   * Removes staged bytes older than `olderThanMs` (ms since their stage began — local store: since
   * the last write), i.e. those of a process that died mid-upload. Answers how many were removed.
   */
  sweepStaged(olderThanMs: number): Promise<number>;
  /**
   * A stream of the blob (or of the inclusive byte range `range`, which the caller has checked
   * against the size) and the blob's full size, or null when there is no such blob.
   */
  get(key: string, range?: { start: number; end: number }): Promise<{ stream: Readable; size: number } | null>;
  exists(key: string): Promise<boolean>;
  /** The blob's size in bytes, or null when there is no such blob. */
  size(key: string): Promise<number | null>;
}

/** Bytes that `FileStore.stage` has received: hashed, written, not yet visible. */
export interface StagedBlob {
  /** The sha256 hex of the bytes: the key the blob gets on commit. */
  readonly key: string;
  readonly size: number;
  /**
   * Makes the blob visible under `key` (when the same bytes are stored already, only drops the
   * staged copy) and answers the key. Idempotent; after `discard` it rejects.
   */
  commit(): Promise<string>;
  /** Drops the staged bytes. Idempotent; a no-op after `commit`. */
  discard(): Promise<void>;
}

/** A well-formed key: lowercase sha256 hex. */
export const isBlobKey = (key: string): boolean => /^[0-9a-f]{64}$/.test(key);

/** How long staged bytes may sit unchanged before `sweepStaged` treats them as a dead upload's. */
export const STAGED_MAX_AGE_MS = 24 * 60 * 60 * 1000;
