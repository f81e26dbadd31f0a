import type { GroupService } from "../core/groups/group-service.ts";
import { groupTopic } from "../core/topics.ts";
import type { Connection } from "../realtime/connection.ts";
import type { Realtime, RealtimeEvent } from "../realtime/realtime.ts";

/**
 * Keeps a user's socket subscribed to the topics of exactly the groups the user is in, for every
 * surface whose sockets receive group messages (chat33 channelType 2, enterprise 1101):
 * - at open, after the user topic is subscribed, the user's groups are loaded and subscribed
 *   (reloaded if a join or leave event arrived meanwhile);
 * - the user's own join (event 20, on the user topic) subscribes, a leave, kick or dissolution
 *   (on the group topic, which every device of the member receives on every node) unsubscribes —
 *   so a removed member stops receiving the group at once;
 * - each subscription counts the user as online in the group (event 24), until it ends.
 */
export class GroupSubscriptions {
  constructor(
    private readonly realtime: Realtime,
    private readonly groups: GroupService,
  ) {}

  /** Per-connection state to keep in the surface's socket state. */
  static empty(): GroupSocketState {
    return { joined: new Set(), epoch: 0 };
  }

  /** Subscribes the connection of `userId` to all its groups. */
  async open(conn: Connection, userId: number, st: GroupSocketState): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const epoch = st.epoch;
      const ids = await this.groups.groupIdsOf(userId);
      if (conn.closing) return;
      if (st.epoch !== epoch) continue; // a join/leave arrived while loading: load again
      await Promise.all(ids.map((id) => this.join(conn, userId, st, id)));
      return;
    }
  }

  private async join(conn: Connection, userId: number, st: GroupSocketState, groupId: number): Promise<void> {
    if (st.joined.has(groupId) || conn.closing) return;
    st.joined.add(groupId);
    this.groups.socketJoined(groupId, userId);
    await this.realtime.subscribe(conn, groupTopic(groupId));
  }

  private leave(conn: Connection, userId: number, st: GroupSocketState, groupId: number): void {
    if (!st.joined.delete(groupId)) return;
    this.realtime.unsubscribe(conn, groupTopic(groupId));
    this.groups.socketLeft(groupId, userId);
  }

  /** Reacts to group membership events after their frame was sent. */
  onEvent(conn: Connection, userId: number, st: GroupSocketState, event: RealtimeEvent): void {
    switch (event.type) {
      case "group.joined":
        if (event.userId !== userId) return;
        st.epoch++;
        this.join(conn, userId, st, Number(event.groupId)).catch(() => {});
        return;
      case "group.left":
        if (event.userId !== userId) return;
        st.epoch++;
        this.leave(conn, userId, st, Number(event.groupId));
        return;
      case "group.dissolved":
        st.epoch++;
        this.leave(conn, userId, st, Number(event.groupId));
        return;
      default:
        return;
    }
  }

  /** The socket closed: it is no longer online in any group. */
  closed(userId: number, st: GroupSocketState): void {
    for (const id of st.joined) this.groups.socketLeft(id, userId);
    st.joined.clear();
  }
}

export interface GroupSocketState {
  joined: Set<number>;
  /** Bumped by every membership event, so a load racing one is retried. */
  epoch: number;
}
