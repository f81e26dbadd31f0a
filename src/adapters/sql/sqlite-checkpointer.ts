import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type SQLite from "better-sqlite3";
import type { Logger } from "pino";

/**
 * The checkpointer thread's code (CommonJS, evaluated in a worker). It opens its own connection to
 * the database file and runs `PRAGMA wal_checkpoint(PASSIVE)` when the main thread signals a
 * commit (shared word 1), at most once per `minGapMs`, and on a timer that backs off to
 * `maxDelayMs` while nothing changes (writes that do not signal). A passive checkpoint never takes
 * the write lock: the main thread goes on committing while pages are copied back and the database
 * file is fsynced here. Run soon after a commit it usually finishes before the next one begins, so
 * that one starts the WAL from the top again. The gap exists because a checkpoint after every
 * commit made each commit of a slow, steady stream wait: with one chat-room message in flight
 * (≈ 100 commits/s) the main thread spent 0.88 ms per commit inside COMMIT, 0.31 ms with the
 * checkpoints 50 ms apart (bench/rooms.ts --window=1, CPU profiles, 2026-12-02). Only if the WAL still grows past `restartFrames` does this thread take the write
 * lock for a moment (never waiting for it) with `wal_checkpoint(RESTART)`: measured, doing that
 * often makes the main thread sleep in SQLite's busy handler.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const SQLite = require(workerData.modulePath);
const shared = new Int32Array(workerData.shared);
let db;
try {
  db = new SQLite(workerData.file);
  db.pragma("busy_timeout = 0");
  parentPort.postMessage({ type: "ready" });
  let delay = workerData.maxDelayMs;
  let last = "";
  while (Atomics.load(shared, 0) === 0) {
    const commits = Atomics.load(shared, 1);
    const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
    if (r.log > workerData.restartFrames && r.checkpointed === r.log) db.pragma("wal_checkpoint(RESTART)");
    const now = r.log + ":" + r.checkpointed;
    if (now !== last) { last = now; delay = 1; } else delay = Math.min(delay * 2, workerData.maxDelayMs);
    // at most one checkpoint per gap (the stop flag, word 0, ends the wait at once)
    Atomics.wait(shared, 0, 0, workerData.minGapMs);
    Atomics.wait(shared, 1, commits, delay);
  }
} catch (err) {
  parentPort.postMessage({ type: "error", message: String(err && err.message || err) });
} finally {
  try { if (db) db.close(); } catch {}
}
`;

/**
 * Moves SQLite's WAL checkpoints off the event loop (measured in bench/messages.ts: with SQLite's
 * automatic checkpoints every commit that crosses ~4 MiB of WAL copies pages and fsyncs on the
 * main thread; here the same work runs on the machine's other core). The main connection's
 * automatic checkpoints are switched off only once the thread is running, and switched back on if
 * it fails, so the WAL is always checkpointed by somebody.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  /** [0]: stop flag, [1]: commit counter (the thread waits on it). */
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private readonly exited: Promise<void>;
  private closing = false;
  private failed = false;
  /** Resolves once the thread checkpoints (true) or it failed to start (false). */
  readonly ready: Promise<boolean>;

  constructor(
    private readonly db: SQLite.Database,
    file: string,
    private readonly log?: Logger,
    maxDelayMs = 100,
    restartFrames = 16384,
    minGapMs = 50,
  ) {
    // A WAL that grew during a burst is cut back to this size once it has been checkpointed.
    db.pragma("journal_size_limit = 67108864");
    const modulePath = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath, file, shared: this.shared.buffer, maxDelayMs, restartFrames, minGapMs },
    });
    this.worker.unref();
    let settle: (ok: boolean) => void = () => {};
    this.ready = new Promise((resolve) => {
      settle = resolve;
    });
    this.worker.on("message", (m: { type: string; message?: string }) => {
      if (m.type === "ready") {
        if (db.open && !this.closing) db.pragma("wal_autocheckpoint = 0");
        settle(true);
      } else if (m.type === "error") {
        this.fallBack(m.message ?? "unknown error");
        settle(false);
      }
    });
    this.worker.on("error", (err) => {
      this.fallBack(err.message);
      settle(false);
    });
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        if (!this.closing) this.fallBack(`thread exited (${code})`);
        settle(false);
        resolve();
      }),
    );
  }

  private fallBack(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.log?.error({ reason }, "SQLite checkpointer thread failed; checkpointing on the main thread again");
    try {
      if (this.db.open) this.db.pragma("wal_autocheckpoint = 1000");
    } catch {
      // the connection is closing
    }
  }

  /** Wakes the thread: a transaction just committed (called by the message writer). */
  committed(): void {
    Atomics.add(this.shared, 1, 1);
    Atomics.notify(this.shared, 1);
  }

  /** Stops the thread and waits until its connection is closed (before the main one closes). */
  async close(): Promise<void> {
    this.closing = true;
    Atomics.store(this.shared, 0, 1);
    Atomics.notify(this.shared, 0);
    Atomics.add(this.shared, 1, 1);
    Atomics.notify(this.shared, 1);
    // Unreferenced so that it never keeps a process alive; referenced while we wait for it.
    this.worker.ref();
    await this.exited;
  }
}
