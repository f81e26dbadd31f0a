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
 * - `get`/`exists`/`size` answer null/false for any string that is not a well-formed key.
 * - `get` streams: an adapter never buffers a whole blob to serve it.
 */
export interface FileStore {
  /** Stores the bytes (if not stored yet) and returns their key. */
  put(bytes: Buffer): Promise<string>;
  /**
   * A stream of the blob (or of the inclusive byte range `range`, which the caller has checked
   * against the size) and the blob's full size, or null when there is no such blob.
   */
  get(key: string, range?: { start: number; end: number }): Promise<{ stream: Readable; size: number } | null>;
  exists(key: string): Promise<boolean>;
  /** The blob's size in bytes, or null when there is no such blob. */
  size(key: string): Promise<number | null>;
}

/** A well-formed key: lowercase sha256 hex. */
export const isBlobKey = (key: string): boolean => /^[0-9a-f]{64}$/.test(key);
