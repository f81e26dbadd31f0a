import type { MessageKind } from "../../ports/storage.ts";

/** SPEC §2: canonical kind ↔ chat33 `msgType` ↔ enterprise `type`. One table, used by both surfaces. */
const TABLE: Array<[MessageKind, number, number | null]> = [
  ["system", 0, null],
  ["text", 1, 1],
  ["audio", 2, 4],
  ["image", 3, 2],
  ["redpacket", 4, null],
  ["video", 5, 5],
  ["notice", 6, null],
  ["file", 9, 3],
];

export const chat33MsgType = (k: MessageKind): number => TABLE.find((r) => r[0] === k)?.[1] ?? 1;
export const kindFromChat33 = (t: number): MessageKind | null => TABLE.find((r) => r[1] === t)?.[0] ?? null;
/** Kinds without an enterprise number (system, notice, red packet) show as text (1). */
export const enterpriseType = (k: MessageKind): number => TABLE.find((r) => r[0] === k)?.[2] ?? 1;
export const kindFromEnterprise = (t: number): MessageKind | null => TABLE.find((r) => r[2] === t)?.[0] ?? null;

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
