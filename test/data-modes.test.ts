import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import sharp from "sharp";
import { ConfigError, loadConfig } from "../src/config/load.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

/** Issue 10 item 4: the data dir is 0700 and its files 0600 unless configured; /metrics can require a token. */

const modeOf = (p: string) => statSync(p).mode & 0o777;
const octal = (m: number) => `0${m.toString(8)}`;

/** Every directory and file under `dir` (recursively), with its mode. */
function walk(dir: string, out: Array<{ path: string; dir: boolean; mode: number }> = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push({ path: p, dir: e.isDirectory(), mode: modeOf(p) });
    if (e.isDirectory()) walk(p, out);
  }
  return out;
}

async function writeSomething(s: TestServer): Promise<void> {
  // a user (SQLite writes → WAL), an upload with a thumbnail
  const u = await s.app.accounts.createUser({ username: "modes", password: "secret-pw1" });
  const { token } = await s.app.accounts.startSession(u, { device: "pc" });
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append("file", new Blob([png], { type: "image/png" }), "a.png");
  const res = await fetch(`${s.base}/api/file_upload`, {
    method: "POST",
    headers: { authorization: token },
    body: form,
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { data: { thumbUrl: string; hdUrl: string } };
  assert.notEqual(body.data.thumbUrl, body.data.hdUrl, "a thumbnail was stored");
}

function assertModes(s: TestServer, dirMode: number, fileMode: number) {
  const dataDir = s.app.config.dataDir;
  assert.equal(octal(modeOf(dataDir)), octal(dirMode), "data dir");
  const entries = walk(dataDir);
  const files = entries.filter((e) => !e.dir);
  if (!s.app.config.databaseUrl) {
    for (const f of ["parley.db", "parley.db-wal", "parley.db-shm"])
      assert.ok(existsSync(join(dataDir, f)), `${f} exists (SQLite in WAL mode)`);
  }
  assert.ok(existsSync(join(dataDir, "admin-token.sha256")), "the generated admin token hash");
  assert.ok(files.filter((f) => f.path.includes(`${join(dataDir, "files")}`)).length >= 2, "upload + thumbnail");
  for (const e of entries)
    assert.equal(octal(e.mode), octal(e.dir ? dirMode : fileMode), `${e.path.slice(dataDir.length)}`);
}

describe("data directory and file modes", () => {
  test("defaults: data dir and its directories 0700, every file 0600 (db, -wal, -shm, token hash, uploads, thumbnails)", async () => {
    const s = await startServer({ adminToken: "" });
    try {
      await writeSomething(s);
      assertModes(s, 0o700, 0o600);
    } finally {
      await s.close();
    }
  });

  test("configured otherwise: dataDirMode=0750, fileMode=0640", async () => {
    const s = await startServer({ adminToken: "", dataDirMode: "0750", fileMode: "0640" });
    try {
      await writeSomething(s);
      assertModes(s, 0o750, 0o640);
    } finally {
      await s.close();
    }
  });

  test("the modes are validated", () => {
    const load = (o: Record<string, unknown>) => loadConfig({ env: {}, overrides: o });
    assert.throws(() => load({ fileMode: "644x" }), ConfigError);
    assert.throws(() => load({ fileMode: "0400" }), ConfigError);
    assert.throws(() => load({ dataDirMode: "0600" }), ConfigError);
    assert.equal(load({ fileMode: "640" }).config.fileMode, "640");
  });
});

describe("/metrics restriction", () => {
  test("with metrics.token: 401 without or with a wrong bearer token, 200 with it", async () => {
    const s = await startServer({ "metrics.token": "metrics-s3cret" });
    try {
      const get = (auth?: string) => fetch(`${s.base}/metrics`, { headers: auth ? { authorization: auth } : {} });
      const none = await get();
      assert.equal(none.status, 401);
      assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="metrics"');
      assert.equal((await get("Bearer wrong")).status, 401);
      assert.equal((await get("metrics-s3cret")).status, 401);
      const ok = await get("Bearer metrics-s3cret");
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /parley_ws_connections/);
      // the other operational endpoints stay open for probes
      assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    } finally {
      await s.close();
    }
  });

  test("without it (the default) /metrics is open", async () => {
    const s = await startServer();
    try {
      assert.equal((await fetch(`${s.base}/metrics`)).status, 200);
    } finally {
      await s.close();
    }
  });
});
