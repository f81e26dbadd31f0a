/** Uploaded files: the bytes live in the FileStore port; this is one row per upload. */

export interface StoredFile {
  id: number;
  ownerId: number;
  /** FileStore key of the bytes. Several uploads may share one. */
  sha256: string;
  /** FileStore key of the thumbnail (images), or null. */
  thumbSha256: string | null;
  thumbMime: string | null;
  /** The client's file name, sanitised (no path, no control characters, ≤ 200 characters). */
  name: string;
  /** The detected content type. */
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  createdAt: number;
}

export interface FileRepo {
  insert(f: Omit<StoredFile, "id">): Promise<StoredFile>;
  byId(id: number): Promise<StoredFile | null>;
  /**
   * The content type of the blob `sha256` as stored: the mime of the oldest upload with these
   * bytes, else the thumbnail mime of the oldest upload whose thumbnail it is; null when no row
   * refers to it (then it is not served).
   */
  blobType(sha256: string): Promise<{ mime: string; thumbnail: boolean } | null>;
}
