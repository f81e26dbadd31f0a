import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createBackend, type TestBackend } from "../helpers/backend.ts";
import { socketsReady } from "../helpers/ready.ts";
import type { TestServer } from "../helpers/server.ts";
import { gatewayClient, TestClient } from "../helpers/ws-client.ts";
import { record } from "./figures.ts";
import { makeWorld, startNode, type World } from "./world.ts";

/**
 * The authorisation matrix: every route that takes the id of a conversation, group, packet or
 * message, called by carol, who is outside all of them. Each row names the surface's documented
 * answer (docs/chat33.md "Non-members see not found": -3001 for groups, -2023 for messages;
 * docs/enterprise.md: 404 会话不存在 / 资源不存在; docs/red-packets.md: -4010 may not claim;
 * docs/gateway.md: another system's client id fails like a forged one, -1 客户端ID无效) and
 * checks, over real sockets:
 * - carol with the real id gets exactly that answer, and nothing changes;
 * - where the document promises that existence does not leak, a made-up id gets the same answer;
 * - a member reading the same id succeeds (so the id is real and the refusal is about carol).
 * Chat rooms (chat33 /group/*) are public by the document (guests may read them), files are served
 * by content hash to whoever has the link, and a red packet's guest claim (/red-packet/receive)
 * is open to anyone with its link by the seed, so none of them is in the table.
 */

type Who = "alice" | "carol";
interface Row {
  surface: "chat33" | "chat33 ws" | "enterprise" | "gateway";
  route: string;
  /** The request body (chat33) or query (enterprise) for the id `id`. */
  body: (w: World, id: string) => Record<string, unknown>;
  id: (w: World) => string;
  /** A well-formed id of nothing. */
  missing: string;
  /** The documented answer for an outsider: chat33 `result`, enterprise HTTP status, gateway `code` (-1 客户端ID无效). */
  refused: number;
  /** A made-up id gets the same answer (the document says existence does not leak). */
  sameAsMissing: boolean;
  /** Read-only: alice (a member) gets result 0 / 200 — the control. */
  read: boolean;
}

const G = (w: World) => String(w.groupId);
/** A live gateway client of the world's system; the "outsider" here is another system. */
let gatewayClientId = "";
const gateway = (route: string, body: (id: string) => Record<string, unknown>, read: boolean): Row => ({
  surface: "gateway",
  route,
  body: (_w, id) => body(id),
  id: () => gatewayClientId,
  missing: "bm90LWEtcmVhbC1jbGllbnQtaWQ",
  refused: -1,
  sameAsMissing: true,
  read,
});
const group = (route: string, body: (w: World, id: string) => Record<string, unknown>, read: boolean): Row => ({
  surface: "chat33",
  route,
  body,
  id: G,
  missing: "987654",
  refused: -3001,
  sameAsMissing: true,
  read,
});
const message = (route: string, id: (w: World) => string, type: 1 | 2): Row => ({
  surface: "chat33",
  route,
  body: (_w, logId) => ({ logId, type }),
  id,
  missing: "987654321",
  refused: -2023,
  sameAsMissing: true,
  read: false,
});

