import type { Conversation, ConversationKind, User } from "../../ports/storage.ts";
import type { UserCache } from "../accounts/user-cache.ts";
import { forbidden, invalid, notFound } from "../errors.ts";
import type { FriendService } from "../friends/friend-service.ts";
import { userTopic } from "../topics.ts";

/**
 * The rules of one conversation kind (`direct`, `group`, `chatroom`): who may send, who may read,
 * which topics receive. `MessageService` runs the same pipeline for every kind — per-user rate
 * limit, admin-only kinds, user mute, idempotent retry, group-committed write, publication after
 * commit — and asks the kind's policy only these questions. A new kind is one new policy, given
 * to `MessageService.registerPolicy`; nothing else in the pipeline changes.
 *
 * Contract:
 * - every method answers for the conversation kind `kind` only;
 * - refusals are `AppError`s (core/errors.ts) with a reason each surface maps; something the
 *   actor may not see is "not found", never "forbidden";
 * - `conversationFor` runs on every send, so it should cost at most a couple of cached lookups
 *   (it may create the conversation: `ensure` is idempotent and cached by key);
 * - `canRead` is asked for history, gap fetches, read cursors, recall and delete;
 * - `topics` lists every topic whose subscribers must receive the conversation's events
 *   (new message, recall/delete, read); a surface renders the event for its own sockets.
 *
 * See docs/ARCHITECTURE.md "Message pipeline" for a `group` policy sketched on this interface.
 */
export interface ConversationPolicy {
  readonly kind: ConversationKind;
  /**
   * Who may send: the conversation `sender` addresses as `targetId` (direct: the peer's user id;
   * group: the group id; chat room: the room id), created when the kind allows it — or the
   * AppError that says why not (not a friend, not a member, the group is muted…).
   */
  conversationFor(sender: User, targetId: number): Promise<Conversation>;
  /** Who may read: may `userId` see this conversation and its messages? */
  canRead(userId: number, conv: Conversation): boolean | Promise<boolean>;
  /** Which topics receive the conversation's events. */
  topics(conv: Conversation): string[] | Promise<string[]>;
  /** The `targetId` a surface shows for a message of `senderId` (direct: the other user; else the group/room id). */
  targetId(conv: Conversation, senderId: number): number;
  /**
   * Optional: may `userId` recall or delete other people's messages here, at any time (a group's
   * owner and admins)? Without it, only senders do, within the recall window.
   */
  canModerate?(userId: number, conv: Conversation): boolean | Promise<boolean>;
  /**
   * Optional: the topics told when `readerId`'s read cursor moves (default: `topics`). A group
   * tells nobody here — its read receipts are counted and coalesced by the group module.
   */
  readTopics?(conv: Conversation, readerId: number): string[] | Promise<string[]>;
}

/** What a policy may use of the pipeline: conversations by key, created on first use and cached. */
export interface ConversationDirectory {
  ensure(key: string, fields: Omit<Conversation, "id" | "lastSeq" | "lastMessageAt" | "key">): Promise<Conversation>;
}

export const directKey = (a: number, b: number) => (a < b ? `d:${a}:${b}` : `d:${b}:${a}`);

/**
 * Direct conversations (SPEC §2): friends, and colleagues of the same company, may talk; the two
 * participants read; both users' topics receive.
 */
export class DirectPolicy implements ConversationPolicy {
  readonly kind = "direct" as const;

  constructor(
    private readonly users: UserCache,
    private readonly friends: FriendService,
    private readonly directory: ConversationDirectory,
  ) {}

  /** SPEC §2: friends, and colleagues of the same company, may talk directly. */
  async canTalk(a: User, b: User): Promise<boolean> {
    if (a.companyId !== null && a.companyId === b.companyId) return true;
    return (await this.friends.relation(a.id, b.id)).friends;
  }

  /** The other user of a direct conversation, or the AppError a surface answers. */
  async peer(actor: User, peerId: number): Promise<User> {
    if (peerId === actor.id) throw invalid("self_operation", "cannot message yourself");
    const peer = await this.users.get(peerId);
    if (!peer) throw notFound("user_not_found", "user does not exist");
    return peer;
  }

  async conversationFor(sender: User, peerId: number): Promise<Conversation> {
    const peer = await this.peer(sender, peerId);
    // one cached answer per pair (FriendService.relation): friendship and blocks, no storage read
    const relation = await this.friends.relation(sender.id, peer.id);
    const colleagues = sender.companyId !== null && sender.companyId === peer.companyId;
    if (!colleagues && !relation.friends) throw forbidden("not_friends", "not your friend");
    if (peer.id < sender.id ? relation.lowBlocksHigh : relation.highBlocksLow)
      throw forbidden("friend_blocked", "the user does not accept your messages");
    return this.directory.ensure(directKey(sender.id, peer.id), {
      kind: "direct",
      userA: Math.min(sender.id, peer.id),
      userB: Math.max(sender.id, peer.id),
      createdAt: Date.now(),
    });
  }

  canRead(userId: number, conv: Conversation): boolean {
    return conv.kind === "direct" && (conv.userA === userId || conv.userB === userId);
  }

  topics(conv: Conversation): string[] {
    return this.participants(conv).map(userTopic);
  }

  targetId(conv: Conversation, senderId: number): number {
    return conv.userA === senderId ? (conv.userB as number) : (conv.userA as number);
  }

  participants(conv: Conversation): number[] {
    return [conv.userA as number, conv.userB as number];
  }
}
