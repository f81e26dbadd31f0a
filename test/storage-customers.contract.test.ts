import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../src/core/errors.ts";
import type { Customer } from "../src/ports/customers.ts";
import { forEachStorage } from "./helpers/storage.ts";

/** The customer console's repositories (src/ports/customers.ts, `Storage.customers` / `telemetry`). */
forEachStorage("customers", (ctx) => {
  const customer = (id: string, code: string): Customer => ({
    id,
    code,
    name: "江苏中威科技",
    mac: "",
    tcphost: "h",
    tcpport: 1,
    webhost: "h",
    webport: 2,
    filehost: "h",
    fileport: 3,
    timeout: "2099-01-01",
    contact: "",
    ctel: "",
    server: "",
    keyHash: null,
    createdAt: 1,
    updatedAt: 1,
  });

  test("customers: create, unique code, update, byCode keeps the text code", async () => {
    const { customers } = ctx.storage;
    await customers.create(customer("c-1", "0513001"));
    await assert.rejects(
      customers.create(customer("c-2", "0513001")),
      (e) => e instanceof AppError && e.code === "conflict",
    );
    assert.equal((await customers.byCode("0513001"))?.id, "c-1");
    assert.equal(await customers.byCode("513001"), null, "leading zeros matter");
    assert.equal((await customers.update("c-1", { name: "新" }, 5))?.name, "新");
    assert.equal(await customers.update("nope", { name: "x" }, 5), null);
  });

  test("telemetry: a user or group reported again replaces its row; one history point per batch; remove takes all", async () => {
    const { customers, telemetry } = ctx.storage;
    await customers.create(customer("c-3", "t3"));
    const user = (uuid: string, fmsgs: number) => ({
      uuid,
      nickname: uuid,
      onlinetime: 1,
      andtimes: 0,
      pctimes: 1,
      iostimes: 0,
      fmsgs,
      tmsgs: 2,
    });
    await telemetry.commitUsers("c-3", [user("u1", 1), user("u2", 2)], 10, 0);
    await telemetry.commitUsers("c-3", [user("u1", 9)], 20, 0);
    assert.deepEqual(
      (await telemetry.users("c-3")).map((u) => [u.uuid, u.fmsgs, u.reportedAt]),
      [
        ["u1", 9, 20],
        ["u2", 2, 10],
      ],
    );
    const group = (gid: string, ucount: number) => ({
      gid,
      name: "g",
      createrid: "36",
      creatername: "c",
      ucount,
      msgcount: 1,
      ctime: "2016-08-09",
      fcount: 0,
      ncount: 0,
    });
    await telemetry.commitGroups("c-3", [group("g1", 3)], 30, 0);
    await telemetry.commitGroups("c-3", [group("g1", 5), group("g2", 1)], 40, 0);
    assert.deepEqual(await telemetry.groups("c-3"), [
      { ...group("g1", 5), reportedAt: 40 },
      { ...group("g2", 1), reportedAt: 40 },
    ]);
    const history = await telemetry.history("c-3", 0, 100);
    assert.deepEqual(
      history.map((h) => [h.kind, h.values.rows]),
      [
        ["users", 2],
        ["users", 1],
        ["groups", 1],
        ["groups", 2],
      ],
    );
    assert.equal(history[0]?.values.fmsgs, 3, "sums of the batch");
    // retention: history before `since` goes with the next batch; the latest rows stay
    await telemetry.commitUsers("c-3", [], 50, 35);
    assert.deepEqual(
      (await telemetry.history("c-3", 0, 100)).map((h) => h.reportedAt),
      [40, 50],
    );
    assert.equal((await telemetry.users("c-3")).length, 2);
    assert.equal(await customers.remove("c-3"), true);
    assert.deepEqual(await telemetry.users("c-3"), []);
    assert.deepEqual(await telemetry.groups("c-3"), []);
    assert.deepEqual(await telemetry.history("c-3", 0, 100), []);
  });
});
