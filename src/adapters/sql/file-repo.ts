import type { Kysely, Selectable } from "kysely";
import type { FileRepo, StoredFile } from "../../ports/storage.ts";
import type { Database, FilesTable } from "./schema.ts";

const num = (v: number | null) => (v === null ? null : Number(v));

function toFile(r: Selectable<FilesTable>): StoredFile {
  return {
    id: Number(r.id),
    ownerId: Number(r.owner_id),
    sha256: r.sha256,
    thumbSha256: r.thumb_sha256,
    thumbMime: r.thumb_mime,
    name: r.name,
    mime: r.mime,
    size: Number(r.size),
    width: num(r.width),
    height: num(r.height),
    createdAt: Number(r.created_at),
  };
}

export class SqlFiles implements FileRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(f: Omit<StoredFile, "id">): Promise<StoredFile> {
    const row = await this.db
      .insertInto("files")
      .values({
        owner_id: f.ownerId,
        sha256: f.sha256,
        thumb_sha256: f.thumbSha256,
        thumb_mime: f.thumbMime,
        name: f.name,
        mime: f.mime,
        size: f.size,
        width: f.width,
        height: f.height,
        created_at: f.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toFile(row);
  }

  async byId(id: number): Promise<StoredFile | null> {
    const r = await this.db.selectFrom("files").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? toFile(r) : null;
  }

  async blobType(sha256: string): Promise<{ mime: string; thumbnail: boolean } | null> {
    const own = await this.db
      .selectFrom("files")
      .select("mime")
      .where("sha256", "=", sha256)
      .orderBy("id", "asc")
      .limit(1)
      .executeTakeFirst();
    if (own) return { mime: own.mime, thumbnail: false };
    const thumb = await this.db
      .selectFrom("files")
      .select("thumb_mime")
      .where("thumb_sha256", "=", sha256)
      .where("thumb_mime", "is not", null)
      .orderBy("id", "asc")
      .limit(1)
      .executeTakeFirst();
    return thumb?.thumb_mime ? { mime: thumb.thumb_mime, thumbnail: true } : null;
  }
}
