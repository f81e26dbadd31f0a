/** Row types of every table, as Kysely sees them. */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface GatewaySystemsTable {
  system_id: string;
  secret_hash: string | null;
  created_at: number;
}

export interface Database {
  settings: SettingsTable;
  gateway_systems: GatewaySystemsTable;
}
