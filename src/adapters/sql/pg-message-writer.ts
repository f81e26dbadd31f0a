import { type Kysely, type Selectable, sql } from "kysely";
import type { Message, MessageKind, NewMessage } from "../../ports/storage.ts";
import type { Database, MessagesTable } from "./schema.ts";

type StoredRow = Selectable<MessagesTable>;

const key = (senderId: number, clientMsgId: string) => `${senderId}\u0000${clientMsgId}`;

/**
 * The PostgreSQL path of `MessageRepo.appendBatch`: the same contract as the SQLite writer, in
 * ONE statement whatever the batch size — one round trip, and atomic on its own, so outside a
 * `Storage.transaction` no BEGIN/COMMIT travels either (a batch used to cost five round trips:
 * BEGIN, three statements, COMMIT). Arrays travel as parameters and `unnest` turns them into rows;
 * data-modifying CTEs do, in order:
 *  1. `existing`: the (sender, client id) pairs stored already (index lookups through a join),
 *  2. `locked` + `bumped`: the batch's conversations locked in id order (no deadlock between
 *     nodes) and each `last_seq` advanced by its number of new messages,
 *  3. `ins`: one INSERT of every new message, its seq = the conversation's new `last_seq` minus
 *     its count plus its rank in the batch. A conversation that does not exist has no `bumped`
 *     row, so its message's seq is NULL and the NOT NULL constraint fails the whole statement.
 * `UNIQUE(conversation_id, seq)` and `UNIQUE(sender_id, client_msg_id)` remain the final arbiters.
 * On a `Storage.transaction` handle the statement runs inside that transaction.
 * Content travels as `NewMessage.contentJson`, serialised by the edge (never here). Repeats of a
 * (sender, client id) inside the batch are settled here before the statement; stored originals
 * (a client's retry) are read back by id only when there are some.
 *
 * Several of these statements run at once (`BatchWriter` lanes, `messages.writeLanes`): the
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
  const firstOf = new Map<string, number>();
  const uniq: number[] = [];
  batch.forEach((m, i) => {
    const k = key(m.senderId, m.clientMsgId);
    if (!firstOf.has(k)) {
      firstOf.set(k, i);
      uniq.push(i);
    }
  });
  const col = <T>(f: (m: NewMessage) => T) => uniq.map((i) => f(batch[i]));
  const rows = await sql<{
    dup: number;
    id: string | number;
    sender_id: string | number;
    client_msg_id: string;
    seq: string | number;
  }>`
    with k as (
      select * from unnest(
        ${col((m) => m.conversationId)}::bigint[], ${col((m) => m.senderId)}::bigint[],
        ${col((m) => m.clientMsgId)}::text[], ${col((m) => m.kind)}::text[], ${col((m) => m.contentJson)}::text[],
        ${col((m) => m.createdAt)}::bigint[], ${col((m) => (m.snap ? 1 : 0))}::int[],
        ${col((m) => m.extJson ?? null)}::text[]
      ) with ordinality as k(conversation_id, sender_id, client_msg_id, kind, content, created_at, snap, ext, ord)
    ),
    existing as (
      select m.id, m.sender_id, m.client_msg_id, m.seq from messages m
      join k on m.sender_id = k.sender_id and m.client_msg_id = k.client_msg_id
    ),
    fresh as (
      select k.*, row_number() over (partition by k.conversation_id order by k.ord) as rn from k
      where not exists (select 1 from existing e where e.sender_id = k.sender_id and e.client_msg_id = k.client_msg_id)
    ),
    counts as (
      select conversation_id as id, count(*)::int as n, max(created_at) as at from fresh group by conversation_id
    ),
    locked as (
      select c.id from conversations c where c.id in (select id from counts) order by c.id for update
    ),
    bumped as (
      update conversations c
         set last_seq = c.last_seq + v.n,
             last_message_at = greatest(c.last_message_at, v.at)
        from counts v, locked
       where c.id = v.id and locked.id = v.id
      returning c.id, c.last_seq, v.n
    ),
    ins as (
      insert into messages (conversation_id, seq, sender_id, client_msg_id, kind, content, created_at, snap, ext)
      select f.conversation_id, b.last_seq - b.n + f.rn, f.sender_id, f.client_msg_id, f.kind, f.content,
             f.created_at, f.snap, f.ext
        from fresh f left join bumped b on b.id = f.conversation_id
      returning id, sender_id, client_msg_id, seq
    )
    select 0 as dup, id, sender_id, client_msg_id, seq from ins
    union all
    select 1 as dup, id, sender_id, client_msg_id, seq from existing`.execute(db);

  const inserted = new Map<string, { id: number; seq: number }>();
  const dupIds: number[] = [];
  for (const r of rows.rows) {
    if (Number(r.dup) === 0)
      inserted.set(key(Number(r.sender_id), r.client_msg_id), { id: Number(r.id), seq: Number(r.seq) });
    else dupIds.push(Number(r.id));
  }
  const stored = new Map<string, Message>();
  if (dupIds.length) {
    const found = await sql<StoredRow>`select * from messages where id = any(${dupIds}::bigint[])`.execute(db);
    for (const r of found.rows) stored.set(key(Number(r.sender_id), r.client_msg_id), toMessage(r));
  }
  const firsts = new Map<number, { message: Message; duplicate: boolean }>();
  for (const i of uniq) {
    const m = batch[i];
    const k = key(m.senderId, m.clientMsgId);
    const old = stored.get(k);
    if (old) {
      firsts.set(i, { message: old, duplicate: true });
      continue;
    }
    const row = inserted.get(k);
    if (!row) throw new Error("inserted message missing from RETURNING");
    firsts.set(i, {
      message: {
        id: row.id,
        conversationId: m.conversationId,
        seq: row.seq,
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
    });
  }
  // later occurrences of a (sender, client id) inside the batch point at the first
  return batch.map((m, i) => {
    const first = firsts.get(firstOf.get(key(m.senderId, m.clientMsgId)) as number);
    if (!first) throw new Error("duplicate without an original");
    return firstOf.get(key(m.senderId, m.clientMsgId)) === i ? first : { message: first.message, duplicate: true };
  });
}
