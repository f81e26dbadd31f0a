import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import sharp from "sharp";
import type { ParleyClient } from "../web/sdk/client.ts";
import { CHROMIUM, CHROMIUM_FLAGS } from "./helpers/chromium.ts";
import { socketsReady } from "./helpers/ready.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import {
  ADMIN,
  adminCall,
  befriend,
  newMobile,
  outboxCode,
  PASSWORD,
  registeredClient,
  startClient,
  until,
} from "./helpers/web-users.ts";

/**
 * The web client (web/app) in a real browser — Debian's Chromium driven by playwright-core —
 * against a real Parley server (SQLite, or PostgreSQL + Redis when configured): sign-up by SMS
 * code and sign-in by password, two users becoming friends and chatting (unread badges, hostile
 * content rendered as text, recall), a group of three with an owner's mute, a guest in a chat
 * room, a red packet, the server restarted mid-conversation, 10 000 messages in one
 * conversation, phone and desktop screenshots (written outside the repository).
 *
 * Without Chromium the suite is skipped — except in CI (CI set) or with PARLEY_REQUIRE_SERVICES=1,
 * where it fails.
 */

const ROOT = join(import.meta.dirname, "..");
const DIST = join(ROOT, "web", "dist", "index.html");
const SHOTS = process.env.PARLEY_SCREENSHOTS ?? join(tmpdir(), "parley-web-screenshots");

/** The newest modification time under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    t = Math.max(t, st.isDirectory() ? newest(full) : st.mtimeMs);
  }
  return t;
}

/** Builds web/dist when it is missing or older than the sources (the tests test this checkout). */
function ensureBuilt(): void {
  const src = Math.max(newest(join(ROOT, "web", "app")), newest(join(ROOT, "web", "sdk")));
  if (existsSync(DIST) && statSync(DIST).mtimeMs >= src) return;
  execFileSync(process.execPath, [join(ROOT, "scripts", "build-web.mjs")], { stdio: "inherit", timeout: 120_000 });
}

const haveChromium = existsSync(CHROMIUM);
/** CI (any value but "" / "0" / "false") or PARLEY_REQUIRE_SERVICES=1: a missing Chromium fails. */
const ci = process.env.CI ?? "";
const mustRun =
  (ci !== "" && ci !== "0" && ci.toLowerCase() !== "false") || process.env.PARLEY_REQUIRE_SERVICES === "1";
if (!haveChromium && mustRun) {
  test("web client in a browser: Chromium is installed (CI / PARLEY_REQUIRE_SERVICES=1)", () => {
    assert.fail(`Chromium not found at ${CHROMIUM}: .ci/run installs it (apt-get install -y chromium)`);
  });
}

