import { AppError } from "../errors.ts";

/**
 * Bounds the password hashes (scrypt) running at once on this node: at most `size` run, at most
 * `maxQueue` wait; one more is refused at once with `rate_limited`/`login_busy` (the surface's
 * rate-limit answer) instead of queueing CPU and memory without bound. Hashing is per-node CPU,
 * so this pool is per node too.
 */
export class HashPool {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly size: number,
    private readonly maxQueue: number,
  ) {}

  /** Hashes running and waiting now. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) {
      if (this.waiting.length >= this.maxQueue)
        throw new AppError("rate_limited", "login_busy", "too many logins in progress, try again later");
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // the slot passes straight to the next waiter (active stays the same)
      if (next) next();
      else this.active--;
    }
  }
}
