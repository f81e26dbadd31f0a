import { type Generated, type Kysely, sql } from "kysely";
import type { ImAddress, ImNodeKind, ImPrecision, ImRepo, ImSample, ImSession } from "../../ports/storage/im.ts";
import type { Database } from "./schema.ts";

/** The cluster-admin tables (migration `0010_im`), kept with their repository. */
export type ImTables = {
  im_sessions: {
    sid: Generated<number>;
    uid: number;
    nation: number;
    city: number;
    town: number;
    created_at: number;
  };
  im_precisions: { prec: number; num: number };
  im_samples: { prec: number; time: number; num: number };
  im_addresses: { kind: string; nid: number; type: number; ipaddr: string; port: number; created_at: number };
} & Pick<Database, "groups" | "group_members" | "conversations">;

export class SqlIm implements ImRepo {
  private readonly db: Kysely<ImTables>;

  /** Any Kysely instance on the migrated database (the storage's, seen with these tables). */
  constructor(db: Kysely<Database>) {
    this.db = db.withTables<ImTables>() as unknown as Kysely<ImTables>;
  }

  async createSession(s: Omit<ImSession, "sid">): Promise<ImSession> {
    const row = await this.db
      .insertInto("im_sessions")
      .values({ uid: s.uid, nation: s.nation, city: s.city, town: s.town, created_at: s.createdAt })
      .returning("sid")
      .executeTakeFirstOrThrow();
    return { ...s, sid: Number(row.sid) };
  }

  async session(sid: number): Promise<ImSession | null> {
    const r = await this.db.selectFrom("im_sessions").selectAll().where("sid", "=", sid).executeTakeFirst();
    return r
      ? {
          sid: Number(r.sid),
          uid: Number(r.uid),
          nation: Number(r.nation),
          city: Number(r.city),
          town: Number(r.town),
          createdAt: Number(r.created_at),
        }
      : null;
  }

  async precisions(): Promise<ImPrecision[]> {
    const rows = await this.db.selectFrom("im_precisions").selectAll().orderBy("prec").execute();
    return rows.map((r) => ({ prec: Number(r.prec), num: Number(r.num) }));
  }

  async setPrecision(p: ImPrecision): Promise<void> {
    await this.db
      .insertInto("im_precisions")
      .values({ prec: p.prec, num: p.num })
      .onConflict((oc) => oc.column("prec").doUpdateSet({ num: p.num }))
      .execute();
  }

  async deletePrecision(prec: number): Promise<boolean> {
    const r = await this.db.deleteFrom("im_precisions").where("prec", "=", prec).executeTakeFirst();
    await this.db.deleteFrom("im_samples").where("prec", "=", prec).execute();
    return Number(r.numDeletedRows) > 0;
  }

  async recordSample(prec: number, time: number, num: number, keep: number): Promise<void> {
    await this.db
      .insertInto("im_samples")
      .values({ prec, time, num })
      .onConflict((oc) => oc.columns(["prec", "time"]).doUpdateSet({ num }))
      .execute();
    // drop the buckets older than the newest `keep`
    const edge = await this.db
      .selectFrom("im_samples")
      .select("time")
      .where("prec", "=", prec)
      .orderBy("time", "desc")
      .offset(Math.max(0, keep - 1))
      .limit(1)
      .executeTakeFirst();
    if (edge) await this.db.deleteFrom("im_samples").where("prec", "=", prec).where("time", "<", edge.time).execute();
  }

  async samples(prec: number, limit: number): Promise<ImSample[]> {
    const rows = await this.db
      .selectFrom("im_samples")
      .select(["time", "num"])
      .where("prec", "=", prec)
      .orderBy("time", "desc")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ time: Number(r.time), num: Number(r.num) }));
  }

  async addresses(kind: ImNodeKind): Promise<ImAddress[]> {
    const rows = await this.db
      .selectFrom("im_addresses")
      .selectAll()
      .where("kind", "=", kind)
      .orderBy("created_at")
      .orderBy("ipaddr")
      .orderBy("port")
      .execute();
    return rows.map((r) => ({
      kind,
      nid: Number(r.nid),
      type: Number(r.type),
      ipaddr: r.ipaddr,
      port: Number(r.port),
      createdAt: Number(r.created_at),
    }));
  }

  async addAddress(a: ImAddress): Promise<void> {
    await this.db
      .insertInto("im_addresses")
      .values({ kind: a.kind, nid: a.nid, type: a.type, ipaddr: a.ipaddr, port: a.port, created_at: a.createdAt })
      .onConflict((oc) => oc.columns(["kind", "nid", "type", "ipaddr", "port"]).doNothing())
      .execute();
  }

  async deleteAddress(kind: ImNodeKind, nid: number, ipaddr: string, port: number): Promise<number> {
    const r = await this.db
      .deleteFrom("im_addresses")
      .where("kind", "=", kind)
      .where("nid", "=", nid)
      .where("ipaddr", "=", ipaddr)
      .where("port", "=", port)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async topGroupsByMembers(limit: number): Promise<Array<{ gid: number; total: number }>> {
    const rows = await this.db
      .selectFrom("groups as g")
      .innerJoin("group_members as m", "m.group_id", "g.id")
      .select(["g.id as gid", sql<number>`count(*)`.as("total")])
      .where("g.dissolved_at", "is", null)
      .groupBy("g.id")
      .orderBy("total", "desc")
      .orderBy("g.id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ gid: Number(r.gid), total: Number(r.total) }));
  }

  async topGroupsByMessages(limit: number): Promise<Array<{ gid: number; total: number }>> {
    const rows = await this.db
      .selectFrom("groups as g")
      .innerJoin("conversations as c", "c.id", "g.conversation_id")
      .select(["g.id as gid", "c.last_seq as total"])
      .where("g.dissolved_at", "is", null)
      .orderBy("c.last_seq", "desc")
      .orderBy("g.id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ gid: Number(r.gid), total: Number(r.total) }));
  }
}
