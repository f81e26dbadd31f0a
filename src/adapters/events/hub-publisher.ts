import type { EventPublisher, EventShape } from "../../ports/events.ts";
import type { Hub } from "../../ports/hub.ts";

/**
 * The events port over the hub: a publish goes to every node subscribed to the topic (this one
 * included), where the realtime layer renders and delivers it. `afterCommit` runs the hooks the
 * composition root registered (none in the CLI, which has no sockets).
 */
export class HubEventPublisher<E extends EventShape = EventShape> implements EventPublisher<E> {
  private readonly hooks: Array<() => void> = [];

  constructor(private readonly hub: Pick<Hub, "publish">) {}

  publish(topic: string, event: E): Promise<void> {
    return this.hub.publish(topic, event);
  }

  /** Registers a hook run by `afterCommit` (composition root only). */
  onAfterCommit(hook: () => void): void {
    this.hooks.push(hook);
  }

  afterCommit(): void {
    for (const hook of this.hooks) hook();
  }
}
