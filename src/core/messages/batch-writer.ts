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
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.repo.appendBatch(batch.map((p) => p.msg));
          this.beforeSettle();
          for (const [i, p] of batch.entries()) p.resolve(results[i]);
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
