import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { Codes } from "../src/surfaces/chat33/envelope.ts";
import { createBackend, DATABASE_URL, REDIS_URL, type TestBackend } from "./helpers/backend.ts";
import type { Env } from "./helpers/chat33-types.ts";
import { socketsReady } from "./helpers/ready.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

/**
 * The chat-room send cache of ChatroomService (the room row, the room-wide mute, the sender's
 * blacklist entry and own mute, read by every chat-room send): repeated sends read far less
 * storage; a close, mute or blacklist answered on one node applies to the next send on that node
 * and reaches the other node through the hub long before the cache's TTL (ten minutes here, so
 * only the invalidation — or a mute's end, compared with the clock — can explain a change).
 * Real sockets, real storage: SQLite, or PostgreSQL + Redis in CI's second run. The storage
 * queries are counted by the server's own metric (`parley_storage_query_duration_seconds_count`).
 */

const LONG_TTL = {
  "chatrooms.cacheTtlMs": 600_000,
  "chat33.msgRatePerConnection": 100_000,
  "chat33.msgRatePerUser": 100_000,
};
const ADMIN = { adminToken: true } as const;
let mobileSeq = 0;
const newMobile = () => `137${String(process.pid % 1000).padStart(3, "0")}${String(++mobileSeq).padStart(5, "0")}`;

type Frame = { eventType: number; msgId?: string; code?: number; logId?: string };

/** A chat33 socket in one room that sends texts to it and answers each by its msgId. */
class RoomSender {
  private seq = 0;
  private readonly waiting = new Map<string, (f: Frame) => void>();

  private constructor(
    readonly client: TestClient,
    private readonly roomId: number,
  ) {
    client.ws.on("message", (raw) => {
      const f = JSON.parse(String(raw)) as Frame;
      if (!f.msgId) return;
      const w = this.waiting.get(f.msgId);
      if (!w) return;
      this.waiting.delete(f.msgId);
      w(f);
    });
  }

  static async open(s: TestServer, roomId: number): Promise<RoomSender> {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: "pass-1234", nickname: "speaker" });
    const r = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: "pass-1234" },
      { "FZM-DEVICE": "iOS" },
    );
    assert.equal(r.body.result, 0, r.body.message);
    const client = new TestClient(`${s.ws}/ws`, {
      headers: { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": r.body.data.token },
    });
    await client.opened;
    await socketsReady(s.app);
    const sender = new RoomSender(client, roomId);
    const joined = await sender.frame({ eventType: 1, groupId: String(roomId) });
    assert.equal(joined.code, 0, "joined");
    return sender;
  }

  userId = 0;

  private frame(body: Record<string, unknown>): Promise<Frame> {
    const msgId = `rc-${process.pid}-${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${msgId}`)), 10_000);
      this.waiting.set(msgId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.client.ws.send(JSON.stringify({ ...body, msgId }));
    });
  }

  /** One text to the room: the logId when acked, else the failure code. */
  async send(content = "hi"): Promise<{ logId?: string; code?: number }> {
    const f = await this.frame({
      eventType: 0,
      channelType: 1,
      targetId: String(this.roomId),
      msgType: 1,
      msg: { content },
    });
    return f.logId !== undefined ? { logId: f.logId } : { code: f.code };
  }
}

async function selects(s: TestServer): Promise<number> {
  const text = await (await fetch(`${s.base}/metrics`)).text();
  const m = /^parley_storage_query_duration_seconds_count\{op="select"\} (\d+)/m.exec(text);
  return Number(m?.[1] ?? 0);
}

const userIdOf = async (s: TestServer, sender: RoomSender, roomId: number) => {
  const { users } = await s.app.chatrooms.audienceOf(roomId);
  assert.equal(users.length, 1);
  sender.userId = users[0].id;
  return sender.userId;
};

