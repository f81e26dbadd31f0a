import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DATABASE_URL, REDIS_URL } from "../helpers/backend.ts";

/**
 * The figures of one reliability run (requests fuzzed, 5xx, acked vs stored, memory…): every test
 * file merges its own under its name into one JSON file, which `test/reliability/run.mjs` prints
 * at the end of `npm run test:reliability` (its path comes in PARLEY_RELIABILITY_FIGURES; a test
 * file run alone writes to the temp dir).
 */
export const FIGURES_FILE =
  process.env.PARLEY_RELIABILITY_FIGURES ?? join(tmpdir(), `parley-reliability-figures-${process.pid}.json`);

/** The backend this run uses, as a figure label. */
export const BACKEND = DATABASE_URL ? `postgres${REDIS_URL ? "+redis" : ""}` : "sqlite";

export function record(section: string, figures: Record<string, unknown>): void {
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  const all = existsSync(FIGURES_FILE)
    ? (JSON.parse(readFileSync(FIGURES_FILE, "utf8")) as Record<string, Record<string, unknown>>)
    : {};
  const key = `${section} (${BACKEND})`;
  all[key] = { ...(all[key] ?? {}), ...figures };
  writeFileSync(FIGURES_FILE, `${JSON.stringify(all, null, 2)}\n`);
  process.stdout.write(`# figures ${key}: ${JSON.stringify(figures)}\n`);
}
