import { type Kysely, type Selectable, sql } from "kysely";
import type { Message, MessageKind, NewMessage } from "../../ports/storage.ts";
import { atomic } from "./atomic.ts";
import type { Database, MessagesTable } from "./schema.ts";

type StoredRow = Selectable<MessagesTable>;

const key = (senderId: number, clientMsgId: string) => `${senderId}\u0000${clientMsgId}`;

/**
 * The PostgreSQL path of `MessageRepo.appendBatch`: the same contract as the SQLite writer, in
 * one transaction of three statements whatever the batch size — arrays travel as parameters and
 * `unnest` turns them into rows:
 *  1. the (sender, client id) pairs that exist already (index lookups through a join),
 *  2. one UPDATE that locks the batch's conversations in id order (no deadlock between nodes) and
 *     advances each `last_seq` by its number of new messages,
 *  3. one INSERT of every new message with its seq.
 * `UNIQUE(conversation_id, seq)` and `UNIQUE(sender_id, client_msg_id)` remain the final arbiters.
 * On a `Storage.transaction` handle the three statements run inside that transaction.
 * Content travels as `NewMessage.contentJson`, serialised by the edge (never here).
 *
 * Several of these transactions run at once (`BatchWriter` lanes, `messages.writeLanes`): the
 * lanes of one node hold disjoint conversations, so they never wait on each other's row locks;
 * between nodes the `order by id for update` keeps concurrent batches free of deadlocks on the
 * conversations, and a `(sender, client id)` raced by two lanes or nodes is settled by the unique
 * index and the one-by-one retry in `SqlMessages.appendBatch`.
 */
export async function pgAppendBatch(
  db: Kysely<Database>,
  batch: NewMessage[],
  toMessage: (r: StoredRow) => Message,
): Promise<Array<{ message: Message; duplicate: boolean }>> {
  return atomic(db, async (tx) => {
    const senders = batch.map((m) => m.senderId);
    const clientIds = batch.map((m) => m.clientMsgId);
    const found = await sql<StoredRow>`
      select m.* from messages m
      join unnest(${senders}::bigint[], ${clientIds}::text[]) as k(s, c)
        on m.sender_id = k.s and m.client_msg_id = k.c`.execute(tx);
    const existing = new Map(found.rows.map((r) => [key(Number(r.sender_id), r.client_msg_id), toMessage(r)]));

    const out: Array<{ message: Message; duplicate: boolean } | null> = batch.map(() => null);
    const firstOf = new Map<string, number>();
    const fresh: number[] = [];
    const perConv = new Map<number, number[]>();
    batch.forEach((m, i) => {
      const k = key(m.senderId, m.clientMsgId);
      const old = existing.get(k);
      if (old) out[i] = { message: old, duplicate: true };
      else if (!firstOf.has(k)) {
        firstOf.set(k, i);
        fresh.push(i);
        const list = perConv.get(m.conversationId);
        if (list) list.push(i);
        else perConv.set(m.conversationId, [i]);
      }
    });

    if (fresh.length) {
      const convIds = [...perConv.keys()].sort((a, b) => a - b);
      const counts = convIds.map((id) => (perConv.get(id) as number[]).length);
      const lastAt = convIds.map((id) => Math.max(...(perConv.get(id) as number[]).map((i) => batch[i].createdAt)));
      const bumped = await sql<{ id: number; last_seq: number }>`
        with locked as (
          select id from conversations where id = any(${convIds}::bigint[]) order by id for update
        )
        update conversations c
           set last_seq = c.last_seq + v.n,
               last_message_at = greatest(c.last_message_at, v.at)
          from unnest(${convIds}::bigint[], ${counts}::int[], ${lastAt}::bigint[]) as v(id, n, at), locked
         where c.id = v.id and locked.id = v.id
        returning c.id, c.last_seq`.execute(tx);
      if (bumped.rows.length !== convIds.length) throw new Error("a conversation of the batch does not exist");
      const seqOf = new Map<number, number>();
      for (const r of bumped.rows) {
        const idxs = perConv.get(Number(r.id)) as number[];
        let seq = Number(r.last_seq) - idxs.length;
        for (const i of idxs) seqOf.set(i, ++seq);
      }
      const col = <T>(f: (m: NewMessage, i: number) => T) => fresh.map((i) => f(batch[i], i));
      const inserted = await sql<{ id: number; sender_id: number; client_msg_id: string }>`
        insert into messages (conversation_id, seq, sender_id, client_msg_id, kind, content, created_at, snap, ext)
        select * from unnest(
          ${col((m) => m.conversationId)}::bigint[], ${col((_m, i) => seqOf.get(i) as number)}::bigint[],
          ${col((m) => m.senderId)}::bigint[], ${col((m) => m.clientMsgId)}::text[], ${col((m) => m.kind)}::text[],
          ${col((m) => m.contentJson)}::text[], ${col((m) => m.createdAt)}::bigint[],
          ${col((m) => (m.snap ? 1 : 0))}::int[], ${col((m) => m.extJson ?? null)}::text[])
        returning id, sender_id, client_msg_id`.execute(tx);
      const idOf = new Map(inserted.rows.map((r) => [key(Number(r.sender_id), r.client_msg_id), Number(r.id)]));
      for (const i of fresh) {
        const m = batch[i];
        const id = idOf.get(key(m.senderId, m.clientMsgId));
        if (id === undefined) throw new Error("inserted message missing from RETURNING");
        out[i] = {
          message: {
            id,
            conversationId: m.conversationId,
            seq: seqOf.get(i) as number,
            senderId: m.senderId,
            clientMsgId: m.clientMsgId,
            kind: m.kind as MessageKind,
            content: m.content,
            createdAt: m.createdAt,
            recalledAt: null,
            deletedAt: null,
            snap: m.snap === true,
            ext: m.ext ?? null,
          },
          duplicate: false,
        };
      }
    }
    // later occurrences of a (sender, client id) inside the batch point at the first
    batch.forEach((m, i) => {
      if (out[i]) return;
      const first = out[firstOf.get(key(m.senderId, m.clientMsgId)) as number];
      if (!first) throw new Error("duplicate without an original");
      out[i] = { message: first.message, duplicate: true };
    });
    return out as Array<{ message: Message; duplicate: boolean }>;
  });
}
