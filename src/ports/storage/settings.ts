/** Cluster-wide settings (e.g. the cluster secret), one row per key. */

export interface SettingsRepo {
  get(key: string): Promise<string | null>;
  /**
   * Stores `value` unless the key already has one, and returns the value that is stored afterwards.
   * Safe when several nodes race: exactly one value wins and every caller sees it.
   */
  getOrInit(key: string, value: string): Promise<string>;
  set(key: string, value: string): Promise<void>;
}
