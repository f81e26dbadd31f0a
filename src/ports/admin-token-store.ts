/** Where the admin token's hash is kept (the data dir in production; see adapters/admin-token-file). */
export interface AdminTokenStore {
  /** sha256 hex of the current token, or null when none was stored yet. */
  readHash(): string | null;
  writeHash(hash: string): void;
}