const ROWS: Row[] = [
  // chat33 groups (群, the document's "room" routes): members only, -3001 for everyone else
  group("/room/info", (_w, id) => ({ roomId: id }), true),
  group("/room/userList", (_w, id) => ({ roomId: id }), true),
  group("/room/userInfo", (w, id) => ({ roomId: id, userId: String(w.alice.user.id) }), true),
  group("/room/searchMember", (_w, id) => ({ roomId: id, query: "a" }), true),
  group("/room/getOnlineNumber", (_w, id) => ({ roomId: id }), true),
  group("/room/chatLog", (_w, id) => ({ id, startId: "", number: 20 }), true),
  group("/room/historyFiles", (_w, id) => ({ id, startId: "", number: 20 }), true),
  group("/room/historyPhotos", (_w, id) => ({ id, startId: "", number: 20 }), true),
  group("/room/systemMsgs", (_w, id) => ({ roomId: id, startId: "", number: 20 }), true),
  group("/room/readInfo", (w, id) => ({ roomId: id, logId: w.groupLogId }), true),
  group("/room/joinInRoomApplyList", (_w, id) => ({ roomId: id }), true),
  group("/chat33/markRead", (_w, id) => ({ type: 1, id }), true),
  group("/room/setNoDisturbing", (_w, id) => ({ roomId: id, setNoDisturbing: 1 }), false),
  group("/room/stickyOnTop", (_w, id) => ({ roomId: id, stickyOnTop: 1 }), false),
  group("/room/setMemberNickname", (_w, id) => ({ roomId: id, nickname: "x" }), false),
  group("/room/setName", (_w, id) => ({ roomId: id, name: "taken" }), false),
  group("/room/setAvatar", (_w, id) => ({ roomId: id, avatar: "http://img.example/a.png" }), false),
  group("/room/setPermission", (_w, id) => ({ roomId: id, canAddFriend: 1 }), false),
  group("/room/setLevel", (w, id) => ({ roomId: id, userId: String(w.bob.user.id), level: 2 }), false),
  group("/room/setMutedSingle", (w, id) => ({ roomId: id, userId: String(w.bob.user.id), deadline: 0 }), false),
  group("/room/setMutedList", (_w, id) => ({ roomId: id, listType: 1 }), false),
  group("/room/sendSystemMsgs", (_w, id) => ({ roomId: id, content: "x" }), false),
  group("/room/kickOut", (w, id) => ({ roomId: id, users: [String(w.bob.user.id)] }), false),
  group("/room/joinRoomInvite", (w, id) => ({ roomId: id, users: [String(w.carol.user.id)] }), false),
  group("/room/joinRoomApprove", (w, id) => ({ roomId: id, userId: String(w.carol.user.id), agree: 1 }), false),
  group("/room/loginOut", (_w, id) => ({ roomId: id }), false),
  group("/room/delete", (_w, id) => ({ roomId: id }), false),
  // messages of conversations carol is not in: -2023 (no such message, as far as she can tell)
  message("/chat33/revokeMsg", (w) => w.directLogId, 2),
  message("/chat33/revokeMsg", (w) => w.groupLogId, 1),
  message("/chat33/deleteMsg", (w) => w.directLogId, 2),
  message("/chat33/deleteMsg", (w) => w.groupLogId, 1),
  message("/withdrawMsg", (w) => w.directLogId, 2),
  message("/deleteMsg", (w) => w.groupLogId, 1),
  {
    surface: "chat33",
    route: "/chat33/markRead",
    body: (w, logId) => ({ type: 2, id: String(w.bob.user.id), logId }),
    id: (w) => w.directLogId,
    missing: "987654321",
    refused: -2023,
    sameAsMissing: true,
    read: false,
  },
  {
    surface: "chat33",
    route: "/chat33/forward",
    body: (w, logId) => ({
      sourceId: String(w.groupId),
      type: 1,
      forwardType: 1,
      logArray: [logId],
      targetRooms: [],
      targetUsers: [String(w.carol.user.id)],
    }),
    id: (w) => w.groupLogId,
    missing: "987654321",
    refused: -3001,
    sameAsMissing: true,
    read: false,
  },
  // a red packet in a group carol is not in: -4010 may not claim (docs/red-packets.md; the
  // guest route /red-packet/receive is open to "anyone with the link" by the seed, so not here)
  {
    surface: "chat33",
    route: "/red-packet/receive-entry",
    body: (_w, id) => ({ packet_id: id }),
    id: (w) => w.packetId,
    missing: "",
    refused: -4010,
    sameAsMissing: false,
    read: false,
  },
  // the chat33 socket: a message to a group carol is not in (the same -3001 as no such group)
  {
    surface: "chat33 ws",
    route: "eventType 0 channelType 2",
    body: (_w, id) => ({
      eventType: 0,
      msgId: `authz-${id}`,
      channelType: 2,
      targetId: id,
      msgType: 1,
      msg: { content: "x" },
    }),
    id: G,
    missing: "987654",
    refused: -3001,
    sameAsMissing: true,
    read: false,
  },
  // enterprise: 404 for a conversation or group one is not in (never 403)
  {
    surface: "enterprise",
    route: "/api/find_single_msg",
    body: (w, id) => ({ senderId: id, receiverId: w.bob.user.id, page: 1, size: 10 }),
    id: (w) => String(w.alice.user.id),
    missing: "987654",
    refused: 404,
    sameAsMissing: true,
    read: false,
  },
  {
    surface: "enterprise",
    route: "/api/find_group_msg",
    body: (_w, id) => ({ groupId: id, page: 1, size: 10 }),
    id: G,
    missing: "987654",
    refused: 404,
    sameAsMissing: true,
    read: true,
  },
  // the gateway: another system's client id is refused like a forged one
  gateway("/api/send_to_client", (id) => ({ clientId: id, sendUserId: "u", code: 0, msg: "m", data: "x" }), true),
  gateway("/api/send_to_clients", (id) => ({ clientIds: [id], sendUserId: "u", code: 0, msg: "m", data: "x" }), false),
  gateway("/api/bind_to_group", (id) => ({ clientId: id, groupName: "theirs" }), true),
  gateway("/api/close_client", (id) => ({ clientId: id }), false),
];

