import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { LocalFileStore } from "../src/adapters/files/local-file-store.ts";
import { parseRange } from "../src/core/files/file-service.ts";
import { sanitizeName } from "../src/core/files/names.ts";
import { detectType } from "../src/core/files/sniff.ts";
import type { User } from "../src/ports/storage.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

type Env<T = unknown> = { data: T; code: number; msg: string };

interface Uploaded {
  id: number;
  text: string;
  hdUrl: string;
  type: null;
  thumbUrl: string;
  size: number;
  playTime: number;
  category: string;
}

const PASSWORD = "secret-pw1";
const ALLOWED = ["image/png", "text/plain", "application/pdf", "application/octet-stream"];

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .png()
    .toBuffer();

const sha256Of = (url: string) => new URL(url).pathname.split("/").pop() as string;

describe("files: type detection, names, ranges (units)", () => {
  test("the bytes decide the type; the client's type only refines containers or fills in for text", async () => {
    const p = await png(4, 4);
    assert.equal(detectType(p, "application/pdf", ALLOWED), "image/png", "a lying client type is ignored");
    assert.equal(detectType(Buffer.from("%PDF-1.7\n…"), "image/png", ALLOWED), "application/pdf");
    assert.equal(detectType(Buffer.from("hello"), "image/png", ALLOWED), "application/octet-stream");
    assert.equal(detectType(Buffer.from("hello 你好"), "text/plain; charset=utf-8", ALLOWED), "text/plain");
    assert.equal(
      detectType(Buffer.from([0xff, 0xfe, 0x00, 0x01]), "text/plain", ALLOWED),
      "application/octet-stream",
      "binary is not text",
    );
    assert.equal(detectType(Buffer.from("<!DOCTYPE html><p>x"), "text/plain", ALLOWED), "text/html");
    assert.equal(detectType(Buffer.from("<svg xmlns='…'>"), "image/png", ALLOWED), "image/svg+xml");
    assert.equal(detectType(Buffer.from("MZ\x90\x00"), "application/pdf", ALLOWED), "application/x-msdownload");
    const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
    assert.equal(detectType(zip, docx, [...ALLOWED, docx]), docx, "a zip the client calls docx");
    assert.equal(detectType(zip, "image/png", ALLOWED), "application/zip");
    assert.equal(detectType(Buffer.from("#!AMR\n…"), undefined, ALLOWED), "audio/amr");
    assert.equal(detectType(Buffer.from("\x00\x00\x00\x18ftypmp42"), undefined, ALLOWED), "video/mp4");
  });

  test("names: no path, no control or bidi characters, at most 200 characters, never empty", () => {
    assert.equal(sanitizeName("../../etc/passwd"), "passwd");
    assert.equal(sanitizeName("C:\\Users\\x\\报告.pdf"), "报告.pdf");
    assert.equal(sanitizeName("a\u0000b\r\nc\u202Egnp.exe"), "abcgnp.exe");
    assert.equal(sanitizeName(".."), "file");
    assert.equal(sanitizeName("dir/"), "file");
    assert.equal(sanitizeName(undefined), "file");
    const long = sanitizeName(`${"名".repeat(300)}.docx`);
    assert.equal([...long].length, 200);
    assert.ok(long.endsWith(".docx"));
  });

  test("ranges", () => {
    assert.deepEqual(parseRange("bytes=0-9", 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange("bytes=90-", 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange("bytes=-10", 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange("bytes=50-500", 100), { start: 50, end: 99 });
    assert.equal(parseRange("bytes=100-", 100), "unsatisfiable");
    assert.equal(parseRange("bytes=5-1", 100), null);
    assert.equal(parseRange("bytes=0-1,5-6", 100), null, "multiple ranges: the whole file");
    assert.equal(parseRange("items=0-1", 100), null);
  });

  test("local store: content-addressed, atomic, idempotent, never outside its root", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-fs-"));
    try {
      const store = new LocalFileStore(dir);
      const key = await store.put(Buffer.from("hello"));
      assert.equal(key, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
      assert.equal(await store.put(Buffer.from("hello")), key);
      assert.equal(readFileSync(join(dir, "2c", key), "utf8"), "hello");
      assert.deepEqual(readdirSync(join(dir, ".tmp")), [], "no temp file left behind");
      assert.equal(await store.exists(key), true);
      assert.equal(await store.size(key), 5);
      for (const bad of ["../../etc/passwd", `${key.slice(0, 63)}/`, key.toUpperCase(), ""]) {
        assert.equal(await store.exists(bad), false);
        assert.equal(await store.get(bad), null);
      }
      const part = await store.get(key, { start: 1, end: 3 });
      assert.ok(part);
      const chunks: Buffer[] = [];
      for await (const c of part.stream) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), "ell");
      assert.equal(part.size, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("enterprise surface — files (seed 001 /api/file_upload)", () => {
  let s: TestServer;
  let alice: User;
  let token: string;

  const upload = async (
    bytes: Buffer,
    name: string,
    type: string,
    opts: { token?: string | null; field?: string; server?: TestServer } = {},
  ) => {
    const form = new FormData();
    form.append(opts.field ?? "file", new Blob([bytes], { type }), name);
    const t = opts.token === undefined ? token : opts.token;
    const res = await fetch(`${(opts.server ?? s).base}/api/file_upload`, {
      method: "POST",
      headers: t ? { authorization: t } : {},
      body: form,
    });
    return { status: res.status, body: (await res.json()) as Env<Uploaded> };
  };

  before(async () => {
    s = await startServer({ "files.thumbnailPx": 64, publicUrl: "https://im.example.com/" });
    alice = await s.app.accounts.createUser({ username: "alice", password: PASSWORD, nickname: "Alice" });
    token = (await s.app.accounts.startSession(alice, { device: "pc" })).token;
  });
  after(() => s.close());

  test("a PNG: stored content-addressed, a smaller thumbnail, seed shape, served inline with its type", async () => {
    const bytes = await png(400, 200);
    const r = await upload(bytes, "QQ截图20190116145757.png", "image/png");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.code, 200);
    assert.equal(r.body.msg, "上传成功");
    const d = r.body.data;
    assert.deepEqual(Object.keys(d), ["id", "text", "hdUrl", "type", "thumbUrl", "size", "playTime", "category"]);
    assert.equal(d.text, "QQ截图20190116145757.png");
    assert.equal(d.type, null);
    assert.equal(d.size, bytes.length);
    assert.equal(d.playTime, 0);
    assert.equal(d.category, "png");
    assert.match(d.hdUrl, /^https:\/\/im\.example\.com\/files\/[0-9a-f]{64}$/, "absolute, from publicUrl");
    assert.notEqual(d.thumbUrl, d.hdUrl);

    const sha = sha256Of(d.hdUrl);
    const thumbSha = sha256Of(d.thumbUrl);
    const onDisk = join(s.backend.dataDir, "files", sha.slice(0, 2), sha);
    assert.ok(existsSync(onDisk), "stored under <dataDir>/files/<sha[0:2]>/<sha>");
    assert.deepEqual(readFileSync(onDisk), bytes);
    const row = await s.app.storage.files.byId(d.id);
    assert.equal(row?.ownerId, alice.id);
    assert.equal(row?.width, 400);
    assert.equal(row?.height, 200);
    assert.equal(row?.thumbSha256, thumbSha);

    const full = await fetch(`${s.base}/files/${sha}`);
    assert.equal(full.status, 200);
    assert.equal(full.headers.get("content-type"), "image/png");
    assert.equal(full.headers.get("x-content-type-options"), "nosniff");
    assert.match(full.headers.get("content-disposition") ?? "", /^inline; filename="[0-9a-f]{12}\.png"$/);
    assert.match(full.headers.get("cache-control") ?? "", /immutable/);
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), bytes);

    const thumb = await fetch(`${s.base}/files/${thumbSha}`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get("content-type"), "image/png");
    const thumbBytes = Buffer.from(await thumb.arrayBuffer());
    assert.ok(thumbBytes.length < bytes.length, "the thumbnail is smaller");
    const meta = await sharp(thumbBytes).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 32], "longest side = files.thumbnailPx");

    // the same bytes again: a new row, the same blob
    const again = await upload(bytes, "again.png", "image/png");
    assert.notEqual(again.body.data.id, d.id);
    assert.equal(again.body.data.hdUrl, d.hdUrl);
  });

  test("a small image keeps thumbUrl = hdUrl; conditional and range requests", async () => {
    const bytes = await png(10, 10);
    const r = await upload(bytes, "tiny.png", "image/png");
    assert.equal(r.status, 200);
    assert.equal(r.body.data.thumbUrl, r.body.data.hdUrl);
    const url = `${s.base}/files/${sha256Of(r.body.data.hdUrl)}`;
    const etag = (await fetch(url)).headers.get("etag") ?? "";
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    assert.equal((await fetch(url, { headers: { "if-none-match": etag } })).status, 304);
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(bytes.length));
    assert.equal(head.headers.get("content-type"), "image/png");
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const part = await fetch(url, { headers: { range: "bytes=0-7" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 0-7/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(0, 8));
    const beyond = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get("content-range"), `bytes */${bytes.length}`);
  });

  test("a non-image is served as an attachment; text gets a charset; a lying client type is not believed", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n");
    const r = await upload(pdf, "年度报告.pdf", "image/png");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.category, "pdf");
    assert.equal(r.body.data.thumbUrl, r.body.data.hdUrl);
    const res = await fetch(`${s.base}/files/${sha256Of(r.body.data.hdUrl)}`);
    assert.equal(res.headers.get("content-type"), "application/pdf");
    assert.match(res.headers.get("content-disposition") ?? "", /^attachment; filename="[0-9a-f]{12}\.pdf"$/);
    await res.arrayBuffer();

    const txt = await upload(Buffer.from("备忘录\nline 2\n"), "notes.txt", "text/plain");
    const t = await fetch(`${s.base}/files/${sha256Of(txt.body.data.hdUrl)}`);
    assert.equal(t.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await t.text(), "备忘录\nline 2\n");

    const fake = await upload(Buffer.from("not really a png"), "fake.png", "image/png");
    assert.equal(fake.status, 200);
    assert.equal(fake.body.data.category, "png", "category falls back to the name's extension");
    const f = await fetch(`${s.base}/files/${sha256Of(fake.body.data.hdUrl)}`);
    assert.equal(f.headers.get("content-type"), "application/octet-stream");
    assert.match(f.headers.get("content-disposition") ?? "", /^attachment; filename="[0-9a-f]{12}\.bin"$/);
    await f.arrayBuffer();
  });

  test("types outside the allow-list → 415 (executables, HTML, SVG), nothing stored", async () => {
    for (const [bytes, name, type] of [
      [Buffer.from("MZ\x90\x00\x03\x00\x00\x00"), "setup.exe", "application/octet-stream"],
      [Buffer.from("<html><script>alert(1)</script></html>"), "x.txt", "text/plain"],
      [
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "x.svg",
        "image/svg+xml",
      ],
    ] as const) {
      const r = await upload(bytes, name, type);
      assert.equal(r.status, 415, name);
      assert.deepEqual(r.body, { data: null, code: 415, msg: "不支持的文件类型" });
      const sha = createHash("sha256").update(bytes).digest("hex");
      assert.equal(existsSync(join(s.backend.dataDir, "files", sha.slice(0, 2), sha)), false, "not stored");
    }
  });

  test("a name with ../ is sanitised (and never reaches a path)", async () => {
    const r = await upload(Buffer.from("plain text"), "../../../etc/pass\u0007wd.txt", "text/plain");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.text, "passwd.txt");
    assert.equal(r.body.data.category, "txt");
    assert.equal(readdirSync(join(s.backend.dataDir)).includes("etc"), false);
  });

  test("unknown files → 404 in the envelope", async () => {
    for (const path of [`/files/${"0".repeat(64)}`, "/files/nothex", "/files/..%2F..%2Fparley.db"]) {
      const res = await fetch(`${s.base}${path}`);
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { data: null, code: 404, msg: "文件不存在" });
    }
  });

  test("authentication, multipart shape and field name", async () => {
    const p = await png(4, 4);
    assert.equal((await upload(p, "a.png", "image/png", { token: null })).status, 401);
    assert.equal((await upload(p, "a.png", "image/png", { token: "bogus" })).status, 401);
    // the token as a form field works too
    const form = new FormData();
    form.append("authorization", token);
    form.append("file", new Blob([p], { type: "image/png" }), "a.png");
    const viaField = await fetch(`${s.base}/api/file_upload`, { method: "POST", body: form });
    assert.equal(viaField.status, 200);
    const empty = await upload(Buffer.alloc(0), "empty.txt", "text/plain");
    assert.deepEqual(empty.body, { data: null, code: 400, msg: "文件为空" });
    const wrongField = await upload(p, "a.png", "image/png", { field: "upload" });
    assert.deepEqual(wrongField.body, { data: null, code: 400, msg: "缺少文件(字段 file)" });
    const json = await fetch(`${s.base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: token, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(json.status, 415);
    const broken = await fetch(`${s.base}/api/file_upload`, {
      method: "POST",
      headers: { authorization: token, "content-type": "multipart/form-data; boundary=XX" },
      body: '--XX\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
    });
    assert.deepEqual(await broken.json(), {
      data: null,
      code: 400,
      msg: "参数错误: 上传数据格式错误(multipart/form-data, 字段 file)",
    });
    const get = await fetch(`${s.base}/api/file_upload`, { headers: { authorization: token } });
    assert.equal(get.status, 405);
  });

  test("too large → 413 (files.maxBytes)", async () => {
    const small = await startServer({ "files.maxBytes": 2048 });
    try {
      const bob = await small.app.accounts.createUser({ username: "bob", password: PASSWORD });
      const t = (await small.app.accounts.startSession(bob, { device: "pc" })).token;
      const big = await upload(Buffer.alloc(4096, 0x61), "big.txt", "text/plain", { token: t, server: small });
      assert.equal(big.status, 413);
      assert.deepEqual(big.body, { data: null, code: 413, msg: "文件过大" });
      assert.equal(existsSync(join(small.backend.dataDir, "files")), false, "nothing stored");
      const ok = await upload(Buffer.alloc(2048, 0x61), "fits.txt", "text/plain", { token: t, server: small });
      assert.equal(ok.status, 200, "exactly maxBytes is accepted");
      assert.equal(ok.body.data.size, 2048);
      assert.match(ok.body.data.hdUrl, /^http:\/\/127\.0\.0\.1:\d+\/files\//, "absolute from the request host");
    } finally {
      await small.close();
    }
  });
});
