import type { Readable } from "node:stream";
import type { Logger } from "pino";
import sharp from "sharp";
import { type FileStore, isBlobKey, STAGED_MAX_AGE_MS, type StagedBlob } from "../../ports/file-store.ts";
import type { Repos, StoredFile, User } from "../../ports/storage.ts";
import { invalid, notFound, unavailable } from "../errors.ts";
import { sanitizeName } from "./names.ts";
import { detectType, isImage } from "./sniff.ts";

export interface FilesOptions {
  /** Largest accepted upload in bytes. */
  maxBytes: number;
  /** Accepted (detected) content types. */
  allowedTypes: readonly string[];
  /** Longest side of image thumbnails. */
  thumbnailPx: number;
  /** Uploads this node receives at once; one more is refused with `upload_busy`. */
  maxConcurrentUploads: number;
}

/** An upload received into the store (staged, invisible) with its type decided: `save` or `discard` it. */
export interface ReceivedUpload {
  readonly size: number;
  readonly mime: string;
  readonly name: string;
  /** Drops the staged bytes (idempotent; a no-op once saved). */
  discard(): Promise<void>;
}

/** What `receive` hands `save`: the staged blob behind a `ReceivedUpload`. */
interface Received extends ReceivedUpload {
  readonly staged: StagedBlob;
}

/**
 * Bytes looked at for the type before anything is written: the signatures need the first 512,
 * the text check 8 KiB plus one byte (to know the sample is cut).
 */
const SNIFF_BYTES = 16 * 1024;

/**
 * Images decoded at once on this node (dimensions, thumbnail). Decoding needs the whole image in
 * memory — up to `files.maxBytes` plus its pixels — so it is the one step of an upload that is
 * not streamed; this bounds it to two images whatever the number of uploads (sharp's work runs on
 * the libuv thread pool anyway). Uploads beyond it wait for their turn.
 */
const IMAGE_DECODES = 2;

/** Images larger than this (in pixels) are stored without a thumbnail (decompression bombs). */
const MAX_THUMB_INPUT_PIXELS = 50_000_000;

/** A thumbnail keeps the original's format, except GIF (first frame as PNG). */
const THUMB_FORMAT: Record<string, "png" | "jpeg" | "webp"> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/gif": "png",
  "image/webp": "webp",
};

/**
 * Uploads: type detection and the allow-list, size limit, content-addressed storage through the
 * FileStore port, image dimensions and thumbnails, one row per upload. Who may use a file is
 * decided here too (`owned`): only its uploader may attach it to a message.
 */
export class FileService {
  constructor(
    private readonly storage: Pick<Repos, "files">,
    private readonly store: FileStore,
    private readonly opts: FilesOptions,
    private readonly log: Logger,
  ) {}

  get maxBytes(): number {
    return this.opts.maxBytes;
  }

  private uploading = 0;
  private decoding = 0;
  private readonly decodeQueue: (() => void)[] = [];

