import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { MemoryBus } from "../src/adapters/hub/memory-hub.ts";
import { createBackend, createPgDatabase, DATABASE_URL, dropRedisPrefix, REDIS_URL } from "./helpers/backend.ts";
import { CHROMIUM, CHROMIUM_FLAGS } from "./helpers/chromium.ts";
import { AccessClient } from "./helpers/im-client.ts";
import { freePort } from "./helpers/ports.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { ADMIN, adminCall, newMobile, PASSWORD, until } from "./helpers/web-users.ts";
import { gatewayClient } from "./helpers/ws-client.ts";

/**
 * The admin console (web/admin, docs/admin-console.md) in a real browser — Debian's Chromium
 * driven by playwright-core, the harness of test/web-browser.test.ts — against real Parley
 * servers (SQLite + the in-process hub, or PostgreSQL + Redis when configured): sign-in with the
 * keyboard and a live dashboard; a user created in the console signs in on /app/; a user disabled
 * is signed out of /app/; a user muted cannot send (needs the adminapi branch's mute route); a
 * chat room closed in the console is announced in /app/; a node drained in a two-node cluster
 * kicks its connections, which move to the other node; a customer added in the fleet page
 * receives reports from a second Parley process. Screenshots go to $TMPDIR/parley-admin-screenshots
 * (or PARLEY_SCREENSHOTS), never into the repository.
 *
 * Without Chromium the suite is skipped — except in CI (CI=true) or with PARLEY_REQUIRE_SERVICES=1,
 * where it fails.
 */

const ROOT = join(import.meta.dirname, "..");
const SHOTS = process.env.PARLEY_SCREENSHOTS ?? join(tmpdir(), "parley-admin-screenshots");

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) if (name !== "dist") t = Math.max(t, newest(join(path, name)));
  return t;
}

/** Builds web/dist and web/admin/dist when missing or older than their sources. */
function ensureBuilt(): void {
  const src = Math.max(...["web/app", "web/sdk", "web/admin"].map((d) => newest(join(ROOT, d))));
  const built = ["web/dist/index.html", "web/admin/dist/index.html"].map((f) => join(ROOT, f));
  if (built.every((f) => existsSync(f) && statSync(f).mtimeMs >= src)) return;
  execFileSync(process.execPath, [join(ROOT, "scripts", "build-web.mjs")], { stdio: "inherit", timeout: 180_000 });
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && (process.env.CI === "true" || process.env.PARLEY_REQUIRE_SERVICES === "1")) {
  test("admin console in a browser: Chromium is installed (CI / PARLEY_REQUIRE_SERVICES=1)", () => {
    assert.fail(`Chromium not found at ${CHROMIUM}: .ci/run installs it (apt-get install -y chromium)`);
  });
}

/** One browser for every suite of this file, and the page-level checks they share. */
class Harness {
  browser!: Browser;
  readonly contexts: BrowserContext[] = [];
  readonly errors: string[] = [];

  async start() {
    ensureBuilt();
    mkdirSync(SHOTS, { recursive: true });
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
  }
  async stop() {
    for (const c of this.contexts) await c.close().catch(() => {});
    await this.browser?.close();
  }

  async newPage(width = 1280, height = 860, locale = "en-US"): Promise<Page> {
    const ctx = await this.browser.newContext({ viewport: { width, height }, locale, reducedMotion: "reduce" });
    this.contexts.push(ctx);
    const page = await ctx.newPage();
    page.on("pageerror", (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      // a CSP violation is reported on the console: the console must run under /app/'s policy
      if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text()))
        this.errors.push(`csp: ${m.text()}`);
    });
    page.on("dialog", (d) => d.accept());
    page.setDefaultTimeout(15_000);
    return page;
  }

  /** Signs in to /admin/ with the keyboard only: the token field has focus, Enter submits. */
  async signIn(page: Page, base: string, path = "/admin/", token = ADMIN): Promise<void> {
    await page.goto(`${base}${path}`);
    await page.waitForSelector("input[name=token]");
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { document: { activeElement: { name?: string } } }).document.activeElement.name ===
        "token",
    );
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".shell");
  }

  /** Goes to a page of the console through its navigation link. */
  async open(page: Page, id: string): Promise<void> {
    await page.click(`nav a[data-page=${id}]`);
    await page.waitForSelector(`main[data-current=${id}]`);
  }
}

