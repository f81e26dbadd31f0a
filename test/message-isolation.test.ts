import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BatchWriter } from "../src/core/messages/batch-writer.ts";
import type { NewMessage, User } from "../src/ports/storage.ts";
import { DATABASE_URL } from "./helpers/backend.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * Issue 8 item 2: one user's malformed message must never fail other users' messages. These run
 * on the backend the environment selects (SQLite, or PostgreSQL + Redis with the services prefix).
 */

type Frame = { eventType: number; msgId: string; code?: number; content?: string; logId?: string };

/** A chat33 text frame whose `msg` also holds an array nested `depth` deep (built as text: no client-side stringify). */
const deepFrame = (msgId: string, targetId: number, depth: number) =>
  `{"eventType":0,"msgId":"${msgId}","channelType":3,"targetId":"${targetId}","msgType":1,` +
  `"msg":{"content":"x","extra":${"[".repeat(depth)}${"]".repeat(depth)}}}`;

const textFrame = (msgId: string, targetId: number, content: string) =>
  JSON.stringify({ eventType: 0, msgId, channelType: 3, targetId: String(targetId), msgType: 1, msg: { content } });

describe("one bad message never fails another user's (issue 8 item 2)", () => {
  let s: TestServer;
  let seq = 0;
  const clients: TestClient[] = [];

  const user = (nickname: string, extra: Record<string, unknown> = {}) =>
    s.app.accounts.createUser({
      username: `iso${process.pid}x${++seq}`,
      password: "secret-pass-1",
      nickname,
      ...extra,
    });
  const token = async (u: User, device: "ios" | "pc") => (await s.app.accounts.startSession(u, { device })).token;
  const befriend = async (a: User, b: User) => {
    await s.app.friends.request(a, b.id, { reason: "hi" });
    await s.app.friends.respond(b, a.id, true);
  };
  /** A chat33 socket whose subscriptions are in place (the readiness helper waits for them). */
  const chat33Socket = async (u: User) => {
    const c = new TestClient(`${s.ws}/ws`, {
      headers: { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": await token(u, "ios") },
    });
    clients.push(c);
    await c.opened;
    await socketsReady(s.app);
    return c;
  };
  /** Reads frames until one for each of `msgIds` arrived (frames for other ids are skipped). */
  const answers = async (c: TestClient, msgIds: string[]) => {
    const want = new Set(msgIds);
    const got = new Map<string, Frame>();
    while (got.size < want.size) {
      const f = await c.next<Frame>(15_000).catch(() => {
        throw new Error(`${got.size} of ${want.size} answers; missing ${[...want].filter((id) => !got.has(id))}`);
      });
      if (want.has(f.msgId) && !got.has(f.msgId)) got.set(f.msgId, f);
    }
    return got;
  };

  before(async () => {
    // generous limits: the flood must reach the batch writer, not the rate limits
    s = await startServer({ "chat33.msgRatePerConnection": 10_000, "messages.sendRatePerUser": 10_000 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  test("a flood of deeply nested chat33 messages: every other sender's messages are stored and acknowledged", async () => {
    // two attackers (one socket each: a second session of the same device would replace the first)
    const attackerUsers = [await user("Attacker0"), await user("Attacker1")];
    const victim = await user("Victim");
    for (const a of attackerUsers) await befriend(a, victim);
    const pairs: Array<{ from: User; to: User; c: TestClient }> = [];
    for (let i = 0; i < 6; i++) {
      const from = await user(`Sender${i}`);
      const to = await user(`Receiver${i}`);
      await befriend(from, to);
      pairs.push({ from, to, c: await chat33Socket(from) });
    }
    // enterprise senders: colleagues (no friendship needed), over HTTP
    const company = await s.app.org.createCompany({ text: "Iso Co" });
    const e1 = await user("E1", { companyId: company.id });
    const e2 = await user("E2", { companyId: company.id });
    const eToken = await token(e1, "pc");
    const attackers = await Promise.all(attackerUsers.map(chat33Socket));

    const rounds = 10;
    const perRound = 4;
    const normalIds = pairs.map(() => [] as string[]);
    const attackIds: string[][] = attackers.map(() => []);
    const enterprise: Array<Promise<{ status: number; body: { code: number; msg: string } }>> = [];
    const enterpriseIds: string[] = [];
    for (let r = 0; r < rounds; r++) {
      // one round = one event-loop turn on the server side as far as possible: attack frames and
      // normal frames are sent back to back so that they share group-commit batches
      for (const [a, c] of attackers.entries())
        for (let j = 0; j < perRound; j++) {
          const id = `deep-${a}-${r}-${j}`;
          attackIds[a].push(id);
          c.ws.send(deepFrame(id, victim.id, 5000));
        }
      for (const [i, p] of pairs.entries())
        for (let j = 0; j < perRound; j++) {
          const id = `ok-${i}-${r}-${j}`;
          normalIds[i].push(id);
          p.c.ws.send(textFrame(id, p.to.id, `hello ${r}.${j}`));
        }
      const eid = `ent-${r}`;
      enterpriseIds.push(eid);
      enterprise.push(
        post(
          `${s.base}/api/save_single_msg`,
          { content: `enterprise ${r}`, id: eid, receiverId: e2.id, senderId: e1.id, type: 1 },
          { authorization: eToken },
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // every normal message is acknowledged (its frame with a logId) and stored
    for (const [i, p] of pairs.entries()) {
      const got = await answers(p.c, normalIds[i]);
      for (const [id, f] of got) {
        assert.equal(f.code, undefined, `${id}: ${JSON.stringify(f)}`);
        assert.ok(f.logId, `${id} acknowledged with a logId`);
        const stored = await s.app.storage.messages.bySenderClientId(p.from.id, id);
        assert.equal(String(stored?.id), f.logId, `${id} stored`);
      }
    }
    for (const [r, reply] of (await Promise.all(enterprise)).entries()) {
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.code, 200);
      assert.ok(await s.app.storage.messages.bySenderClientId(e1.id, enterpriseIds[r]), `${enterpriseIds[r]} stored`);
    }
    // every attack frame is refused with the documented "message format" answer, to its sender
    for (const [a, c] of attackers.entries()) {
      const got = await answers(c, attackIds[a]);
      for (const f of got.values()) {
        assert.equal(f.code, -1005, JSON.stringify(f).slice(0, 200));
        assert.match(f.content ?? "", /^消息格式错误/);
      }
    }
    // nothing of the attack was stored
    for (const [a, ids] of attackIds.entries())
      for (const id of ids) assert.equal(await s.app.storage.messages.bySenderClientId(attackerUsers[a].id, id), null);
  });

  test("a chat33 msgId PostgreSQL cannot store (NUL, lone surrogate) is refused at the edge with -1005", async () => {
    const a = await user("Nul");
    const b = await user("NulPeer");
    await befriend(a, b);
    const c = await chat33Socket(a);
    for (const id of ["nul\u0000id", "lone\ud800"]) {
      c.ws.send(textFrame(id, b.id, "x"));
      const f = await c.next<Frame>();
      assert.equal(f.code, -1005, JSON.stringify(f));
    }
    c.ws.send(textFrame("fine-id", b.id, "x"));
    assert.ok((await c.next<Frame>()).logId);
    // enterprise: the same ids are refused with 400 (on the send path and on the retry lookup)
    const company = await s.app.org.createCompany({ text: "Nul Co" });
    const e1 = await user("NulE1", { companyId: company.id });
    const e2 = await user("NulE2", { companyId: company.id });
    const auth = { authorization: await token(e1, "pc") };
    for (const [id, content, msg] of [
      ["nul\u0000id", "x", "消息id无效"],
      ["lone\ud800", "x", "消息id无效"],
      ["nul\u0000blank", " ", "缺少参数"],
    ]) {
      const r = await post<{ code: number; msg: string }>(
        `${s.base}/api/save_single_msg`,
        { content, id, receiverId: e2.id, senderId: e1.id, type: 1 },
        auth,
      );
      assert.deepEqual([r.status, r.body.msg], [400, msg], JSON.stringify(r.body));
    }
  });

  test("a batch with one message that fails inside the writer's transaction still commits the others", async () => {
    const a = await user("BatchA");
    const b = await user("BatchB");
    const storage = s.app.storage;
    const conv = await storage.messages.ensureConversation({
      kind: "direct",
      key: `d:${Math.min(a.id, b.id)}:${Math.max(a.id, b.id)}`,
      userA: Math.min(a.id, b.id),
      userB: Math.max(a.id, b.id),
      createdAt: Date.now(),
    });
    const msg = (clientMsgId: string, conversationId = conv.id): NewMessage => ({
      conversationId,
      senderId: a.id,
      clientMsgId,
      kind: "text",
      content: { content: clientMsgId },
      contentJson: JSON.stringify({ content: clientMsgId }),
      createdAt: Date.now(),
    });
    // Culprits that fail inside the transaction on this backend, for real: a conversation that
    // does not exist (e.g. removed while its message waited for the batch) on both backends,
    // and on PostgreSQL a NUL in a text column (what an unchecked client id used to send).
    const culprits = [msg("vanished", 987_654_321)];
    if (DATABASE_URL) culprits.push(msg("nul\u0000byte"));
    const writer = new BatchWriter(storage.messages, 512);
    const good = Array.from({ length: 40 }, (_, i) => msg(`good-${i}`));
    // submitted in one turn: one batch, culprits in the middle
    const batch = [...good.slice(0, 15), ...culprits, ...good.slice(15)];
    const results = await Promise.allSettled(batch.map((m) => writer.submit(m)));
    const failed = batch.filter((_, i) => results[i].status === "rejected").map((m) => m.clientMsgId);
    assert.deepEqual(
      failed,
      culprits.map((m) => m.clientMsgId),
      "only the culprits fail",
    );
    const seqs: number[] = [];
    for (const m of good) {
      const stored = await storage.messages.bySenderClientId(a.id, m.clientMsgId);
      assert.ok(stored, `${m.clientMsgId} committed`);
      seqs.push(stored.seq);
    }
    // still gapless and in submission order
    assert.deepEqual(
      seqs,
      Array.from({ length: good.length }, (_, i) => i + 1),
    );
    assert.equal((await storage.messages.conversation(conv.id))?.lastSeq, good.length);
  });
});
