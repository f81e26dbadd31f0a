import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AdminTokenStore } from "../ports/admin-token-store.ts";
import { type DataModes, ensureDir } from "./data-dir.ts";

/** Keeps the admin token hash in `<dataDir>/admin-token.sha256` (mode `fileMode`, 0600 by default), cached by mtime. */
export class AdminTokenFile implements AdminTokenStore {
  private readonly file: string;
  private cached: { mtimeMs: number; hash: string | null } | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly modes: DataModes = { dir: 0o700, file: 0o600 },
  ) {
    this.file = join(dataDir, "admin-token.sha256");
  }

  readHash(): string | null {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch {
      return null;
    }
    if (this.cached && this.cached.mtimeMs === mtimeMs) return this.cached.hash;
    const hash = readFileSync(this.file, "utf8").trim();
    this.cached = { mtimeMs, hash: /^[0-9a-f]{64}$/.test(hash) ? hash : null };
    return this.cached.hash;
  }

  writeHash(hash: string): void {
    ensureDir(this.dataDir, this.modes.dir);
    writeFileSync(this.file, `${hash}\n`, { mode: this.modes.file });
    chmodSync(this.file, this.modes.file);
    this.cached = null;
  }
}