/** Signs in to the web client /app/ by password. */
async function appSignIn(page: Page, base: string, mobile: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/app/`);
  await page.fill("input[name=mobile]", mobile);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
}

/**
 * Submits the New user form and waits for this submission's own outcome: the dialog closes only
 * when the user was created. (A "User created" notice stays 4 s, so the previous test's notice
 * could satisfy a wait for it while this creation was still in flight, and the search that
 * followed ran before the user existed.) A refusal fails with the console's error notices.
 */
async function submitNewUser(page: Page): Promise<void> {
  await page.click("[data-form=new-user] button[type=submit]");
  try {
    await page.waitForSelector("[data-form=new-user]", { state: "detached" });
  } catch (e) {
    const notices = await page.locator("[data-notice=error]").allTextContents();
    throw new Error(`the New user dialog stayed open; error notices: ${JSON.stringify(notices)}`, { cause: e });
  }
  await page.waitForSelector("[data-notice=ok]:has-text('User created')");
}

/** Creates a user through the console's People page; answers its id. */
async function createInConsole(page: Page, mobile: string, nickname: string): Promise<string> {
  await page.click("[data-action=new-user]");
  await page.fill("[data-form=new-user] input[name=mobile]", mobile);
  await page.fill("[data-form=new-user] input[name=password]", PASSWORD);
  await page.fill("[data-form=new-user] input[name=nickname]", nickname);
  await submitNewUser(page);
  await page.fill("input[name=q]", mobile);
  await page.keyboard.press("Enter");
  const row = page.locator("[data-section=users] tbody tr", { hasText: mobile });
  await row.waitFor();
  return (await row.getAttribute("data-row")) ?? "";
}

/** A user's id by mobile, from the admin API. */
async function adminUserIdOn(base: string, mobile: string): Promise<string> {
  const res = await fetch(`${base}/admin/api/users?query=${mobile}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const list = ((await res.json()) as { data: { list: Array<{ id: string; mobile: string }> } }).data.list;
  const u = list.find((x) => x.mobile === mobile);
  assert.ok(u, `user ${mobile}`);
  return u.id;
}

