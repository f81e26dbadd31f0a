import type { User } from "../../ports/storage.ts";
import { contentOrThrow } from "../messages/content.ts";
import type { MessageService } from "../messages/message-service.ts";

/**
 * The notices chat33's later server posts into a direct conversation about the friendship itself
 * (a notice message, chat33 msgType 6, with its `type` code): both users see them in the chat.
 */

/** A request was accepted: "你们已经成为好友了" (type 13), from the user who accepted. */
export function noticeBecameFriends(messages: MessageService, accepter: User, requester: User) {
  return messages.postDirectNotice(
    accepter,
    requester.id,
    contentOrThrow("notice", {
      type: 13,
      operator: String(accepter.id),
      name: accepter.nickname,
      target: String(requester.id),
      targetName: requester.nickname,
      content: "你们已经成为好友了",
    }),
  );
}

/** A friendship ended: "对方已经和你解除好友关系" (type 8), from the user who ended it. */
export function noticeUnfriended(messages: MessageService, actor: User, friendId: number) {
  return messages.postDirectNotice(
    actor,
    friendId,
    contentOrThrow("notice", {
      type: 8,
      operator: String(actor.id),
      target: String(friendId),
      content: "对方已经和你解除好友关系",
    }),
  );
}
