import assert from "node:assert/strict";
import { test } from "node:test";
import { forEachStorage } from "./helpers/storage.ts";

/** Contract of the storage itself: migrations, liveness, its kind (src/ports/storage/index.ts). */
forEachStorage(
  "system",
  (ctx) => {
    test("migrations apply in order, then migrate is idempotent and ping answers", async () => {
      const { storage } = ctx;
      assert.deepEqual(await storage.migrate(), [
        "0001_foundation",
        "0002_accounts",
        "0003_messages",
        "0004_files",
        "0005_messages_one_history_index",
        "0006_groups",
        "0007_customers",
        "0008_chatrooms",
        "0009_wallet",
        "0010_im",
        "0011_chat33_compat",
        "0012_group_applications_one_waiting",
        "0013_file_chunks",
        "0014_admin_sessions",
        "0015_org_indexes",
      ]);
      assert.deepEqual(await storage.migrate(), []);
      assert.equal(await storage.ping(), true);
      assert.equal(storage.kind, ctx.kind);
    });
  },
  { migrate: false },
);
