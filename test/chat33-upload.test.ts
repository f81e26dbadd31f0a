import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { post, startServer, type TestServer } from "./helpers/server.ts";

/**
 * `/chat33/upload` and `/chat33/files/<sha256>` (Parley extension, docs/chat33.md "Images"): an
 * image through the file store with the session from the header or the httpOnly cookie (plus
 * FZM-DEVICE, which a cross-site form cannot send); type from the bytes (images only), size
 * limit, dimensions and thumbnail; served with immutable caching, nosniff and a sandbox CSP; a
 * msgType 3 message pointing at it goes through the socket like any other.
 */

type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };
type Upload = {
  id: string;
  imageUrl: string;
  thumbUrl: string;
  url: string;
  width: number;
  height: number;
  size: number;
  mime: string;
};

const PASSWORD = "secret-pass-1";
let seq = 0;
const newMobile = () => `136${String(process.pid % 1000).padStart(3, "0")}${String(++seq).padStart(5, "0")}`;

const png = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .png()
    .toBuffer();

function form(bytes: Buffer, name: string, type: string, field = "file"): FormData {
  const fd = new FormData();
  fd.append(field, new Blob([new Uint8Array(bytes)], { type }), name);
  return fd;
}

describe("chat33 — image uploads (/chat33/upload)", () => {
  let s: TestServer;
  let token = "";
  let cookie = "";

  const upload = async (body: FormData | string, headers: Record<string, string>) => {
    const r = await fetch(`${s.base}/chat33/upload`, { method: "POST", headers, body });
    return { status: r.status, body: (await r.json()) as Env<Upload> };
  };

  before(async () => {
    // 64 KiB uploads at most, so "too large" is cheap to test
    s = await startServer({ "files.maxBytes": 64 * 1024 });
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    const login = await post<Env<{ token: string }>>(
      `${s.base}/user/pwdLogin`,
      { mobile, password: PASSWORD },
      { "FZM-DEVICE": "Web" },
    );
    token = login.body.data.token;
    const r = await fetch(`${s.base}/user/tokenLogin`, {
      method: "POST",
      headers: { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": token },
    });
    cookie = (r.headers.get("set-cookie") ?? "").split(";")[0];
    assert.match(cookie, /^FZM-AUTH-TOKEN=/);
  });
  after(async () => {
    await s?.close();
  });

  test("a PNG with the token header: stored, its URLs answered, served back byte for byte", async () => {
    const bytes = await png(32, 20);
    const r = await upload(form(bytes, "red.png", "image/png"), { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": token });
    assert.equal(r.status, 200);
    assert.equal(r.body.result, 0, r.body.message);
    const d = r.body.data;
    assert.match(d.imageUrl, /^\/chat33\/files\/[0-9a-f]{64}$/);
    assert.equal(d.thumbUrl, d.imageUrl, "small: no thumbnail");
    assert.equal(d.url, `${s.base}${d.imageUrl}`);
    assert.deepEqual([d.width, d.height, d.size, d.mime], [32, 20, bytes.length, "image/png"]);
    const got = await fetch(`${s.base}${d.imageUrl}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("content-type"), "image/png");
    assert.equal(got.headers.get("x-content-type-options"), "nosniff");
    assert.equal(got.headers.get("content-security-policy"), "sandbox");
    assert.match(got.headers.get("cache-control") ?? "", /immutable/);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
    const again = await fetch(`${s.base}${d.imageUrl}`, {
      headers: { "if-none-match": got.headers.get("etag") ?? "" },
    });
    assert.equal(again.status, 304);
    const head = await fetch(`${s.base}${d.imageUrl}`, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), String(bytes.length));
  });

  test("the httpOnly cookie with FZM-DEVICE works; a large image gets a thumbnail", async () => {
    const bytes = await png(600, 300);
    const r = await upload(form(bytes, "wide.png", "image/png"), { "FZM-DEVICE": "Web", cookie });
    assert.equal(r.body.result, 0, r.body.message);
    assert.notEqual(r.body.data.thumbUrl, r.body.data.imageUrl);
    const thumb = await fetch(`${s.base}${r.body.data.thumbUrl}`);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.equal(Math.max(meta.width ?? 0, meta.height ?? 0), 240);
  });

  test("refused: no session -1003, cookie without FZM-DEVICE (a cross-site form) -1006, revoked -1004", async () => {
    const bytes = await png(4, 4);
    assert.equal((await upload(form(bytes, "a.png", "image/png"), { "FZM-DEVICE": "Web" })).body.result, -1003);
    assert.equal((await upload(form(bytes, "a.png", "image/png"), { cookie })).body.result, -1006);
    // a second session, ended by /user/logout: its token no longer uploads
    const mobile = newMobile();
    await s.app.accounts.createUser({ mobile, password: PASSWORD });
    const t = (
      await post<Env<{ token: string }>>(
        `${s.base}/user/pwdLogin`,
        { mobile, password: PASSWORD },
        { "FZM-DEVICE": "iOS" },
      )
    ).body.data.token;
    const out = await post<Env>(`${s.base}/user/logout`, {}, { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": t });
    assert.equal(out.body.result, 0);
    const r = await upload(form(bytes, "a.png", "image/png"), { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": t });
    assert.equal(r.body.result, -1004);
  });

  test("validation: not an image (whatever it claims) -1001, too large -1001, no file -1002, not multipart -1001", async () => {
    const auth = { "FZM-DEVICE": "Web", "FZM-AUTH-TOKEN": token };
    const html = Buffer.from("<html><script>alert(1)</script></html>");
    const fake = await upload(form(html, "x.png", "image/png"), auth);
    assert.equal(fake.status, 200);
    assert.equal(fake.body.result, -1001);
    assert.match(fake.body.message, /图片/);
    const pdf = await upload(form(Buffer.from("%PDF-1.4\n%…\n"), "a.pdf", "application/pdf"), auth);
    assert.equal(pdf.body.result, -1001, "the file store takes PDFs, this route only images");
    const big = await upload(form(Buffer.alloc(65 * 1024, 1), "big.png", "image/png"), auth);
    assert.equal(big.status, 200);
    assert.equal(big.body.result, -1001);
    assert.match(big.body.message, /过大/);
    const none = await upload(form(await png(4, 4), "a.png", "image/png", "other"), auth);
    assert.equal(none.body.result, -1002);
    const json = await upload(JSON.stringify({ file: "x" }), { ...auth, "content-type": "application/json" });
    assert.equal(json.body.result, -1001);
    const get = await fetch(`${s.base}/chat33/upload`);
    assert.equal(get.status, 405);
  });

  test("serving: unknown or malformed names 404; a non-image upload is not served here", async () => {
    assert.equal((await fetch(`${s.base}/chat33/files/${"0".repeat(64)}`)).status, 404);
    assert.equal((await fetch(`${s.base}/chat33/files/..%2F..%2Fetc%2Fpasswd`)).status, 404);
    const owner = await s.app.accounts.findUserByMobile(
      (await s.app.accounts.listUsers("", 0, 1)).list[0].mobile ?? "",
    );
    assert.ok(owner);
    const text = await s.app.files.upload(owner, {
      bytes: Buffer.from("just text"),
      name: "a.txt",
      clientType: "text/plain",
    });
    assert.equal(text.mime, "text/plain");
    assert.equal((await fetch(`${s.base}/chat33/files/${text.sha256}`)).status, 404);
  });
});