describe("admin console in a real browser", { skip: haveChromium ? false : `no Chromium at ${CHROMIUM}` }, () => {
  const h = new Harness();
  let s: TestServer;
  let admin: Page;
  const adminUserId = (mobile: string) => adminUserIdOn(s.base, mobile);

  before(async () => {
    await h.start();
    s = await startServer();
  });
  after(async () => {
    await h.stop();
    await s?.close();
    assert.deepEqual(h.errors, [], "no uncaught error or CSP violation in any page");
  });

  test("sign in with the admin token (keyboard); a wrong token is refused; the dashboard updates live; the token is in no storage", async () => {
    const page = await h.newPage();
    await page.goto(`${s.base}/admin/`);
    await page.waitForSelector("input[name=token]");
    await page.fill("input[name=token]", "not-the-token");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".signin [role=alert]:has-text('admin token required')");
    await h.signIn(page, s.base);
    admin = page;
    assert.equal(new URL(page.url()).pathname, "/admin/");
    await page.waitForSelector("main[data-current=dashboard]");
    // the live view keeps sampling without a reload: a marker set now survives while samples grow
    await page.evaluate(() => {
      (globalThis as { __noReload?: number }).__noReload = 1;
    });
    const samples = async () => Number(await page.getAttribute("[data-live-samples]", "data-live-samples"));
    await until(async () => (await samples()) >= 2, "two live samples", 20_000);
    const first = await samples();
    // a new chat33 group shows up in the top lists without a reload
    await adminCall(s, "/group/addGroup", { groupName: "看板" });
    await until(async () => (await samples()) >= first + 2, "the live view keeps sampling", 20_000);
    assert.equal(await page.evaluate(() => (globalThis as { __noReload?: number }).__noReload), 1, "no reload");
    await page.waitForSelector("[data-chart=per-node] .uplot canvas");
    // the online-user trend: add a precision from the page, then its chart is drawn
    const add = page.locator("button:has-text('Keep 1-minute buckets')");
    if (await add.count()) await add.click();
    await page.waitForSelector("[data-chart=online] .uplot canvas");
    // nothing of the credential is stored where other scripts of this origin could read it
    const stored = await page.evaluate(() => {
      const g = globalThis as unknown as {
        localStorage: { length: number };
        sessionStorage: { length: number };
        document: { cookie: string };
      };
      return { local: g.localStorage.length, session: g.sessionStorage.length, cookie: g.document.cookie };
    });
    assert.deepEqual(stored, { local: 0, session: 0, cookie: "" });
    await page.screenshot({ path: join(SHOTS, "admin-dashboard-first.png") });
    // a reload forgets the token (memory only): the sign-in form again
    await page.reload();
    await page.waitForSelector("input[name=token]");
    await h.signIn(page, s.base);
    // keyboard navigation: Tab reaches the page links, Enter follows one
    await page.focus("nav a[data-page=dashboard]");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector("main[data-current=people]");
    // a client route loads directly (the server answers /admin/people with the console)
    await h.signIn(page, s.base, "/admin/people");
    assert.equal(new URL(page.url()).pathname, "/admin/people");
    await page.waitForSelector("main[data-current=people]");
  });

  test("create a user in People; the user signs in on /app/; hostile text is shown as text", async () => {
    await h.open(admin, "people");
    const mobile = newMobile();
    const hostile = `<img src=x onerror="window.__xss=1">`;
    const id = await createInConsole(admin, mobile, hostile);
    assert.match(id, /^\d+$/);
    const cell = await admin.locator(`[data-row="${id}"] td[data-label=Nickname]`).innerHTML();
    assert.doesNotMatch(cell, /<img/, "rendered as text");
    assert.equal(await admin.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    const app = await h.newPage(1280, 800, "zh-CN");
    await appSignIn(app, s.base, mobile);
    await app.waitForSelector(".shell");
    await admin.screenshot({ path: join(SHOTS, "admin-people.png") });
  });

  test("People: the organisation directory — add, edit and move, a delete refused while in use, then deleted", async () => {
    await h.open(admin, "people");
    const org = admin.locator("[data-section=org]");
    const notice = (re: string) => admin.waitForSelector(`[data-notice]:has-text('${re}')`);
    // a licence and a company, added with the forms
    await admin.fill("[data-form=new-license] input[name=text]", "浏览器许可");
    await admin.click("[data-form=new-license] button[type=submit]");
    await notice("Added licence");
    await admin.fill("[data-form=new-company] input[name=text]", "Org <b>Co</b>");
    await admin.fill("[data-form=new-company] input[name=code]", "B1");
    await admin.click("[data-form=new-company] button[type=submit]");
    const companyRow = org.locator("tr", { hasText: "Org <b>Co</b>" });
    await companyRow.waitFor();
    const companyId = Number(await companyRow.getAttribute("data-row"));
    // edit it: the dialog holds its values; the row shows the new ones
    await companyRow.locator("[data-action=edit-org]").click();
    assert.equal(await admin.inputValue("[data-form=edit-companies] input[name=code]"), "B1");
    await admin.fill("[data-form=edit-companies] input[name=text]", "组织公司");
    await admin.click("[data-form=edit-companies] button[type=submit]");
    await org.locator(`tr[data-row="${companyId}"]:has-text('组织公司')`).waitFor();
    // its departments: a root and a child; a user placed in the child (through the API)
    await org.locator(`tr[data-row="${companyId}"] button:has-text('Open')`).click();
    await admin.waitForSelector(`[data-company="${companyId}"]`);
    await admin.fill("[data-form=new-dept] input[name=text]", "总部");
    await admin.click("[data-form=new-dept] button[type=submit]");
    const root = org.locator("li[data-dept]", { hasText: "总部" }).first();
    await root.waitFor();
    const rootId = await root.getAttribute("data-dept");
    await admin.fill("[data-form=new-dept] input[name=text]", "研发");
    await admin.fill("[data-form=new-dept] input[name=parentId]", String(rootId));
    await admin.click("[data-form=new-dept] button[type=submit]");
    const child = org.locator(`li[data-dept="${rootId}"] li[data-dept]`);
    await child.waitFor();
    const childId = Number(await child.getAttribute("data-dept"));
    const made = await fetch(`${s.base}/admin/api/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ mobile: newMobile(), password: PASSWORD, companyId, deptId: childId }),
    });
    assert.equal(made.status, 200);
    const user = ((await made.json()) as { data: { id: string } }).data;
    // deleting the root is refused (it has a sub-department), and so is the child (a user): both stay
    await root.locator(":scope > span [data-action=delete-org]").click();
    await notice("Cannot delete department 总部: department still has 1 sub-department");
    await child.locator("[data-action=delete-org]").click();
    await notice("Cannot delete department 研发: department still has 1 user");
    // rename the child and move it to the top level: the tree follows
    await child.locator("[data-action=edit-org]").click();
    await admin.fill("[data-form=edit-departments] input[name=text]", "研发中心");
    await admin.fill("[data-form=edit-departments] input[name=parentId]", "");
    await admin.click("[data-form=edit-departments] button[type=submit]");
    const moved = org.locator(`[data-company="${companyId}"] > div > ul.tree > li[data-dept="${childId}"]`);
    await moved.locator("[data-dept-name]:has-text('研发中心')").waitFor();
    await admin.screenshot({ path: join(SHOTS, "admin-people-org.png"), fullPage: true });
    // with the user moved out, the department goes; then the root; then the company
    const out = await fetch(`${s.base}/admin/api/users/update`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ id: user.id, companyId: null, deptId: null }),
    });
    assert.equal(out.status, 200);
    await moved.locator(":scope > span [data-action=delete-org]").click();
    await notice("Deleted department 研发中心");
    await org.locator(`li[data-dept="${childId}"]`).waitFor({ state: "detached" });
    await root.locator(":scope > span [data-action=delete-org]").click();
    await notice("Deleted department 总部");
    await org.locator(`[data-org="companies-${companyId}"] [data-action=delete-org]`).click();
    await notice("Deleted company 组织公司");
    await org.locator(`[data-org="companies-${companyId}"]`).waitFor({ state: "detached" });
    await admin.waitForSelector(`[data-company="${companyId}"]`, { state: "detached" });
  });

  test("Money: deposit into a user's wallet, see the entry in the ledger and the packet list, run the ledger check", async () => {
    await h.open(admin, "people");
    const id = await createInConsole(admin, newMobile(), "Mona");
    await h.open(admin, "money");
    await admin.fill("[data-form=deposit] input[name=userId]", id);
    await admin.fill("[data-form=deposit] input[name=amount]", "12.5");
    await admin.click("[data-form=deposit] button[type=submit]");
    await admin.waitForSelector(`[data-deposit-result]:has-text("User ${id}")`);
    assert.match((await admin.textContent("[data-deposit-result]")) ?? "", /balance 12\.5/);
    await admin.fill("[data-section=ledger] input[name=userId]", id);
    await admin.press("[data-section=ledger] input[name=userId]", "Enter");
    const entry = admin.locator("[data-section=ledger] tbody tr", { hasText: "deposit" });
    await entry.first().waitFor();
    assert.equal(await entry.first().locator("td[data-label=User]").textContent(), id);
    assert.equal(await entry.first().locator("td[data-label=Amount]").textContent(), "12.5");
    await admin.waitForSelector("[data-section=packets] table, [data-section=packets] :text('No red packet.')");
    await admin.click("[data-action=ledger-check]");
    await admin.waitForSelector("[data-check-result=ok]");
    await h.open(admin, "people"); // the next tests start on People
  });

  test("disable a user in People: the /app/ client is signed out and cannot sign in again", async () => {
    const mobile = newMobile();
    const id = await createInConsole(admin, mobile, "Dora");
    const app = await h.newPage(1280, 800, "zh-CN");
    await appSignIn(app, s.base, mobile);
    await app.waitForSelector(".shell");
    await admin.click(`[data-row="${id}"] [data-action=edit]`);
    await admin.click("[role=dialog] [data-action=disable]");
    await admin.waitForSelector("[role=dialog] [data-user-status]:has-text('disabled')");
    // the socket is ended by the server; the page reloads to the sign-in form
    await app.waitForSelector("input[name=mobile]", { timeout: 20_000 });
    await appSignIn(app, s.base, mobile);
    await app.waitForSelector(".toast, [role=alert], .error");
    assert.equal(await app.$(".shell"), null, "a disabled user stays out");
    await admin.keyboard.press("Escape");
    await admin.waitForSelector("[role=dialog]", { state: "detached" });
  });

  test("mute a user for 10 minutes in People: the client's message is refused (needs POST /admin/api/users/mute)", async () => {
    const probe = await fetch(`${s.base}/admin/api/users/mute`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.notEqual(probe.status, 404, "POST /admin/api/users/mute exists");
    const { groupId } = await adminCall<{ groupId: string }>(s, "/group/addGroup", { groupName: "禁言测试" });
    const mobile = newMobile();
    const id = await createInConsole(admin, mobile, "Muted Max");
    const app = await h.newPage(1280, 800, "zh-CN");
    await appSignIn(app, s.base, mobile);
    await app.waitForSelector(".shell");
    await app.click("[data-tab=rooms]");
    await app.click(`[data-room="${groupId}"]`);
    await app.fill(".composer textarea", "before the mute");
    await app.keyboard.press("Enter");
    await app.waitForSelector(".msg.mine:not(.failed) .bubble:has-text('before the mute')");
    await admin.click(`[data-row="${id}"] [data-action=edit]`);
    await admin.click("[role=dialog] [data-action=mute]");
    await admin.waitForSelector("[role=dialog] [data-user-status]:has-text('muted until')");
    await app.fill(".composer textarea", "after the mute");
    await app.keyboard.press("Enter");
    await app.waitForSelector(".msg.failed .bubble:has-text('after the mute')");
    await admin.keyboard.press("Escape");
  });

  test("sign in as an admin user; the session is listed and, once ended, the page is signed out (needs POST /admin/api/session)", async () => {
    // with the token an unknown admin path is a 404 (without it, a 401 whether the route exists or not)
    const probe = await fetch(`${s.base}/admin/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
      body: "{}",
    });
    assert.notEqual(probe.status, 404, "POST /admin/api/session exists");
    await h.open(admin, "people");
    const mobile = newMobile();
    await admin.click("[data-action=new-user]");
    await admin.fill("[data-form=new-user] input[name=mobile]", mobile);
    await admin.fill("[data-form=new-user] input[name=password]", PASSWORD);
    await admin.fill("[data-form=new-user] input[name=nickname]", "Ops");
    await admin.check("[data-form=new-user] input[name=admin]");
    await submitNewUser(admin);
    const ops = await h.newPage();
    await ops.goto(`${s.base}/admin/`);
    await ops.click("button[role=tab]:has-text('Admin user')");
    await ops.fill("input[name=account]", mobile);
    await ops.fill("input[name=password]", PASSWORD);
    await ops.keyboard.press("Enter");
    await ops.waitForSelector(".shell [data-who=session]:has-text('Ops')");
    // the operator with the token sees the session and ends it; the other page is signed out on its next call
    await h.open(admin, "dashboard");
    await h.open(admin, "people");
    const row = admin.locator("[data-section=admin-sessions] tbody tr", { hasText: "Ops" });
    await row.locator("[data-action=end-admin-session]").click();
    await admin.waitForSelector("[data-notice=ok]:has-text('Admin session ended')");
    await ops.waitForSelector("input[name=token]", { timeout: 20_000 });
  });

  test("close a chat room in Conversations: the /app/ client in it is told", async () => {
    const { groupId } = await adminCall<{ groupId: string }>(s, "/group/addGroup", { groupName: "关闭测试" });
    const mobile = newMobile();
    await h.open(admin, "people");
    await createInConsole(admin, mobile, "Rita");
    const app = await h.newPage(1280, 800, "zh-CN");
    await appSignIn(app, s.base, mobile);
    await app.waitForSelector(".shell");
    await app.click("[data-tab=rooms]");
    await app.click(`[data-room="${groupId}"]`);
    await app.waitForSelector(".chat-head h2:has-text('关闭测试')");
    await h.open(admin, "conversations");
    // the room is listed (by audience, or in the full list) and opened from there
    const row = admin.locator(`[data-section=rooms] tr[data-row="${groupId}"]`);
    await until(
      async () => {
        if (await row.count()) return true;
        await admin.click(`nav a[data-page=dashboard]`);
        await h.open(admin, "conversations");
        return false;
      },
      "the room in the list",
      20_000,
    );
    await row.locator("button:has-text('Manage')").click();
    await admin.waitForSelector(`[data-room="${groupId}"]`);
    await admin.click("[data-action=close-room]");
    await admin.waitForSelector("[data-notice=ok]:has-text('Room closed')");
    await app.waitForSelector(".toast:has-text('聊天室已关闭')");
    await admin.click("[data-action=open-room]");
    await admin.waitForSelector("[data-notice=ok]:has-text('Room opened')");
    // bar Rita from the room and take her off the blacklist again (POST /admin/api/rooms/blacklist)
    const ritaId = await adminUserId(mobile);
    const black = admin.locator(`[data-blacklist="room-${groupId}"]`);
    await black.locator("input[name=uid]").fill(ritaId);
    await black.locator("button[type=submit]").click();
    await black.locator(`tr[data-row="${ritaId}"]:has-text('Rita')`).waitFor();
    await black.locator(`tr[data-row="${ritaId}"] [data-action=unbar]`).click();
    await admin.waitForSelector("[data-notice=ok]:has-text('Unbarred')");
    await black.locator(`tr[data-row="${ritaId}"]`).waitFor({ state: "detached" });
    await admin.screenshot({ path: join(SHOTS, "admin-conversations.png") });
    // the dashboard with users in rooms: a few samples later, for the screenshot
    await h.open(admin, "dashboard");
    await until(
      async () => Number(await admin.getAttribute("[data-live-samples]", "data-live-samples")) >= 6,
      "six live samples",
      30_000,
    );
    await admin.screenshot({ path: join(SHOTS, "admin-dashboard.png") });
  });

  test("Gateway: register a system, see its client online, push to it (needs /admin/api/gateway/*)", async () => {
    const probe = await fetch(`${s.base}/admin/api/gateway/systems`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.notEqual(probe.status, 404, "/admin/api/gateway/* exists");
    await h.open(admin, "gateway");
    await admin.fill("[data-form=new-system] input[name=systemId]", "shop");
    await admin.click("[data-form=new-system] button[type=submit]");
    await admin.waitForSelector("[data-notice=ok]:has-text('System registered')");
    const client = await gatewayClient(s.ws, "shop");
    try {
      await admin.locator('tr[data-row="shop"] button:has-text("Open")').click();
      await admin.waitForSelector('[data-system="shop"] [data-online-count]:text-is("1")', { timeout: 20_000 });
      await admin.fill("[data-form=gateway-push] input[name=target]", client.clientId);
      await admin.fill("[data-form=gateway-push] input[name=data]", '{"from":"console"}');
      await admin.click("[data-form=gateway-push] button[type=submit]");
      await admin.waitForSelector("[data-notice=ok]:has-text('Pushed')");
      const frame = await client.c.next<{ msg: string; data: unknown }>();
      assert.deepEqual(frame.data, { from: "console" });
    } finally {
      client.c.close();
    }
  });

  test("phone width: the menu opens, pages are reachable, tables scroll inside their card", async () => {
    const phone = await h.newPage(360, 740);
    await h.signIn(phone, s.base);
    assert.equal(await phone.isVisible("nav a[data-page=people]"), false, "the menu is folded");
    await phone.click(".menu-button");
    await phone.click("nav a[data-page=people]");
    await phone.waitForSelector("main[data-current=people]");
    const overflow = await phone.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth >
        (globalThis as unknown as { innerWidth: number }).innerWidth + 1,
    );
    assert.equal(overflow, false, "no horizontal scrolling of the page");
    await phone.screenshot({ path: join(SHOTS, "admin-phone-people.png"), fullPage: false });
  });
});

