import type { Json } from "../../ports/hub.ts";
import type { MessageKind, StoredFile } from "../../ports/storage.ts";
import { invalid } from "../errors.ts";
import { isMedia } from "../files/sniff.ts";
import { jsonValueTooDeep, MAX_JSON_DEPTH } from "../json-limits.ts";

/**
 * The canonical message content (SPEC §2): one JSON object per kind, the same whatever surface
 * sent it. This module is the ONE place its rules live; every surface hands what its client sent
 * (chat33 `msg`, the enterprise parameters turned into an object by `contentFromUpload`) to
 * `canonicalContent` at its edge and passes the result on. The result is already serialised, so
 * nothing after the edge — in particular the group-commit batch shared with other users' messages
 * — ever serialises client data again (issue 8: a value `JSON.stringify` cannot handle used to
 * fail a whole batch).
 */

/** Largest serialised content, in UTF-8 bytes (the default chat33 frame limit, `ws.maxFrameBytes`). */
export const MAX_CONTENT_BYTES = 64 * 1024;

/** URL fields of media messages: http(s) or a path on this server, nothing a browser would run. */
const URL_RE = /^(?:https?:\/\/[^\s"'<>\\\p{Cc}]+|\/[^\s"'<>\\\p{Cc}]*)$/iu;

/** Longest client message id (the idempotency key), in characters. */
export const MAX_CLIENT_MSG_ID = 128;

/**
 * A client message id: 1..128 characters of well-formed text without NUL. PostgreSQL `text`
 * holds neither NUL nor a lone surrogate (the driver turns one into U+FFFD, so the stored key
 * would differ from the sent one): such an id used to fail its whole batch there.
 */
export const validClientMsgId = (id: string): boolean =>
  id.length > 0 && id.length <= MAX_CLIENT_MSG_ID && !id.includes("\u0000") && !/\p{Cs}/u.test(id);

/** Kinds only an administrator may send (chat33 `-2006`). */
const ADMIN_ONLY: ReadonlySet<MessageKind> = new Set(["system", "notice", "forward"]);

declare const checked: unique symbol;

/**
 * Validated content, serialised once: what the pipeline, the batch writer and storage receive.
 * Only this module makes one (the brand keeps an unchecked object literal from type-checking).
 */
export interface MessageContent {
  readonly [checked]: true;
  readonly kind: MessageKind;
  readonly value: { [key: string]: Json };
  /** `value` as JSON text: exactly what storage writes. */
  readonly json: string;
}

/**
 * Why a content was refused. `field` names the offending member of the content object (null:
 * the object as a whole); `text` is the rule, in Chinese like the surfaces' answers.
 */
export interface ContentProblem {
  field: string | null;
  text: string;
}

/** True for the kinds only an administrator may send. */
export const adminOnlyKind = (kind: MessageKind): boolean => ADMIN_ONLY.has(kind);

/** The per-kind rule on an object's members; null when it holds. */
function kindProblem(kind: MessageKind, v: Record<string, unknown>): ContentProblem | null {
  const str = (k: string) => typeof v[k] === "string" && (v[k] as string).length > 0;
  const url = (k: string) => str(k) && URL_RE.test(v[k] as string);
  const urlRule = (k: string): ContentProblem | null =>
    url(k) ? null : { field: k, text: "必须是 http(s) 地址或本站路径" };
  switch (kind) {
    case "text":
    case "system":
    case "notice":
      return str("content") ? null : { field: "content", text: "必须是非空字符串" };
    case "image":
      return urlRule("imageUrl");
    case "audio":
    case "video":
      return urlRule("mediaUrl");
    case "file":
      return urlRule("fileUrl");
    default:
      // red packets are built by their own service (not from client content)
      return null;
  }
}

/**
 * Checks client content against its kind — an object, at most `MAX_JSON_DEPTH` deep (the one
 * depth check, core/json-limits.ts), the kind's required members, at most `MAX_CONTENT_BYTES`
 * serialised — and serialises it. Never throws, whatever the value.
 */
export function canonicalContent(
  kind: MessageKind,
  raw: unknown,
): { content: MessageContent } | { problem: ContentProblem } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return { problem: { field: null, text: "必须是对象" } };
  if (jsonValueTooDeep(raw, MAX_JSON_DEPTH))
    return { problem: { field: null, text: `嵌套不能超过 ${MAX_JSON_DEPTH} 层` } };
  const rule = kindProblem(kind, raw as Record<string, unknown>);
  if (rule) return { problem: rule };
  let json: string;
  try {
    json = JSON.stringify(raw);
  } catch {
    // e.g. a BigInt or a cycle: not JSON (client JSON never has them; a caller's bug would)
    return { problem: { field: null, text: "不是 JSON 对象" } };
  }
  if (json.length > MAX_CONTENT_BYTES / 3 && Buffer.byteLength(json) > MAX_CONTENT_BYTES)
    return { problem: { field: null, text: `不能超过 ${MAX_CONTENT_BYTES} 字节` } };
  return { content: { kind, value: raw as { [key: string]: Json }, json } as MessageContent };
}

/** A problem as one line (field first), e.g. `content 必须是非空字符串`. */
/** Largest `ext` (chat33's free-form message extras), serialised. */
export const MAX_EXT_BYTES = 4 * 1024;

/**
 * A client's `ext` (chat33): absent or null = none; otherwise a JSON object within the depth
 * limit and MAX_EXT_BYTES, serialised once here like content.
 */
export function canonicalExt(
  raw: unknown,
): { ext: { value: { [key: string]: Json }; json: string } | null } | { problem: ContentProblem } {
  if (raw === undefined || raw === null) return { ext: null };
  if (typeof raw !== "object" || Array.isArray(raw)) return { problem: { field: "ext", text: "必须是对象" } };
  if (jsonValueTooDeep(raw, MAX_JSON_DEPTH))
    return { problem: { field: "ext", text: `嵌套不能超过 ${MAX_JSON_DEPTH} 层` } };
  let json: string;
  try {
    json = JSON.stringify(raw);
  } catch {
    return { problem: { field: "ext", text: "不是 JSON 对象" } };
  }
  if (Buffer.byteLength(json) > MAX_EXT_BYTES)
    return { problem: { field: "ext", text: `不能超过 ${MAX_EXT_BYTES} 字节` } };
  return { ext: { value: raw as { [key: string]: Json }, json } };
}

export const problemText = (p: ContentProblem, fieldPrefix = ""): string =>
  p.field === null ? p.text : `${fieldPrefix}${p.field} ${p.text}`;

/** `canonicalContent` for callers inside the server: a problem is `invalid("bad_content")`. */
export function contentOrThrow(kind: MessageKind, raw: unknown): MessageContent {
  const r = canonicalContent(kind, raw);
  if ("problem" in r) throw invalid("bad_content", problemText(r.problem));
  return r.content;
}

/**
 * The canonical content of a message that carries an upload (a caption plus the file) or only
 * text — the enterprise `save_single_msg` shape. `fileUrl` is the file's public URL (a surface
 * decides how URLs look). Throws `missing_file` / `file_kind_mismatch` / `bad_content`.
 */
export function contentFromUpload(
  kind: MessageKind,
  caption: string,
  file: StoredFile | null,
  fileUrl: string,
): MessageContent {
  if (kind === "text") return contentOrThrow(kind, { content: caption });
  if (!file) throw invalid("missing_file");
  const base: { [key: string]: Json } = { content: caption, fileId: file.id };
  if (kind === "image") {
    if (!file.mime.startsWith("image/")) throw invalid("file_kind_mismatch");
    return contentOrThrow(kind, { ...base, imageUrl: fileUrl, width: file.width ?? 0, height: file.height ?? 0 });
  }
  if (kind === "audio" || kind === "video") {
    if (!isMedia(file.mime)) throw invalid("file_kind_mismatch");
    return contentOrThrow(kind, { ...base, mediaUrl: fileUrl });
  }
  return contentOrThrow(kind, { ...base, fileUrl, name: file.name, size: file.size });
}

/**
 * A one-line text of any message, for surfaces that show content as a string (the enterprise
 * API's `content`, conversation previews).
 */
export function contentText(kind: MessageKind, content: { [key: string]: unknown }): string {
  const s = (v: unknown) => (typeof v === "string" ? v : "");
  switch (kind) {
    case "text":
    case "system":
    case "notice":
      return s(content.content);
    case "image":
      return s(content.content) || s(content.imageUrl);
    case "audio":
    case "video":
      return s(content.content) || s(content.mediaUrl);
    case "file":
      return s(content.content) || s(content.name) || s(content.fileUrl);
    case "redpacket":
      return s(content.remark) || "[红包]";
    default:
      return "";
  }
}
