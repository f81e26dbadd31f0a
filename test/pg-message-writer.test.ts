import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { BatchWriter } from "../src/core/messages/batch-writer.ts";
import type { Message, MessageRepo, NewMessage } from "../src/ports/storage.ts";
import { createPgDatabase, DATABASE_URL } from "./helpers/backend.ts";

/**
 * Issue 19 item 7: PostgreSQL group commit with several batch transactions in flight
 * (`messages.writeLanes`, conversations partitioned over the lanes). Real PostgreSQL only: these
 * run when PARLEY_DATABASE_URL is set (CI's second run) and are skipped on the SQLite run, where
 * the writer always has one lane.
 */

const LANES = 4;
type Result = { message: Message; duplicate: boolean };

/** A MessageRepo that records how many appendBatch calls overlap and which conversations each holds. */
function spied(repo: MessageRepo) {
  const inFlight = new Set<Set<number>>();
  const stats = { maxInFlight: 0, calls: 0, sharedConversation: 0 };
  const proxy = new Proxy(repo, {
    get(target, prop, receiver) {
      if (prop !== "appendBatch") return Reflect.get(target, prop, receiver);
      return async (batch: NewMessage[]) => {
        const convs = new Set(batch.map((m) => m.conversationId));
        for (const other of inFlight) for (const c of convs) if (other.has(c)) stats.sharedConversation++;
        inFlight.add(convs);
        stats.calls++;
        stats.maxInFlight = Math.max(stats.maxInFlight, inFlight.size);
        try {
          return await target.appendBatch(batch);
        } finally {
          inFlight.delete(convs);
        }
      };
    },
  });
  return { repo: proxy, stats };
}

