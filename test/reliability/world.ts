import { contentOrThrow } from "../../src/core/messages/content.ts";
import type { User } from "../../src/ports/storage.ts";
import type { TestBackend } from "../helpers/backend.ts";
import type { TestServer } from "../helpers/server.ts";

/**
 * `startServer` of test/helpers/server.ts, loaded on first use: importing the whole server at
 * module load would compete with test/helpers/backend.ts's start-up probe of PostgreSQL and
 * Redis (a 3 s connect timeout) for the event loop, which on a loaded machine makes the probe fail.
 */
export async function startNode(
  overrides: Record<string, unknown>,
  options: { backend: TestBackend },
): Promise<TestServer> {
  const { startServer } = await import("../helpers/server.ts");
  return startServer(overrides, options);
}

export const ADMIN_TOKEN = "test-admin-token";
export const PASSWORD = "secret-pass-1";

export interface Person {
  user: User;
  /** chat33 session (FZM-AUTH-TOKEN with FZM-DEVICE iOS; also the 003 Bearer token). */
  chat33: string;
  /** enterprise session (the `authorization` header, platform pc). */
  enterprise: string;
}

/** What `makeWorld` made: people, their conversations and objects, all with ids. */
export interface World {
  alice: Person;
  bob: Person;
  /** Outside every conversation, group, room and packet below. */
  carol: Person;
  groupId: number;
  roomId: number;
  directLogId: string;
  groupLogId: string;
  roomLogId: string;
  packetId: string;
  fileSha: string;
  fileId: number;
  systemId: string;
}

/**
 * Data for the fuzz and authorisation tests, made on `backend` by an in-process node that is
 * closed afterwards (so a server process can then own the same storage): alice and bob are
 * friends, in one group, with a direct and a group message, a chat-room message by alice, a red
 * packet in the group, an upload by alice, and a gateway system; carol is in none of them.
 */
export async function makeWorld(backend: TestBackend, overrides: Record<string, unknown> = {}): Promise<World> {
  const s = await startNode({ "wallet.sendPerMinute": 1000, ...overrides }, { backend });
  try {
    const a = s.app;
    const person = async (name: string): Promise<Person> => {
      const user = await a.accounts.createUser({ username: name, password: PASSWORD, nickname: name });
      return {
        user,
        chat33: (await a.accounts.startSession(user, { device: "ios", ip: "127.0.0.1" })).token,
        enterprise: (await a.accounts.startSession(user, { device: "pc", ip: "127.0.0.1" })).token,
      };
    };
    const alice = await person(`alice${backend.redisPrefix.slice(9, 15)}`);
    const bob = await person(`bob${backend.redisPrefix.slice(9, 15)}`);
    const carol = await person(`carol${backend.redisPrefix.slice(9, 15)}`);
    await a.friends.request(alice.user, bob.user.id, { reason: "hi" });
    await a.friends.respond(bob.user, alice.user.id, true);
    const text = (t: string) => ({ content: contentOrThrow("text", { content: t }) });
    const direct = await a.messages.send("direct", alice.user, bob.user.id, { clientMsgId: "w-d1", ...text("hi") });
    const group = await a.groups.create(alice.user, { name: "world", userIds: [bob.user.id] });
    const gm = await a.messages.send("group", alice.user, group.id, { clientMsgId: "w-g1", ...text("hi all") });
    const room = await a.chatrooms.create({ adminToken: true }, { name: "world-room", avatar: "" });
    await a.chatrooms.join(room.id, { userId: alice.user.id });
    const rm = await a.messages.send("chatroom", alice.user, room.id, { clientMsgId: "w-r1", ...text("room hi") });
    await a.wallet.deposit(alice.user.id, 1, 10 * 10 ** 8, `fund-${backend.redisPrefix}`);
    const { packet } = await a.redPackets.send(
      alice.user,
      { cType: 1, toId: group.id, coin: 1, type: 1, amount: 10 ** 8, size: 2, remark: "world" },
      (id) => `/p?id=${id}`,
    );
    const form = new FormData();
    form.append("file", new Blob([Buffer.from("%PDF-1.4\n% world\n%%EOF\n")], { type: "application/pdf" }), "w.pdf");
    const up = await fetch(`${s.base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: alice.enterprise },
      body: form,
    });
    const file = ((await up.json()) as { data: { id: number; hdUrl: string } }).data;
    const systemId = "fuzzsys";
    await fetch(`${s.base}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ systemId }),
    });
    return {
      alice,
      bob,
      carol,
      groupId: group.id,
      roomId: room.id,
      directLogId: direct.view.logId,
      groupLogId: gm.view.logId,
      roomLogId: rm.view.logId,
      packetId: packet.id,
      fileSha: /files\/([0-9a-f]{64})/.exec(file.hdUrl)?.[1] ?? "",
      fileId: file.id,
      systemId,
    };
  } finally {
    await s.close();
  }
}
