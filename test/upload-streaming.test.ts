import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import type { SqlStorage } from "../src/adapters/sql/sql-storage.ts";
import { post, startServer, type TestServer } from "./helpers/server.ts";

/**
 * Streamed uploads on real sockets, over each `files.store` (the local disk; the database this
 * run uses — SQLite, or PostgreSQL when configured): a client that disconnects mid-upload leaves
 * nothing behind (no temp file, no staging row, no chunk); the size limit is answered while the
 * client is still sending; `files.maxConcurrentUploads` answers the surface's busy error; a
 * refused upload (bad token in a field after the file) keeps nothing; the same bytes get the same
 * blob. docs/OPERATIONS.md "File storage".
 */
const MAX_BYTES = 256 * 1024;
const BOUNDARY = "----parley-streaming-test";
const PASSWORD = "secret-pw1";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The opening of a multipart body whose one part is the file `file` (its bytes follow). */
const partHead = (name = "x.bin") =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
const partTail = (fields: Record<string, string> = {}) =>
  `\r\n${Object.entries(fields)
    .map(([k, v]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join("")}--${BOUNDARY}--\r\n`;

/** A multipart POST written by hand (chunked), so a test decides when — and whether — it ends. */
function openUpload(
  base: string,
  path: string,
  headers: Record<string, string>,
): { req: ClientRequest; response: Promise<{ status: number; body: unknown }> } {
  const req = request(`${base}${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
  });
  const response = new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    req.on("response", (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  response.catch(() => {}); // aborted on purpose in some tests
  return { req, response };
}

const write = (req: ClientRequest, data: string | Buffer) =>
  new Promise<void>((resolve, reject) => req.write(data, (e) => (e ? reject(e) : resolve())));

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i > 1000) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const store of ["local", "database"] as const) {
  describe(`streamed uploads, files.store=${store}`, () => {
    let s: TestServer;
    let token = "";
    let chat33Token = "";

    /** Staged bytes anywhere: temp files of the local store, staging rows and chunks in the database. */
    const leftovers = async (): Promise<number> => {
      const tmp = join(s.backend.dataDir, "files", ".tmp");
      let n = existsSync(tmp) ? readdirSync(tmp).length : 0;
      const rows = await sql<{ n: number | string }>`
        select (select count(*) from file_blobs where key like '~%') + (select count(*) from file_chunks where key like '~%') as n
      `.execute((s.app.storage as SqlStorage).db);
      n += Number(rows.rows[0]?.n ?? 0);
      return n;
    };
    const blobExists = async (bytes: Buffer) => (await fetch(`${s.base}/files/${sha256(bytes)}`)).status === 200;
    const idle = () => until("no upload in progress", () => s.app.files.uploadsInProgress === 0);

    before(async () => {
      s = await startServer({
        "files.store": store,
        "files.maxBytes": MAX_BYTES,
        "files.chunkBytes": 16 * 1024,
        "files.maxConcurrentUploads": 2,
      });
      const alice = await s.app.accounts.createUser({ username: "alice", password: PASSWORD, nickname: "A" });
      token = (await s.app.accounts.startSession(alice, { device: "pc" })).token;
      const mobile = `137${String(process.pid % 1_000_000).padStart(6, "0")}${store === "local" ? "01" : "02"}`;
      await s.app.accounts.createUser({ mobile, password: PASSWORD });
      const login = await post<{ data: { token: string } }>(
        `${s.base}/user/pwdLogin`,
        { mobile, password: PASSWORD },
        { "FZM-DEVICE": "Web" },
      );
      chat33Token = login.body.data.token;
    });
    after(async () => {
      await s?.close();
    });

    test("a client that disconnects mid-upload leaves nothing behind", async () => {
      const bytes = randomBytes(MAX_BYTES - 1000);
      const { req } = openUpload(s.base, "/api/file_upload", { authorization: token });
      await write(req, partHead());
      await write(req, bytes.subarray(0, 128 * 1024));
      await until("the upload is being staged", async () => (await leftovers()) > 0);
      req.destroy(); // the connection is cut: no end of the part, no end of the body
      await idle();
      await until("the staged bytes are removed", async () => (await leftovers()) === 0);
      assert.equal(await blobExists(bytes), false);
      assert.equal(await blobExists(bytes.subarray(0, 128 * 1024)), false, "no partial blob either");
      // the same on chat33
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(100_000)]);
      const c = openUpload(s.base, "/chat33/upload", { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": chat33Token });
      await write(c.req, partHead("x.png").replace("application/octet-stream", "image/png"));
      await write(c.req, png.subarray(0, 64 * 1024));
      await until("the image is being staged", async () => (await leftovers()) > 0);
      c.req.destroy();
      await idle();
      await until("the staged image is removed", async () => (await leftovers()) === 0);
    });

    test("over files.maxBytes: answered while the client is still sending, nothing kept", async () => {
      const { req, response } = openUpload(s.base, "/api/file_upload", { authorization: token });
      await write(req, partHead());
      const sent = randomBytes(MAX_BYTES + 64 * 1024);
      req.write(sent); // and the body never ends: the answer cannot wait for it
      const r = await response;
      assert.equal(r.status, 413);
      assert.deepEqual(r.body, { data: null, code: 413, msg: "文件过大" });
      req.destroy();
      await idle();
      assert.equal(await leftovers(), 0);
      assert.equal(await blobExists(sent.subarray(0, MAX_BYTES)), false);

      const c = openUpload(s.base, "/chat33/upload", { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": chat33Token });
      await write(c.req, partHead("big.png").replace("application/octet-stream", "image/png"));
      c.req.write(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), sent]));
      const rc = await c.response;
      assert.equal(rc.status, 200);
      assert.deepEqual(rc.body, { result: -1001, message: "参数错误: 文件过大", data: {} });
      c.req.destroy();
      await idle();
      assert.equal(await leftovers(), 0);
    });

    test("files.maxConcurrentUploads: one upload more gets the busy answer; the others complete", async () => {
      const bytes = [randomBytes(100_000), randomBytes(100_001)];
      const slow = bytes.map(() => openUpload(s.base, "/api/file_upload", { authorization: token }));
      for (const [i, u] of slow.entries()) {
        await write(u.req, partHead(`slow-${i}.bin`));
        await write(u.req, (bytes[i] as Buffer).subarray(0, 50_000));
      }
      await until("both slots taken", () => s.app.files.uploadsInProgress === 2);

      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(randomBytes(1000))]), "third.bin");
      const third = await fetch(`${s.base}/api/file_upload`, {
        method: "POST",
        headers: { authorization: token },
        body: form,
      });
      assert.equal(third.status, 503);
      assert.deepEqual(await third.json(), { data: null, code: 503, msg: "上传繁忙，请稍后再试" });
      const chat33Form = new FormData();
      chat33Form.append("file", new Blob([new Uint8Array(randomBytes(1000))], { type: "image/png" }), "t.png");
      const c = await fetch(`${s.base}/chat33/upload`, {
        method: "POST",
        headers: { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": chat33Token },
        body: chat33Form,
      });
      assert.equal(c.status, 200);
      assert.deepEqual(await c.json(), { result: -1012, message: "上传繁忙，请稍后再试", data: {} });

      for (const [i, u] of slow.entries()) {
        await write(u.req, (bytes[i] as Buffer).subarray(50_000));
        u.req.end(partTail());
        const r = (await u.response) as { status: number; body: { code: number; data: { size: number } } };
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.data.size, (bytes[i] as Buffer).length);
        assert.equal(await blobExists(bytes[i] as Buffer), true);
      }
      await idle();
      const after = await fetch(`${s.base}/api/file_upload`, {
        method: "POST",
        headers: { authorization: token },
        body: form,
      });
      assert.equal(after.status, 200, "the slots are free again");
      assert.equal(await leftovers(), 0);
    });

    test("refused after the bytes arrived (a bad token field after the file): nothing kept", async () => {
      const bytes = randomBytes(150_000);
      const { req, response } = openUpload(s.base, "/api/file_upload", {});
      await write(req, partHead());
      await write(req, bytes);
      req.end(partTail({ authorization: "not-a-token" }));
      const r = await response;
      assert.equal(r.status, 401);
      await idle();
      assert.equal(await leftovers(), 0);
      assert.equal(await blobExists(bytes), false);
      // the right token in that field: stored
      const ok = openUpload(s.base, "/api/file_upload", {});
      await write(ok.req, partHead());
      await write(ok.req, bytes);
      ok.req.end(partTail({ authorization: token }));
      assert.equal((await ok.response).status, 200);
      assert.equal(await blobExists(bytes), true);
    });

    test("content addressing holds: the same bytes uploaded at once twice → one blob, two files", async () => {
      const bytes = randomBytes(200_000);
      const send = async () => {
        const { req, response } = openUpload(s.base, "/api/file_upload", { authorization: token });
        await write(req, partHead("same.bin"));
        for (let at = 0; at < bytes.length; at += 30_000) await write(req, bytes.subarray(at, at + 30_000));
        req.end(partTail());
        return (await response) as { status: number; body: { data: { id: number; hdUrl: string; size: number } } };
      };
      const [x, y] = await Promise.all([send(), send()]);
      assert.equal(x.status, 200);
      assert.equal(y.status, 200);
      assert.notEqual(x.body.data.id, y.body.data.id);
      assert.equal(x.body.data.hdUrl, y.body.data.hdUrl);
      assert.equal(new URL(x.body.data.hdUrl).pathname, `/files/${sha256(bytes)}`);
      const got = await fetch(`${s.base}/files/${sha256(bytes)}`);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
      await idle();
      assert.equal(await leftovers(), 0);
    });
  });
}