describe("PostgreSQL writer lanes: several batch transactions in flight (issue 19 item 7)", {
  skip: !DATABASE_URL,
}, () => {
  let db: { url: string; drop: () => Promise<void> };
  let storage: SqlStorage;
  let second: SqlStorage;
  let watcher: pg.Client;
  let convSeq = 0;

  before(async () => {
    db = await createPgDatabase(DATABASE_URL);
    storage = new SqlStorage({ databaseUrl: db.url, sqliteFile: "" });
    await storage.migrate();
    // a second "node" on the same database, with its own pool and its own writer
    second = new SqlStorage({ databaseUrl: db.url, sqliteFile: "" });
    watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
  });

  after(async () => {
    await watcher?.end();
    await second?.close();
    await storage?.close();
    await db?.drop();
  });

  /** `n` new direct conversations between made-up user ids (messages reference no user rows). */
  const conversations = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = ++convSeq;
      const c = await storage.messages.ensureConversation({
        kind: "direct",
        key: `d:${k}:${k + 100_000}`,
        userA: k,
        userB: k + 100_000,
        createdAt: Date.now(),
      });
      out.push(c.id);
    }
    return out;
  };
  const msg = (conversationId: number, senderId: number, clientMsgId: string): NewMessage => ({
    conversationId,
    senderId,
    clientMsgId,
    kind: "text",
    content: { content: clientMsgId },
    contentJson: JSON.stringify({ content: clientMsgId }),
    createdAt: Date.now(),
  });
  const storedSeqs = async (conversationId: number) =>
    (
      await watcher.query<{ seq: string }>("select seq from messages where conversation_id = $1 order by seq", [
        conversationId,
      ])
    ).rows.map((r) => Number(r.seq));

  test("concurrent senders on two nodes: every conversation's seq is gapless and in each sender's order", async () => {
    const convs = await conversations(24);
    const a = spied(storage.messages);
    const b = spied(second.messages);
    const writers = [new BatchWriter(a.repo, 64, () => {}, LANES), new BatchWriter(b.repo, 64, () => {}, LANES)];
    assert.equal(writers[0].laneCount, LANES);
    // 72 senders, three per conversation (two on node A, one on node B), each keeping 8 messages in flight
    const PER_SENDER = 60;
    const WINDOW = 8;
    const senders = Array.from({ length: 72 }, (_, i) => ({
      id: 1_000 + i,
      conv: convs[i % convs.length],
      writer: writers[Math.floor(i / 24) % 2],
      results: [] as Array<Result | undefined>,
    }));
    await Promise.all(
      senders.map(async (s) => {
        let next = 0;
        const lane = async () => {
          while (next < PER_SENDER) {
            const i = next++;
            s.results[i] = await s.writer.submit(msg(s.conv, s.id, `s${s.id}-${i}`));
          }
        };
        await Promise.all(Array.from({ length: WINDOW }, lane));
      }),
    );
    // lanes really overlapped, and never two transactions of one node on one conversation
    assert.equal(a.stats.maxInFlight, LANES, `node A had ${a.stats.maxInFlight} batches in flight at most`);
    assert.ok(b.stats.maxInFlight > 1, `node B had ${b.stats.maxInFlight} batches in flight at most`);
    assert.equal(a.stats.sharedConversation + b.stats.sharedConversation, 0);
    for (const s of senders) {
      assert.equal(s.results.length, PER_SENDER);
      for (const r of s.results) assert.equal(r?.duplicate, false);
    }
    for (const c of convs) {
      const mine = senders.filter((s) => s.conv === c);
      const total = mine.length * PER_SENDER;
      // what the acks said: seqs 1..total, each once
      const acked = mine.flatMap((s) => s.results.map((r) => r?.message.seq as number)).sort((x, y) => x - y);
      assert.deepEqual(
        acked,
        Array.from({ length: total }, (_, i) => i + 1),
      );
      // what is stored, seen from another session: the same, gapless, and last_seq agrees
      assert.deepEqual(await storedSeqs(c), acked);
      assert.equal((await storage.messages.conversation(c))?.lastSeq, total);
      // each sender's messages (submitted in index order, 8 in flight): seq increases with the
      // index, and every ack carries the seq that is stored
      for (const s of mine) {
        const bySubmission = s.results.map((r) => r?.message.seq as number);
        for (let i = 1; i < bySubmission.length; i++)
          assert.ok(bySubmission[i] > bySubmission[i - 1], `sender ${s.id}: message ${i} after message ${i - 1}`);
        const stored = await watcher.query<{ client_msg_id: string; seq: string }>(
          "select client_msg_id, seq from messages where sender_id = $1 order by seq",
          [s.id],
        );
        assert.equal(stored.rows.length, PER_SENDER);
        for (const row of stored.rows) {
          const i = Number(row.client_msg_id.split("-")[1]);
          assert.equal(Number(row.seq), bySubmission[i], `ack of ${row.client_msg_id} carries its stored seq`);
        }
      }
    }
  });

  test("a sender's messages to one conversation keep their submission order across batches and lanes", async () => {
    const convs = await conversations(8);
    const writer = new BatchWriter(storage.messages, 16, () => {}, LANES);
    // submitted all in one turn, interleaved over 8 conversations: 400 per conversation, several
    // batches of 16 per lane, so order must hold across batches, not only inside one
    const pending: Array<{ conv: number; i: number; p: Promise<Result> }> = [];
    for (let i = 0; i < 400; i++)
      for (const c of convs) pending.push({ conv: c, i, p: writer.submit(msg(c, 7, `o${c}-${i}`)) });
    const results = await Promise.all(pending.map((x) => x.p));
    for (const c of convs) {
      const seqs = pending.flatMap((x, k) => (x.conv === c ? [results[k].message.seq] : []));
      assert.deepEqual(
        seqs,
        Array.from({ length: 400 }, (_, i) => i + 1),
        `conversation ${c}: seq follows submission order`,
      );
      assert.deepEqual(await storedSeqs(c), seqs);
    }
  });

  test("no ack before its transaction commits; the other lanes keep committing meanwhile", async () => {
    // one conversation per lane
    const all = await conversations(16);
    const byLane = new Map<number, number>();
    for (const c of all) if (!byLane.has(c % LANES)) byLane.set(c % LANES, c);
    assert.equal(byLane.size, LANES);
    const blocked = byLane.get(0) as number;
    const free = [...byLane].filter(([lane]) => lane !== 0).map(([, c]) => c);
    const writer = new BatchWriter(storage.messages, 512, () => {}, LANES);

    // another session holds the blocked conversation's row: its lane's transaction cannot finish
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("select id from conversations where id = $1 for update", [blocked]);

      let settled = 0;
      const held = Array.from({ length: 5 }, (_, i) =>
        writer.submit(msg(blocked, 9, `held-${i}`)).finally(() => {
          settled++;
        }),
      );
      const others = free.flatMap((c) =>
        Array.from({ length: 5 }, (_, i) => writer.submit(msg(c, 9, `free-${c}-${i}`))),
      );
      // (bounded so a writer with one lane fails here instead of hanging behind the lock)
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        Promise.all(others),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("the other lanes did not commit while one lane was blocked")),
            120_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      // the free lanes committed while the blocked lane waits: their rows are visible elsewhere
      for (const c of free) assert.deepEqual(await storedSeqs(c), [1, 2, 3, 4, 5]);
      assert.equal(done.length, free.length * 5);
      // wait until the blocked lane's UPDATE is really waiting on the lock (not merely not started)
      for (let i = 0; i < 600; i++) {
        const w = await watcher.query(
          "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%last_seq%'",
        );
        if (w.rows.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(settled, 0, "no ack while its transaction is blocked");
      assert.deepEqual(await storedSeqs(blocked), [], "nothing of the blocked lane is visible before its commit");
      await locker.query("rollback");
      const acks = await Promise.all(held);
      assert.deepEqual(
        acks.map((r) => r.message.seq),
        [1, 2, 3, 4, 5],
      );
      // every acknowledged message is visible from another session
      assert.deepEqual(await storedSeqs(blocked), [1, 2, 3, 4, 5]);
    } finally {
      await locker.end();
    }
  });

  test("one (sender, client id) sent to two conversations in two lanes at once is stored once", async () => {
    const all = await conversations(8);
    const x = all.find((c) => c % LANES === 1) as number;
    const y = all.find((c) => c % LANES === 2) as number;
    const writer = new BatchWriter(storage.messages, 512, () => {}, LANES);
    const ids = Array.from({ length: 20 }, (_, i) => `twice-${i}`);
    const pairs = ids.map((id) => [writer.submit(msg(x, 42, id)), writer.submit(msg(y, 42, id))] as const);
    const unique = await Promise.all(ids.map((id) => writer.submit(msg(x, 43, `${id}-own`))));
    for (const [i, [p, q]] of pairs.entries()) {
      const [r, s] = await Promise.all([p, q]);
      assert.equal(r.message.id, s.message.id, `${ids[i]}: both answers name one stored message`);
      assert.equal(Number(r.duplicate) + Number(s.duplicate), 1, `${ids[i]}: exactly one is the original`);
      const rows = await watcher.query("select id from messages where sender_id = 42 and client_msg_id = $1", [ids[i]]);
      assert.equal(rows.rows.length, 1);
    }
    assert.equal(unique.length, 20);
    for (const c of [x, y]) {
      const seqs = await storedSeqs(c);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i + 1),
        `conversation ${c} stays gapless`,
      );
      assert.equal((await storage.messages.conversation(c))?.lastSeq, seqs.length);
    }
  });
});
