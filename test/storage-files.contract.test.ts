import assert from "node:assert/strict";
import { test } from "node:test";
import { forEachStorage } from "./helpers/storage.ts";

/** Contract of the uploaded-file repository (src/ports/storage/files.ts). */
forEachStorage("files", (ctx) => {
  test("files: insert, byId, blobType (oldest upload wins, then thumbnails, else null)", async () => {
    const { storage } = ctx;
    const f = storage.files;
    const a = "a".repeat(64);
    const t = "b".repeat(64);
    const first = await f.insert({
      ownerId: 7,
      sha256: a,
      thumbSha256: t,
      thumbMime: "image/png",
      name: "图片 1.png",
      mime: "image/png",
      size: 12345,
      width: 800,
      height: 600,
      createdAt: 100,
    });
    assert.ok(Number.isInteger(first.id) && first.id > 0);
    assert.deepEqual(await f.byId(first.id), {
      id: first.id,
      ownerId: 7,
      sha256: a,
      thumbSha256: t,
      thumbMime: "image/png",
      name: "图片 1.png",
      mime: "image/png",
      size: 12345,
      width: 800,
      height: 600,
      createdAt: 100,
    });
    const second = await f.insert({
      ownerId: 8,
      sha256: a,
      thumbSha256: null,
      thumbMime: null,
      name: "same bytes.bin",
      mime: "application/octet-stream",
      size: 12345,
      width: null,
      height: null,
      createdAt: 101,
    });
    assert.ok(second.id > first.id, "one row per upload, even for the same bytes");
    assert.equal((await f.byId(second.id))?.width, null);
    assert.deepEqual(await f.blobType(a), { mime: "image/png", thumbnail: false });
    assert.deepEqual(await f.blobType(t), { mime: "image/png", thumbnail: true });
    assert.equal(await f.blobType("c".repeat(64)), null);
    assert.equal(await f.byId(999999), null);
  });
});
