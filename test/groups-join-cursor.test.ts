import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { contentOrThrow } from "../src/core/messages/content.ts";
import { GROUPS_CHANGED_TOPIC } from "../src/core/topics.ts";
import type { User } from "../src/ports/storage.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * Issue 11: a member who joins a group that already has messages — while messages keep arriving —
 * starts with nothing unread from before the join, and every message stored after their
 * membership counts as unread until they read it; the history from before is readable, without a
 * gap. Real storage (the backend of the run: SQLite, or PostgreSQL + Redis), the real writer and
 * hub; no part of the server is replaced.
 *
 * When is "after their membership"? The group service announces a membership change on the hub
 * (`groups.changed`) after it is stored. A message whose send starts after that announcement
 * reached this node was stored after the membership, so it must be unread for the new member.
 * A message whose send resolved before the join started must not be unread. Sends overlapping the
 * join itself may go either way — but never both: the unread count is exactly the messages of
 * others after the member's cursor.
 */

const PASSWORD = "secret-pass-1";
let seq = 0;
const mobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;
const text = contentOrThrow("text", { content: "hello" });

/** Resolves once `done()` holds (polled; fails the test after 10 s). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Sent {
  logId: number;
  seq: number;
  senderId: number;
  /** the joins (by joiner id) whose send had resolved before the join started */
  doneBefore: Set<number>;
  /** the joiners whose membership this node had heard of when the send started */
  heardAtStart: Set<number>;
}

