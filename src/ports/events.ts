import type { Json } from "./hub.ts";

/** What an event must be to travel between nodes: a JSON object with a string `type`. */
export type EventShape = { type: string; [key: string]: Json };

/**
 * The events port: how the core tells live clients that something happened.
 *
 * Rules for callers (core services):
 * - Publish **after** the change the event reports has committed, never before or inside the
 *   transaction: a client that reacts to the event (e.g. fetches history) must find the change.
 * - Delivery is best effort and at most once per subscriber (the hub is pub/sub); the database is
 *   the truth and clients catch up from it. A rejected publish means "not delivered", not "not done".
 * - `topic` comes from `core/topics.ts` (the only place topic names are built); `event` is one of
 *   the core's typed events (`core/events.ts`), which surfaces render in their own wire formats.
 */
export interface EventPublisher<E extends EventShape = EventShape> {
  publish(topic: string, event: E): Promise<void>;
  /**
   * Called by a writer right after a commit, before the waiters of that commit resume (and
   * publish or answer). The composition root wires delivery-side hooks here — e.g. the realtime
   * layer corks every socket write of the burst that follows a group commit.
   */
  afterCommit(): void;
}
