import type { Group, GroupMember } from "../../ports/groups.ts";
import type { Conversation, User } from "../../ports/storage.ts";
import { forbidden } from "../errors.ts";
import type { ConversationDirectory, ConversationPolicy } from "../messages/policy.ts";
import { groupTopic } from "../topics.ts";
import { isManager, notMember, speakProblem } from "./policy.ts";

/** The group id of a group conversation (`g:<id>`). */
export const groupIdOf = (conv: Conversation): number => Number(conv.key.slice(2));

/** What the policy needs of the group module: a group and its members, from the per-node cache. */
export interface GroupLookup {
  live(groupId: number): Promise<{ group: Group; members: Map<number, GroupMember> } | null>;
}

/**
 * The `group` conversation policy (core Group = chat33 room, enterprise 1101), plugged into the
 * shared message pipeline (core/messages/policy.ts):
 * - send: members only (`group_not_found`, chat33 -3001: a non-member cannot tell whether the
 *   group exists); a member mute or mute-all applies to plain members (`user_muted`, -2007);
 * - read: members (history, recall, delete, read cursors);
 * - moderate: the owner and admins recall or delete anyone's message, at any time;
 * - topics: the group's topic, which every member's sockets subscribe to — one publication per
 *   event whatever the group's size; read-cursor moves go nowhere (receipts are coalesced by
 *   GroupService).
 * Membership comes from GroupService's per-node cache: a send reads no membership from storage.
 */
export class GroupPolicy implements ConversationPolicy {
  readonly kind = "group" as const;

  constructor(
    private readonly groups: GroupLookup,
    private readonly directory: ConversationDirectory,
  ) {}

  async conversationFor(sender: User, groupId: number): Promise<Conversation> {
    const s = await this.groups.live(groupId);
    const me = s?.members.get(sender.id);
    if (!s || !me) throw notMember();
    if (speakProblem(s.group, me, Date.now())) throw forbidden("user_muted", "you are muted in this group");
    // created with the group (same transaction): this finds it, then serves it from the cache
    return this.directory.ensure(`g:${groupId}`, { kind: "group", userA: null, userB: null, createdAt: Date.now() });
  }

  async canRead(userId: number, conv: Conversation): Promise<boolean> {
    return (await this.groups.live(groupIdOf(conv)))?.members.has(userId) ?? false;
  }

  async canModerate(userId: number, conv: Conversation): Promise<boolean> {
    return isManager((await this.groups.live(groupIdOf(conv)))?.members.get(userId) ?? null);
  }

  topics(conv: Conversation): string[] {
    return [groupTopic(groupIdOf(conv))];
  }

  readTopics(): string[] {
    return [];
  }

  targetId(conv: Conversation): number {
    return groupIdOf(conv);
  }
}
