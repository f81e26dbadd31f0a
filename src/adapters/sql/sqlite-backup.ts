import { existsSync } from "node:fs";
import SQLite from "better-sqlite3";

/**
 * Copies a live SQLite database into a new file with SQLite's online backup API: safe while the
 * server runs and writes (the copy is one consistent snapshot, WAL content included), and it
 * never blocks the server for long (pages are copied in steps).
 */
export async function sqliteBackup(file: string, out: string): Promise<{ pages: number }> {
  if (!existsSync(file)) throw new Error(`no database at ${file}`);
  if (existsSync(out)) throw new Error(`${out} already exists; back up into a new file`);
  const db = new SQLite(file, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    const { totalPages } = await db.backup(out);
    return { pages: totalPages };
  } finally {
    db.close();
  }
}
