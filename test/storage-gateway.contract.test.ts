import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../src/core/errors.ts";
import { forEachStorage } from "./helpers/storage.ts";

/** Contract of the settings and gateway-system repositories (src/ports/storage/settings.ts, gateway.ts). */
forEachStorage("gateway + settings", (ctx) => {
  test("settings: get, getOrInit keeps the first value under a race, set overwrites", async () => {
    const { storage } = ctx;
    assert.equal(await storage.settings.get("k"), null);
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.settings.getOrInit("k", `v${i}`)));
    assert.equal(new Set(values).size, 1, "every racer sees the same winner");
    assert.equal(await storage.settings.get("k"), values[0]);
    await storage.settings.set("k", "other");
    assert.equal(await storage.settings.get("k"), "other");
    assert.equal(await storage.settings.getOrInit("k", "ignored"), "other");
  });

  test("gateway systems: create, find, duplicate is a conflict (not a driver error)", async () => {
    const { storage } = ctx;
    const now = Date.now();
    await storage.gatewaySystems.create({ systemId: "a", secretHash: null, createdAt: now });
    await storage.gatewaySystems.create({ systemId: "b", secretHash: "f".repeat(64), createdAt: now });
    assert.deepEqual(await storage.gatewaySystems.find("a"), { systemId: "a", secretHash: null, createdAt: now });
    assert.equal((await storage.gatewaySystems.find("b"))?.secretHash, "f".repeat(64));
    assert.equal(await storage.gatewaySystems.find("zzz"), null);
    assert.deepEqual(
      (await storage.gatewaySystems.list()).map((x) => [x.systemId, x.secretHash !== null]),
      [
        ["a", false],
        ["b", true],
      ],
    );
    await assert.rejects(
      storage.gatewaySystems.create({ systemId: "a", secretHash: null, createdAt: now }),
      (e: unknown) => e instanceof AppError && e.code === "conflict" && e.reason === "system_exists",
    );
    // a concurrent duplicate: exactly one wins
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        storage.gatewaySystems.create({ systemId: "race", secretHash: null, createdAt: now }),
      ),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  });

  test("ids are stored verbatim (unicode, quotes, long)", async () => {
    const { storage } = ctx;
    const id = `系统'"; DROP TABLE x; --${"z".repeat(100)}`;
    await storage.gatewaySystems.create({ systemId: id, secretHash: null, createdAt: 1 });
    assert.equal((await storage.gatewaySystems.find(id))?.systemId, id);
  });
});
