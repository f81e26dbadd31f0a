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
