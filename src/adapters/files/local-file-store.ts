import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type FileStore, isBlobKey } from "../../ports/file-store.ts";

/**
 * FileStore on the local disk: `<root>/<sha256[0:2]>/<sha256>`. Writes go to `<root>/.tmp/<random>`
 * first, are fsynced, then renamed into place — rename is atomic on one file system, so a reader
 * never sees a partial blob and concurrent puts of the same bytes simply replace each other with
 * identical content. Paths are built from the hash only; nothing a client sends reaches a path.
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
    const target = this.pathOf(key);
    if (await this.exists(key)) return key;
    await this.mkdir(this.root);
    await this.mkdir(this.tmp);
    await this.mkdir(join(this.root, key.slice(0, 2)));
    const temp = join(this.tmp, `${key.slice(0, 16)}-${randomBytes(8).toString("hex")}`);
    try {
      const fh = await open(temp, "wx", this.modes.file);
      try {
        await fh.chmod(this.modes.file); // exactly the configured mode, whatever the umask
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, target);
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw e;
    }
    return key;
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
