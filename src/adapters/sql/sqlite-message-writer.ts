import type SQLite from "better-sqlite3";
import type { Selectable } from "kysely";
import type { Message, NewMessage } from "../../ports/storage.ts";
import type { MessagesTable } from "./schema.ts";

type Row = Selectable<MessagesTable>;

/**
 * The SQLite fast path of `MessageRepo.appendBatch`: the same contract as the portable Kysely
 * version (see message-repos.ts), done with statements prepared once and run synchronously inside
 * one `BEGIN IMMEDIATE` transaction. Kysely's per-query planning and its asynchronous hops cost
 * more than the writes themselves on SQLite; this removes them from the hottest path.
 *
 * Content is stored as `NewMessage.contentJson`, serialised by the edge: nothing here serialises
 * client data, so no message can make the shared transaction throw on its content.
 *
 * The caller must hold Kysely's connection (SQLite access is serialised by its mutex) so no other
 * transaction is open on the connection.
 */
export class SqliteMessageWriter {
  private readonly findDup: SQLite.Statement<[number, string], Row>;
  private readonly bumpSeq: SQLite.Statement<[number, number, number], { last_seq: number }>;
  private readonly insert: SQLite.Statement<
    [number, number, number, string, string, string, number, number, string | null]
  >;
  private readonly tx: (batch: NewMessage[]) => Array<{ message: Message; duplicate: boolean }>;

  constructor(
    db: SQLite.Database,
    private readonly toMessage: (r: Row) => Message,
  ) {
    this.findDup = db.prepare("select * from messages where sender_id = ? and client_msg_id = ?");
    this.bumpSeq = db.prepare(
      "update conversations set last_seq = last_seq + ?, last_message_at = max(last_message_at, ?) where id = ? returning last_seq",
    );
    // `run` + lastInsertRowid, not `returning id`: RETURNING costs SQLite an extra pass per row
    // (measured: ~2–4 µs per message of the transaction's ~9).
    this.insert = db.prepare(
      "insert into messages (conversation_id, seq, sender_id, client_msg_id, kind, content, created_at, snap, ext) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const run = (batch: NewMessage[]) => {
      // A new message is built from the input (no re-parse of what we just wrote).
      const out: Array<{ message: Message; duplicate: boolean } | null> = new Array(batch.length).fill(null);
      const firstOf = new Map<string, number>();
      const byConv = new Map<number, number[]>();
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i];
        const key = `${m.senderId}\u0000${m.clientMsgId}`;
        const first = firstOf.get(key);
        if (first !== undefined) continue; // in-batch duplicate: filled from its first occurrence below
        firstOf.set(key, i);
        const dup = this.findDup.get(m.senderId, m.clientMsgId);
        if (dup) {
          out[i] = { message: this.toMessage(dup), duplicate: true };
          continue;
        }
        const list = byConv.get(m.conversationId);
        if (list) list.push(i);
        else byConv.set(m.conversationId, [i]);
      }
      for (const [convId, idxs] of byConv) {
        let lastAt = 0;
        for (const i of idxs) lastAt = Math.max(lastAt, batch[i].createdAt);
        const bumped = this.bumpSeq.get(idxs.length, lastAt, convId);
        if (!bumped) throw new Error(`conversation ${convId} does not exist`);
        let seq = Number(bumped.last_seq) - idxs.length;
        for (const i of idxs) {
          const m = batch[i];
          const s = ++seq;
          const { lastInsertRowid } = this.insert.run(
            m.conversationId,
            s,
            m.senderId,
            m.clientMsgId,
            m.kind,
            m.contentJson,
            m.createdAt,
            m.snap ? 1 : 0,
            m.extJson ?? null,
          );
          const message: Message = {
            id: Number(lastInsertRowid),
            conversationId: m.conversationId,
            seq: s,
            senderId: m.senderId,
            clientMsgId: m.clientMsgId,
            kind: m.kind,
            content: m.content,
            createdAt: m.createdAt,
            recalledAt: null,
            deletedAt: null,
            snap: m.snap === true,
            ext: m.ext ?? null,
          };
          out[i] = { message, duplicate: false };
        }
      }
      for (let i = 0; i < batch.length; i++) {
        if (out[i]) continue;
        const first = out[firstOf.get(`${batch[i].senderId}\u0000${batch[i].clientMsgId}`) as number];
        if (!first) throw new Error("duplicate without an original");
        out[i] = { message: first.message, duplicate: true };
      }
      return out as Array<{ message: Message; duplicate: boolean }>;
    };
    const transaction = db.transaction(run);
    this.tx = (batch) => transaction.immediate(batch);
  }

  append(batch: NewMessage[]): Array<{ message: Message; duplicate: boolean }> {
    return this.tx(batch);
  }
}