  /**
   * A slot for one upload on this node (`files.maxConcurrentUploads`), taken before its body is
   * read; call the answer to give it back. None free → `upload_busy` (unavailable).
   */
  beginUpload(): () => void {
    if (this.uploading >= this.opts.maxConcurrentUploads)
      throw unavailable("upload_busy", `${this.opts.maxConcurrentUploads} uploads are in progress`);
    this.uploading++;
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.uploading--;
      }
    };
  }

  /** Uploads being received now (their slots). */
  get uploadsInProgress(): number {
    return this.uploading;
  }

  /**
   * Receives an upload's bytes as they arrive: the first `SNIFF_BYTES` decide the type (a refused
   * type is refused with nothing written — once the rest has been read and dropped, so that a
   * file too large answers `file_too_large` whatever its type), then everything streams into the file store,
   * staged (hashed and written chunk by chunk; a bounded amount in memory whatever the size).
   * Errors: `file_empty` / `file_too_large` (as soon as more than `files.maxBytes` have arrived) /
   * `file_type_not_allowed` (invalid_argument), or the source's own error (a cut connection); in
   * every case nothing is left in the store. The answer is invisible until `save` (or `discard`).
   */
  async receive(input: {
    source: AsyncIterable<Buffer>;
    name: string | undefined;
    clientType: string | undefined;
    /** Narrower than the allow-list for this upload (e.g. images only); detected types. */
    only?: readonly string[];
  }): Promise<ReceivedUpload> {
    const { maxBytes } = this.opts;
    const it = input.source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    let done = false;
    try {
      while (headBytes < SNIFF_BYTES) {
        const next = await it.next();
        if (next.done) {
          done = true;
          break;
        }
        head.push(next.value);
        headBytes += next.value.length;
        if (headBytes > maxBytes) throw invalid("file_too_large", `larger than ${maxBytes} bytes`);
      }
      if (headBytes === 0 && done) throw invalid("file_empty", "the file is empty");
      const mime = detectType(Buffer.concat(head), input.clientType, this.opts.allowedTypes);
      if (!this.opts.allowedTypes.includes(mime) || (input.only && !input.only.includes(mime))) {
        // too large is still the answer for a file that is both (as when uploads were buffered):
        // the rest is read and dropped, never stored or kept
        for (let next = done ? null : await it.next(); next && !next.done; next = await it.next()) {
          headBytes += next.value.length;
          if (headBytes > maxBytes) throw invalid("file_too_large", `larger than ${maxBytes} bytes`);
        }
        throw invalid("file_type_not_allowed", `type ${mime} is not accepted`);
      }
      const rest = async function* (): AsyncGenerator<Buffer> {
        yield* head.splice(0); // handed over: the head is not kept twice
        if (done) return;
        for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
      };
      const staged = await this.store.stage(rest(), { maxBytes });
      const received: Received = {
        staged,
        size: staged.size,
        mime,
        name: sanitizeName(input.name),
        discard: () => staged.discard(),
      };
      return received;
    } catch (e) {
      await it.return?.(); // stop reading (a request stream is destroyed)
      throw e;
    }
  }

  /**
   * Makes a received upload a file of `owner`: the blob becomes visible (the same bytes stored
   * before: the same blob), an image gets its dimensions and thumbnail, and its row is written
   * (the bytes before the row, so a row never points at nothing).
   */
  async save(owner: User, upload: ReceivedUpload): Promise<StoredFile> {
    const { staged, mime, name, size } = upload as Received;
    const sha256 = await staged.commit();
    let width: number | null = null;
    let height: number | null = null;
    let thumbSha256: string | null = null;
    let thumbMime: string | null = null;
    if (isImage(mime)) {
      const image = await this.decodeSlot(async () => {
        const bytes = await this.readBlob(sha256);
        return bytes ? this.image(bytes, mime) : null;
      });
      if (image) {
        ({ width, height } = image);
        if (image.thumb) {
          thumbSha256 = await this.store.put(image.thumb.bytes);
          thumbMime = image.thumb.mime;
        }
      }
    }
    return this.storage.files.insert({
      ownerId: owner.id,
      sha256,
      thumbSha256,
      thumbMime,
      name,
      mime,
      size,
      width,
      height,
      createdAt: Date.now(),
    });
  }

  /**
   * Stores an upload that is in memory already (tests, tools): `receive` + `save`, with the same
   * errors.
   */
  async upload(
    owner: User,
    input: { bytes: Buffer; name: string | undefined; clientType: string | undefined; only?: readonly string[] },
  ): Promise<StoredFile> {
    const { bytes, ...rest } = input;
    const received = await this.receive({
      ...rest,
      source: (async function* () {
        yield bytes;
      })(),
    });
    try {
      return await this.save(owner, received);
    } finally {
      await received.discard();
    }
  }

  /** Removes staged uploads a killed process left behind (older than `STAGED_MAX_AGE_MS`). */
  async sweepStaged(): Promise<number> {
    const removed = await this.store.sweepStaged(STAGED_MAX_AGE_MS);
    if (removed > 0) this.log.info({ removed }, "removed staged uploads left by a stopped process");
    return removed;
  }

  /** Runs `fn` when one of the `IMAGE_DECODES` slots is free. */
  private async decodeSlot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.decoding >= IMAGE_DECODES) await new Promise<void>((r) => this.decodeQueue.push(r));
    this.decoding++;
    try {
      return await fn();
    } finally {
      this.decoding--;
      this.decodeQueue.shift()?.();
    }
  }

  /** A stored blob's bytes, in one buffer (images to decode: at most `files.maxBytes`). */
  private async readBlob(sha256: string): Promise<Buffer | null> {
    const got = await this.store.get(sha256);
    if (!got) return null;
    const parts: Buffer[] = [];
    for await (const c of got.stream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  /**
   * Dimensions (as displayed, EXIF orientation applied) and a thumbnail when the image is larger
   * than `thumbnailPx`. Null when the image cannot be decoded (it is still stored, as a file).
   */
  private async image(
    bytes: Buffer,
    mime: string,
  ): Promise<{ width: number; height: number; thumb: { bytes: Buffer; mime: string } | null } | null> {
    try {
      const meta = await sharp(bytes, { limitInputPixels: MAX_THUMB_INPUT_PIXELS }).metadata();
      const width = meta.autoOrient?.width ?? meta.width;
      const height = meta.autoOrient?.height ?? meta.height;
      if (!width || !height) return null;
      const px = this.opts.thumbnailPx;
      if (Math.max(width, height) <= px) return { width, height, thumb: null };
      const format = THUMB_FORMAT[mime] ?? "png";
      const thumb = await sharp(bytes, { limitInputPixels: MAX_THUMB_INPUT_PIXELS })
        .autoOrient()
        .resize({ width: px, height: px, fit: "inside", withoutEnlargement: true })
        .toFormat(format)
        .toBuffer();
      return { width, height, thumb: { bytes: thumb, mime: `image/${format}` } };
    } catch (err) {
      this.log.info({ err, mime }, "image not decodable: stored without thumbnail");
      return null;
    }
  }

  /** The file `id` if `actor` uploaded it; anything else is `file_not_found`. */
  async owned(actor: User, id: number): Promise<StoredFile> {
    const f = await this.storage.files.byId(id);
    if (!f || f.ownerId !== actor.id) throw notFound("file_not_found", "no such file");
    return f;
  }

  /** Content type and size of a stored blob (an upload or a thumbnail), or null when unknown. */
  async blobInfo(sha256: string): Promise<{ mime: string; size: number } | null> {
    if (!isBlobKey(sha256)) return null;
    const type = await this.storage.files.blobType(sha256);
    if (!type) return null;
    const size = await this.store.size(sha256);
    if (size === null) {
      // Lost bytes (a data directory restored without its files): answer like an unknown file.
      this.log.error({ sha256 }, "file row without blob");
      return null;
    }
    return { mime: type.mime, size };
  }

  /** The blob's bytes (or the inclusive `range` of them, checked with `parseRange`). */
  async openBlob(sha256: string, range?: { start: number; end: number }): Promise<Readable | null> {
    return (await this.store.get(sha256, range))?.stream ?? null;
  }
}

/** One `bytes=` range against `size`; null = ignore the header (send everything). */
export function parseRange(header: string, size: number): { start: number; end: number } | "unsatisfiable" | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  if (end < start) return null;
  return { start, end };
}
