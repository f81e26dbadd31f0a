import type { Message, MessageRepo, NewMessage } from "../../ports/storage.ts";

interface Pending {
  msg: NewMessage;
  resolve: (r: { message: Message; duplicate: boolean }) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: every message submitted during one event-loop turn (e.g. all the frames that
 * arrived in one poll) — and while a transaction is in flight — is written by one transaction of
 * up to `maxBatch` messages. The flush runs in `setImmediate`, right after the current turn, so an
 * idle writer adds microseconds, not a timer's worth. Every promise resolves only after its
 * transaction committed — an ack never precedes its commit.
 *
 * One message never fails another's: when a batch's transaction fails (it rolled back as a whole),
 * the batch is split in halves and each half written again, down to single messages, so only the
 * message that fails on its own is rejected — with one culprit in a batch of n that costs about
 * 2·log2(n) extra transactions, and the others still commit in input order. (Content arrives
 * already validated and serialised — `NewMessage.contentJson` — so a failure here is a storage
 * failure: a vanished conversation, a constraint, the database being down.)
 */
export class BatchWriter {
  private queue: Pending[] = [];
  private running = false;

  constructor(
    private readonly repo: MessageRepo,
    private readonly maxBatch = 512,
    /** Called before a committed batch's promises settle (MessageService coalesces the acks' writes). */
    private readonly beforeSettle: () => void = () => {},
  ) {}

  submit(msg: NewMessage): Promise<{ message: Message; duplicate: boolean }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length) {
        await this.write(this.queue.splice(0, this.maxBatch));
      }
    } finally {
      this.running = false;
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
