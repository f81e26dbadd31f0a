import { readFileSync } from "node:fs";

/** Parley's version, from package.json (the same path from `src/` and from the built `dist/`). */
export const VERSION: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
