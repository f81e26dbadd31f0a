import type { MessageKind } from "../../ports/storage/messages.ts";

/** SPEC §2: canonical kind ↔ chat33 `msgType` (seed 002). The surface's own numbers live here. */
const MSG_TYPES: ReadonlyArray<[MessageKind, number]> = [
  ["system", 0],
  ["text", 1],
  ["audio", 2],
  ["image", 3],
  ["redpacket", 4],
  ["video", 5],
  ["notice", 6],
  ["forward", 8],
  ["file", 9],
];

export const chat33MsgType = (k: MessageKind): number => MSG_TYPES.find((r) => r[0] === k)?.[1] ?? 1;
export const kindFromChat33 = (t: number): MessageKind | null => MSG_TYPES.find((r) => r[1] === t)?.[0] ?? null;
