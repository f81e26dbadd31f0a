import type { Chatroom } from "../../ports/chatrooms.ts";
import type { Conversation, User } from "../../ports/storage.ts";
import { forbidden, notFound } from "../errors.ts";
import type { ConversationDirectory, ConversationPolicy } from "../messages/policy.ts";
import { chatroomTopic } from "../topics.ts";
import type { ChatroomAudience } from "./audience.ts";

export const chatroomKey = (roomId: number) => `c:${roomId}`;

/** The room id of a chat-room conversation (key `c:<roomId>`). */
export const roomIdOf = (conv: Conversation): number => Number(conv.key.slice(2));

/** What the policy asks of the rooms: the room and its mutes/blacklist (ChatroomService). */
export interface ChatroomRules {
  /** The room (null: none), as a send sees it: from the per-node send cache. */
  roomForSend(roomId: number): Promise<Chatroom | null>;
  /** The AppError why `user` may not speak in the open room now (muted, blacklisted), or null. */
  speakProblem(room: Chatroom, user: User): Promise<Error | null>;
}

/**
 * Chat rooms in the message pipeline (SPEC §3.6: live-only delivery, history kept with retention):
 * a logged-in user who is in the room's audience — through a connection on this node, the one the
 * send arrived on — may send while the room is open and they are not muted or blacklisted;
 * anyone may read the history (guests too, issue 12 item 6); the room's topic receives.
 */
export class ChatroomPolicy implements ConversationPolicy {
  readonly kind = "chatroom" as const;

  constructor(
    private readonly rules: ChatroomRules,
    private readonly audience: ChatroomAudience,
    private readonly directory: ConversationDirectory,
  ) {}

  async conversationFor(sender: User, roomId: number): Promise<Conversation> {
    const room = await this.rules.roomForSend(roomId);
    if (!room || room.status === "deleted") throw notFound("chatroom_not_found", "chat room does not exist");
    if (!this.audience.presentHere(room.id, { userId: sender.id }))
      throw forbidden("chatroom_not_joined", "join the chat room first");
    if (room.status === "closed") throw forbidden("chatroom_closed", "the chat room is closed");
    const problem = await this.rules.speakProblem(room, sender);
    if (problem) throw problem;
    return this.directory.ensure(chatroomKey(room.id), {
      kind: "chatroom",
      userA: null,
      userB: null,
      createdAt: Date.now(),
    });
  }

  canRead(_userId: number, conv: Conversation): boolean {
    return conv.kind === "chatroom";
  }

  topics(conv: Conversation): string[] {
    return [chatroomTopic(roomIdOf(conv))];
  }

  targetId(conv: Conversation): number {
    return roomIdOf(conv);
  }
}
