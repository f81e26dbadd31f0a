/** Gateway (seed 000) systems: the tenants of the push gateway. */

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
  /** Every system, by id (admin API). */
  list(): Promise<GatewaySystem[]>;
}