describe("authorisation matrix: an outsider is refused as not found", () => {
  let backend: TestBackend;
  let s: TestServer;
  let w: World;
  let ws: TestClient;
  let gwSocket: TestClient | null = null;
  before(async () => {
    backend = await createBackend();
    w = await makeWorld(backend);
    s = await startNode({}, { backend });
    ws = new TestClient(`${s.ws}/ws`, { headers: { "FZM-AUTH-TOKEN": w.carol.chat33, "FZM-DEVICE": "iOS" } });
    await ws.opened;
    const gw = await gatewayClient(s.ws, w.systemId);
    gwSocket = gw.c;
    gatewayClientId = gw.clientId;
    await fetch(`${s.base}/api/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ systemId: "other-system" }),
    });
    await socketsReady(s.app);
  });
  after(async () => {
    ws?.close();
    gwSocket?.close();
    await s?.close();
    await backend?.cleanup();
  });

  /** The surface's answer code for `who` calling `row` with `id`. */
  const call = async (row: Row, who: Who, id: string): Promise<number> => {
    const p = w[who];
    const body = row.body(w, id);
    if (row.surface === "chat33 ws") {
      const c =
        who === "carol"
          ? ws
          : await (async () => {
              const x = new TestClient(`${s.ws}/ws`, { headers: { "FZM-AUTH-TOKEN": p.chat33, "FZM-DEVICE": "iOS" } });
              await x.opened;
              return x;
            })();
      c.ws.send(JSON.stringify(body));
      for (;;) {
        const f = await c.next<{ msgId?: string; code?: number }>(10_000);
        if (f.msgId === body.msgId) return f.code ?? 0;
      }
    }
    if (row.surface === "gateway") {
      const r = await fetch(`${s.base}${row.route}`, {
        method: "POST",
        headers: { "content-type": "application/json", SystemId: who === "carol" ? "other-system" : w.systemId },
        body: JSON.stringify(body),
      });
      const env = (await r.json()) as { code: number; msg: string };
      return env.code === -1 && env.msg !== "客户端ID无效" ? -999 : env.code;
    }
    if (row.surface === "enterprise") {
      const q = new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]));
      const r = await fetch(`${s.base}${row.route}?${q}`, { method: "POST", headers: { authorization: p.enterprise } });
      return r.status;
    }
    const r = await fetch(`${s.base}${row.route}`, {
      method: "POST",
      headers: { "content-type": "application/json", "FZM-AUTH-TOKEN": p.chat33, "FZM-DEVICE": "iOS" },
      body: JSON.stringify(body),
    });
    return ((await r.json()) as { result: number }).result;
  };

  test("every row: the documented refusal, no existence leak, the member's control succeeds", async () => {
    const failures: string[] = [];
    let checks = 0;
    // reads first (and their member controls), then the rows that would change something
    const ordered = [...ROWS.filter((r) => r.read), ...ROWS.filter((r) => !r.read)];
    for (const row of ordered) {
      const name = `${row.surface} ${row.route} (${JSON.stringify(row.body(w, "ID")).slice(0, 60)})`;
      const got = await call(row, "carol", row.id(w));
      checks++;
      if (got !== row.refused) failures.push(`${name}: outsider got ${got}, documented ${row.refused}`);
      if (row.sameAsMissing) {
        const none = await call(row, "carol", row.missing);
        checks++;
        if (none !== got) failures.push(`${name}: made-up id got ${none}, the real one ${got} (existence leaks)`);
      }
      if (row.read) {
        const ok = await call(row, "alice", row.id(w));
        checks++;
        const success = row.surface === "enterprise" ? 200 : 0; // chat33 result, gateway code: 0
        if (ok !== success) failures.push(`${name}: the member's control got ${ok}`);
      }
    }
    // nothing carol tried changed the group: alice still owns it, bob is still in it, not muted
    const info = await s.app.groups.info(w.alice.user, w.groupId);
    assert.equal(info.members.length, 2, "the group still has its two members");
    assert.ok(await s.app.messages.findSent(w.alice.user, "w-d1"), "the direct message is still there");
    assert.ok(await s.app.messages.findSent(w.alice.user, "w-g1"), "the group message is still there");
    assert.equal(gwSocket?.ws.readyState, gwSocket?.ws.OPEN, "the other system could not close the client");
    record("authorisation matrix", { rows: ROWS.length, checks, leaks: failures.length });
    assert.deepEqual(failures, []);
  });
});
