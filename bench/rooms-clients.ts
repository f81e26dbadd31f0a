// Chat-room members for bench/rooms.ts, one implementation per target: how a member connects and
// joins the room, how the sender says something, and where a bench message's send time is.
// A bench message's text is `pbm|<send time ms>|<seq>|<pad>`; the send time is
// `performance.timeOrigin + performance.now()` of the sender (one machine: one clock).
import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { LiteWs } from "./lib/lite-ws.ts";

export type RoomTarget = "parley" | "raw" | "socketio" | "ejabberd" | "parley-member";
export const ROOM_TARGETS: readonly RoomTarget[] = ["parley", "raw", "socketio", "ejabberd"];

export const MUC = "conference.localhost";
const PAD = "parley-room-bench-0123456789abcdef";
const MARK = Buffer.from("pbm|");

export const benchText = (seq: number): string => `pbm|${performance.timeOrigin + performance.now()}|${seq}|${PAD}`;
export const clock = (): number => performance.timeOrigin + performance.now();

/** The send time in a received frame (Buffer or string), or NaN when it is not a bench message. */
export function sentAt(data: Buffer | string): number {
  const s = typeof data === "string" ? data : null;
  const i = s !== null ? s.indexOf("pbm|") : (data as Buffer).indexOf(MARK);
  if (i < 0) return Number.NaN;
  const tail = s !== null ? s.slice(i + 4, i + 40) : (data as Buffer).toString("latin1", i + 4, i + 40);
  return Number.parseFloat(tail.slice(0, tail.indexOf("|")));
}

/** The send time in `buf[start, end)`, or NaN when it is not a bench message. */
export function sentAtIn(buf: Buffer, start: number, end: number): number {
  const i = buf.indexOf(MARK, start);
  if (i < 0 || i + 4 > end) return Number.NaN;
  const tail = buf.toString("latin1", i + 4, Math.min(end, i + 40));
  return Number.parseFloat(tail.slice(0, tail.indexOf("|")));
}

/**
 * Which WebSocket client the members use: `lite` (bench/lib/lite-ws.ts, the default: a member
 * costs its load generator a fraction of what a `ws` client does) or `ws` (the `ws` library, as
 * before 2026-12-02). Set by `bench/rooms.ts --client=…` through the environment of its children.
 */
export type WsClient = "lite" | "ws";
export const wsClient = (): WsClient => (process.env.BENCH_WS_CLIENT === "ws" ? "ws" : "lite");

/** A member's socket, whichever client carries it. */
interface Sock {
  send(text: string): void;
  terminate(): void;
}

interface SockOptions {
  port: number;
  path: string;
  headers?: Record<string, string>;
  protocol?: string;
  onOpen: () => void;
  /** A message: `buf[start, end)`, valid only during the call. */
  onMessage: (buf: Buffer, start: number, end: number) => void;
  onError: (e: Error) => void;
}

function openSock(o: SockOptions): Sock {
  if (wsClient() === "lite") {
    let opened = false;
    return new LiteWs({
      port: o.port,
      path: o.path,
      headers: o.headers,
      protocol: o.protocol,
      onOpen: () => {
        opened = true;
        o.onOpen();
      },
      onMessage: o.onMessage,
      onClose: (why) => {
        if (!opened) o.onError(new Error(why));
      },
    });
  }
  const ws = new WebSocket(`ws://127.0.0.1:${o.port}${o.path}`, o.protocol ? [o.protocol] : [], {
    ...wsOpts,
    headers: o.headers,
  });
  ws.once("open", o.onOpen);
  ws.on("message", (data: Buffer) => o.onMessage(data, 0, data.length));
  ws.once("error", o.onError);
  return { send: (text) => ws.send(text), terminate: () => ws.terminate() };
}

export interface Member {
  close(): void;
  /** The sender only; `to` overrides the room (bench/groups.ts: one sender, several groups). */
  say?(text: string, to?: string): void;
}

export interface JoinOptions {
  port: number;
  /** Parley: the chat room's id; the peers: the room name; ejabberd: the MUC room's local part. */
  room: string;
  id: string;
  /** Parley: a logged-in user's token (the sender); members are guests. */
  token?: string;
  onMessage: (sentAtMs: number) => void;
  /** The sender creates the ejabberd room (instant-room form). */
  creator?: boolean;
}

