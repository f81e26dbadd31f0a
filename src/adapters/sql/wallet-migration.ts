import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from "kysely";
import type { StorageKind } from "../../ports/storage.ts";

/**
 * 0009_wallet: balances, the double-entry ledger, admin deposits, red packets and their shares
 * (src/ports/storage/wallet.ts, docs/red-packets.md). Amounts are bigint minor units (10^-8).
 * The constraints are the final arbiters of the money invariants, whatever the code does:
 * - `wallet_balances_nonneg`: no balance below zero (the deposit account alone is minus what was issued);
 * - `wallet_ledger_once`: UNIQUE(reason, ref, account) — a claim (`<packet>:<idx>`), a refund, an
 *   escrow or a deposit is booked at most once;
 * - `red_packet_shares_claimer`: UNIQUE(packet_id, claimer_id) — a user claims a packet at most once;
 * - `red_packet_shares_mark` / `_mobile`: a guest mark names one share; a mobile waits for one share per packet.
 */
export function walletMigration(kind: StorageKind): Migration {
  const idType = kind === "postgres" ? "bigserial" : "integer";
  const idColumn = (c: ColumnDefinitionBuilder) =>
    kind === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement();
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("wallet_balances")
        .addColumn("account", "text", (c) => c.notNull())
        .addColumn("coin", "integer", (c) => c.notNull())
        .addColumn("balance", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("wallet_balances_pk", ["account", "coin"])
        .addCheckConstraint("wallet_balances_nonneg", sql`balance >= 0 or account = 'sys:deposits'`)
        .execute();
      await db.schema
        .createTable("wallet_ledger")
        .addColumn("id", idType, idColumn)
        .addColumn("entry_id", "text", (c) => c.notNull())
        .addColumn("account", "text", (c) => c.notNull())
        .addColumn("coin", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("ref", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("wallet_ledger_once")
        .unique()
        .on("wallet_ledger")
        .columns(["reason", "ref", "account"])
        .execute();
      await db.schema.createIndex("wallet_ledger_account").on("wallet_ledger").columns(["account", "coin"]).execute();
      await db.schema.createIndex("wallet_ledger_entry").on("wallet_ledger").column("entry_id").execute();
      await db.schema
        .createTable("wallet_deposits")
        .addColumn("idempotency_key", "text", (c) => c.primaryKey())
        .addColumn("user_id", "bigint", (c) => c.notNull())
        .addColumn("coin", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("balance_after", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("red_packets")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("sender_id", "bigint", (c) => c.notNull())
        .addColumn("coin", "integer", (c) => c.notNull())
        .addColumn("type", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("size", "integer", (c) => c.notNull())
        .addColumn("remark", "text", (c) => c.notNull())
        .addColumn("c_type", "integer", (c) => c.notNull())
        .addColumn("to_id", "bigint", (c) => c.notNull())
        .addColumn("conversation_id", "bigint", (c) => c.notNull())
        .addColumn("message_id", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("next_refund_at", "bigint", (c) => c.notNull())
        .addColumn("settled_at", "bigint")
        .addCheckConstraint("red_packets_amount", sql`amount >= size and size >= 1`)
        .execute();
      await db.schema
        .createIndex("red_packets_sender")
        .on("red_packets")
        .columns(["sender_id", "created_at"])
        .execute();
      await db.schema
        .createIndex("red_packets_refund")
        .on("red_packets")
        .columns(["settled_at", "next_refund_at"])
        .execute();
      await db.schema
        .createTable("red_packet_shares")
        .addColumn("packet_id", "text", (c) => c.notNull())
        .addColumn("idx", "integer", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("claimer_id", "bigint")
        .addColumn("mark", "text")
        .addColumn("guest_id", "text")
        .addColumn("mobile", "text")
        .addColumn("held_until", "bigint")
        .addColumn("claimed_at", "bigint")
        .addPrimaryKeyConstraint("red_packet_shares_pk", ["packet_id", "idx"])
        .addCheckConstraint("red_packet_shares_positive", sql`amount >= 1`)
        .addCheckConstraint(
          "red_packet_shares_claimed",
          sql`(state = 'claimed') = (claimer_id is not null and claimed_at is not null)`,
        )
        .execute();
      await db.schema
        .createIndex("red_packet_shares_claimer")
        .unique()
        .on("red_packet_shares")
        .columns(["packet_id", "claimer_id"])
        .execute();
      await db.schema.createIndex("red_packet_shares_mark").unique().on("red_packet_shares").column("mark").execute();
      await db.schema
        .createIndex("red_packet_shares_mobile")
        .unique()
        .on("red_packet_shares")
        .columns(["packet_id", "mobile"])
        .execute();
      await db.schema
        .createIndex("red_packet_shares_received")
        .on("red_packet_shares")
        .columns(["claimer_id", "claimed_at"])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ["red_packet_shares", "red_packets", "wallet_deposits", "wallet_ledger", "wallet_balances"])
        await db.schema.dropTable(t).execute();
    },
  };
}
