/**
 * Storage ports: one repository interface per aggregate. Implementations (SQLite, PostgreSQL) live
 * in `src/adapters/sql` and must pass the same contract suite (`test/storage.contract.test.ts`).
 * Database errors never leak: a unique violation surfaces as `AppError("conflict")`.
 */

export interface GatewaySystem {
  systemId: string;
  /** sha256 hex of the system's secret; null when the system was registered without one. */
  secretHash: string | null;
  createdAt: number;
}

export interface GatewaySystemRepo {
  /** Inserts a system. Throws `conflict` (reason `system_exists`) when the id is taken. */
  create(system: GatewaySystem): Promise<void>;
  /** The system, or null when unknown. */
  find(systemId: string): Promise<GatewaySystem | null>;
}

export interface SettingsRepo {
  get(key: string): Promise<string | null>;
  /**
   * Stores `value` unless the key already has one, and returns the value that is stored afterwards.
   * Safe when several nodes race: exactly one value wins and every caller sees it.
   */
  getOrInit(key: string, value: string): Promise<string>;
  set(key: string, value: string): Promise<void>;
}

export type StorageKind = "sqlite" | "postgres";

export interface Storage {
  readonly kind: StorageKind;
  readonly settings: SettingsRepo;
  readonly gatewaySystems: GatewaySystemRepo;
  /** Applies pending migrations; returns the names applied. Idempotent. */
  migrate(): Promise<string[]>;
  /** Cheap liveness check for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