describe("admin console: a node drained in a two-node cluster", {
  skip: haveChromium ? false : `no Chromium at ${CHROMIUM}`,
}, () => {
  const h = new Harness();
  before(() => h.start());
  after(async () => {
    await h.stop();
    assert.deepEqual(h.errors, [], "no uncaught error or CSP violation in any page");
  });

  test("drain node A from the Cluster page on node B: A's access connection is kicked and comes back on B", async () => {
    const backend = await createBackend();
    const memoryBus = new MemoryBus();
    const a = await startServer({ tcpPort: await freePort() }, { backend, memoryBus });
    const b = await startServer({ tcpPort: await freePort() }, { backend, memoryBus });
    const clients: AccessClient[] = [];
    const im = async (srv: TestServer, path: string) =>
      (await (await fetch(`${srv.base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Record<
        string,
        unknown
      >;
    try {
      const user = await a.app.accounts.createUser({ mobile: newMobile(), password: PASSWORD, nickname: "node-user" });
      const reg = await im(b, `/im/register?uid=${user.id}&nation=1&city=1&town=1`);
      const sid = reg.sid as number;
      const aTcp = a.app.imAccess?.report().tcp ?? "";
      const aNid = a.app.imAccess?.report().nid;
      const iplist = await im(a, `/im/iplist?type=1&uid=${user.id}&sid=${sid}&clientip=127.0.0.1`);
      const onA = await AccessClient.open("tcp", aTcp);
      clients.push(onA);
      assert.equal((await onA.online({ uid: user.id, sid, token: iplist.token })).code, 0);

      const page = await h.newPage();
      await h.signIn(page, b.base);
      await h.open(page, "cluster");
      const nodeA = page.locator(`[data-node="${aNid}"]`);
      await until(
        async () => (await nodeA.locator("[data-node-total]").textContent()) === "1",
        "node A has 1 connection",
        20_000,
      );
      await page.screenshot({ path: join(SHOTS, "admin-cluster.png") });
      await page.locator("[data-section=nodes] tbody tr", { hasText: aTcp }).locator("[data-action=drain]").click();
      await page.waitForSelector(`[data-notice=ok]:has-text('Node ${aNid} draining')`);
      assert.equal((await onA.next(10_000)).cmd, "kick");
      await onA.closed;
      await page.waitForSelector(`[data-node="${aNid}"][data-node-status=draining]`);
      // the client comes back through iplist, which now names node B only
      const again = await im(b, `/im/iplist?type=1&uid=${user.id}&sid=${sid}&clientip=127.0.0.1`);
      assert.deepEqual(again.iplist, [b.app.imAccess?.report().tcp]);
      const onB = await AccessClient.open("tcp", (again.iplist as string[])[0]);
      clients.push(onB);
      assert.equal((await onB.online({ uid: user.id, sid, token: again.token })).code, 0);
      const bNid = b.app.imAccess?.report().nid;
      await until(
        async () => (await page.locator(`[data-node="${bNid}"] [data-node-total]`).textContent()) === "1",
        "the connection shows on node B",
        20_000,
      );
      assert.equal(await page.locator(`[data-node="${aNid}"] [data-node-total]`).textContent(), "0");
    } finally {
      for (const c of clients) c.close();
      await a.close();
      await b.close();
      await backend.cleanup();
    }
  });
});

describe("admin console: the fleet, with a second Parley reporting", {
  skip: haveChromium ? false : `no Chromium at ${CHROMIUM}`,
}, () => {
  const h = new Harness();
  before(() => h.start());
  after(async () => {
    await h.stop();
    assert.deepEqual(h.errors, [], "no uncaught error or CSP violation in any page");
  });

  test("add a customer with field validation; a second Parley process reports; its users and trend appear", async () => {
    const s = await startServer();
    const code = `09${randomBytes(3).toString("hex")}`;
    const dataDir = mkdtempSync(join(tmpdir(), "parley-fleet-"));
    const db = DATABASE_URL ? await createPgDatabase(DATABASE_URL) : null;
    const redisPrefix = `parley-t-${randomBytes(6).toString("hex")}:`;
    let child: ChildProcess | null = null;
    try {
      const page = await h.newPage();
      await h.signIn(page, s.base);
      await h.open(page, "fleet");
      await page.click("[data-action=new-customer]");
      const f = "[data-form=new-customer]";
      await page.fill(`${f} input[name=code]`, code);
      await page.fill(`${f} input[name=name]`, "Fleet <b>test</b>");
      for (const k of ["tcphost", "webhost", "filehost"]) await page.fill(`${f} input[name=${k}]`, "127.0.0.1");
      await page.fill(`${f} input[name=tcpport]`, "70000");
      await page.fill(`${f} input[name=webport]`, "8080");
      await page.fill(`${f} input[name=fileport]`, "8081");
      await page.fill(`${f} input[name=timeout]`, "2030-06-30");
      await page.click(`${f} button[type=submit]`);
      // the page refuses the port itself (the server would answer 400 with the field named)
      assert.equal(
        await page.$eval(
          `${f} input[name=tcpport]`,
          (e) => (e as unknown as { validity: { valid: boolean } }).validity.valid,
        ),
        false,
      );
      assert.equal(await page.locator(`tr[data-row="${code}"]`).count(), 0);
      // a MAC the page lets through but the server refuses: its message is shown
      await page.fill(`${f} input[name=tcpport]`, "10003");
      await page.fill(`${f} input[name=mac]`, "56:E8:F6:23:EF:GG");
      await page.click(`${f} button[type=submit]`);
      assert.equal(
        await page.$eval(
          `${f} input[name=mac]`,
          (e) => (e as unknown as { validity: { valid: boolean } }).validity.valid,
        ),
        false,
      );
      await page.fill(`${f} input[name=mac]`, "56:E8:F6:23:EF");
      await page.click(`${f} button[type=submit]`);
      const row = page.locator(`tr[data-row="${code}"]`);
      await row.waitFor();
      assert.match((await row.textContent()) ?? "", /Fleet <b>test<\/b>/, "shown as text");
      assert.equal(await row.locator("[data-report-count]").getAttribute("data-report-count"), "");

      // a second Parley reports to this one as that customer
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
      Object.assign(env, {
        PARLEY_PORT: String(port),
        PARLEY_HOST: "127.0.0.1",
        PARLEY_DATA_DIR: dataDir,
        PARLEY_LOG_LEVEL: "warn",
        PARLEY_ADMIN_TOKEN: "child-admin-token",
        PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
        PARLEY_CONSOLE_URL: s.base,
        PARLEY_CUSTOMER_CODE: code,
        PARLEY_CONSOLE_REPORT_INTERVAL_MS: "1000",
        PARLEY_CONSOLE_LICENCE_EXPIRY: "2030-06-30",
        ...(db ? { PARLEY_DATABASE_URL: db.url } : {}),
        ...(REDIS_URL ? { PARLEY_REDIS_URL: REDIS_URL, PARLEY_REDIS_PREFIX: redisPrefix } : {}),
      });
      let out = "";
      child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      const childBase = `http://127.0.0.1:${port}`;
      await until(
        async () => (await fetch(`${childBase}/readyz`).catch(() => null))?.status === 200,
        `the child Parley (output: ${out})`,
        120_000, // tsx compiles the whole server first: 21 s by hand at load 19–25, over 60 s once
        // with the browser pages of the earlier tests still open
      );
      const made = await fetch(`${childBase}/admin/api/users`, {
        method: "POST",
        headers: { authorization: "Bearer child-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ username: "fleetuser", password: PASSWORD, nickname: "舰队用户" }),
      });
      assert.equal(made.status, 200);
      // the page refreshes by itself: the report and then the user show up
      await until(
        async () => (await row.locator("[data-report-count]").getAttribute("data-report-count")) === "1",
        "the child's report with its one user",
        60_000,
      );
      await row.locator("[data-action=open]").click();
      await page.waitForSelector(`[data-customer="${code}"] td:has-text('舰队用户')`, { timeout: 30_000 });
      await page.waitForSelector(`[data-customer="${code}"] [data-chart=fleet-users] .uplot canvas`);
      await until(
        async () =>
          Number(await page.getAttribute(`[data-customer="${code}"] [data-chart=fleet-users]`, "data-points")) >= 2,
        "a trend of two or more reports",
        30_000,
      );
      await page.screenshot({ path: join(SHOTS, "admin-fleet.png"), fullPage: true });
      // edit and remove
      await row.locator("[data-action=edit]").click();
      await page.fill("[data-form=edit-customer] input[name=name]", "Fleet renamed");
      await page.click("[data-form=edit-customer] button[type=submit]");
      await page.waitForSelector(`tr[data-row="${code}"]:has-text('Fleet renamed')`);
    } finally {
      child?.kill("SIGTERM");
      if (child && child.exitCode === null) await new Promise((r) => child?.once("exit", r));
      rmSync(dataDir, { recursive: true, force: true });
      if (db) await db.drop();
      if (REDIS_URL) await dropRedisPrefix(REDIS_URL, redisPrefix);
      await s.close();
    }
  });
});
