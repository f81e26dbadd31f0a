import type { Readable } from "node:stream";
import type { Logger } from "pino";
import sharp from "sharp";
import { type FileStore, isBlobKey } from "../../ports/file-store.ts";
import type { Repos, StoredFile, User } from "../../ports/storage.ts";
import { invalid, notFound } from "../errors.ts";
import { sanitizeName } from "./names.ts";
import { detectType, isImage } from "./sniff.ts";

export interface FilesOptions {
  /** Largest accepted upload in bytes. */
  maxBytes: number;
  /** Accepted (detected) content types. */
  allowedTypes: readonly string[];
  /** Longest side of image thumbnails. */
  thumbnailPx: number;
}

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

  /**
   * Stores an upload. Errors: `file_empty` / `file_too_large` / `file_type_not_allowed`
   * (invalid_argument). The bytes are stored before the row, so a row never points at nothing.
   */
  async upload(
    owner: User,
    input: {
      bytes: Buffer;
      name: string | undefined;
      clientType: string | undefined;
      /** Narrower than the allow-list for this upload (e.g. images only); detected types. */
      only?: readonly string[];
    },
  ) {
    const { bytes } = input;
    if (bytes.length === 0) throw invalid("file_empty", "the file is empty");
    if (bytes.length > this.opts.maxBytes) throw invalid("file_too_large", `larger than ${this.opts.maxBytes} bytes`);
    const mime = detectType(bytes, input.clientType, this.opts.allowedTypes);
    if (!this.opts.allowedTypes.includes(mime) || (input.only && !input.only.includes(mime)))
      throw invalid("file_type_not_allowed", `type ${mime} is not accepted`);
    const name = sanitizeName(input.name);

    let width: number | null = null;
    let height: number | null = null;
    let thumbSha256: string | null = null;
    let thumbMime: string | null = null;
    if (isImage(mime)) {
      const image = await this.image(bytes, mime);
      if (image) {
        ({ width, height } = image);
        if (image.thumb) {
          thumbSha256 = await this.store.put(image.thumb.bytes);
          thumbMime = image.thumb.mime;
        }
      }
    }
    const sha256 = await this.store.put(bytes);
    return this.storage.files.insert({
      ownerId: owner.id,
      sha256,
      thumbSha256,
      thumbMime,
      name,
      mime,
      size: bytes.length,
      width,
      height,
      createdAt: Date.now(),
    });
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
