import { randomUUID } from "node:crypto";
import type { Json } from "../../ports/hub.ts";
import type { ConversationKind, User } from "../../ports/storage.ts";
import { AppError, invalid, notFound } from "../errors.ts";
import type { GroupService } from "../groups/group-service.ts";
import { canonicalContent, contentOrThrow, type MessageContent } from "./content.ts";
import type { MessageService, MessageView } from "./message-service.ts";

/** Most messages one forward carries, and most targets of each kind (docs/chat33.md "Forwarding"). */
export const FORWARD_MAX_LOGS = 50;
export const FORWARD_MAX_TARGETS = 50;

export interface ForwardInput {
  /** Where the messages come from: a group, or the direct conversation with a friend. */
  source: { kind: "group" | "direct"; id: number };
  /** 1 one by one (each keeps its kind), 2 merged into one `forward` message. */
  mode: "single" | "merge";
  logIds: readonly number[];
  groups: readonly number[];
  users: readonly number[];
  /** The surface's number for a kind, written into merged entries as `msgType`. */
  msgTypeOf: (kind: MessageView["kind"]) => number;
}

export interface ForwardResult {
  roomFails: number[];
  userFails: number[];
}

/**
 * Forwarding (chat33 `/chat33/forward`, as its later server has it). The messages must all be
 * visible to the actor and belong to the source conversation; every copy is then an ordinary send
 * by the actor through `MessageService.send`, so each target gets the checks of sending
 * (friendship or colleague, blocks, group membership and mutes, the rate limit). A target that
 * refuses is listed in the result, the others still receive.
 */
export class ForwardService {
  constructor(
    private readonly messages: MessageService,
    private readonly groups: GroupService,
  ) {}

  async forward(actor: User, input: ForwardInput): Promise<ForwardResult> {
    if (!input.logIds.length || input.logIds.length > FORWARD_MAX_LOGS)
      throw invalid("bad_forward", `forward 1 to ${FORWARD_MAX_LOGS} messages`);
    if (input.groups.length > FORWARD_MAX_TARGETS || input.users.length > FORWARD_MAX_TARGETS)
      throw invalid("bad_forward", `at most ${FORWARD_MAX_TARGETS} groups and ${FORWARD_MAX_TARGETS} users`);
    const { name: fromName, conversationId } = await this.source(actor, input.source);
    const views: MessageView[] = [];
    for (const logId of input.logIds) {
      const { message, conv } = await this.messages.visibleMessage(actor, logId);
      if (conv.id !== conversationId || message.recalledAt !== null || message.snap)
        throw notFound("message_not_found", "message not found");
      views.push(await this.messages.viewWithSender(message, conv));
    }
    const channelType = input.source.kind === "group" ? 2 : 3;
    const fromId = String(input.source.id);
    const contents: MessageContent[] =
      input.mode === "single"
        ? views.map((v) => single(v, channelType, fromId, fromName))
        : [merged(views, channelType, fromId, fromName, actor.nickname, input.msgTypeOf)];
    const send = async (kind: ConversationKind, target: number): Promise<boolean> => {
      try {
        for (const content of contents)
          await this.messages.send(
            kind,
            actor,
            target,
            { clientMsgId: `fwd:${randomUUID()}`, content },
            { systemKinds: content.kind === "forward" },
          );
        return true;
      } catch (e) {
        if (e instanceof AppError) return false;
        throw e;
      }
    };
    const roomFails: number[] = [];
    const userFails: number[] = [];
    for (const g of input.groups) if (!(await send("group", g))) roomFails.push(g);
    for (const u of input.users) if (!(await send("direct", u))) userFails.push(u);
    return { roomFails, userFails };
  }

  /** The source conversation (the actor must read it) and its name as the forward shows it. */
  private async source(actor: User, s: ForwardInput["source"]): Promise<{ name: string; conversationId: number }> {
    if (s.kind === "group") {
      const group = await this.groups.requireMemberOf(actor, s.id);
      return { name: group.name, conversationId: group.conversationId };
    }
    const conv = await this.messages.findDirect(actor.id, s.id);
    if (!conv) throw notFound("message_not_found", "message not found");
    const peer = await this.messages.direct.peer(actor, s.id);
    return { name: peer.nickname, conversationId: conv.id };
  }
}

/** One message forwarded as itself, marked `forwardType 1` with where it came from. */
function single(v: MessageView, channelType: number, fromId: string, fromName: string): MessageContent {
  // announcements and notices travel as text (only administrators post those kinds)
  const kind = v.kind === "system" || v.kind === "notice" ? "text" : v.kind;
  const value: { [key: string]: Json } = { ...v.content, forwardType: 1, channelType, fromId, fromName };
  const r = canonicalContent(kind, value);
  if ("problem" in r) throw invalid("bad_content", r.problem.text);
  return r.content;
}

/** Several messages merged into one `forward` message (`forwardType 2`, chat33 msgType 8). */
function merged(
  views: readonly MessageView[],
  channelType: number,
  fromId: string,
  fromName: string,
  forwardUserName: string,
  msgTypeOf: (kind: MessageView["kind"]) => number,
): MessageContent {
  const data = views.map((v) => ({
    logId: v.logId,
    fromId: String(v.fromId),
    datetime: v.datetime,
    msgType: msgTypeOf(v.kind),
    // a forward inside a forward is carried without its content (no unbounded growth)
    msg: v.kind === "forward" ? {} : v.content,
    senderInfo: v.senderInfo,
  }));
  return contentOrThrow("forward", { forwardType: 2, channelType, fromId, fromName, forwardUserName, data });
}
