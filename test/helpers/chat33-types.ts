/** Wire shapes of the chat33 surface, as the tests read them. */
export type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };

/** Event 0: a message (success echo and delivery share this shape). */
export type MsgFrame = {
  eventType: number;
  msgId: string;
  channelType: number;
  fromId: string;
  targetId: string;
  datetime: number;
  logId: string;
  msgType: number;
  msg: Record<string, unknown>;
  senderInfo: { nickname: string; avatar: string };
  /** Parley extension: the conversation's gapless sequence number. */
  seq: number;
};

/** A `/friend/chatLog` entry. */
export type Log = MsgFrame & { remark: string; recalled?: number };
