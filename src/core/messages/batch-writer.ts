import type { Message, MessageRepo, NewMessage } from "../../ports/storage.ts";

interface Pending {
  msg: NewMessage;
  resolve: (r: { message: Message; duplicate: boolean }) => void;
  reject: (e: unknown) => void;
}

/** One writer lane: its own queue and at most one transaction of its own in flight. */
interface Lane {
  queue: Pending[];
  running: boolean;
}

/**
 * Group commit: every message submitted during one event-loop turn (e.g. all the frames that
 * arrived in one poll) — and while a transaction is in flight — is written by one transaction of
 * up to `maxBatch` messages. The flush runs in `setImmediate`, right after the current turn, so an
 * idle writer adds microseconds, not a timer's worth. Every promise resolves only after its
 * transaction committed — an ack never precedes its commit.
 *
 * Lanes (`lanes` > 1, PostgreSQL: `messages.writeLanes`): conversations are partitioned over
 * `lanes` independent writers by `conversationId % lanes`, each with its own queue and its own
 * transaction in flight, so up to `lanes` batch transactions run at once on separate pool
 * connections (one waits for its commit's WAL flush while the next is built and sent). One
 * conversation is always in one lane and a lane writes its batches one after the other in
 * submission order, so each conversation's seq stays gapless and in submission order, and no two
 * lanes of this node ever lock the same conversation row. Commits of different conversations may
 * complete out of submission order (as they already do between the nodes of a cluster). SQLite has
 * one writer: it always runs one lane.
 *
 * One message never fails another's: when a batch's transaction fails (it rolled back as a whole),
 * the batch is split in halves and each half written again, down to single messages, so only the
 * message that fails on its own is rejected — with one culprit in a batch of n that costs about
 * 2·log2(n) extra transactions, and the others still commit in input order. (Content arrives
 * already validated and serialised — `NewMessage.contentJson` — so a failure here is a storage
 * failure: a vanished conversation, a constraint, the database being down.)
 */
export class BatchWriter {
  private readonly lanes: Lane[];

  constructor(
    private readonly repo: MessageRepo,
    private readonly maxBatch = 512,
    /** Called before a committed batch's promises settle (MessageService coalesces the acks' writes). */
    private readonly beforeSettle: () => void = () => {},
    lanes = 1,
  ) {
    const n = Number.isSafeInteger(lanes) && lanes > 1 ? lanes : 1;
    this.lanes = Array.from({ length: n }, () => ({ queue: [], running: false }));
  }

  /** How many lanes this writer runs (1 = one transaction in flight at a time). */
  get laneCount(): number {
    return this.lanes.length;
  }

  submit(msg: NewMessage): Promise<{ message: Message; duplicate: boolean }> {
    const n = this.lanes.length;
    const lane = n === 1 ? this.lanes[0] : this.lanes[((msg.conversationId % n) + n) % n];
    return new Promise((resolve, reject) => {
      lane.queue.push({ msg, resolve, reject });
      if (!lane.running) {
        lane.running = true;
        setImmediate(() => void this.run(lane));
      }
    });
  }

  private async run(lane: Lane): Promise<void> {
    try {
      while (lane.queue.length) {
        await this.write(lane.queue.splice(0, this.maxBatch));
      }
    } finally {
      lane.running = false;
    }
  }

  /** Writes `batch` in one transaction; on failure, each half again (see the class comment). */
  private async write(batch: Pending[]): Promise<void> {
    let results: Array<{ message: Message; duplicate: boolean }>;
    try {
      results = await this.repo.appendBatch(batch.map((p) => p.msg));
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      const half = batch.length >>> 1;
      await this.write(batch.slice(0, half));
      await this.write(batch.slice(half));
      return;
    }
    try {
      this.beforeSettle();
    } finally {
      // committed: every promise of the batch resolves, whatever the hook did
      for (const [i, p] of batch.entries()) p.resolve(results[i]);
    }
  }
}