describe("groups: a member who joins while messages are sent (issue 11, join cursor)", () => {
  let s: TestServer;
  const person = async (nickname: string): Promise<User> =>
    s.app.accounts.createUser({ mobile: mobile(), password: PASSWORD, nickname });

  before(async () => {
    s = await startServer({ "messages.sendRatePerUser": 100_000, "chat33.msgRatePerUser": 100_000 });
  });
  after(() => s.close());

  test("unread count and history boundaries are right, however the sends interleave with the join", async () => {
    const { groups, messages } = s.app;
    const owner = await person("Owner");
    const talker = await person("Talker");
    const group = await groups.create(owner, { name: "busy", userIds: [talker.id] });
    const conv = await messages.conversationById(group.conversationId);
    assert.ok(conv);

    // the membership announcements of this group, as this node hears them
    const heard = new Set<number>();
    /** joins that have started */
    const started = new Set<number>();
    let joining: number | null = null;
    s.app.hub.onMessage((topic, payload) => {
      if (topic !== GROUPS_CHANGED_TOPIC || joining === null) return;
      if ((payload as { groupId?: unknown }).groupId === group.id) heard.add(joining);
    });

    let n = 0;
    const sent: Sent[] = [];
    const sendAs = async (u: User) => {
      const heardAtStart = new Set(heard);
      const r = await messages.send("group", u, group.id, { clientMsgId: `m${++n}`, content: text });
      const all = new Set(joiners.map((j) => j.id));
      const doneBefore = new Set([...all].filter((id) => !started.has(id)));
      sent.push({ logId: Number(r.view.logId), seq: 0, senderId: u.id, doneBefore, heardAtStart });
    };

    /**
     * Per joiner, from the observer's snapshots: the newest seq while not yet a member (those
     * messages came before the join: read) and the smallest newest seq once a member (anything
     * after it came after the join: unread). So before ≤ cursor ≤ member.
     */
    const bounds = new Map<number, { member: number; before: number }>();
    const ROUNDS = 12;
    const joiners: User[] = [];
    for (let round = 0; round < ROUNDS; round++) joiners.push(await person(`Joiner ${round}`));

    // messages before anyone joins
    for (let i = 0; i < 5; i++) await sendAs(owner);

    for (const joiner of joiners) {
      // two members keep sending while the joiner is invited; the join starts between sends
      let stop = false;
      const loop = async (u: User) => {
        while (!stop) await sendAs(u);
      };
      const mark = sent.length;
      const loops = [loop(owner), loop(talker), loop(owner), loop(talker)];
      // an observer: atomic snapshots of (is the joiner a member?, the newest seq), all round long
      const seen = { member: Number.POSITIVE_INFINITY, before: 0 };
      bounds.set(joiner.id, seen);
      const observer = (async () => {
        while (!stop) {
          const [member, c] = await s.app.storage.transaction(
            async (tx) =>
              [await tx.groups.member(group.id, joiner.id), await tx.messages.conversation(conv.id)] as const,
          );
          const last = c?.lastSeq ?? 0;
          if (member) seen.member = Math.min(seen.member, last);
          else seen.before = Math.max(seen.before, last);
          // let the writers in (on SQLite a transaction holds the one connection)
          await new Promise((r) => setImmediate(r));
        }
      })();
      await until(() => sent.length >= mark + 2 + (joiner.id % 4));
      joining = joiner.id;
      started.add(joiner.id);
      assert.deepEqual(await groups.invite(owner, group.id, [joiner.id]), { joined: [joiner.id], pending: [] });
      await until(() => sent.filter((m) => m.heardAtStart.has(joiner.id)).length >= 4);
      stop = true;
      await Promise.all([...loops, observer]);
      for (let i = 0; i < 3; i++) await sendAs(talker);
      const mine = sent.slice(mark);
      assert.ok(
        mine.some((m) => m.doneBefore.has(joiner.id)),
        "some sends of the round finished before the join started",
      );
      assert.ok(
        mine.some((m) => m.heardAtStart.has(joiner.id)),
        "some sends of the round started after the membership was announced",
      );
    }

    // every message, from the history (new members may read all of it)
    const rows = await messages.afterSeq(conv, 0, 100_000);
    const seqOf = new Map(rows.map((m) => [m.id, m.seq]));
    for (const m of sent) m.seq = seqOf.get(m.logId) ?? -1;
    assert.equal(rows.length, sent.length, "every message is stored once");
    assert.deepEqual(
      rows.map((m) => m.seq),
      rows.map((_, i) => i + 1),
      "seqs without a gap",
    );

    for (const [i, joiner] of joiners.entries()) {
      const cursor = await messages.cursorOf(conv, joiner.id);
      const unreadExpected = sent.filter((m) => m.senderId !== joiner.id && m.seq > cursor).length;
      const summary = (await groups.summaries(joiner)).find((g) => g.group.id === group.id);
      assert.ok(summary, `joiner ${i} lists the group`);
      assert.equal(summary.unread, unreadExpected, `joiner ${i}: unread = the others' messages after the cursor`);
      const b = bounds.get(joiner.id);
      assert.ok(b && Number.isFinite(b.member), `joiner ${i}: observed as a member`);
      assert.ok(
        b.before <= cursor && cursor <= b.member,
        `joiner ${i}: the cursor ${cursor} is where the membership began (after seq ${b.before}, at most seq ${b.member}, as observed)`,
      );
      for (const m of sent) {
        if (m.doneBefore.has(joiner.id))
          assert.ok(
            m.seq <= cursor,
            `joiner ${i}: seq ${m.seq}, sent before the join, is not unread (cursor ${cursor})`,
          );
        if (m.heardAtStart.has(joiner.id))
          assert.ok(
            m.seq > cursor,
            `joiner ${i}: seq ${m.seq}, sent after the membership was stored, is unread (cursor ${cursor})`,
          );
      }
      // the history from before the join is readable, without a gap
      const seen: number[] = [];
      let beforeId: number | null = null;
      for (;;) {
        const page = await groups.history(joiner, group.id, beforeId, 50);
        seen.push(...page.views.map((v) => Number(v.logId)));
        if (!page.nextId) break;
        beforeId = Number(page.nextId);
      }
      assert.deepEqual(
        seen.reverse(),
        rows.map((m) => m.id),
        `joiner ${i} reads the whole history`,
      );
      // reading clears it
      await groups.markRead(joiner, group.id, null);
      const again = (await groups.summaries(joiner)).find((g) => g.group.id === group.id);
      assert.equal(again?.unread, 0, `joiner ${i}: read`);
    }
  });
});
