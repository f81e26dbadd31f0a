import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { User } from "../src/ports/storage.ts";
import type { Env } from "./helpers/chat33-types.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";

/**
 * Review findings L7/M6: the writes that fan out (group create, join applications, chat-room
 * reports) are limited per user, and guests' reads that walk every room's audience
 * (`/group/list`, `/group/userList`) per client address — chat33's documented -1012 (发送频率过快).
 * Real server (the rate-limit adapter of this run: memory, or Redis with PARLEY_REDIS_URL).
 */

let seq = 0;
const mobile = () => `135${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;

describe("groups and chat rooms: per-user and per-address rate limits (-1012)", () => {
  let s: TestServer;
  const tokens: string[] = [];
  const ids: string[] = [];
  const users: User[] = [];
  const call = async (token: string | null, path: string, body: unknown, extra: Record<string, string> = {}) =>
    (
      await post<Env<Record<string, unknown>>>(`${s.base}${path}`, body, {
        "FZM-DEVICE": "iOS",
        ...(token ? { "FZM-AUTH-TOKEN": token } : {}),
        ...extra,
      })
    ).body;

  before(async () => {
    s = await startServer({
      "groups.createsPerMinute": 2,
      "groups.appliesPerMinute": 2,
      "chatrooms.reportsPerMinute": 2,
      "chatrooms.guestReadsPerMinute": 3,
    });
    for (let i = 0; i < 3; i++) {
      const m = mobile();
      const u = await s.app.accounts.createUser({ mobile: m, password: "limits-pass-1", nickname: `u${i}` });
      const r = await post<Env<{ token: string }>>(
        `${s.base}/user/pwdLogin`,
        { mobile: m, password: "limits-pass-1" },
        { "FZM-DEVICE": "iOS" },
      );
      tokens.push(r.body.data.token);
      users.push(u);
      ids.push(String(u.id));
    }
  });
  after(() => s.close());

  test("/room/create: the third in a minute is -1012 and creates nothing; another user is not held", async () => {
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push(await call(tokens[0], "/room/create", { roomName: `g${i}`, users: [ids[1]] }));
    assert.deepEqual(
      made.map((r) => r.result),
      [0, 0, -1012],
    );
    assert.equal((await s.app.groups.list(users[0])).length, 2);
    assert.equal((await call(tokens[1], "/room/create", { users: [] })).result, 0);
  });

  test("/room/joinRoomApply: the third application in a minute is -1012 and stores nothing", async () => {
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(tokens[2], "/room/create", { roomName: `a${i}`, users: [] });
      if (r.result === 0) rooms.push(String(r.data.roomId));
    }
    assert.equal(rooms.length, 2); // tokens[2]'s own create limit
    const more = await call(tokens[1], "/room/create", { roomName: "a3", users: [] });
    assert.equal(more.result, 0);
    rooms.push(String(more.data.roomId));
    const answers = [];
    for (const roomId of rooms) answers.push((await call(tokens[0], "/room/joinRoomApply", { roomId })).result);
    assert.deepEqual(answers, [0, 0, -1012]);
    assert.equal(await s.app.groups.pendingCount(Number(ids[1])), 0, "the refused application was not stored");
  });

  test("/group/report per user, and guests' /group/list + /group/userList per address: -1012 past the limit", async () => {
    const reports = [];
    for (let i = 0; i < 3; i++)
      reports.push((await call(tokens[0], "/group/report", { id: ids[1], msgId: String(i) })).result);
    assert.deepEqual(reports, [0, 0, -1012]);
    assert.equal((await s.app.chatrooms.reports(10)).length, 2);

    const guest = { "FZM-UUID": "guest-limits" };
    const room = (
      await call(null, "/group/addGroup", { groupName: "r" }, { authorization: `Bearer ${s.app.config.adminToken}` })
    ).data.groupId as string;
    const reads = [
      (await call(null, "/group/list", { groupStatus: 3 }, guest)).result,
      (await call(null, "/group/userList", { groupId: room }, guest)).result,
      (await call(null, "/group/list", { groupStatus: 3 }, { "FZM-UUID": "another-uuid" })).result,
      (await call(null, "/group/userList", { groupId: room }, guest)).result,
    ];
    assert.deepEqual(reads, [0, 0, 0, -1012], "the limit is per address, not per FZM-UUID");
    // a logged-in user is not held by the guests' limit
    assert.equal((await call(tokens[0], "/group/list", { groupStatus: 3 })).result, 0);
    assert.equal((await call(tokens[0], "/group/userList", { groupId: room })).result, 0);
  });
});
