import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { contentOrThrow } from "../src/core/messages/content.ts";
import type { User } from "../src/ports/storage.ts";
import type { Env, Frame, Item, Session } from "./helpers/enterprise-types.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { TestClient } from "./helpers/ws-client.ts";

type Reply<T = unknown> = { status: number; body: Env<T> };

interface Saved {
  senderId: number;
  receiverId: number;
  content: string;
  sendTime: number;
  seq: number;
  type: number;
  fileId: number | null;
  atIds: null;
  device: null;
  id: string;
}

interface PageData {
  totalElements: number;
  totalPages: number;
  data: Item[];
}

const PASSWORD = "secret-pw1";
let seq = 0;
/** A client message id like the seed's ('cnbift' + two timestamps), unique per call. */
const msgId = () => `cnbift${Date.now()}${Date.now()}${++seq}`;

async function call<T>(base: string, path: string, token: string | null, params: unknown): Promise<Reply<T>> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: token } : {}) },
    body: JSON.stringify(params),
  });
  return { status: res.status, body: (await res.json()) as Env<T> };
}

function assertError(r: Reply, status: number, msg: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.deepEqual(r.body, { data: null, code: status, msg });
}

describe("enterprise surface — messages, conversation list (seed 001)", () => {
  let s: TestServer;
  let jhb: User; // 姜海斌, company A
  let cxy: User; // 程雪怡, company A (a colleague of jhb)
  let mj: User; // 马军, no company, jhb's friend
  let lu: User; // 路人, no company, nobody's friend
  const tokens: Record<string, string> = {};

  const send = (who: string, params: Record<string, unknown>) =>
    call<Saved>(s.base, "/api/save_single_msg", tokens[who] as string, params);
  const find = (who: string, params: Record<string, unknown>) =>
    call<PageData>(s.base, "/api/find_single_msg", tokens[who] as string, params);
  const sessions = async (who: string, query = "") => {
    const res = await fetch(`${s.base}/api/my_session${query}`, { headers: { authorization: tokens[who] as string } });
    return { status: res.status, body: (await res.json()) as Env<Session[]> };
  };
  const uploadPng = async (who: string) => {
    const bytes = await sharp({ create: { width: 300, height: 150, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append("file", new Blob([bytes], { type: "image/png" }), "photo.png");
    const res = await fetch(`${s.base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: tokens[who] as string },
      body: form,
    });
    return ((await res.json()) as Env<{ id: number; hdUrl: string; text: string; size: number }>).data;
  };
  const uploadPdf = async (who: string, name = "报告.pdf") => {
    const form = new FormData();
    form.append("file", new Blob([Buffer.from(`%PDF-1.4\n% ${name}\n%%EOF\n`)], { type: "application/pdf" }), name);
    const res = await fetch(`${s.base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: tokens[who] as string },
      body: form,
    });
    return ((await res.json()) as Env<{ id: number; hdUrl: string; text: string; size: number }>).data;
  };
  const socket = async (token: string) => {
    const c = new TestClient(`${s.ws}/socket?authorization=${encodeURIComponent(token)}&platform=pc`);
    const first = await c.next<Frame>();
    assert.equal(first.code, 1000);
    return c;
  };

  before(async () => {
    s = await startServer();
    const company = await s.app.org.createCompany({ text: "江苏农垦" });
    const mk = (username: string, nickname: string, extra: Record<string, unknown> = {}) =>
      s.app.accounts.createUser({ username, password: PASSWORD, nickname, ...extra });
    jhb = await mk("jhb", "姜海斌", { companyId: company.id, avatar: "http://img.example/jhb.png" });
    cxy = await mk("cxy", "程雪怡", { companyId: company.id });
    mj = await mk("mj", "马军", { avatar: "http://img.example/mj.jpg" });
    lu = await mk("lu", "路人");
    for (const [name, u] of Object.entries({ jhb, cxy, mj, lu }))
      tokens[name] = (await s.app.accounts.startSession(u, { device: "pc" })).token;
    // jhb and mj become friends (the enterprise surface has no friend requests of its own)
    await s.app.friends.request(mj, jhb.id, { reason: "hi" });
    await s.app.friends.respond(jhb, mj.id, true);
  });
  after(() => s.close());

  test("save_single_msg: the seed's answer, exactly", async () => {
    const id = msgId();
    const before = Date.now();
    const r = await send("jhb", { content: "string", id, receiverId: cxy.id, senderId: jhb.id, type: 1, fileId: null });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.msg, "消息发送成功");
    assert.equal(r.body.code, 200);
    const d = r.body.data;
    assert.deepEqual(Object.keys(d), [
      "senderId",
      "receiverId",
      "content",
      "sendTime",
      "seq",
      "type",
      "fileId",
      "atIds",
      "device",
      "id",
    ]);
    assert.ok(d.sendTime >= before && d.sendTime <= Date.now());
    assert.deepEqual(d, {
      senderId: jhb.id,
      receiverId: cxy.id,
      content: "string",
      sendTime: d.sendTime,
      seq: 1,
      type: 1,
      fileId: null,
      atIds: null,
      device: null,
      id,
    });
    const stored = await s.app.storage.messages.bySenderClientId(jhb.id, id);
    assert.equal(stored?.kind, "text");
    assert.deepEqual(stored?.content, { content: "string" });
  });

  test("save_single_msg: parameters in the query string (the seed's 'params') are coerced", async () => {
    const id = msgId();
    const q = new URLSearchParams({
      content: "查询参数",
      id,
      receiverId: String(cxy.id),
      senderId: String(jhb.id),
      type: "1",
    });
    const res = await fetch(`${s.base}/api/save_single_msg?${q}`, {
      method: "POST",
      headers: { authorization: tokens.jhb as string },
    });
    const body = (await res.json()) as Env<Saved>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.data.content, "查询参数");
    assert.equal(body.data.receiverId, cxy.id);
  });

  test("save_single_msg: a retry with the same id returns the original and stores nothing new", async () => {
    const id = msgId();
    const params = { content: "once", id, receiverId: cxy.id, senderId: jhb.id, type: 1 };
    const first = await send("jhb", params);
    const conv = await s.app.messages.findDirect(jhb.id, cxy.id);
    assert.ok(conv);
    const { total } = await s.app.storage.messages.page(conv.id, 0, 1);
    const second = await send("jhb", { ...params, content: "changed on retry" });
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body, "same answer, same sendTime and seq");
    assert.equal((await s.app.storage.messages.page(conv.id, 0, 1)).total, total, "nothing new stored");
    assert.equal((await s.app.storage.messages.bySenderClientId(jhb.id, id))?.content.content, "once");
  });

  test("save_single_msg: 403 for another senderId, for strangers; friends and colleagues may talk", async () => {
    const base = { content: "x", type: 1 };
    assertError(
      await send("jhb", { ...base, id: msgId(), senderId: cxy.id, receiverId: jhb.id }),
      403,
      "只能以自己的身份操作",
    );
    assertError(
      await send("lu", { ...base, id: msgId(), senderId: lu.id, receiverId: jhb.id }),
      403,
      "对方不是你的好友或同事",
    );
    assertError(
      await send("cxy", { ...base, id: msgId(), senderId: cxy.id, receiverId: mj.id }),
      403,
      "对方不是你的好友或同事",
    );
    assert.equal((await send("mj", { ...base, id: msgId(), senderId: mj.id, receiverId: jhb.id })).status, 200);
    assert.equal((await send("cxy", { ...base, id: msgId(), senderId: cxy.id, receiverId: jhb.id })).status, 200);
    // other failures
    assertError(await send("jhb", { ...base, id: msgId(), senderId: jhb.id, receiverId: 999999 }), 404, "用户不存在");
    assertError(
      await send("jhb", { ...base, id: msgId(), senderId: jhb.id, receiverId: jhb.id }),
      400,
      "不能给自己发消息",
    );
    assert.equal(
      (await send("jhb", { ...base, id: msgId(), senderId: jhb.id, receiverId: cxy.id, type: 6 })).status,
      400,
    );
    assert.equal((await send("jhb", { ...base, senderId: jhb.id, receiverId: cxy.id })).status, 400, "id required");
    assertError(
      await send("jhb", { ...base, content: " ", id: msgId(), senderId: jhb.id, receiverId: cxy.id }),
      400,
      "缺少参数",
    );
    const anonymous = { ...base, id: msgId(), senderId: jhb.id, receiverId: cxy.id };
    assert.equal((await call(s.base, "/api/save_single_msg", null, anonymous)).status, 401);
  });

  test("image (type 2) and file (type 3) messages reference the sender's uploads", async () => {
    const img = await uploadPng("jhb");
    const imgId = msgId();
    const r = await send("jhb", {
      content: "",
      id: imgId,
      receiverId: mj.id,
      senderId: jhb.id,
      type: 2,
      fileId: img.id,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.type, 2);
    assert.equal(r.body.data.fileId, img.id);
    assert.equal(r.body.data.content, img.hdUrl, "an image without text shows its URL");
    const stored = await s.app.storage.messages.bySenderClientId(jhb.id, imgId);
    assert.equal(stored?.kind, "image");
    assert.deepEqual(stored?.content, { content: "", fileId: img.id, imageUrl: img.hdUrl, width: 300, height: 150 });

    const pdf = await uploadPdf("jhb");
    const fileMsg = msgId();
    const f = await send("jhb", {
      content: "报告.pdf",
      id: fileMsg,
      receiverId: mj.id,
      senderId: jhb.id,
      type: 3,
      fileId: pdf.id,
    });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    const storedFile = await s.app.storage.messages.bySenderClientId(jhb.id, fileMsg);
    assert.equal(storedFile?.kind, "file", "enterprise type 3 is the canonical kind file");
    assert.deepEqual(storedFile?.content, {
      content: "报告.pdf",
      fileId: pdf.id,
      fileUrl: pdf.hdUrl,
      name: "报告.pdf",
      size: pdf.size,
    });

    // someone else's file does not exist for you; a PDF is not an image; types 2–5 need a file
    const mjFile = await uploadPdf("mj", "mine.pdf");
    assertError(
      await send("jhb", { content: "", id: msgId(), receiverId: mj.id, senderId: jhb.id, type: 3, fileId: mjFile.id }),
      404,
      "文件不存在",
    );
    assertError(
      await send("jhb", { content: "", id: msgId(), receiverId: mj.id, senderId: jhb.id, type: 2, fileId: pdf.id }),
      400,
      "文件类型与消息类型不符",
    );
    assertError(
      await send("jhb", { content: "x", id: msgId(), receiverId: mj.id, senderId: jhb.id, type: 4 }),
      400,
      "缺少参数: fileId",
    );
  });

  test("find_single_msg: pages newest first, totals, read state from the recipient's cursor; page 1 marks read", async () => {
    const a = await s.app.accounts.createUser({
      username: "pa",
      password: PASSWORD,
      nickname: "甲",
      companyId: cxy.companyId,
    });
    const b = await s.app.accounts.createUser({
      username: "pb",
      password: PASSWORD,
      nickname: "乙",
      companyId: cxy.companyId,
    });
    tokens.pa = (await s.app.accounts.startSession(a, { device: "pc" })).token;
    tokens.pb = (await s.app.accounts.startSession(b, { device: "pc" })).token;
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const [from, fromUser, to] = i % 2 ? ["pa", a, b] : ["pb", b, a];
      const id = msgId();
      ids.push(id);
      const r = await send(from, { content: `m${i}`, id, receiverId: to.id, senderId: fromUser.id, type: 1 });
      assert.equal(r.status, 200);
    }
    // page 2 as a: does not mark anything read
    const p2 = await find("pa", { page: 2, receiverId: b.id, senderId: a.id, size: 2 });
    assert.equal(p2.status, 200, JSON.stringify(p2.body));
    assert.equal(p2.body.msg, "操作成功！");
    assert.equal(p2.body.data.totalElements, 5);
    assert.equal(p2.body.data.totalPages, 3);
    assert.deepEqual(
      p2.body.data.data.map((m) => [m.content, m.state]),
      [
        ["m3", 0],
        ["m2", 0],
      ],
    );
    const item = p2.body.data.data[1] as Item;
    assert.deepEqual(Object.keys(item), [
      "senderId",
      "receiverId",
      "content",
      "sendTime",
      "state",
      "type",
      "platform",
      "name",
      "avatar",
      "id",
      "seq",
    ]);
    assert.deepEqual(item, {
      senderId: b.id,
      receiverId: a.id,
      content: "m2",
      sendTime: item.sendTime,
      state: 0,
      type: 1,
      platform: null,
      name: "乙",
      avatar: null,
      id: ids[1],
      seq: 2,
    });
    // b opens the conversation (page 1, parameters in either order): a's messages become read
    const p1b = await find("pb", { page: 1, receiverId: a.id, senderId: b.id, size: 10 });
    assert.deepEqual(
      p1b.body.data.data.map((m) => [m.content, m.state]),
      [
        ["m5", 2],
        ["m4", 0],
        ["m3", 2],
        ["m2", 0],
        ["m1", 2],
      ],
      "a's messages were read by b; b's not yet by a",
    );
    const p1a = await find("pa", { page: 1, receiverId: a.id, senderId: b.id, size: 10 });
    assert.ok(
      p1a.body.data.data.every((m) => m.state === 2),
      "after a read too, everything is read",
    );
    // the last page and beyond
    const p3 = await find("pa", { page: 3, receiverId: a.id, senderId: b.id, size: 2 });
    assert.deepEqual(
      p3.body.data.data.map((m) => m.content),
      ["m1"],
    );
    const p9 = await find("pa", { page: 9, receiverId: a.id, senderId: b.id, size: 2 });
    assert.deepEqual(p9.body.data, { totalElements: 5, totalPages: 3, data: [] });
    // a participant with no conversation yet: empty, not an error
    const none = await find("pa", { page: 1, receiverId: a.id, senderId: jhb.id, size: 2 });
    assert.deepEqual(none.body.data, { totalElements: 0, totalPages: 0, data: [] });
  });

  test("find_single_msg: an outsider gets 404 (never 403); bad input 400", async () => {
    assertError(await find("lu", { page: 1, receiverId: jhb.id, senderId: mj.id, size: 3 }), 404, "会话不存在");
    assertError(await find("lu", { page: 1, receiverId: lu.id, senderId: lu.id, size: 3 }), 404, "会话不存在");
    assertError(await find("jhb", { page: 1, receiverId: jhb.id, senderId: 999999, size: 3 }), 404, "用户不存在");
    assert.equal((await find("jhb", { page: 0, receiverId: jhb.id, senderId: mj.id, size: 3 })).status, 400);
    assert.equal((await find("jhb", { page: 1, receiverId: jhb.id, senderId: mj.id, size: 1000 })).status, 400);
    assert.equal((await find("jhb", { page: 1, receiverId: jhb.id, size: 3 })).status, 400);
  });

  test("find_group_msg: an unknown group → 404 (members: test/enterprise-groups.test.ts)", async () => {
    const r = await call(s.base, "/api/find_group_msg", tokens.jhb as string, {
      page: 1,
      groupId: 277,
      userId: jhb.id,
      size: 3,
    });
    assertError(r, 404, "群组不存在");
    assert.equal((await call(s.base, "/api/find_group_msg", null, { page: 1, groupId: 277, size: 3 })).status, 401);
  });

  test("my_session: system entries, then conversations newest first with unread counts and read state", async () => {
    const u = await s.app.accounts.createUser({ username: "sess", password: PASSWORD, nickname: "会话用户" });
    const p = await s.app.accounts.createUser({
      username: "peer1",
      password: PASSWORD,
      nickname: "对方一",
      avatar: "http://img.example/p1.png",
    });
    const q = await s.app.accounts.createUser({ username: "peer2", password: PASSWORD, nickname: "对方二" });
    const x = await s.app.accounts.createUser({ username: "asker", password: PASSWORD, nickname: "请求者" });
    for (const [k, v] of Object.entries({ sess: u, peer1: p, peer2: q }))
      tokens[k] = (await s.app.accounts.startSession(v, { device: "pc" })).token;
    for (const other of [p, q]) {
      await s.app.friends.request(u, other.id, {});
      await s.app.friends.respond(other, u.id, true);
    }
    await s.app.friends.request(x, u.id, { reason: "加个好友" }); // pending → 新朋友 count 1

    const fromP = [msgId(), msgId()];
    for (const id of fromP)
      await send("peer1", { content: `hi ${id.slice(-2)}`, id, receiverId: u.id, senderId: p.id, type: 1 });
    const mine = msgId();
    await send("sess", { content: "to q", id: mine, receiverId: q.id, senderId: u.id, type: 1 });

    const r = await sessions("sess", `?userId=${u.id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.msg, "查询成功");
    const [nf, gh, an, ...convs] = r.body.data;
    assert.deepEqual(nf, {
      senderId: null,
      receiverId: null,
      content: null,
      sendTime: null,
      state: 0,
      type: null,
      platform: null,
      name: "新朋友",
      avatar: "http://jiaxin365.cn/images/cloud/msg_icon/message_new%20friends.png",
      otherAvatar: null,
      otherName: null,
      miniType: 11016,
      count: 1,
      id: null,
    });
    assert.deepEqual([gh?.name, gh?.miniType, gh?.count], ["群助手", 11017, 0]);
    assert.deepEqual([an?.name, an?.miniType, an?.receiverId], ["分析助手", 11021, 1]);
    assert.equal(convs.length, 2);
    const [toQ, fromPeer] = convs as [Session, Session];
    assert.deepEqual(toQ, {
      senderId: u.id,
      receiverId: q.id,
      content: "to q",
      sendTime: toQ.sendTime,
      state: 0,
      type: 1,
      platform: null,
      name: "会话用户",
      avatar: null,
      otherAvatar: null,
      otherName: "对方二",
      miniType: 1100,
      count: 0,
      id: mine,
    });
    assert.deepEqual(
      [
        fromPeer.senderId,
        fromPeer.receiverId,
        fromPeer.name,
        fromPeer.avatar,
        fromPeer.otherName,
        fromPeer.otherAvatar,
      ],
      [p.id, u.id, "对方一", "http://img.example/p1.png", "对方一", "http://img.example/p1.png"],
    );
    assert.deepEqual([fromPeer.count, fromPeer.state, fromPeer.id], [2, 0, fromP[1]]);

    // q reads u's message; u reads p's: states flip to 2, counts to 0
    await find("peer2", { page: 1, receiverId: q.id, senderId: u.id, size: 5 });
    await find("sess", { page: 1, receiverId: u.id, senderId: p.id, size: 5 });
    const again = (await sessions("sess")).body.data.slice(3);
    assert.deepEqual(
      again.map((c) => [c.otherName, c.state, c.count]),
      [
        ["对方二", 2, 0],
        ["对方一", 2, 0],
      ],
    );
    // someone else's list: 403
    assertError(await sessions("sess", `?userId=${p.id}`), 403, "只能以自己的身份操作");
  });

  test("socket: 1100 to every connection of both users (same object as find_single_msg), 1006 after the recipient reads", async () => {
    // jhb has read everything mj sent earlier (so jhb's own reads below publish nothing)
    await find("jhb", { page: 1, receiverId: jhb.id, senderId: mj.id, size: 1 });
    const jhbPhone = (await s.app.accounts.startSession(jhb, { device: "android" })).token;
    const [jPc, jPhone, mPc, other] = await Promise.all([
      socket(tokens.jhb as string),
      socket(jhbPhone),
      socket(tokens.mj as string),
      socket(tokens.cxy as string),
    ]);
    try {
      const id = msgId();
      const r = await send("jhb", { content: "socket hello", id, receiverId: mj.id, senderId: jhb.id, type: 1 });
      assert.equal(r.status, 200);
      const frames = await Promise.all([jPc, jPhone, mPc].map((c) => c.next<Frame<Item>>()));
      for (const f of frames) {
        assert.equal(f.code, 1100);
        assert.equal(f.msg, "单聊消息");
      }
      assert.deepEqual(frames[1], frames[0]);
      assert.deepEqual(frames[2], frames[0]);
      const listed = (await find("jhb", { page: 1, receiverId: mj.id, senderId: jhb.id, size: 1 })).body.data.data[0];
      assert.deepEqual(frames[0]?.data, listed, "the frame's data is the find_single_msg item");
      assert.deepEqual(
        [listed?.id, listed?.state, listed?.name, listed?.avatar],
        [id, 0, "姜海斌", "http://img.example/jhb.png"],
      );

      // mj opens the conversation → 1006 to jhb's devices (and mj's own)
      await find("mj", { page: 1, receiverId: mj.id, senderId: jhb.id, size: 10 });
      const receipts = await Promise.all([jPc, jPhone, mPc].map((c) => c.next<Frame<Record<string, unknown>>>()));
      for (const f of receipts) {
        assert.equal(f.code, 1006);
        assert.equal(f.msg, "已读回执");
        assert.equal(f.data.senderId, jhb.id);
        assert.equal(f.data.receiverId, mj.id);
        assert.equal(f.data.readerId, mj.id);
        assert.equal(f.data.seq, listed?.seq);
        assert.equal(f.data.state, 2);
        assert.equal(typeof f.data.logId, "string");
      }
      // reading again when nothing is unread sends no receipt; nobody else heard anything
      await find("mj", { page: 1, receiverId: mj.id, senderId: jhb.id, size: 10 });
      assert.equal(await jPc.silent(300), true);
      assert.equal(await other.silent(50), true);
    } finally {
      for (const c of [jPc, jPhone, mPc, other]) c.close();
    }
  });

  test("cross-surface: a chat33-style image shows as type 2; enterprise type 3 is canonical 'file'", async () => {
    const clientMsgId = `chat33-${msgId()}`;
    await s.app.messages.sendDirect(mj, jhb.id, {
      clientMsgId,
      content: contentOrThrow("image", { imageUrl: "http://cdn.example/chat33.jpg", width: 640, height: 480 }),
    });
    const page = await find("jhb", { page: 1, receiverId: jhb.id, senderId: mj.id, size: 1 });
    const item = page.body.data.data[0];
    assert.deepEqual(
      [item?.id, item?.type, item?.content, item?.senderId, item?.name],
      [clientMsgId, 2, "http://cdn.example/chat33.jpg", mj.id, "马军"],
    );
    const pdf = await uploadPdf("jhb", "cross.pdf");
    const id = msgId();
    const r = await send("jhb", {
      content: "cross.pdf",
      id,
      receiverId: mj.id,
      senderId: jhb.id,
      type: 3,
      fileId: pdf.id,
    });
    assert.equal(r.status, 200);
    const stored = await s.app.storage.messages.bySenderClientId(jhb.id, id);
    assert.equal(stored?.kind, "file");
    const asChat33 = await s.app.messages.directHistory(mj, jhb.id, null, 1);
    assert.equal(asChat33.views[0]?.kind, "file");
    assert.equal(asChat33.views[0]?.content.fileUrl, pdf.hdUrl);
  });
});
