import type { MessageKind } from "../../ports/storage.ts";

/** SPEC §2: canonical kind ↔ enterprise (seed 001) message `type`. The surface's own numbers live here. */
const TYPES: ReadonlyArray<[MessageKind, number]> = [
  ["text", 1],
  ["image", 2],
  ["file", 3],
  ["audio", 4],
  ["video", 5],
];

/** Kinds without an enterprise number (system, notice, red packet) show as text (1). */
export const enterpriseType = (k: MessageKind): number => TYPES.find((r) => r[0] === k)?.[1] ?? 1;
export const kindFromEnterprise = (t: number): MessageKind | null => TYPES.find((r) => r[1] === t)?.[0] ?? null;