const wsOpts = { perMessageDeflate: false, skipUTF8Validation: true } as const;

/** Connects one member and joins the room; resolves once the join was confirmed. */
export function join(target: RoomTarget, o: JoinOptions): Promise<Member> {
  switch (target) {
    case "parley":
      return joinParley(o);
    case "raw":
      return joinRaw(o);
    case "socketio":
      return joinSocketIo(o);
    case "ejabberd":
      return joinEjabberdRetrying(o);
    case "parley-member":
      return connectGroupMember(o);
  }
}

/**
 * Under load a few of ejabberd's WebSocket handshakes never complete (no open, no error): such a
 * member is dropped after 15 s and tried again, up to three times.
 */
async function joinEjabberdRetrying(o: JoinOptions): Promise<Member> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await joinEjabberd(o, 15_000);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function joinParley(o: JoinOptions): Promise<Member> {
  const headers: Record<string, string> = o.token
    ? { "FZM-AUTH-TOKEN": o.token, "FZM-DEVICE": "Android" }
    : { "FZM-UUID": o.id, "FZM-DEVICE": "Android" };
  let seq = 0;
  let sock: Sock | null = null;
  const member: Member = {
    close: () => sock?.terminate(),
    say: (text) =>
      sock?.send(
        JSON.stringify({
          eventType: 0,
          msgId: `b${++seq}`,
          channelType: 1,
          targetId: o.room,
          msgType: 1,
          msg: { content: text },
        }),
      ),
  };
  return withTimeout(
    new Promise((resolve, reject) => {
      let joined = false;
      sock = openSock({
        port: o.port,
        path: "/ws",
        headers,
        onOpen: () => sock?.send(JSON.stringify({ eventType: 1, msgId: "join", groupId: o.room })),
        onMessage: (buf, start, end) => {
          if (joined) {
            const t = sentAtIn(buf, start, end);
            if (!Number.isNaN(t)) o.onMessage(t);
            else if (buf.subarray(start, end).indexOf('"code":-') >= 0)
              process.stderr.write(`parley refused: ${buf.toString("utf8", start, end)}\n`);
            return;
          }
          const f = JSON.parse(buf.toString("utf8", start, end)) as {
            eventType?: number;
            msgId?: string;
            code?: number;
          };
          if (f.eventType === 1 && f.msgId === "join") {
            if (f.code !== 0) return reject(new Error(`join refused: ${buf.toString("utf8", start, end)}`));
            joined = true;
            resolve(member);
          }
        },
        onError: reject,
      });
    }),
    60_000,
    `parley member ${o.id}`,
  );
}

/**
 * A logged-in Parley user's chat33 socket (bench/groups.ts): it hears its groups by membership,
 * no join frame; `say` sends a group message (channelType 2) to `to` (or `room`).
 */
function connectGroupMember(o: JoinOptions): Promise<Member> {
  let seq = 0;
  let sock: Sock | null = null;
  const member: Member = {
    close: () => sock?.terminate(),
    say: (text, to) =>
      sock?.send(
        JSON.stringify({
          eventType: 0,
          msgId: `g${++seq}`,
          channelType: 2,
          targetId: to ?? o.room,
          msgType: 1,
          msg: { content: text },
        }),
      ),
  };
  return withTimeout(
    new Promise<Member>((resolve, reject) => {
      sock = openSock({
        port: o.port,
        path: "/ws",
        headers: { "FZM-AUTH-TOKEN": o.token ?? "", "FZM-DEVICE": "Android" },
        onOpen: () => resolve(member),
        onMessage: (buf, start, end) => {
          const t = sentAtIn(buf, start, end);
          if (!Number.isNaN(t)) o.onMessage(t);
          else {
            const frame = buf.subarray(start, end);
            if (frame.indexOf('"eventType":0') >= 0 && frame.indexOf('"code":-') >= 0)
              process.stderr.write(`parley refused: ${frame.toString()}\n`);
          }
        },
        onError: reject,
      });
    }),
    60_000,
    `parley group member ${o.id}`,
  );
}

