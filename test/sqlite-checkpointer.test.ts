import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import SQLite from "better-sqlite3";
import type { Logger } from "pino";
import { SqliteCheckpointer } from "../src/adapters/sql/sqlite-checkpointer.ts";

const dir = mkdtempSync(join(tmpdir(), "parley-ckpt-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function open(file: string): SQLite.Database {
  const db = new SQLite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("create table t (id integer primary key, k text not null unique, v blob not null)");
  return db;
}

const walBytes = (file: string) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

test("the checkpointer thread takes over checkpoints, keeps the WAL bounded, and closes before the main connection", async (t) => {
  const file = join(dir, "a.db");
  const db = open(file);
  const ck = new SqliteCheckpointer(db, file, undefined, 10, 256);
  // A failed assertion must not leave the worker thread running: it would keep this test file's
  // process alive and the test runner waiting for it forever.
  let closed = false;
  t.after(async () => {
    if (closed) return;
    await ck.close();
    db.close();
  });
  assert.equal(await ck.ready, true);
  assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 0, "the main connection no longer checkpoints");
  const insert = db.prepare("insert into t (k, v) values (?, ?)");
  const batch = db.transaction((n: number) => {
    for (let i = 0; i < 50; i++) insert.run(`${n}-${i}-${Math.random()}`, Buffer.alloc(1000, n));
  });
  // 400 commits of ~50 KiB each (≈ 20 MiB of pages) with event-loop turns in between, like the
  // message writer's group commits.
  let maxWal = 0;
  for (let n = 0; n < 400; n++) {
    batch.immediate(n);
    if (n % 2) ck.committed(); // the message writer signals its commits; other writes are polled
    maxWal = Math.max(maxWal, walBytes(file));
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(maxWal < 8 * 1024 * 1024, `WAL stayed small (max ${maxWal} bytes)`);
  closed = true;
  await ck.close();
  db.close();
  assert.equal(existsSync(`${file}-wal`), false, "the last connection removed the WAL");
  const check = new SQLite(file, { readonly: true });
  assert.equal((check.prepare("select count(*) as n from t").get() as { n: number }).n, 20_000);
  check.close();
});

test("when the thread cannot open the database, the main connection keeps checkpointing", async () => {
  const file = join(dir, "b.db");
  const db = open(file);
  const logged: string[] = [];
  const log = { error: (_o: unknown, msg: string) => logged.push(msg) } as unknown as Logger;
  const ck = new SqliteCheckpointer(db, join(dir, "missing", "nope.db"), log);
  assert.equal(await ck.ready, false);
  assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 1000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(logged.length, 1, "the failure is logged once");
  await ck.close();
  db.close();
});
