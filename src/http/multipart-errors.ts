import type { Readable } from "node:stream";
import { AppError, invalid } from "../core/errors.ts";

/** Multipart errors (@fastify/multipart's and busboy's plain parse errors) → core reasons. */
export function multipartError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  const code = (e as { code?: string }).code;
  if (code === "FST_REQ_FILE_TOO_LARGE") return invalid("file_too_large");
  if (code === "FST_FILES_LIMIT" || code === "FST_PARTS_LIMIT" || code === "FST_FIELDS_LIMIT")
    return invalid("too_many_parts");
  if (code === "FST_INVALID_MULTIPART_CONTENT_TYPE") return invalid("not_multipart");
  return invalid("bad_multipart", (e as Error).message);
}

/**
 * A multipart file part's bytes as they arrive (for `FileService.receive`), ending in
 * `file_too_large` the moment busboy's `fileSize` limit (`files.maxBytes`) cuts the part — busboy
 * only marks a cut part `truncated` and ends it, which would otherwise look like a whole file. A
 * client that disconnects mid-part makes the iteration throw (@fastify/multipart destroys the part
 * with its premature-close error).
 */
export async function* partBytes(file: Readable & { truncated?: boolean }): AsyncGenerator<Buffer> {
  for await (const chunk of file) {
    if (file.truncated) throw invalid("file_too_large");
    yield chunk as Buffer;
  }
  if (file.truncated) throw invalid("file_too_large");
}