function joinRaw(o: JoinOptions): Promise<Member> {
  let sock: Sock | null = null;
  const member: Member = {
    close: () => sock?.terminate(),
    say: (text) => sock?.send(JSON.stringify({ say: o.room, text })),
  };
  return withTimeout(
    new Promise((resolve, reject) => {
      let joined = false;
      sock = openSock({
        port: o.port,
        path: "/",
        onOpen: () => sock?.send(JSON.stringify({ join: o.room })),
        onMessage: (buf, start, end) => {
          if (joined) {
            const t = sentAtIn(buf, start, end);
            if (!Number.isNaN(t)) o.onMessage(t);
            return;
          }
          joined = true;
          resolve(member);
        },
        onError: reject,
      });
    }),
    60_000,
    `raw member ${o.id}`,
  );
}

function joinSocketIo(o: JoinOptions): Promise<Member> {
  const socket: Socket = io(`http://127.0.0.1:${o.port}`, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  const member: Member = {
    close: () => socket.disconnect(),
    say: (text) => socket.emit("say", { room: o.room, text }),
  };
  socket.on("msg", (m: { text?: string }) => {
    const t = typeof m?.text === "string" ? sentAt(m.text) : Number.NaN;
    if (!Number.isNaN(t)) o.onMessage(t);
  });
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once("connect", () => socket.emit("join", o.room, () => resolve(member)));
      socket.once("connect_error", reject);
    }),
    60_000,
    `socket.io member ${o.id}`,
  );
}

/** XMPP over WebSocket (RFC 7395): anonymous SASL, bind, MUC join; the first joiner configures the room. */
function joinEjabberd(o: JoinOptions, timeoutMs: number): Promise<Member> {
  let sock: Sock | null = null;
  const roomJid = `${o.room}@${MUC}`;
  const open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";
  const member: Member = {
    close: () => sock?.terminate(),
    say: (text) =>
      sock?.send(`<message xmlns='jabber:client' to='${roomJid}' type='groupchat'><body>${text}</body></message>`),
  };
  return withTimeout(
    new Promise<Member>((resolve, reject) => {
      let stage: "sasl" | "restart" | "bind" | "join" | "config" | "in" = "sasl";
      const send = (text: string) => sock?.send(text);
      const onMessage = (buf: Buffer, start: number, end: number) => {
        if (process.env.BENCH_XMPP_DEBUG)
          process.stderr.write(`${o.id} ${stage} <- ${buf.toString("utf8", start, Math.min(end, start + 200))}\n`);
        if (stage === "in") {
          const t = sentAtIn(buf, start, end);
          if (!Number.isNaN(t)) o.onMessage(t);
          return;
        }
        const s = buf.toString("utf8", start, end);
        if (s.includes("<stream:error") || s.includes("type='error'") || s.includes('type="error"'))
          return reject(new Error(`ejabberd ${o.id} (${stage}): ${s.slice(0, 300)}`));
        if (stage === "sasl" && s.includes("ANONYMOUS")) {
          send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
        } else if (stage === "sasl" && s.includes("<success")) {
          stage = "restart";
          send(open);
        } else if (stage === "restart" && s.includes("urn:ietf:params:xml:ns:xmpp-bind")) {
          stage = "bind";
          send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
        } else if (stage === "bind" && /id=['"]b1['"]/.test(s)) {
          stage = "join";
          send(
            `<presence xmlns='jabber:client' to='${roomJid}/${o.id}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`,
          );
        } else if (stage === "join" && /code=['"]110['"]/.test(s)) {
          if (/code=['"]201['"]/.test(s)) {
            stage = "config";
            send(
              `<iq xmlns='jabber:client' type='set' id='c1' to='${roomJid}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
            );
          } else {
            stage = "in";
            resolve(member);
          }
        } else if (stage === "config" && /id=['"]c1['"]/.test(s)) {
          stage = "in";
          resolve(member);
        }
      };
      sock = openSock({
        port: o.port,
        path: "/ws",
        protocol: "xmpp",
        onOpen: () => send(open),
        onMessage,
        onError: reject,
      });
    }),
    timeoutMs,
    `ejabberd member ${o.id}`,
  ).catch((e: unknown) => {
    sock?.terminate();
    throw e;
  });
}
