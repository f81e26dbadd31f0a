import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { createBackend, type TestBackend } from "./helpers/backend.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/**
 * README.md "Try it with demo data", run as printed: the seed command (through npm, as a newcomer
 * types it), then each shell block against a real server — only `localhost:8080` is replaced by
 * this server's address.
 */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");

function demoBlocks(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Try it with demo data");
  const end = readme.indexOf("\n## ", start + 1);
  assert.ok(start >= 0 && end > start, "README has the demo section");
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("README: try it with demo data", () => {
  let backend: TestBackend;
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const blocks = demoBlocks();
  const sh = (block: string) =>
    run("bash", ["-euo", "pipefail", "-c", block.replaceAll("localhost:8080", server.base.replace("http://", ""))], {
      env,
      cwd: ROOT,
      timeout: 60_000,
    });

  before(async () => {
    backend = await createBackend();
    env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_") && !k.startsWith("npm_")) env[k] = v;
    env.PARLEY_DATA_DIR = backend.dataDir;
    if (backend.databaseUrl) env.PARLEY_DATABASE_URL = backend.databaseUrl;
    env.PARLEY_LOG_LEVEL = "warn";
  });
  after(async () => {
    await server?.close();
    await backend.cleanup();
  });

  test("the seed line prints the ids the first-message blocks use", async () => {
    assert.equal(blocks.length, 4, "seed + start, logins, enterprise first message, chat33 WebSocket");
    const seedLine = blocks[0].split("\n")[0];
    assert.match(seedLine, /^npm run parley -- seed --demo /);
    const { stdout } = await run("bash", ["-c", seedLine], { env, cwd: ROOT, timeout: 60_000 });
    assert.match(stdout, /^User ids for the messaging calls: alice = 2, bob = 3$/m);
    server = await startServer({}, { backend });
  });

  test("log in on both surfaces", async () => {
    const { stdout } = await sh(blocks[1]);
    assert.match(stdout, /"result":0,"message":"操作成功".*"token":"/);
    assert.match(stdout, /"authorization":"[^"]+"\},"code":200,"msg":"登录成功"/);
  });

  test("alice sends bob a message with curl on the enterprise surface, bob reads it", async () => {
    const { stdout } = await sh(blocks[2]);
    // curl prints each answer without a newline: two JSON documents back to back
    const [sent, read] = stdout.trim().split(/(?<=\})(?=\{"data")/);
    assert.match(sent, /"content":"hello bob".*"seq":1.*"code":200,"msg":"消息发送成功"/);
    const page = JSON.parse(read);
    assert.equal(page.code, 200);
    assert.equal(page.data.totalElements, 1);
    assert.deepEqual(
      [page.data.data[0].senderId, page.data.data[0].receiverId, page.data.data[0].content, page.data.data[0].state],
      [2, 3, "hello bob", 2],
    );
  });

  test("the chat33 WebSocket snippet: bob's socket receives what alice sends", async () => {
    const { stdout } = await sh(blocks[3]);
    const frame = JSON.parse(stdout.replace(/^bob <- /, ""));
    assert.equal(frame.eventType, 0);
    assert.equal(frame.fromId, "2");
    assert.equal(frame.targetId, "3");
    assert.deepEqual(frame.msg, { content: "hello bob, on chat33" });
    // one conversation: the chat33 text is the second message of the enterprise history
    const { json } = await fetch(`${server.base}/auth/login?account=bob&password=parley-demo`, { method: "POST" }).then(
      async (r) => ({ json: (await r.json()) as { data: { authorization: string } } }),
    );
    const history = await fetch(`${server.base}/api/find_single_msg?senderId=2&receiverId=3&page=1&size=20`, {
      method: "POST",
      headers: { authorization: json.data.authorization },
    }).then((r) => r.json() as Promise<{ data: { totalElements: number; data: { content: string }[] } }>);
    assert.equal(history.data.totalElements, 2);
    assert.equal(history.data.data[0].content, "hello bob, on chat33");
  });
});
