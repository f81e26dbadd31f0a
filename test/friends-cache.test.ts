import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import type { User } from "../src/ports/storage.ts";
import { createBackend, DATABASE_URL, REDIS_URL, type TestBackend } from "./helpers/backend.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * The pair cache of FriendService (friendship and blocks, read by every 1:1 send instead of
 * `friends` and `friend_blocks`): a change answered on one node holds for the very next send on
 * that node — and for the sends already in flight — and reaches the other node through the hub
 * long before the cache's TTL (set to ten minutes here, so only the invalidation can explain a
 * refusal). Red packets into a friend chat (stored by their own transaction, not the message
 * writer) are held to the same order. Real sockets, real storage: SQLite, or PostgreSQL + Redis in CI's second run.
 */

type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };
type Frame = { eventType: number; msgId?: string; code?: number; logId?: string; content?: unknown };
type Who = { user: User; token: string; mobile: string };

const PASSWORD = "secret-pass-1";
let mobileSeq = 0;
const newMobile = () => `136${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;
const BLOCKED = -2032;
const NOT_FRIEND = -2018;
const LOGIN_EXPIRED = -1004;
const LONG_TTL = {
  "friends.cacheTtlMs": 600_000,
  // the in-flight test keeps 16 sends going: the abuse limits are not what it tests
  "chat33.msgRatePerConnection": 100_000,
  "chat33.msgRatePerUser": 100_000,
  "wallet.sendPerMinute": 100_000,
};

const headers = (w: Who) => ({ "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": w.token });

async function ok(s: TestServer, w: Who, path: string, body: unknown): Promise<void> {
  const r = await post<Env>(`${s.base}${path}`, body, headers(w));
  assert.equal(r.status, 200);
  assert.equal(r.body.result, 0, `${path}: ${r.body.message}`);
}

async function person(s: TestServer, nickname: string): Promise<Who> {
  const mobile = newMobile();
  const user = await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname });
  return { user, token: await login(s, mobile), mobile };
}

async function login(s: TestServer, mobile: string): Promise<string> {
  const r = await post<Env<{ token: string }>>(
    `${s.base}/user/pwdLogin`,
    { mobile, password: PASSWORD },
    { "FZM-DEVICE": "iOS" },
  );
  assert.equal(r.body.result, 0, r.body.message);
  return r.body.data.token;
}

/** A chat33 socket that answers each sent message by its msgId (ack with logId, or failure code). */
class Sender {
  readonly client: TestClient;
  private readonly waiting = new Map<string, (f: Frame) => void>();
  private seq = 0;

  constructor(url: string, token: string) {
    this.client = new TestClient(`${url}/ws`, { headers: { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": token } });
    this.client.ws.on("message", (raw) => {
      const f = JSON.parse(String(raw)) as Frame;
      if (f.eventType !== 0 || !f.msgId) return;
      const w = this.waiting.get(f.msgId);
      if (!w) return;
      this.waiting.delete(f.msgId);
      w(f);
    });
  }

  /** Sends one text to `peerId`; resolves with the logId (acked) or the failure code. */
  send(peerId: number, content = "hi"): Promise<{ logId?: string; code?: number }> {
    const msgId = `fc-${process.pid}-${++this.seq}-${Math.random().toString(36).slice(2)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${msgId}`)), 10_000);
      this.waiting.set(msgId, (f) => {
        clearTimeout(timer);
        resolve(f.logId !== undefined ? { logId: f.logId } : { code: f.code });
      });
      this.client.ws.send(
        JSON.stringify({
          eventType: 0,
          msgId,
          channelType: 3,
          targetId: String(peerId),
          msgType: 1,
          msg: { content },
        }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Retries `send` until it is refused with `code` (another node: the hub's invalidation is asynchronous). */
async function refusedWithin(send: () => Promise<{ code?: number }>, code: number, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await send();
    if (r.code === code) return Date.now() - started;
    assert.equal(r.code, undefined, `unexpected failure ${r.code}`);
    if (Date.now() - started > ms) assert.fail(`still accepted ${ms} ms after the change`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Gives `w` `amount` of coin 1 through the admin API. */
async function fund(s: TestServer, w: Who, amount: number): Promise<void> {
  const r = await post(
    `${s.base}/admin/api/wallet/deposit`,
    { userId: String(w.user.id), coin: 1, amount, idempotencyKey: `fc-${w.user.id}-${Math.random()}` },
    { authorization: "Bearer test-admin-token" },
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** One red packet (one share of 1 coin) from `w` into the friend chat with `peerId`: its id, or the failure code. */
async function redPacket(s: TestServer, w: Who, peerId: number): Promise<{ packetId?: string; code?: number }> {
  const r = await post<Env<{ packetId: string }>>(
    `${s.base}/red-packet/send`,
    { cType: 0, toId: String(peerId), coin: 1, type: 2, amount: 1, size: 1 },
    headers(w),
  );
  assert.equal(r.status, 200);
  return r.body.result === 0 ? { packetId: r.body.data.packetId } : { code: r.body.result };
}

async function storedIds(s: TestServer, a: number, b: number): Promise<number[]> {
  const conv = await s.app.messages.findDirect(a, b);
  if (!conv) return [];
  return (await s.app.storage.messages.since(conv.id, 0, 100_000)).map((m) => m.id);
}

describe(`friendship and block cache, one node (${DATABASE_URL ? "PostgreSQL" : "SQLite"})`, () => {
  let s: TestServer;
  let backend: TestBackend;
  const closers: Array<() => void> = [];

  before(async () => {
    backend = await createBackend();
    s = await startServer(LONG_TTL, { backend });
  });
  after(async () => {
    for (const c of closers) c();
    await s.close();
    await backend.cleanup();
  });

  const pair = async () => {
    const a = await person(s, "alice");
    const b = await person(s, "bob");
    await ok(s, a, "/friend/add", { id: String(b.user.id) });
    await ok(s, b, "/friend/response", { id: String(a.user.id), agree: 1 });
    const sa = new Sender(s.ws, a.token);
    closers.push(() => sa.close());
    await sa.client.opened;
    await socketsReady(s.app);
    return { a, b, sa };
  };

  test("block, then send: refused at once; unblock: accepted at once (the pair was cached both times)", async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId, "friends may talk");
    assert.ok((await sa.send(b.user.id)).logId, "and again, from the cache");
    await ok(s, b, "/friend/block", { userId: String(a.user.id) });
    assert.equal((await sa.send(b.user.id)).code, BLOCKED);
    assert.equal((await sa.send(b.user.id)).code, BLOCKED);
    await ok(s, b, "/friend/unblock", { userId: String(a.user.id) });
    assert.ok((await sa.send(b.user.id)).logId, "unblocked");
    // the blocker's own sends were never blocked by it
    const sb = new Sender(s.ws, b.token);
    closers.push(() => sb.close());
    await sb.client.opened;
    await ok(s, b, "/friend/block", { userId: String(a.user.id) });
    assert.ok((await sb.send(a.user.id)).logId, "blocking a user does not stop you writing to them");
    assert.equal((await sa.send(b.user.id)).code, BLOCKED);
  });

  test("unfriend, then send: refused at once; friends again: accepted", async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId);
    await ok(s, b, "/friend/delete", { id: String(a.user.id) });
    assert.equal((await sa.send(b.user.id)).code, NOT_FRIEND);
    await ok(s, a, "/friend/add", { id: String(b.user.id) });
    await ok(s, b, "/friend/response", { id: String(a.user.id), agree: 1 });
    assert.ok((await sa.send(b.user.id)).logId, "friends again");
  });

  test("a disabled user's next send is refused", async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId);
    const closed = sa.client.closed;
    await s.app.accounts.adminUpdate(a.user.id, { disabled: true });
    // the socket is closed by the revocation; a frame that still reaches the server is refused
    const r = await Promise.race([
      sa.send(b.user.id).catch((): { logId?: string; code?: number } => ({ code: LOGIN_EXPIRED })),
      closed,
    ]);
    if ("code" in r && typeof r.code === "number" && !("reason" in r)) assert.equal(r.code, LOGIN_EXPIRED);
    await closed;
    // and the account cannot open a new session
    const again = await post<Env>(`${s.base}/user/pwdLogin`, { mobile: a.mobile, password: PASSWORD }, {});
    assert.notEqual(again.body.result, 0);
  });

  test("sends in flight when the block is answered: none is stored after the answer, every ack was stored", async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId);
    const acked: string[] = [];
    const refused: number[] = [];
    let answered = false;
    let afterAnswerAcked = 0;
    // 16 sends kept in flight until the block's answer, then 16 more
    const loop = async () => {
      for (let i = 0; i < 400; i++) {
        const r = await sa.send(b.user.id, `m${i}`);
        if (r.logId) {
          acked.push(r.logId);
          if (answered) afterAnswerAcked++;
        } else refused.push(r.code as number);
        if (answered && refused.length >= 16) return;
      }
    };
    const loops = Array.from({ length: 16 }, loop);
    await new Promise((r) => setTimeout(r, 50));
    await ok(s, b, "/friend/block", { userId: String(a.user.id) });
    answered = true;
    const storedAtAnswer = await storedIds(s, a.user.id, b.user.id);
    await Promise.all(loops);
    const storedLater = await storedIds(s, a.user.id, b.user.id);
    assert.deepEqual(storedLater, storedAtAnswer, "a message was stored after the block was answered");
    for (const id of acked) assert.ok(storedLater.includes(Number(id)), `acked ${id} not stored`);
    assert.ok(
      refused.length >= 16 && refused.every((c) => c === BLOCKED),
      `${refused.length} refused, ${acked.length} acked: ${JSON.stringify(refused.slice(0, 5))}`,
    );
    // an ack may still arrive after the answer on its way over the socket, but only of a stored message
    assert.ok(afterAnswerAcked <= acked.length);
  });

  test("red packets in flight when the block is answered: none is stored after the answer, every sent one was stored", async () => {
    const { a, b } = await pair();
    await fund(s, a, 10_000);
    assert.ok((await redPacket(s, a, b.user.id)).packetId, "friends may send red packets");
    const sent: string[] = [];
    const refused: number[] = [];
    let answered = false;
    // 8 red packets kept in flight until the block's answer, then until 8 were refused
    const loop = async () => {
      for (let i = 0; i < 400; i++) {
        const r = await redPacket(s, a, b.user.id);
        if (r.packetId) sent.push(r.packetId);
        else refused.push(r.code as number);
        if (answered && refused.length >= 8) return;
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await new Promise((r) => setTimeout(r, 100));
    await ok(s, b, "/friend/block", { userId: String(a.user.id) });
    answered = true;
    const storedAtAnswer = await storedIds(s, a.user.id, b.user.id);
    await Promise.all(loops);
    const storedLater = await storedIds(s, a.user.id, b.user.id);
    assert.ok(sent.length > 0, "no red packet was sent before the block");
    assert.deepEqual(storedLater, storedAtAnswer, "a red packet was stored after the block was answered");
    for (const id of sent) {
      const p = await s.app.storage.wallet.packet(id);
      assert.ok(p && storedLater.includes(p.messageId), `sent packet ${id} has no stored message`);
    }
    assert.ok(
      refused.length >= 8 && refused.every((c) => c === BLOCKED),
      `${refused.length} refused, ${sent.length} sent: ${JSON.stringify(refused.slice(0, 5))}`,
    );
    assert.deepEqual(await s.app.wallet.verify(), []);
  });

  test("a block waits for a red packet that passed its check but has not committed (PostgreSQL: its transaction held by a row lock)", {
    skip: DATABASE_URL ? false : "needs PostgreSQL (another session holds the conversation's row lock)",
  }, async () => {
    const { a, b, sa } = await pair();
    await fund(s, a, 100);
    assert.ok((await sa.send(b.user.id)).logId);
    const conv = await s.app.messages.findDirect(a.user.id, b.user.id);
    assert.ok(conv);
    const locker = new pg.Client({ connectionString: backend.databaseUrl });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("select id from conversations where id = $1 for update", [conv.id]);
      // checked (friends, not blocked, funded), then its transaction waits for the row lock
      const held = redPacket(s, a, b.user.id);
      await new Promise((r) => setTimeout(r, 300));
      let answeredAt = 0;
      const blocking = ok(s, b, "/friend/block", { userId: String(a.user.id) }).then(() => {
        answeredAt = Date.now();
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(answeredAt, 0, "the block was answered while a checked red packet was still to be stored");
      const releasedAt = Date.now();
      await locker.query("commit");
      const packetId = (await held).packetId;
      assert.ok(packetId, "the red packet checked before the block is stored and answered");
      await blocking;
      assert.ok(answeredAt >= releasedAt);
      const p = await s.app.storage.wallet.packet(packetId);
      assert.ok(p && (await storedIds(s, a.user.id, b.user.id)).includes(p.messageId));
      assert.equal((await redPacket(s, a, b.user.id)).code, BLOCKED);
    } finally {
      await locker.end();
    }
  });

  test("a block waits for a send that passed its check but has not committed (PostgreSQL: its write held by a row lock)", {
    skip: DATABASE_URL ? false : "needs PostgreSQL (another session holds the conversation's row lock)",
  }, async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId);
    const conv = await s.app.messages.findDirect(a.user.id, b.user.id);
    assert.ok(conv);
    const locker = new pg.Client({ connectionString: backend.databaseUrl });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("select id from conversations where id = $1 for update", [conv.id]);
      // checked (friends, not blocked), then its batch waits for the row lock
      const held = sa.send(b.user.id, "held");
      await new Promise((r) => setTimeout(r, 300));
      let answeredAt = 0;
      const blocking = ok(s, b, "/friend/block", { userId: String(a.user.id) }).then(() => {
        answeredAt = Date.now();
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(answeredAt, 0, "the block was answered while a checked message was still to be stored");
      const releasedAt = Date.now();
      await locker.query("commit");
      assert.ok((await held).logId, "the message checked before the block is stored and acked");
      await blocking;
      assert.ok(answeredAt >= releasedAt);
      assert.equal((await sa.send(b.user.id)).code, BLOCKED);
    } finally {
      await locker.end();
    }
  });
});

describe(`friendship and block cache across two nodes (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  let backend: TestBackend;
  let na: TestServer;
  let nb: TestServer;
  const closers: Array<() => void> = [];

  before(async () => {
    backend = await createBackend();
    const memoryBus = new MemoryBus();
    na = await startServer(LONG_TTL, { backend, memoryBus });
    nb = await startServer(LONG_TTL, { backend, memoryBus });
  });
  after(async () => {
    for (const c of closers) c();
    await na.close();
    await nb.close();
    await backend.cleanup();
  });

  /** alice sends through node a; bob answers, blocks, unfriends through node b. */
  const pair = async () => {
    const a = await person(na, "alice");
    const b = await person(na, "bob");
    b.token = await login(nb, b.mobile);
    await ok(na, a, "/friend/add", { id: String(b.user.id) });
    await ok(nb, b, "/friend/response", { id: String(a.user.id), agree: 1 });
    const sa = new Sender(na.ws, a.token);
    closers.push(() => sa.close());
    await sa.client.opened;
    await socketsReady(na.app);
    return { a, b, sa };
  };

  test("a block on the other node reaches this node's cache through the hub, long before the TTL", async () => {
    const { a, b, sa } = await pair();
    // node a caches the pair as friends, not blocked
    assert.ok((await sa.send(b.user.id)).logId);
    assert.ok((await sa.send(b.user.id)).logId);
    await ok(nb, b, "/friend/block", { userId: String(a.user.id) });
    const ms = await refusedWithin(() => sa.send(b.user.id), BLOCKED, 5_000);
    assert.ok(ms < 5_000);
    await ok(nb, b, "/friend/unblock", { userId: String(a.user.id) });
    const started = Date.now();
    for (;;) {
      const r = await sa.send(b.user.id);
      if (r.logId) break;
      assert.equal(r.code, BLOCKED);
      assert.ok(Date.now() - started < 5_000, "still refused 5 s after the unblock");
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  test("an unfriend on the other node reaches this node's cache through the hub", async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId);
    await ok(nb, b, "/friend/delete", { id: String(a.user.id) });
    await refusedWithin(() => sa.send(b.user.id), NOT_FRIEND, 5_000);
  });

  test("a user disabled on the other node can no longer send here", async () => {
    const { a, b, sa } = await pair();
    assert.ok((await sa.send(b.user.id)).logId);
    await nb.app.accounts.adminUpdate(a.user.id, { disabled: true });
    // the revocation closes the socket on node a (through the hub); until then sends are refused
    const started = Date.now();
    const closed = sa.client.closed.then(() => "closed" as const);
    for (;;) {
      const r = await Promise.race([
        sa.send(b.user.id).catch((): { logId?: string; code?: number } => ({ code: LOGIN_EXPIRED })),
        closed,
      ]);
      if (r === "closed" || r.code === LOGIN_EXPIRED) break;
      assert.ok(r.logId, JSON.stringify(r));
      assert.ok(Date.now() - started < 5_000, "a disabled user still sends 5 s later");
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
