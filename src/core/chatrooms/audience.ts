import type { Logger } from "pino";
import type { Presence } from "../../ports/hub.ts";
import { chatroomGuestsSet, chatroomUsersSet } from "../topics.ts";

/** Who a connection in a room is: a logged-in user, or a guest by its `uuid`. */
export type AudienceMember = { userId: number } | { guest: string };

const memberKey = (m: AudienceMember) => ("userId" in m ? `u:${m.userId}` : `g:${m.guest}`);
const setOf = (roomId: number, m: AudienceMember) =>
  "userId" in m ? chatroomUsersSet(roomId) : chatroomGuestsSet(roomId);

/**
 * The ephemeral audience of chat rooms, exact across nodes. Each node counts its own connections
 * per (room, person) and contributes the person to the room's presence set (hub presence:
 * memory or Redis) once, on the first connection, removing it with the last. The cluster-wide
 * count is the union of the nodes' sets: a person with two devices — on one node or on two —
 * counts once; guests are counted in their own set by uuid; a dead node's members vanish with
 * its heartbeat (ports/hub.ts `Presence`).
 */
export class ChatroomAudience {
  /** room id → person key → this node's connections of that person in the room. */
  private readonly local = new Map<number, Map<string, number>>();

  constructor(
    private readonly presence: Presence,
    private readonly log: Logger,
  ) {}

  /** One more connection of `member` in `roomId` on this node. */
  async join(roomId: number, member: AudienceMember): Promise<void> {
    const key = memberKey(member);
    let room = this.local.get(roomId);
    if (!room) {
      room = new Map();
      this.local.set(roomId, room);
    }
    const n = room.get(key) ?? 0;
    room.set(key, n + 1);
    if (n === 0) await this.serial(roomId, key, () => this.presence.add(setOf(roomId, member), key));
  }

  /**
   * Presence changes of one (room, person) run in order, so a leave that follows a join can never
   * reach the set before it (which would leave a ghost member).
   */
  private serial(roomId: number, key: string, op: () => Promise<void>): Promise<void> {
    const k = `${roomId}\u0000${key}`;
    const next = (this.pending.get(k) ?? Promise.resolve()).then(op);
    const settled = next.catch(() => {});
    this.pending.set(k, settled);
    void settled.then(() => {
      if (this.pending.get(k) === settled) this.pending.delete(k);
    });
    return next;
  }
  private readonly pending = new Map<string, Promise<void>>();

  /** One connection of `member` left `roomId` (leave, close, kick, room deleted). */
  async leave(roomId: number, member: AudienceMember): Promise<void> {
    const key = memberKey(member);
    const room = this.local.get(roomId);
    const n = room?.get(key) ?? 0;
    if (!room || n === 0) return;
    if (n > 1) {
      room.set(key, n - 1);
      return;
    }
    room.delete(key);
    if (room.size === 0) this.local.delete(roomId);
    await this.serial(roomId, key, () => this.presence.remove(setOf(roomId, member), key)).catch((err: unknown) => {
      this.log.warn({ err, roomId }, "chat-room presence remove failed");
    });
  }

  /** Whether `member` has a connection in the room on this node (a sender's own node). */
  presentHere(roomId: number, member: AudienceMember): boolean {
    return (this.local.get(roomId)?.get(memberKey(member)) ?? 0) > 0;
  }

  /**
   * The room's live audience over the cluster: people (users once each) and guests. The union of
   * the nodes' sets, deduplicated (a person connected to two nodes is in both nodes' sets), so it
   * reads every member: O(audience) per call.
   */
  async counts(roomId: number): Promise<{ users: number; guests: number }> {
    const [users, guests] = await Promise.all([
      this.presence.members(chatroomUsersSet(roomId)),
      this.presence.members(chatroomGuestsSet(roomId)),
    ]);
    return { users: new Set(users).size, guests: new Set(guests).size };
  }

  /** Who is in the room over the cluster: user ids (once each) and guest uuids. O(audience). */
  async members(roomId: number): Promise<{ userIds: number[]; guests: string[] }> {
    const [users, guests] = await Promise.all([
      this.presence.members(chatroomUsersSet(roomId)),
      this.presence.members(chatroomGuestsSet(roomId)),
    ]);
    return {
      userIds: [...new Set(users)].map((k) => Number(k.slice(2))).filter(Number.isSafeInteger),
      guests: [...new Set(guests)].map((k) => k.slice(2)),
    };
  }
}
