import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { type FileStore, isBlobKey } from "../../ports/file-store.ts";

export interface ImportReport {
  /** Blobs copied into the target. */
  imported: number;
  /** Blobs the target had already (an earlier run, or uploaded since). */
  present: number;
  /** Files that are not a blob of the local layout, or whose bytes do not match their name. */
  skipped: string[];
}

/**
 * Copies every blob of a local store (`<root>/<2 hex>/<sha256>`, LocalFileStore's layout) into
 * `target` — `parley files import-local`, for switching an installation to `files.store=database`.
 * Idempotent and safe while servers run: blobs are content-addressed, a blob already in the target
 * is left alone, and each file's bytes are checked against its name before they are stored. One
 * file is streamed into the target (`stage`), so a few chunks are in memory whatever its size.
 */
export async function importLocalBlobs(root: string, target: FileStore): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, present: 0, skipped: [] };
  const dirs = await readdir(root, { withFileTypes: true });
  for (const dir of dirs.sort((a, b) => a.name.localeCompare(b.name))) {
    if (dir.name === ".tmp") continue; // half-written uploads of the local store
    if (!dir.isDirectory() || !/^[0-9a-f]{2}$/.test(dir.name)) {
      report.skipped.push(dir.name);
      continue;
    }
    const entries = await readdir(join(root, dir.name), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = `${dir.name}/${e.name}`;
      if (!e.isFile() || !isBlobKey(e.name) || !e.name.startsWith(dir.name)) {
        report.skipped.push(rel);
        continue;
      }
      if (await target.exists(e.name)) {
        report.present++;
        continue;
      }
      const staged = await target.stage(createReadStream(join(root, rel)));
      if (staged.key !== e.name) {
        await staged.discard();
        report.skipped.push(rel);
        continue;
      }
      await staged.commit();
      report.imported++;
    }
  }
  return report;
}
