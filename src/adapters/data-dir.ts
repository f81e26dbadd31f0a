import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";

/** File-system modes of the data directory and what Parley writes into it (`dataDirMode`, `fileMode`). */
export interface DataModes {
  /** Mode of the data dir and the directories Parley creates in it (default 0700). */
  dir: number;
  /** Mode of the files Parley creates in it (default 0600). */
  file: number;
}

/** `"0700"` → 0o700; the config loader has checked the form. */
export const parseMode = (s: string): number => Number.parseInt(s, 8);

export const modesOf = (c: { dataDirMode: string; fileMode: string }): DataModes => ({
  dir: parseMode(c.dataDirMode),
  file: parseMode(c.fileMode),
});

/** mkdir -p with `mode` (applied with chmod too, so the umask does not widen or narrow it). */
export function ensureDir(path: string, mode: number): void {
  if (!existsSync(path)) mkdirSync(path, { recursive: true, mode });
  try {
    chmodSync(path, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new Error(
      `cannot set mode 0${mode.toString(8)} on ${path} (${code}): run Parley as the directory's owner, or set dataDirMode`,
    );
  }
}

/**
 * Prepares the data dir before anything writes into it: the directory gets `modes.dir`, and with
 * SQLite the database file is created (or re-moded) with `modes.file` before SQLite opens it —
 * SQLite gives its `-wal` and `-shm` files the database file's permissions, so they follow; any
 * left from an earlier run are re-moded too. Files written later (admin token hash, uploads,
 * thumbnails) are created with `modes.file` by their writers.
 */
export function prepareDataDir(dataDir: string, modes: DataModes, sqliteFile: string | null): void {
  ensureDir(dataDir, modes.dir);
  if (!sqliteFile) return;
  if (!existsSync(sqliteFile)) closeSync(openSync(sqliteFile, "a", modes.file));
  for (const f of [sqliteFile, `${sqliteFile}-wal`, `${sqliteFile}-shm`]) if (existsSync(f)) chmodSync(f, modes.file);
}

export const sqliteFileOf = (c: { dataDir: string; databaseUrl: string }): string | null =>
  c.databaseUrl ? null : join(c.dataDir, "parley.db");
