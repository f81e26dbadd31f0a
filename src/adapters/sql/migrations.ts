import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from "kysely";
import type { StorageKind } from "../../ports/storage.ts";
import { walletMigration } from "./wallet-migration.ts";

/**
 * Migrations in order. Names sort lexically; never edit one that has shipped — add a new one.
 * Written with Kysely's schema builder so the same code runs on SQLite and PostgreSQL; the only
 * engine difference (auto-increment keys) goes through `idColumn`.
 */
export function buildMigrations(kind: StorageKind): Record<string, Migration> {
  const idType = kind === "postgres" ? "bigserial" : "integer";
  const idColumn = (c: ColumnDefinitionBuilder) =>
    kind === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement();
  return {
    "0001_foundation": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("settings")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("gateway_systems")
          .addColumn("system_id", "text", (c) => c.primaryKey())
          .addColumn("secret_hash", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("gateway_systems").execute();
        await db.schema.dropTable("settings").execute();
      },
    },
    "0002_accounts": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("users")
          .addColumn("id", idType, idColumn)
          .addColumn("uid", "text", (c) => c.notNull().unique())
          .addColumn("mobile", "text", (c) => c.unique())
          .addColumn("username", "text", (c) => c.unique())
          .addColumn("password_hash", "text", (c) => c.notNull())
          .addColumn("nickname", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("avatar", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("sex", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("position", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("email", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("birthday", "text")
          .addColumn("sign", "text")
          .addColumn("level", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("verified", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("muted_until", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("company_id", "bigint")
          .addColumn("dept_id", "bigint")
          .addColumn("role_id", "bigint")
          .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("sessions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("device", "text", (c) => c.notNull())
          .addColumn("device_id", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("platform", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("revoked_at", "bigint")
          .addColumn("revoke_reason", "text")
          .execute();
        await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();
        await db.schema
          .createTable("sms_codes")
          .addColumn("id", idType, idColumn)
          .addColumn("mobile", "text", (c) => c.notNull())
          .addColumn("code_hash", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("used_at", "bigint")
          .execute();
        await db.schema.createIndex("sms_codes_mobile").on("sms_codes").columns(["mobile", "created_at"]).execute();
        await db.schema
          .createTable("sms_outbox")
          .addColumn("id", idType, idColumn)
          .addColumn("mobile", "text", (c) => c.notNull())
          .addColumn("code", "text", (c) => c.notNull())
          .addColumn("sent_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("companies")
          .addColumn("id", idType, idColumn)
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("avatar", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("note", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("enable", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("license_id", "bigint")
          .addColumn("code", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("pid", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("level", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("url", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("attrs", "text", (c) => c.notNull().defaultTo("{}"))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("departments")
          .addColumn("id", idType, idColumn)
          .addColumn("company_id", "bigint", (c) => c.notNull())
          .addColumn("parent_id", "bigint")
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("note", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("code", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("owner_id", "bigint")
          .addColumn("level", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("roles")
          .addColumn("id", idType, idColumn)
          .addColumn("company_id", "bigint", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("admin", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("note", "text", (c) => c.notNull().defaultTo(""))
          .execute();
        await db.schema
          .createTable("licenses")
          .addColumn("id", idType, idColumn)
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("maxlevel", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("single", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("user_count", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable("dict_entries")
          .addColumn("id", idType, idColumn)
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("code", "text", (c) => c.notNull())
          .addColumn("url", "text")
          .execute();
        await db.schema.createIndex("dict_type_code").on("dict_entries").columns(["type", "code"]).unique().execute();
        await db.schema
          .createTable("qr_codes")
          .addColumn("code_hash", "text", (c) => c.primaryKey())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("device_id", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("platform", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("target_id", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("created_by", "bigint")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("used_at", "bigint")
          .execute();
        // The sex dictionary the enterprise surface presents (codes are the core's 0/1/2).
        await (db as Kysely<{ dict_entries: { type: string; text: string; code: string } }>)
          .insertInto("dict_entries")
          .values([
            { type: "sex", text: "未知", code: "0" },
            { type: "sex", text: "男", code: "1" },
            { type: "sex", text: "女", code: "2" },
          ])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of [
          "qr_codes",
          "dict_entries",
          "licenses",
          "roles",
          "departments",
          "companies",
          "sms_outbox",
          "sms_codes",
          "sessions",
          "users",
        ])
          await db.schema.dropTable(t).execute();
      },
    },
    "0003_messages": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("conversations")
          .addColumn("id", idType, idColumn)
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("key", "text", (c) => c.notNull().unique())
          .addColumn("user_a", "bigint")
          .addColumn("user_b", "bigint")
          .addColumn("last_seq", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("last_message_at", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("conversations_user_a").on("conversations").column("user_a").execute();
        await db.schema.createIndex("conversations_user_b").on("conversations").column("user_b").execute();
        await db.schema
          .createTable("messages")
          .addColumn("id", idType, idColumn)
          .addColumn("conversation_id", "bigint", (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("sender_id", "bigint", (c) => c.notNull())
          .addColumn("client_msg_id", "text", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("recalled_at", "bigint")
          .addColumn("deleted_at", "bigint")
          .execute();
        await db.schema
          .createIndex("messages_conv_seq")
          .on("messages")
          .columns(["conversation_id", "seq"])
          .unique()
          .execute();
        await db.schema.createIndex("messages_conv_id").on("messages").columns(["conversation_id", "id"]).execute();
        await db.schema
          .createIndex("messages_sender_client")
          .on("messages")
          .columns(["sender_id", "client_msg_id"])
          .unique()
          .execute();
        await db.schema
          .createTable("read_cursors")
          .addColumn("conversation_id", "bigint", (c) => c.notNull())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("read_cursors_pk", ["conversation_id", "user_id"])
          .execute();
        await db.schema
          .createTable("friends")
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("friend_id", "bigint", (c) => c.notNull())
          .addColumn("remark", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("no_disturbing", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("sticky_on_top", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("commonly_used", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("added_at", "bigint", (c) => c.notNull())
          .addColumn("deleted_at", "bigint")
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("friends_pk", ["user_id", "friend_id"])
          .execute();
        await db.schema.createIndex("friends_user_updated").on("friends").columns(["user_id", "updated_at"]).execute();
        await db.schema
          .createTable("friend_requests")
          .addColumn("id", idType, idColumn)
          .addColumn("from_id", "bigint", (c) => c.notNull())
          .addColumn("to_id", "bigint", (c) => c.notNull())
          .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("remark", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("room_id", "text")
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("friend_requests_to").on("friend_requests").columns(["to_id", "status"]).execute();
        await db.schema
          .createIndex("friend_requests_from")
          .on("friend_requests")
          .columns(["from_id", "to_id"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ["friend_requests", "friends", "read_cursors", "messages", "conversations"])
          await db.schema.dropTable(t).execute();
      },
    },
    "0004_files": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("files")
          .addColumn("id", idType, idColumn)
          .addColumn("owner_id", "bigint", (c) => c.notNull())
          .addColumn("sha256", "text", (c) => c.notNull())
          .addColumn("thumb_sha256", "text")
          .addColumn("thumb_mime", "text")
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("mime", "text", (c) => c.notNull())
          .addColumn("size", "bigint", (c) => c.notNull())
          .addColumn("width", "integer")
          .addColumn("height", "integer")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("files_sha256").on("files").columns(["sha256", "id"]).execute();
        await db.schema.createIndex("files_thumb_sha256").on("files").columns(["thumb_sha256", "id"]).execute();
        await db.schema.createIndex("files_owner").on("files").column("owner_id").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("files").execute();
      },
    },
    "0005_messages_one_history_index": {
      // History pages by (conversation_id, seq); the (conversation_id, id) index only cost
      // inserts (measured in bench/messages.ts).
      async up(db: Kysely<unknown>) {
        await db.schema.dropIndex("messages_conv_id").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.createIndex("messages_conv_id").on("messages").columns(["conversation_id", "id"]).execute();
      },
    },
    "0006_groups": {
      // Groups (core Group = chat33 room): see src/ports/storage/groups.ts.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("groups")
          .addColumn("id", idType, idColumn)
          .addColumn("mark_id", "text", (c) => c.notNull().unique())
          .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("avatar", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("owner_id", "bigint", (c) => c.notNull())
          .addColumn("can_add_friend", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("join_permission", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("capacity", "integer", (c) => c.notNull())
          .addColumn("mute_all", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("conversation_id", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("dissolved_at", "bigint")
          .execute();
        await db.schema
          .createTable("group_members")
          .addColumn("group_id", "bigint", (c) => c.notNull())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("role", "integer", (c) => c.notNull())
          .addColumn("nickname", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("no_disturbing", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("sticky_on_top", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("muted_until", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("speak_exempt", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("joined_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("group_members_pk", ["group_id", "user_id"])
          .execute();
        await db.schema.createIndex("group_members_user").on("group_members").column("user_id").execute();
        await db.schema
          .createTable("group_applications")
          .addColumn("id", idType, idColumn)
          .addColumn("group_id", "bigint", (c) => c.notNull())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("inviter_id", "bigint")
          .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("handled_by", "bigint")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("group_applications_group")
          .on("group_applications")
          .columns(["group_id", "status"])
          .execute();
        await db.schema.createIndex("group_applications_user").on("group_applications").column("user_id").execute();
        await db.schema
          .createTable("group_blacklist")
          .addColumn("group_id", "bigint", (c) => c.notNull())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("group_blacklist_pk", ["group_id", "user_id"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ["group_blacklist", "group_applications", "group_members", "groups"])
          await db.schema.dropTable(t).execute();
      },
    },
    "0007_customers": {
      // The customer console (seed 004, docs/console.md): customers, their latest users/groups,
      // and the report history (server reports, user/group batch summaries). Reports reference
      // their customer by its uuid; removing a customer removes them in the same transaction.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("customers")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("code", "text", (c) => c.notNull().unique())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("mac", "text", (c) => c.notNull())
          .addColumn("tcphost", "text", (c) => c.notNull())
          .addColumn("tcpport", "integer", (c) => c.notNull())
          .addColumn("webhost", "text", (c) => c.notNull())
          .addColumn("webport", "integer", (c) => c.notNull())
          .addColumn("filehost", "text", (c) => c.notNull())
          .addColumn("fileport", "integer", (c) => c.notNull())
          .addColumn("timeout", "text", (c) => c.notNull())
          .addColumn("contact", "text", (c) => c.notNull())
          .addColumn("ctel", "text", (c) => c.notNull())
          .addColumn("server", "text", (c) => c.notNull())
          .addColumn("key_hash", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("customer_server_reports")
          .addColumn("id", idType, idColumn)
          .addColumn("customer_id", "text", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("mac", "text", (c) => c.notNull())
          .addColumn("ip", "text", (c) => c.notNull())
          .addColumn("timeout", "text", (c) => c.notNull())
          .addColumn("count", "bigint", (c) => c.notNull())
          .addColumn("updatetimes", "bigint", (c) => c.notNull())
          .addColumn("reported_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("customer_server_reports_customer")
          .on("customer_server_reports")
          .columns(["customer_id", "reported_at"])
          .execute();
        await db.schema
          .createTable("customer_users")
          .addColumn("customer_id", "text", (c) => c.notNull())
          .addColumn("uuid", "text", (c) => c.notNull())
          .addColumn("nickname", "text", (c) => c.notNull())
          .addColumn("onlinetime", "bigint", (c) => c.notNull())
          .addColumn("andtimes", "bigint", (c) => c.notNull())
          .addColumn("pctimes", "bigint", (c) => c.notNull())
          .addColumn("iostimes", "bigint", (c) => c.notNull())
          .addColumn("fmsgs", "bigint", (c) => c.notNull())
          .addColumn("tmsgs", "bigint", (c) => c.notNull())
          .addColumn("reported_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("customer_users_pk", ["customer_id", "uuid"])
          .execute();
        await db.schema
          .createTable("customer_groups")
          .addColumn("customer_id", "text", (c) => c.notNull())
          .addColumn("gid", "text", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("createrid", "text", (c) => c.notNull())
          .addColumn("creatername", "text", (c) => c.notNull())
          .addColumn("ucount", "bigint", (c) => c.notNull())
          .addColumn("msgcount", "bigint", (c) => c.notNull())
          .addColumn("ctime", "text", (c) => c.notNull())
          .addColumn("fcount", "bigint", (c) => c.notNull())
          .addColumn("ncount", "bigint", (c) => c.notNull())
          .addColumn("reported_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("customer_groups_pk", ["customer_id", "gid"])
          .execute();
        await db.schema
          .createTable("customer_batches")
          .addColumn("id", idType, idColumn)
          .addColumn("customer_id", "text", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("summary", "text", (c) => c.notNull())
          .addColumn("reported_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("customer_batches_customer")
          .on("customer_batches")
          .columns(["customer_id", "reported_at"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of [
          "customer_batches",
          "customer_groups",
          "customer_users",
          "customer_server_reports",
          "customers",
        ])
          await db.schema.dropTable(t).execute();
      },
    },
    "0008_chatrooms": {
      // Chat rooms (core Chatroom, chat33 /group/*): rooms, per-room mutes (user 0 = everyone),
      // the blacklist and reports. Their messages live in `messages` (conversation kind chatroom).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("chatrooms")
          .addColumn("id", idType, idColumn)
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("avatar", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("opened_at", "bigint", (c) => c.notNull())
          .addColumn("closed_at", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("shard_size", "integer")
          .execute();
        await db.schema.createIndex("chatrooms_created").on("chatrooms").columns(["status", "created_at"]).execute();
        await db.schema
          .createTable("chatroom_mutes")
          .addColumn("room_id", "bigint", (c) => c.notNull())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("until", "bigint", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("chatroom_mutes_pk", ["room_id", "user_id"])
          .execute();
        await db.schema.createIndex("chatroom_mutes_user").on("chatroom_mutes").column("user_id").execute();
        await db.schema
          .createTable("chatroom_blacklist")
          .addColumn("room_id", "bigint", (c) => c.notNull())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("chatroom_blacklist_pk", ["room_id", "user_id"])
          .execute();
        await db.schema
          .createTable("chatroom_reports")
          .addColumn("id", idType, idColumn)
          .addColumn("room_id", "bigint")
          .addColumn("reporter_id", "bigint", (c) => c.notNull())
          .addColumn("target_id", "bigint", (c) => c.notNull())
          .addColumn("log_id", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ["chatroom_reports", "chatroom_blacklist", "chatroom_mutes", "chatrooms"])
          await db.schema.dropTable(t).execute();
      },
    },
    // Wallet and red packets: src/adapters/sql/wallet-migration.ts
    "0009_wallet": walletMigration(kind),
    "0010_im": {
      // The cluster-admin surface (seed 003): access sessions, online-user statistics and the
      // advertised node addresses (src/adapters/sql/im-repo.ts).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("im_sessions")
          .addColumn("sid", idType, idColumn)
          .addColumn("uid", "bigint", (c) => c.notNull())
          .addColumn("nation", "bigint", (c) => c.notNull())
          .addColumn("city", "bigint", (c) => c.notNull())
          .addColumn("town", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("im_sessions_uid").on("im_sessions").column("uid").execute();
        await db.schema
          .createTable("im_precisions")
          .addColumn("prec", "bigint", (c) => c.primaryKey())
          .addColumn("num", "integer", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("im_samples")
          .addColumn("prec", "bigint", (c) => c.notNull())
          .addColumn("time", "bigint", (c) => c.notNull())
          .addColumn("num", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("im_samples_pk", ["prec", "time"])
          .execute();
        await db.schema
          .createTable("im_addresses")
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("nid", "bigint", (c) => c.notNull())
          .addColumn("type", "integer", (c) => c.notNull())
          .addColumn("ipaddr", "text", (c) => c.notNull())
          .addColumn("port", "integer", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("im_addresses_pk", ["kind", "nid", "type", "ipaddr", "port"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ["im_addresses", "im_samples", "im_precisions", "im_sessions"])
          await db.schema.dropTable(t).execute();
      },
    },
    "0011_chat33_compat": {
      // chat33 as its later clients speak it (docs/chat33.md "Compatibility"): burn-after-reading
      // (`snap`) and the client's `ext` on messages; friend blocks, the detailed remark, and the
      // per-user friend-request rules (approval, question and answer).
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("messages")
          .addColumn("snap", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable("messages").addColumn("ext", "text").execute();
        await db.schema
          .createIndex("messages_conv_created")
          .on("messages")
          .columns(["conversation_id", "created_at"])
          .execute();
        await db.schema
          .alterTable("friends")
          .addColumn("ext_remark", "text", (c) => c.notNull().defaultTo(""))
          .execute();
        await db.schema
          .createTable("friend_blocks")
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("blocked_id", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("friend_blocks_pk", ["user_id", "blocked_id"])
          .execute();
        await db.schema
          .createTable("friend_rules")
          .addColumn("user_id", "bigint", (c) => c.primaryKey())
          .addColumn("need_confirm", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("need_answer", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("question", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("answer", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("friend_rules").execute();
        await db.schema.dropTable("friend_blocks").execute();
        await db.schema.alterTable("friends").dropColumn("ext_remark").execute();
        await db.schema.dropIndex("messages_conv_created").execute();
        await db.schema.alterTable("messages").dropColumn("ext").execute();
        await db.schema.alterTable("messages").dropColumn("snap").execute();
      },
    },
    "0012_group_applications_one_waiting": {
      // At most one waiting application per (group, user) — the partial unique index makes a
      // concurrent second `apply` a no-op (GroupRepo.createApplication). Existing data first:
      // a waiting application of someone who is a member already is accepted (3); of several
      // waiting ones per (group, user) the newest stays waiting and the older are refused (2).
      async up(db: Kysely<unknown>) {
        await sql`UPDATE group_applications SET status = 3
          WHERE status = 1 AND EXISTS (SELECT 1 FROM group_members m
            WHERE m.group_id = group_applications.group_id AND m.user_id = group_applications.user_id)`.execute(db);
        await sql`UPDATE group_applications SET status = 2
          WHERE status = 1 AND id < (SELECT MAX(a.id) FROM group_applications a
            WHERE a.group_id = group_applications.group_id AND a.user_id = group_applications.user_id
              AND a.status = 1)`.execute(db);
        await sql`CREATE UNIQUE INDEX group_applications_one_waiting
          ON group_applications (group_id, user_id) WHERE status = 1`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("group_applications_one_waiting").execute();
      },
    },
    "0013_file_chunks": {
      // files.store=database (src/adapters/files/sql-file-store.ts): one row per blob, its bytes
      // in chunk rows. PostgreSQL: the chunks are stored uncompressed out of line (uploads are
      // mostly compressed media already; EXTERNAL skips a useless compression attempt).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("file_blobs")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("size", "bigint", (c) => c.notNull())
          .addColumn("chunk_bytes", "integer", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("file_chunks")
          .addColumn("key", "text", (c) => c.notNull().references("file_blobs.key").onDelete("cascade"))
          .addColumn("idx", "integer", (c) => c.notNull())
          .addColumn("data", kind === "postgres" ? "bytea" : "blob", (c) => c.notNull())
          .addPrimaryKeyConstraint("file_chunks_pk", ["key", "idx"])
          .execute();
        if (kind === "postgres") await sql`ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("file_chunks").execute();
        await db.schema.dropTable("file_blobs").execute();
      },
    },
    "0014_admin_sessions": {
      // Admin sessions (docs/admin.md "Signing in as an admin user"): an administrator user's
      // revocable sign-in to the admin API, apart from the user's own sessions
      // (src/adapters/sql/admin-session-repo.ts).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("admin_sessions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "bigint", (c) => c.notNull())
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("ip", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("user_agent", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("revoked_at", "bigint")
          .addColumn("revoke_reason", "text")
          .execute();
        await db.schema.createIndex("admin_sessions_user").on("admin_sessions").column("user_id").execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("admin_sessions").execute();
      },
    },
    "0015_org_indexes": {
      // The organisation directory's lookups by reference (docs/admin.md "Organisation
      // directory"): users of a company / department / role (the department user counts, and the
      // "still in use" checks of a delete), and departments of a company by parent.
      async up(db: Kysely<unknown>) {
        await db.schema.createIndex("users_org").on("users").columns(["company_id", "dept_id"]).execute();
        await db.schema
          .createIndex("departments_company")
          .on("departments")
          .columns(["company_id", "parent_id"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("departments_company").execute();
        await db.schema.dropIndex("users_org").execute();
      },
    },
  };
}
