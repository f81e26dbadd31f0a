import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppError } from "../src/core/errors.ts";
import { contentOrThrow } from "../src/core/messages/content.ts";
import type { User } from "../src/ports/storage.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const reason = (r: string) => (e: unknown) => e instanceof AppError && e.reason === r;
const text = (clientMsgId: string, content = "hi") => ({ clientMsgId, content: contentOrThrow("text", { content }) });

describe("message core (direct conversations)", () => {
  let s: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    // generous send rate: these tests send hundreds of messages at once (the limit has its own tests)
    s = await startServer({ "messages.recallWindowMs": 60_000, "messages.sendRatePerUser": 100_000 });
    const { accounts, friends } = s.app;
    alice = await accounts.createUser({ username: "alice", password: "pass-123", nickname: "Alice" });
    bob = await accounts.createUser({ username: "bob", password: "pass-123", nickname: "Bob" });
    carol = await accounts.createUser({ username: "carol", password: "pass-123", nickname: "Carol" });
    await friends.request(alice, bob.id, { reason: "hi" });
    await friends.respond(bob, alice.id, true);
  });
  after(() => s.close());

  test("only friends or colleagues may talk; muted users may not send; not to yourself", async () => {
    const { messages, org, accounts } = s.app;
    await assert.rejects(messages.sendDirect(alice, carol.id, text("x1")), reason("not_friends"));
    await assert.rejects(messages.sendDirect(alice, alice.id, text("x2")), reason("self_operation"));
    await assert.rejects(messages.sendDirect(alice, 999999, text("x3")), reason("user_not_found"));
    const co = await org.createCompany({ text: "Co" });
    const d1 = await accounts.createUser({ username: "d1", password: "pass-123", companyId: co.id });
    const d2 = await accounts.createUser({ username: "d2", password: "pass-123", companyId: co.id });
    assert.equal((await messages.sendDirect(d1, d2.id, text("colleague"))).duplicate, false);
    const muted = await accounts.mute(d1.id, 60_000);
    await assert.rejects(messages.sendDirect(muted, d2.id, text("muted")), reason("user_muted"));
  });

  test("concurrent sends get gapless seq 1..n and unique logIds; events only after commit", async () => {
    const { messages, hub } = s.app;
    const events: string[] = [];
    hub.onMessage((topic, p) => {
      if (topic === `user:${bob.id}` && (p as { type: string }).type === "message.new")
        events.push((p as { message: { logId: string } }).message.logId);
    });
    await hub.subscribe(`user:${bob.id}`);
    const n = 300;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        messages.sendDirect(i % 2 ? alice : bob, i % 2 ? bob.id : alice.id, text(`c-${i}`, `m${i}`)),
      ),
    );
    const seqs = results.map((r) => r.view.seq).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.equal(new Set(results.map((r) => r.view.logId)).size, n);
    for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(events.length, n, "one event per stored message");
    // every event is for a committed message
    for (const logId of events) assert.ok(await s.app.storage.messages.message(Number(logId)));
  });

  test("a retried client id returns the original and stores nothing new, even concurrently", async () => {
    const { messages } = s.app;
    const before = (await messages.findDirect(alice.id, bob.id))?.id;
    const conv = before ? await s.app.storage.messages.conversation(before) : null;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => messages.sendDirect(alice, bob.id, text("same-id", "once"))),
    );
    assert.equal(new Set(results.map((r) => r.view.logId)).size, 1);
    assert.equal(results.filter((r) => !r.duplicate).length, 1);
    const later = await messages.sendDirect(alice, bob.id, text("same-id", "changed"));
    assert.equal(later.duplicate, true);
    assert.deepEqual(later.view.content, { content: "once" });
    const convAfter = await s.app.storage.messages.conversation(conv?.id ?? 0);
    assert.equal((convAfter?.lastSeq ?? 0) - (conv?.lastSeq ?? 0), 1);
  });

  test("history pages newest first with nextId; page/size with totals; since(seq) for gaps", async () => {
    const { messages } = s.app;
    const first = await messages.directHistory(bob, alice.id, null, 5);
    assert.equal(first.views.length, 5);
    assert.ok(first.nextId);
    const ids = first.views.map((v) => Number(v.logId));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    const second = await messages.directHistory(bob, alice.id, Number(first.nextId), 5);
    assert.ok(Number(second.views[0].logId) < ids[4]);
    const p1 = await messages.directPage(alice, bob.id, 1, 10);
    assert.ok(p1.total >= 300);
    assert.equal(p1.views[0].logId, first.views[0].logId);
    const conv = await messages.findDirect(alice.id, bob.id);
    const gap = await messages.since(alice, conv?.id ?? 0, 10, 5);
    assert.deepEqual(
      gap.map((v) => v.seq),
      [11, 12, 13, 14, 15],
    );
    await assert.rejects(messages.since(carol, conv?.id ?? 0, 0, 5), reason("conversation_not_found"));
  });

  test("unread counts only others' messages after the read cursor; cursors never go back", async () => {
    const { messages, storage } = s.app;
    const x = await s.app.accounts.createUser({ username: "x", password: "pass-123" });
    const y = await s.app.accounts.createUser({ username: "y", password: "pass-123" });
    await s.app.friends.request(x, y.id, {});
    await s.app.friends.request(y, x.id, {}); // crossing requests: accepted
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push((await messages.sendDirect(x, y.id, text(`u${i}`))).view);
    await messages.sendDirect(y, x.id, text("reply", "reply"));
    const conv = await messages.findDirect(x.id, y.id);
    assert.equal(await storage.messages.unreadCount(conv?.id ?? 0, y.id), 5);
    assert.equal(await storage.messages.unreadCount(conv?.id ?? 0, x.id), 1);
    await messages.markRead(y, Number(sent[2].logId));
    assert.equal(await storage.messages.unreadCount(conv?.id ?? 0, y.id), 2);
    await messages.markRead(y, Number(sent[0].logId));
    assert.equal(await storage.messages.unreadCount(conv?.id ?? 0, y.id), 2, "cursor does not move back");
    await assert.rejects(messages.markRead(carol, Number(sent[0].logId)), reason("message_not_found"));
    const summaries = await messages.directSummaries(y);
    assert.equal(summaries[0].peer.id, x.id);
    assert.equal(summaries[0].unread, 2);
    assert.equal(summaries[0].last?.content.content, "reply");
  });

  test("recall: own message within the window; delete hides it; outsiders see 'not found'", async () => {
    const { messages, storage } = s.app;
    const m = (await messages.sendDirect(alice, bob.id, text("to-recall"))).view;
    await assert.rejects(messages.recall(bob, Number(m.logId)), reason("not_sender"));
    await assert.rejects(messages.recall(carol, Number(m.logId)), reason("message_not_found"));
    await messages.recall(alice, Number(m.logId));
    assert.ok((await storage.messages.message(Number(m.logId)))?.recalledAt);
    await assert.rejects(messages.recall(alice, Number(m.logId)), reason("message_not_found"));
    const d = (await messages.sendDirect(alice, bob.id, text("to-delete"))).view;
    await assert.rejects(messages.delete(carol, Number(d.logId)), reason("message_not_found"));
    await messages.delete(alice, Number(d.logId));
    const top = await messages.directHistory(bob, alice.id, null, 3);
    assert.ok(!top.views.some((v) => v.logId === d.logId));
    assert.ok(top.views.some((v) => v.logId === m.logId && v.recalled));
  });

  test("the recall window is enforced", async () => {
    const t = await startServer({ "messages.recallWindowMs": 0 });
    try {
      const a = await t.app.accounts.createUser({ username: "a", password: "pass-123", companyId: null });
      const co = await t.app.org.createCompany({ text: "c" });
      await t.app.accounts.adminUpdate(a.id, { companyId: co.id });
      const b = await t.app.accounts.createUser({ username: "b", password: "pass-123", companyId: co.id });
      const a2 = (await t.app.storage.users.findById(a.id)) as User;
      const m = (await t.app.messages.sendDirect(a2, b.id, text("late"))).view;
      await new Promise((r) => setTimeout(r, 5));
      await assert.rejects(t.app.messages.recall(a2, Number(m.logId)), reason("recall_window"));
    } finally {
      await t.close();
    }
  });

  test("friends: requests, answers, settings, removal", async () => {
    const { friends, storage } = s.app;
    const p = await s.app.accounts.createUser({ username: "p", password: "pass-123" });
    const q = await s.app.accounts.createUser({ username: "q", password: "pass-123" });
    const r = await friends.request(p, q.id, { reason: "let's talk", remark: "Q!" });
    assert.equal(r.status, 1);
    assert.equal((await friends.request(p, q.id, {})).id, r.id, "a second request reuses the waiting one");
    assert.equal(await friends.pendingCount(q.id), 1);
    await assert.rejects(friends.respond(p, q.id, true), reason("request_not_found"));
    await friends.respond(q, p.id, false);
    await assert.rejects(friends.respond(q, p.id, true), reason("request_handled"));
    assert.equal(await friends.areFriends(p.id, q.id), false);
    await friends.request(p, q.id, {});
    await friends.respond(q, p.id, true);
    assert.equal(await friends.areFriends(p.id, q.id), true);
    await assert.rejects(friends.request(p, q.id, {}), reason("already_friends"));
    assert.equal((await storage.friends.get(p.id, q.id))?.remark, "");
    await friends.setOptions(p, q.id, { remark: "QQ", stickyOnTop: true });
    const list = await friends.list(p, null);
    assert.equal(list.find((x) => x.user.id === q.id)?.friendship.remark, "QQ");
    const t0 = Date.now();
    await new Promise((res) => setTimeout(res, 2));
    await friends.remove(q, p.id);
    assert.equal(await friends.areFriends(p.id, q.id), false);
    const changes = await friends.list(p, t0);
    assert.ok(
      changes.some((x) => x.user.id === q.id && x.friendship.deletedAt !== null),
      "incremental list shows removals",
    );
    await assert.rejects(friends.remove(q, p.id), reason("not_friends"));
    await assert.rejects(friends.request(p, p.id, {}), reason("self_operation"));
  });
});