/** Retries `send` until it is refused with one of `codes` (another node: the hub is asynchronous); ms it took. */
async function refusedWithin(sender: RoomSender, codes: number[], ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await sender.send();
    if (r.code !== undefined && codes.includes(r.code)) return Date.now() - started;
    assert.equal(r.code, undefined, `unexpected failure ${r.code}`);
    if (Date.now() - started > ms) assert.fail(`still accepted ${ms} ms after the change`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function acceptedWithin(sender: RoomSender, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await sender.send();
    if (r.logId) return Date.now() - started;
    if (Date.now() - started > ms) assert.fail(`still refused (${r.code}) ${ms} ms after the change`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe(`chat-room send cache, one node (${DATABASE_URL ? "PostgreSQL" : "SQLite"})`, () => {
  let s: TestServer;
  let backend: TestBackend;
  const senders: RoomSender[] = [];

  before(async () => {
    backend = await createBackend();
    s = await startServer(LONG_TTL, { backend });
  });
  after(async () => {
    for (const x of senders) x.client.close();
    await s.close();
    await backend.cleanup();
  });

  const room = async () => {
    const r = await s.app.chatrooms.create(ADMIN, { name: "cached room", avatar: "" });
    const sender = await RoomSender.open(s, r.id);
    senders.push(sender);
    await userIdOf(s, sender, r.id);
    return { roomId: r.id, sender };
  };

  test("repeated sends read fewer storage rows than the three room checks each", async (t) => {
    const { sender } = await room();
    assert.ok((await sender.send("warm")).logId, "the first send loads the room and the sender's entry");
    const before = await selects(s);
    const N = 40;
    for (let i = 0; i < N; i++) assert.ok((await sender.send(`m${i}`)).logId);
    const perMessage = ((await selects(s)) - before) / N;
    t.diagnostic(`storage selects per chat-room send (warm cache): ${perMessage}`);
    // without the cache every send read chatrooms, chatroom_blacklist and chatroom_mutes (3 selects)
    assert.ok(perMessage < 1, `storage selects per chat-room send: ${perMessage}`);
  });

  test("close, mute, blacklist: the very next send is refused; reopen, unmute: accepted", async () => {
    const { roomId, sender } = await room();
    assert.ok((await sender.send()).logId);
    assert.ok((await sender.send()).logId, "cached");
    await s.app.chatrooms.setStatus(ADMIN, roomId, "closed");
    assert.equal((await sender.send()).code, Codes.chatroomNotFound, "closed");
    await s.app.chatrooms.setStatus(ADMIN, roomId, "open");
    assert.ok((await sender.send()).logId, "reopened");
    await s.app.chatrooms.mute(ADMIN, roomId, sender.userId, 600_000);
    assert.equal((await sender.send()).code, Codes.userMuted, "muted personally");
    await s.app.chatrooms.mute(ADMIN, roomId, sender.userId, 0);
    assert.ok((await sender.send()).logId, "unmuted");
    await s.app.chatrooms.mute(ADMIN, roomId, null, 600_000);
    assert.equal((await sender.send()).code, Codes.userMuted, "room-wide mute");
    await s.app.chatrooms.mute(ADMIN, roomId, null, 0);
    assert.ok((await sender.send()).logId, "room-wide mute lifted");
    await s.app.chatrooms.blacklist(ADMIN, roomId, sender.userId);
    const r = await sender.send();
    assert.ok(r.code === Codes.noPermission || r.code === Codes.notInChatroom, `blacklisted: ${r.code}`);
  });

  test("a timed mute stops applying at its end while cached (personal and room-wide)", async () => {
    const { roomId, sender } = await room();
    assert.ok((await sender.send()).logId);
    for (const who of [sender.userId, null]) {
      const at = Date.now();
      await s.app.chatrooms.mute(ADMIN, roomId, who, 400);
      assert.equal((await sender.send()).code, Codes.userMuted);
      assert.equal((await sender.send()).code, Codes.userMuted, "still muted, from the cache");
      const before = await selects(s);
      await new Promise((r) => setTimeout(r, Math.max(0, at + 450 - Date.now())));
      assert.ok((await sender.send()).logId, "the mute ended");
      // the end came from the cached `until`: no storage read of the room or the mutes was needed
      assert.ok((await selects(s)) - before < 3, "the expiry needed no reload");
    }
  });

  test("delete: the very next send is refused", async () => {
    const probe = await s.app.chatrooms.create(ADMIN, { name: "probe", avatar: "" });
    const sender = await RoomSender.open(s, probe.id);
    senders.push(sender);
    assert.ok((await sender.send()).logId);
    await s.app.chatrooms.setStatus(ADMIN, probe.id, "deleted");
    const r = await sender.send();
    assert.ok(r.code === Codes.chatroomNotFound || r.code === Codes.notInChatroom, `deleted: ${r.code}`);
  });
});

describe(`chat-room send cache across two nodes (${REDIS_URL ? "redis" : "in-process"} hub)`, () => {
  let backend: TestBackend;
  let na: TestServer;
  let nb: TestServer;
  const senders: RoomSender[] = [];

  before(async () => {
    backend = await createBackend();
    const memoryBus = new MemoryBus();
    na = await startServer(LONG_TTL, { backend, memoryBus });
    nb = await startServer(LONG_TTL, { backend, memoryBus });
  });
  after(async () => {
    for (const x of senders) x.client.close();
    await na.close();
    await nb.close();
    await backend.cleanup();
  });

  test("close, mute and blacklist answered on node A refuse the sender on node B within the hub's delay", async (t) => {
    const r = await na.app.chatrooms.create(ADMIN, { name: "two nodes", avatar: "" });
    const sender = await RoomSender.open(nb, r.id);
    senders.push(sender);
    const uid = await userIdOf(nb, sender, r.id);
    assert.ok((await sender.send()).logId);
    assert.ok((await sender.send()).logId, "cached on node B");
    const took: Record<string, number> = {};
    await na.app.chatrooms.setStatus(ADMIN, r.id, "closed");
    took.close = await refusedWithin(sender, [Codes.chatroomNotFound], 2000);
    await na.app.chatrooms.setStatus(ADMIN, r.id, "open");
    took.reopen = await acceptedWithin(sender, 2000);
    await na.app.chatrooms.mute(ADMIN, r.id, uid, 600_000);
    took.mute = await refusedWithin(sender, [Codes.userMuted], 2000);
    await na.app.chatrooms.mute(ADMIN, r.id, uid, 0);
    took.unmute = await acceptedWithin(sender, 2000);
    await na.app.chatrooms.mute(ADMIN, r.id, null, 600_000);
    took.roomMute = await refusedWithin(sender, [Codes.userMuted], 2000);
    await na.app.chatrooms.mute(ADMIN, r.id, null, 0);
    took.roomUnmute = await acceptedWithin(sender, 2000);
    await na.app.chatrooms.blacklist(ADMIN, r.id, uid);
    took.blacklist = await refusedWithin(sender, [Codes.noPermission, Codes.notInChatroom], 2000);
    t.diagnostic(`ms from the answer on A to the change applying on B: ${JSON.stringify(took)}`);
  });
});

describe(`chat-room send cache: a lost invalidation (${DATABASE_URL ? "PostgreSQL" : "SQLite"})`, () => {
  test("a mute written without an invalidation applies within chatrooms.cacheTtlMs", async () => {
    const backend = await createBackend();
    const s = await startServer({ ...LONG_TTL, "chatrooms.cacheTtlMs": 200 }, { backend });
    let sender: RoomSender | undefined;
    try {
      const r = await s.app.chatrooms.create(ADMIN, { name: "lossy", avatar: "" });
      sender = await RoomSender.open(s, r.id);
      const uid = await userIdOf(s, sender, r.id);
      assert.ok((await sender.send()).logId, "cached: not muted");
      // straight to storage, as if the chatrooms.changed message had been lost
      const now = Date.now();
      await s.app.storage.chatrooms.setMute({ roomId: r.id, userId: uid, until: now + 600_000, at: now });
      await refusedWithin(sender, [Codes.userMuted], 5000);
    } finally {
      sender?.client.close();
      await s.close();
      await backend.cleanup();
    }
  });
});