describe("web client in a real browser", {
  skip: haveChromium || mustRun ? false : `no Chromium at ${CHROMIUM}`,
}, () => {
  let s: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];
  const clients: ParleyClient[] = [];

  before(async () => {
    ensureBuilt();
    mkdirSync(SHOTS, { recursive: true });
    s = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
  });
  after(async () => {
    for (const c of clients) c.stop();
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await s?.close();
    assert.deepEqual(errors, [], "no uncaught error in any page");
  });

  /** A fresh browser profile (own cookies) with one page. */
  async function newPage(width = 1280, height = 800): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width, height }, locale: "zh-CN", reducedMotion: "reduce" });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    page.setDefaultTimeout(10_000);
    return page;
  }

  /** Signs in with the keyboard only: Tab to each field, Enter to submit (focus is visible on the way). */
  async function signIn(page: Page, mobile: string): Promise<void> {
    await page.goto(`${s.base}/`);
    await page.waitForSelector("input[name=mobile]");
    await page.focus("input[name=mobile]");
    await page.keyboard.type(mobile);
    await page.keyboard.press("Tab");
    assert.equal(
      await page.evaluate(() =>
        (
          globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string } } }
        ).document.activeElement.getAttribute("name"),
      ),
      "password",
    );
    const outline = await page.$eval(
      "input[name=password]",
      (el) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } }).getComputedStyle(el)
          .outlineStyle,
    );
    assert.notEqual(outline, "none", "keyboard focus is visible");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".shell");
  }

  /** A user made through the SDK (SMS + register), signed in in a new page. */
  async function person(nickname: string, width?: number, height?: number) {
    // the SDK side signs in as an iOS device, so the page's Web login does not replace its session
    const r = await registeredClient(s, nickname, "iOS");
    clients.push(r.client);
    const page = await newPage(width, height);
    await signIn(page, r.mobile);
    return { ...r, page, id: r.me.id };
  }

  const texts = (page: Page) => page.$$eval(".vlist .msg .bubble", (els) => els.map((e) => e.textContent ?? ""));

  /** On a phone-width page with a conversation open, back to the list. */
  async function toList(page: Page): Promise<void> {
    if (await page.isVisible(".chat-head .back")) await page.click(".chat-head .back");
  }

  async function openChat(page: Page, convKey: string): Promise<void> {
    await toList(page);
    await page.click("[data-tab=chats]");
    await page.click(`[data-conv="${convKey}"]`);
    await page.waitForSelector(".chat textarea, .chat .composer");
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill(".composer textarea", text);
    await page.keyboard.press("Enter");
  }

  let alice: Awaited<ReturnType<typeof person>>;
  let bob: Awaited<ReturnType<typeof person>>;

  test("sign up with an SMS code in the page (the log sender's outbox); the first screen is interactive", async () => {
    const page = await newPage();
    await page.goto(`${s.base}/`);
    assert.equal(new URL(page.url()).pathname, "/app/", "/ redirects to the client");
    await page.waitForFunction(() => performance.getEntriesByName("parley:interactive").length > 0);
    const mark = await page.evaluate(() => performance.getEntriesByName("parley:interactive")[0].startTime);
    assert.ok(mark > 0, "the app marks when its first screen is up");
    await page.waitForSelector("input[name=mobile]");
    process.stdout.write(
      `# first screen interactive after ${mark.toFixed(0)} ms (navigation start → parley:interactive)\n`,
    );
    // the initial JS the page loaded, gzipped, within the 200 KiB (sizes are exact, not timings)
    const scripts = await page.$$eval("script[src]", (els) => els.map((e) => (e as unknown as { src: string }).src));
    let js = 0;
    for (const src of scripts) js += gzipSync(Buffer.from(await (await fetch(src)).arrayBuffer())).length;
    process.stdout.write(`# initial JS ${(js / 1024).toFixed(1)} KiB gzipped (${scripts.length} file)\n`);
    assert.ok(scripts.length >= 1 && js <= 200 * 1024, `initial JS ${js} bytes gzipped`);
    const mobile = newMobile();
    await page.click("button[role=tab][data-mode=sms]");
    await page.fill("input[name=mobile]", mobile);
    await page.click("button:has-text('获取验证码')");
    await until(async () => (await outboxCode(s, mobile).catch(() => "")) !== "", "the code in the outbox");
    await page.fill("input[name=code]", await outboxCode(s, mobile));
    await page.fill("input[name=password]", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForSelector(".shell");
    await page.click("[data-tab=me]");
    const uid = await page.textContent("[data-my-uid]");
    assert.match(uid ?? "", /^\d+$/);
    // the session is an httpOnly cookie: script cannot read it, a reload keeps it
    assert.equal(
      await page.evaluate(() =>
        (globalThis as unknown as { document: { cookie: string } }).document.cookie.includes("FZM-AUTH-TOKEN"),
      ),
      false,
    );
    const cookies = await page.context().cookies();
    assert.equal(cookies.find((c) => c.name === "FZM-AUTH-TOKEN")?.httpOnly, true);
    await page.reload();
    await page.waitForSelector(".shell");
    // English
    await page.click("[data-tab=me]");
    await page.selectOption(".stack select", "en");
    await page.waitForSelector("text=Sign out");
    // sign out: /user/logout ends the session and clears the cookie; the old token is dead
    const token = decodeURIComponent(cookies.find((c) => c.name === "FZM-AUTH-TOKEN")?.value ?? "");
    assert.ok(token);
    await page.click("button:has-text('Sign out')");
    await page.waitForSelector("input[name=mobile]");
    assert.equal(
      (await page.context().cookies()).find((c) => c.name === "FZM-AUTH-TOKEN"),
      undefined,
      "the cookie is cleared",
    );
    const after = await fetch(`${s.base}/user/tokenLogin`, {
      method: "POST",
      headers: { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": token },
    });
    assert.equal(((await after.json()) as { result: number }).result, -1004, "the token is revoked");
    await page.reload();
    await page.waitForSelector("input[name=mobile]");
    assert.equal(await page.$(".shell"), null, "a reload stays signed out");
  });

  test("sign in by SMS code for an existing account; an unknown number is sent to sign-up", async () => {
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD, nickname: "短信用户" });
    const page = await newPage(360, 740);
    await page.goto(`${s.base}/`);
    await page.click("button[role=tab][data-mode=code]");
    assert.equal(await page.$("input[name=password]"), null, "no password on the code login");
    await page.fill("input[name=mobile]", mobile);
    await page.click("button:has-text('获取验证码')");
    await until(async () => (await outboxCode(s, mobile).catch(() => "")) !== "", "the code in the outbox");
    await page.fill("input[name=code]", await outboxCode(s, mobile));
    await page.click("button[type=submit]");
    await page.waitForSelector(".shell");
    await page.click("[data-tab=me]");
    assert.equal(await page.inputValue("input[name=nickname]"), "短信用户");
    await page.screenshot({ path: join(SHOTS, "phone-me.png") });
    // a number nobody registered: told so, and the sign-up tab is offered
    const other = await newPage(360, 740);
    await other.goto(`${s.base}/`);
    await other.click("button[role=tab][data-mode=code]");
    await other.fill("input[name=mobile]", newMobile());
    await other.fill("input[name=code]", "123456");
    await other.click("button[type=submit]");
    await other.waitForSelector(".error:has-text('尚未注册')");
    await other.waitForSelector("button[role=tab][data-mode=sms][aria-selected=true]");
  });

  test("two people become friends and chat: request, accept, unread badge, hostile content as text, recall", async () => {
    alice = await person("Alice");
    bob = await person("Bob", 360, 740);
    // Alice finds Bob by his markId and asks
    await alice.page.click("[data-tab=contacts]");
    await alice.page.fill(".search input", bob.me.uid);
    await alice.page.click(".search button");
    await alice.page.click(`[data-found-user="${bob.id}"] button`);
    // Bob gets the request (badge on Contacts), accepts
    await bob.page.waitForSelector("[data-tab=contacts] .badge");
    await bob.page.click("[data-tab=contacts]");
    await bob.page.click(`[data-request="${alice.id}"] button.primary`);
    await alice.page.waitForSelector(`[data-friend="${bob.id}"]`);
    // Alice writes; Bob's chats tab shows 1 unread
    await alice.page.click(`[data-friend="${bob.id}"]`);
    await say(alice.page, "你好，Bob");
    await bob.page.waitForSelector("[data-tab=chats] .badge[data-badge='1']");
    await openChat(bob.page, `3:${alice.id}`);
    await bob.page.waitForSelector(".bubble:has-text('你好，Bob')");
    await bob.page.waitForSelector(".divider:has-text('以下为新消息')");
    // Alice sees that Bob read it (event 61)
    await alice.page.waitForSelector(".msg.mine:has-text('你好，Bob') .peer-read[data-read='1']");
    assert.equal(await bob.page.$("[data-tab=chats] .badge"), null, "read once opened (phone: tabs hidden)");
    // messages arriving while Bob reads do not shift the layout (Chromium's layout-shift entries)
    await bob.page.evaluate(() => {
      const g = globalThis as unknown as { __shift: number };
      g.__shift = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) g.__shift += (e as unknown as { value: number }).value;
      }).observe({ type: "layout-shift" as never, buffered: false });
    });
    for (const x of ["一", "二", "三", "四", "五"]) await say(alice.page, `第${x}条`);
    await bob.page.waitForSelector(".bubble:has-text('第五条')");
    // Bob has the conversation open: what arrives is read, and Alice is told
    await alice.page.waitForSelector(".msg.mine:has-text('第五条') .peer-read[data-read='1']");
    await bob.page.waitForTimeout(300);
    const shift = await bob.page.evaluate(() => (globalThis as unknown as { __shift: number }).__shift);
    process.stdout.write(`# layout shift while 5 messages arrived: ${shift.toFixed(4)}\n`);
    assert.ok(shift < 0.01, `cumulative layout shift ${shift}`);
    // hostile content is shown as text, never run or parsed
    const hostile = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
    await say(bob.page, hostile);
    await alice.page.waitForSelector(".bubble:has-text('onerror')");
    const rendered = await alice.page.$$eval(".bubble", (els) =>
      els.map((e) => ({ text: e.textContent, html: e.innerHTML })),
    );
    const got = rendered.find((r) => r.text === hostile);
    assert.ok(got, "the exact text");
    assert.doesNotMatch(got.html, /<img|<script/, "escaped, not parsed");
    assert.equal(await alice.page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    assert.equal(await bob.page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    // Alice recalls her message: Bob sees the notice
    const mine = alice.page.locator(".msg.mine", { hasText: "你好，Bob" });
    await mine.hover();
    await mine.locator(".actions button").click();
    await mine.locator("button:has-text('撤回')").click();
    await bob.page.waitForSelector(".notice:has-text('撤回了一条消息')");
    assert.ok(!(await texts(bob.page)).includes("你好，Bob"));
    await alice.page.screenshot({ path: join(SHOTS, "desktop-chat.png") });
    await bob.page.screenshot({ path: join(SHOTS, "phone-chat.png") });
    // an emoji from the picker
    await alice.page.click("button[aria-label='表情']");
    await alice.page.click(".emoji button:has-text('🎉')");
    await alice.page.keyboard.press("Enter");
    await bob.page.waitForSelector(".bubble:has-text('🎉')");
    // an image: picked in the composer, uploaded (/chat33/upload), shown from our own file URL
    const png = await sharp({
      create: { width: 320, height: 200, channels: 3, background: { r: 30, g: 120, b: 200 } },
    })
      .png()
      .toBuffer();
    await alice.page.setInputFiles(".composer input[name=image]", {
      name: "blue.png",
      mimeType: "image/png",
      buffer: png,
    });
    const img = bob.page.locator(".bubble.image img").last();
    await img.waitFor();
    assert.match((await img.getAttribute("src")) ?? "", /^\/chat33\/files\/[0-9a-f]{64}$/);
    await until(
      async () => (await img.evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth)) > 0,
      "the image loaded",
    );
    // an image message pointing elsewhere (another client could send one) is never loaded: text only
    await startClient(s, alice.client);
    await alice.client.send(`3:${bob.id}`, 3, { imageUrl: "http://127.0.0.1:9/tracker.png", width: 10, height: 10 });
    await bob.page.waitForSelector(".bubble:has-text('127.0.0.1:9/tracker.png')");
    assert.equal(await bob.page.$("img[src*='tracker']"), null, "no <img> for a foreign URL");
    // and a non-image is refused by the server: the page says so
    await alice.page.setInputFiles(".composer input[name=image]", {
      name: "x.png",
      mimeType: "image/png",
      buffer: Buffer.from("<svg onload=alert(1)>"),
    });
    await alice.page.waitForSelector(".toast:has-text('图片')");
    // Alice's settings for Bob: remark, pin, do-not-disturb
    await alice.page.click(".chat-head button[aria-label='设置']");
    await alice.page.fill(".panel input[aria-label='备注']", "老鲍");
    await alice.page.click(".panel form button[type=submit]");
    await alice.page.waitForSelector(`[data-conv="3:${bob.id}"] .title:has-text('老鲍')`);
    await alice.page.check(".panel label:has-text('置顶聊天') input");
    await alice.page.waitForSelector(`[data-conv="3:${bob.id}"] .title:has-text('📌')`);
    await alice.page.check(".panel label:has-text('消息免打扰') input");
    await until(
      async () => (await alice.client.api.friends()).find((f) => f.id === bob.id)?.noDisturbing === 1,
      "DND on",
    );
    await alice.page.click(".panel .close-panel");
  });

  test("a group of three: created in the page, everyone hears it, read receipts, the owner mutes a member", async () => {
    const cid = await registeredClient(s, "Cid", "iOS");
    clients.push(cid.client);
    await befriend(alice.client, cid.client);
    const cPage = await newPage();
    await signIn(cPage, cid.mobile);
    await alice.page.reload();
    await alice.page.waitForSelector(".shell");
    await alice.page.click("[data-tab=contacts]");
    await alice.page.click(".contacts h3 button");
    await alice.page.fill("input[name=groupName]", "三人行");
    await alice.page.check(`[data-pick="${bob.id}"]`);
    await alice.page.check(`[data-pick="${cid.me.id}"]`);
    await alice.page.click(".modal button[type=submit]");
    await alice.page.waitForSelector(".chat-head h2:has-text('三人行')");
    await socketsReady(s.app);
    await say(alice.page, "大家好");
    await alice.page.waitForSelector(".msg.mine .bubble:has-text('大家好')");
    const roomId = await alice.page.$eval(
      "[data-conv^='2:']",
      (e) => (e as unknown as { dataset: { conv?: string } }).dataset.conv?.slice(2) ?? "",
    );
    for (const p of [bob.page, cPage]) {
      await toList(p);
      await p.click("[data-tab=chats]");
      await p.waitForSelector(`[data-conv="2:${roomId}"] .badge`);
      await p.click(`[data-conv="2:${roomId}"]`);
      await p.waitForSelector(".bubble:has-text('大家好')");
    }
    // read receipts on Alice's own message
    await until(async () => {
      await alice.page.click(".msg.mine .receipt");
      return (await alice.page.textContent(".msg.mine .receipt")) === "2 人已读";
    }, "both members read it");
    // the owner mutes Cid for 10 minutes; Cid's next send fails
    await alice.page.click(".chat-head button[aria-label='设置']");
    await alice.page.click(`[data-member="${cid.me.id}"] button:has-text('禁言')`);
    await cPage.waitForSelector(".toast:has-text('禁言')");
    await say(cPage, "我还能说话吗");
    await cPage.waitForSelector(".msg.failed .status:has-text('禁言')");
    await alice.page.screenshot({ path: join(SHOTS, "desktop-group.png") });
    // roles: the owner makes Bob an admin; Bob (on his phone) removes Cid, who is told and loses the group
    await alice.page.click(`[data-member="${bob.id}"] button:has-text('设为管理员')`);
    await alice.page.waitForSelector(`[data-member="${bob.id}"] .pill:has-text('管理员')`);
    await bob.page.click(".chat-head button[aria-label='设置']");
    await bob.page.click(`[data-member="${cid.me.id}"] button:has-text('移出')`);
    await cPage.waitForSelector(".toast:has-text('移出')");
    await cPage.waitForSelector(`[data-conv="2:${roomId}"]`, { state: "detached" });
    await bob.page.waitForSelector(`[data-member="${cid.me.id}"]`, { state: "detached" });
    // the owner dissolves the group: Bob is told
    alice.page.once("dialog", (d) => d.accept());
    await alice.page.click(".panel button:has-text('解散群聊')");
    await bob.page.waitForSelector(".toast:has-text('解散')");
    await alice.page.waitForSelector(`[data-conv="2:${roomId}"]`, { state: "detached" });
  });

  test("someone finds a group by its ID and asks to join; the owner approves from Contacts", async () => {
    const { roomId } = await alice.client.api.createGroup([bob.id], "读书会");
    const { markId } = await alice.client.api.groupInfo(roomId);
    const eve = await person("Eve");
    await eve.page.click("[data-tab=contacts]");
    await eve.page.fill(".search input", markId);
    await eve.page.click(".search button");
    await eve.page.click(`[data-found-group="${roomId}"] button`);
    await eve.page.waitForSelector(`[data-found-group="${roomId}"] button:has-text('申请已发送')`);
    // the owner is told, and answers in Contacts
    await alice.page.waitForSelector(".toast:has-text('申请加入')");
    await toList(alice.page);
    await alice.page.click("[data-tab=contacts]");
    await alice.page.click(".contacts [data-application] button.primary");
    await eve.page.click("[data-tab=chats]");
    await eve.page.waitForSelector(`[data-conv="2:${roomId}"]`);
    assert.equal((await alice.client.api.groupInfo(roomId)).memberNumber, 3);
  });

  test("a guest browses a chat room and hears it; may not send", async () => {
    const { groupId } = await adminCall<{ groupId: string }>(s, "/group/addGroup", { groupName: "大厅" });
    const guest = await newPage(360, 740);
    await guest.goto(`${s.base}/`);
    await guest.click("button:has-text('游客')");
    await guest.click(`[data-room="${groupId}"]`);
    await guest.waitForSelector(".composer.hint");
    await alice.page.click("[data-tab=rooms]");
    await alice.page.click(`[data-room="${groupId}"]`);
    await alice.page.waitForSelector(".chat-head h2:has-text('大厅')");
    await until(async () => (await alice.client.api.chatroom(groupId)).totalNumber >= 2, "both in the room");
    await say(alice.page, "欢迎光临");
    await guest.waitForSelector(".bubble:has-text('欢迎光临')");
    await guest.screenshot({ path: join(SHOTS, "phone-guest-room.png") });
  });

  test("a red packet sent into the chat and claimed, with the amount shown; balance and records", async () => {
    await fetch(`${s.base}/admin/api/wallet/deposit`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ userId: alice.id, coin: 1, amount: 10, idempotencyKey: `web-${alice.id}` }),
    });
    await openChat(alice.page, `3:${bob.id}`);
    await alice.page.click("button[aria-label='发红包']");
    await alice.page.fill("input[name=amount]", "2.5");
    await alice.page.click(".modal button[type=submit]");
    await openChat(bob.page, `3:${alice.id}`);
    await bob.page.click(".packet");
    await bob.page.click(".open-btn");
    await bob.page.waitForSelector(".packet-amount [data-amount='2.5']");
    await until(async () => (await bob.page.textContent(".packet-amount span")) === "2.5", "the count-up ends at 2.5");
    await bob.page.screenshot({ path: join(SHOTS, "phone-red-packet.png") });
    await bob.page.keyboard.press("Escape");
    await bob.page.waitForSelector(".modal", { state: "detached" });
    // Bob's balance and this month's records show the claim; Alice's show the packet sent
    await toList(bob.page);
    await bob.page.click("[data-tab=me]");
    await bob.page.waitForSelector("[data-balances] [data-coin='1']:has-text('2.5')");
    await bob.page.waitForSelector("[data-records-received='1']");
    await toList(alice.page);
    await alice.page.click("[data-tab=me]");
    await alice.page.waitForSelector("[data-balances] [data-coin='1']:has-text('7.5')");
    await alice.page.waitForSelector("[data-records-sent='1']");
    await alice.page.screenshot({ path: join(SHOTS, "desktop-me.png") });
  });

  test("a profile edit, a refused request (with its notification), a deleted message, an invitation", async () => {
    // Alice renames herself on the Me tab
    await toList(alice.page);
    await alice.page.click("[data-tab=me]");
    await alice.page.fill("input[name=nickname]", "Alice 王");
    await alice.page.click(".stack button[type=submit]");
    await until(async () => (await bob.client.api.userInfo(alice.id)).name === "Alice 王", "the new nickname");
    // Fay asks Alice: a notification and a badge; Alice refuses
    const fay = await registeredClient(s, "Fay", "iOS");
    clients.push(fay.client);
    await fay.client.api.addFriend(alice.id, "我是 Fay");
    await alice.page.waitForSelector(".toast:has-text('Fay 请求添加你为好友')");
    await alice.page.click("[data-tab=contacts]");
    await alice.page.click(`[data-request="${fay.me.id}"] button:has-text('拒绝')`);
    await alice.page.waitForSelector(`[data-request="${fay.me.id}"]`, { state: "detached" });
    assert.equal((await fay.client.api.friends()).length, 0, "refused: not friends");
    // Alice deletes a message: it goes from Bob's page too
    await openChat(alice.page, `3:${bob.id}`);
    await openChat(bob.page, `3:${alice.id}`);
    await say(alice.page, "发错了，删掉");
    await bob.page.waitForSelector(".bubble:has-text('发错了，删掉')");
    const wrong = alice.page.locator(".msg.mine", { hasText: "发错了，删掉" });
    await wrong.hover();
    await wrong.locator(".actions button").click();
    await wrong.locator("button:has-text('删除')").click();
    await bob.page.waitForSelector(".bubble:has-text('发错了，删掉')", { state: "detached" });
    // an invitation from the group's settings: Gus (a friend of Alice) is in the group afterwards
    const gus = await registeredClient(s, "Gus", "iOS");
    clients.push(gus.client);
    await befriend(gus.client, alice.client);
    const { roomId } = await alice.client.api.createGroup([bob.id], "邀请群");
    await alice.page.reload();
    await alice.page.waitForSelector(".shell");
    await openChat(alice.page, `2:${roomId}`);
    await alice.page.click(".chat-head button[aria-label='设置']");
    await alice.page.selectOption(".panel select[aria-label='邀请']", gus.me.id);
    await alice.page.click(".panel form.row button:has-text('邀请')");
    await until(async () => (await gus.client.api.groups()).some((g) => g.id === roomId), "Gus is a member");
    await alice.page.waitForSelector(`[data-member="${gus.me.id}"]`);
    await alice.page.click(".panel .close-panel");
  });

  test("the server restarts mid-conversation: both pages recover, nothing lost or doubled", async () => {
    await openChat(alice.page, `3:${bob.id}`);
    await openChat(bob.page, `3:${alice.id}`);
    await say(alice.page, "重启之前");
    await bob.page.waitForSelector(".bubble:has-text('重启之前')");
    const port = Number(new URL(s.base).port);
    const backend = s.backend;
    await s.app.close();
    await alice.page.waitForSelector(".conn");
    await say(alice.page, "断线时发的 1");
    await say(alice.page, "断线时发的 2");
    await alice.page.waitForSelector(".msg.sending");
    const old = s;
    s = await startServer({ port }, { backend });
    s.close = async () => {
      await s.app.close();
      await old.backend.cleanup();
    };
    await bob.page.waitForSelector(".bubble:has-text('断线时发的 2')", { timeout: 60_000 });
    await alice.page.waitForSelector(".msg.sending", { state: "detached", timeout: 60_000 });
    await say(alice.page, "重启之后");
    await bob.page.waitForSelector(".bubble:has-text('重启之后')");
    for (const p of [alice.page, bob.page]) {
      const all = await texts(p);
      for (const x of ["重启之前", "断线时发的 1", "断线时发的 2", "重启之后"])
        assert.equal(all.filter((y) => y === x).length, 1, `${x} once`);
      const order = ["重启之前", "断线时发的 1", "断线时发的 2", "重启之后"].map((x) => all.indexOf(x));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        "in order",
      );
    }
  });

  test("10 000 messages in one conversation: the list stays virtualised while scrolling back", async () => {
    const { client: dan, me } = await registeredClient(s, "Dan", "iOS");
    clients.push(dan);
    await befriend(alice.client, dan);
    await dan.start();
    await dan.sendText(`3:${alice.id}`, "first");
    const conv = await s.app.messages.findDirect(Number(alice.id), Number(me.id));
    assert.ok(conv);
    const now = Date.now();
    for (let i = 0; i < 10_000; i += 1000) {
      const batch = Array.from({ length: 1000 }, (_, k) => {
        const n = i + k;
        const content = { content: `消息 ${n}${n % 7 === 0 ? "\n第二行" : ""}` };
        return {
          conversationId: conv.id,
          senderId: n % 2 ? Number(me.id) : Number(alice.id),
          clientMsgId: `bulk-${n}`,
          kind: "text" as const,
          content,
          contentJson: JSON.stringify(content),
          createdAt: now - 10_000 + n,
        };
      });
      await s.app.storage.messages.appendBatch(batch);
    }
    await alice.page.reload();
    await alice.page.waitForSelector(".shell");
    await openChat(alice.page, `3:${me.id}`);
    await alice.page.waitForSelector(".bubble:has-text('消息 9999')");
    const frames: number[] = [];
    for (let i = 0; i < 25; i++) {
      await alice.page.$eval(".vlist", (el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event("scroll"));
      });
      await alice.page.waitForTimeout(60);
      frames.push(await alice.page.$$eval(".vlist .msg", (els) => els.length));
    }
    const loaded = await alice.page.$eval(".vlist", (el) => el.scrollHeight);
    const inDom = Math.max(...frames);
    process.stdout.write(
      `# 10 000-message conversation: scrolled back ${loaded} px; at most ${inDom} messages in the DOM\n`,
    );
    assert.ok(inDom < 150, `virtualised: ${inDom} message elements`);
    const shown = await texts(alice.page);
    assert.equal(new Set(shown).size, shown.length, "no duplicates on screen");
  });

  test("screenshots at phone and desktop widths (outside the repository)", async () => {
    await alice.page.setViewportSize({ width: 360, height: 740 });
    await alice.page.screenshot({ path: join(SHOTS, "phone-long.png") });
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await alice.page.click("[data-tab=contacts]");
    await alice.page.screenshot({ path: join(SHOTS, "desktop-contacts.png") });
    for (const f of ["desktop-chat.png", "phone-chat.png", "phone-long.png", "desktop-contacts.png"])
      assert.ok(statSync(join(SHOTS, f)).size > 1000, f);
    process.stdout.write(`# screenshots in ${SHOTS}\n`);
  });
});
