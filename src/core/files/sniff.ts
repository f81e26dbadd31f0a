/**
 * Content-type detection from the first bytes of a file. The client's declared type is only a
 * hint: it is used to refine a container (a zip that is a .docx, an OLE file that is a .doc) and
 * for formats without a signature (plain text, CSV…), never to override what the bytes say.
 */

const ascii = (b: Buffer, at: number, s: string) =>
  b.length >= at + s.length && b.toString("latin1", at, at + s.length) === s;

const startsWith = (b: Buffer, bytes: number[]) => b.length >= bytes.length && bytes.every((x, i) => b[i] === x);

/** Types that have a signature: a client claiming one of them without the bytes is not believed. */
const SIGNED = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "application/pdf",
  "application/zip",
  "audio/mpeg",
  "audio/amr",
  "audio/ogg",
  "audio/wav",
  "video/mp4",
  "video/webm",
  "text/html",
  "image/svg+xml",
  "application/x-msdownload",
  "application/x-executable",
]);

const ZIP_BASED = new Set([
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.android.package-archive",
  "application/java-archive",
  "application/epub+zip",
]);

const OLE_BASED = new Set(["application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"]);

/** What the bytes say, or null when they have no known signature. */
export function magicType(b: Buffer): string | null {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(b, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) return "image/gif";
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP")) return "image/webp";
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "WAVE")) return "audio/wav";
  if (ascii(b, 0, "%PDF-")) return "application/pdf";
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06])) return "application/zip";
  if (ascii(b, 0, "#!AMR")) return "audio/amr";
  if (ascii(b, 0, "OggS")) return "audio/ogg";
  if (ascii(b, 0, "ID3")) return "audio/mpeg";
  if (b.length >= 2 && b[0] === 0xff && [0xfb, 0xf3, 0xf2, 0xfa].includes(b[1] as number)) return "audio/mpeg";
  if (ascii(b, 4, "ftyp")) return "video/mp4";
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return "video/webm";
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return "application/x-ole-storage";
  if (ascii(b, 0, "MZ")) return "application/x-msdownload";
  if (startsWith(b, [0x7f, 0x45, 0x4c, 0x46])) return "application/x-executable";
  // Markup a browser would render: refused unless an operator allows it.
  const head = b
    .toString("utf8", 0, Math.min(b.length, 512))
    .replace(/^\uFEFF/, "")
    .trimStart()
    .toLowerCase();
  if (/^<(!doctype html|html|head|body|script|iframe)[\s>]/.test(head)) return "text/html";
  if (/^<svg[\s>]/.test(head) || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
  return null;
}

/** True when the bytes look like text (valid UTF-8, no NUL). */
function looksLikeText(b: Buffer): boolean {
  const sample = b.subarray(0, 8192);
  if (sample.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample.length < b.length ? trimPartial(sample) : sample);
    return true;
  } catch {
    return false;
  }
}

/** Drops a UTF-8 sequence cut at the end of a sample. */
function trimPartial(b: Buffer): Buffer {
  const end = b.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const c = b[end - i] as number;
    if ((c & 0xc0) === 0xc0) return b.subarray(0, end - i); // a lead byte whose sequence is cut
    if ((c & 0xc0) !== 0x80) break;
  }
  return b;
}

/** Strips parameters and case: `Text/Plain; charset=utf-8` → `text/plain`. */
export const bareType = (t: string | undefined | null): string => (t ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

/**
 * The content type Parley stores for an upload: the bytes' signature (refined by the client's
 * type for zip/OLE containers), else the client's type when it is in `allowed` and has no
 * signature of its own (text must also look like text), else `application/octet-stream`.
 */
export function detectType(bytes: Buffer, clientType: string | undefined, allowed: readonly string[]): string {
  const client = bareType(clientType);
  const magic = magicType(bytes);
  if (magic === "application/zip") return ZIP_BASED.has(client) && allowed.includes(client) ? client : magic;
  if (magic === "application/x-ole-storage")
    return OLE_BASED.has(client) && allowed.includes(client) ? client : "application/octet-stream";
  if (magic) return magic;
  if (client && allowed.includes(client) && !SIGNED.has(client) && !ZIP_BASED.has(client) && !OLE_BASED.has(client)) {
    if (client.startsWith("text/") && !looksLikeText(bytes)) return "application/octet-stream";
    return client;
  }
  return "application/octet-stream";
}

const EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "application/pdf": "pdf",
  "application/zip": "zip",
  "audio/mpeg": "mp3",
  "audio/amr": "amr",
  "audio/ogg": "ogg",
  "audio/wav": "wav",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "text/plain": "txt",
  "text/csv": "csv",
  "application/msword": "doc",
  "application/vnd.ms-excel": "xls",
  "application/vnd.ms-powerpoint": "ppt",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
};

/** The usual extension of a type, or null. */
export const extensionOf = (mime: string): string | null => EXT[mime] ?? null;

/** Images get thumbnails and are shown inline. */
export const isImage = (mime: string) => ["image/png", "image/jpeg", "image/gif", "image/webp"].includes(mime);
/** Audio and video are played inline. */
export const isMedia = (mime: string) => mime.startsWith("audio/") || mime.startsWith("video/");
