import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, type FileHandle, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { invalid } from "../../ports/errors.ts";
import { type FileStore, isBlobKey, type StagedBlob } from "../../ports/file-store.ts";

/**
 * FileStore on the local disk: `<root>/<sha256[0:2]>/<sha256>`. Writes go to `<root>/.tmp/<random>`
 * first, are fsynced, then renamed into place — rename is atomic on one file system, so a reader
 * never sees a partial blob and concurrent puts of the same bytes simply replace each other with
 * identical content. Paths are built from the hash only; nothing a client sends reaches a path.
 * `stage` streams an upload into such a temp file (hashing as it writes, one write in flight), and
 * its commit is the same fsync + rename; a failed or discarded stage unlinks its temp file, and
 * `sweepStaged` removes the temp files of a killed process (untouched for the given age).
 *
 * In a cluster every node must see the same `<root>` (a shared volume), or use the database store.
 */
export class LocalFileStore implements FileStore {
  private readonly tmp: string;

  constructor(
    private readonly root: string,
    /** Modes of the directories and blobs created here (`dataDirMode`, `fileMode`). */
    private readonly modes: { dir: number; file: number } = { dir: 0o700, file: 0o600 },
  ) {
    this.tmp = join(root, ".tmp");
  }

  private pathOf(key: string): string {
    return join(this.root, key.slice(0, 2), key);
  }

  async put(bytes: Buffer): Promise<string> {
    const key = createHash("sha256").update(bytes).digest("hex");
    if (await this.exists(key)) return key;
    const staged = await this.stage([bytes]);
    return staged.commit();
  }

  async stage(source: AsyncIterable<Buffer> | Iterable<Buffer>, opts: { maxBytes?: number } = {}): Promise<StagedBlob> {
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    await this.mkdir(this.root);
    await this.mkdir(this.tmp);
    const temp = join(this.tmp, `${Date.now()}-${randomBytes(8).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    let fh: FileHandle | null = null;
    try {
      fh = await open(temp, "wx", this.modes.file);
      await fh.chmod(this.modes.file); // exactly the configured mode, whatever the umask
      for await (const chunk of source) {
        size += chunk.length;
        if (size > maxBytes) throw invalid("file_too_large", `larger than ${maxBytes} bytes`);
        hash.update(chunk);
        await fh.write(chunk); // one write in flight: the source waits (back-pressure)
      }
      await fh.sync();
      await fh.close();
      fh = null;
    } catch (e) {
      await fh?.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw e;
    }
    const key = hash.digest("hex");
    let state: "staged" | "committed" | "discarded" = "staged";
    return {
      key,
      size,
      commit: async () => {
        if (state === "committed") return key;
        if (state === "discarded") throw new Error("file store: commit of a discarded upload");
        try {
          await this.mkdir(join(this.root, key.slice(0, 2)));
          await rename(temp, this.pathOf(key)); // atomic; the same bytes stored meanwhile: replaced by themselves
        } catch (e) {
          await unlink(temp).catch(() => {});
          state = "discarded";
          throw e;
        }
        state = "committed";
        return key;
      },
      discard: async () => {
        if (state !== "staged") return;
        state = "discarded";
        await unlink(temp).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw e;
        });
      },
    };
  }

  async sweepStaged(olderThanMs: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw e;
    }
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of names) {
      const path = join(this.tmp, name);
      try {
        const s = await stat(path);
        if (s.isFile() && s.mtimeMs < cutoff) {
          await unlink(path);
          removed++;
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // committed or swept meanwhile
      }
    }
    return removed;
  }

  /** mkdir with the directory mode (created ones only: an existing directory is left as it is). */
  private async mkdir(dir: string): Promise<void> {
    if ((await mkdir(dir, { recursive: true, mode: this.modes.dir })) !== undefined) await chmod(dir, this.modes.dir);
  }

  async get(
    key: string,
    range?: { start: number; end: number },
  ): Promise<{ stream: ReturnType<typeof createReadStream>; size: number } | null> {
    if (!isBlobKey(key)) return null;
    const path = this.pathOf(key);
    try {
      const s = await stat(path);
      if (!s.isFile()) return null;
      return { stream: createReadStream(path, range ? { start: range.start, end: range.end } : {}), size: s.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  async size(key: string): Promise<number | null> {
    if (!isBlobKey(key)) return null;
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? s.size : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }
}
