import { Chat33Api } from "./http.ts";
import { type Backoff, Chat33Socket, type WebSocketFactory } from "./socket.ts";
import { ConversationStore, type ConvKey, type StoreOptions } from "./store.ts";
import type { Device, LoginInfo, MessageFrame, MsgBody, MsgType, RecallFrame, ServerFrame } from "./types.ts";

export interface ClientOptions {
  /** Parley's HTTP origin; `""` = the page's own. */
  baseUrl?: string;
  device?: Device;
  /**
   * `"cookie"` (browsers served by Parley): after login the token is handed to `/user/tokenLogin`,
   * which sets an httpOnly cookie, and then forgotten — script never keeps it. `"token"` (Node,
   * other origins): the token is kept in memory and sent as a header / `?token=`.
   */
  auth?: "cookie" | "token";
  connect?: WebSocketFactory;
  backoff?: Backoff;
  store?: StoreOptions;
  fetch?: typeof fetch;
  /** Also receive event 61, friend read cursors (see SocketOptions.readEvents). */
  readEvents?: boolean;
}

/**
 * One signed-in user: the typed routes (`api`), the socket (`socket`) and the conversation store
 * (`store`) wired together — socket messages go into the store, a reconnect triggers `store.sync()`
 * (unread counts, then history fill), recalls/deletes update it.
 */
export class ParleyClient {
  readonly api: Chat33Api;
  socket: Chat33Socket | null = null;
  store: ConversationStore | null = null;
  me: LoginInfo | null = null;
  private readonly off: Array<() => void> = [];

  constructor(readonly opts: ClientOptions = {}) {
    this.api = new Chat33Api({ baseUrl: opts.baseUrl, device: opts.device, fetch: opts.fetch });
  }

  private get cookieMode(): boolean {
    return (this.opts.auth ?? "token") === "cookie";
  }

  /** Adopts a fresh login's token: kept (token mode) or turned into the httpOnly cookie (cookie mode). */
  private async adopt(info: LoginInfo): Promise<LoginInfo> {
    this.api.token = info.token;
    if (this.cookieMode) {
      await this.api.tokenLogin();
      this.api.token = undefined;
    }
    const { token: _t, ...rest } = info;
    this.me = rest;
    return rest;
  }

  async loginWithPassword(mobile: string, password: string): Promise<LoginInfo> {
    return this.adopt(await this.api.pwdLogin(mobile, password));
  }
  async register(mobile: string, password: string, code: string): Promise<LoginInfo> {
    return this.adopt(await this.api.register(mobile, password, code));
  }
  /** Login by the SMS code sent with `api.sendSms` (an existing account). */
  async loginWithSms(mobile: string, code: string): Promise<LoginInfo> {
    return this.adopt(await this.api.phoneLogin(mobile, code));
  }
  /** Ends the session on the server (the cookie too) and stops the socket. */
  async logout(): Promise<void> {
    this.stop();
    try {
      await this.api.logout();
    } finally {
      this.api.token = undefined;
      this.me = null;
    }
  }
  /** Resumes the session of the cookie (or the token given), e.g. after a page reload; null when there is none. */
  async resume(token?: string): Promise<LoginInfo | null> {
    if (token) this.api.token = token;
    try {
      this.me = await this.api.tokenLogin();
      if (this.cookieMode) this.api.token = undefined;
      return this.me;
    } catch {
      this.api.token = undefined;
      return null;
    }
  }

  /** The token (token mode only; cookie mode never holds one after login). */
  get token(): string | undefined {
    return this.api.token;
  }

  /** Opens the socket and the store; resolves after the first sync. */
  async start(): Promise<void> {
    if (!this.me) throw new Error("not signed in");
    const wsBase = this.opts.baseUrl ? this.opts.baseUrl.replace(/^http/, "ws") : "";
    this.socket = new Chat33Socket({
      baseUrl: wsBase,
      token: this.cookieMode ? undefined : this.api.token,
      device: this.opts.device,
      connect: this.opts.connect,
      backoff: this.opts.backoff,
      readEvents: this.opts.readEvents,
    });
    const store = new ConversationStore(this.api, this.me.id, this.opts.store);
    this.store = store;
    this.off.push(
      this.socket.on("message", (f: MessageFrame) => {
        store.ingestLive(f).catch(() => {});
      }),
      this.socket.on("frame", (f: ServerFrame) => {
        if (f.eventType === 10) store.applyChange(f as RecallFrame);
      }),
      this.socket.on("reconnected", () => {
        store.sync().catch(() => {});
      }),
    );
    this.socket.start();
    await store.sync();
  }

  /** Sends into a conversation (friend / group / chat room by key) through the outbox. */
  send(key: ConvKey, msgType: MsgType, msg: MsgBody, msgId?: string): Promise<MessageFrame> {
    if (!this.socket) throw new Error("not started");
    const [t, ...rest] = key.split(":");
    return this.socket.send({ channelType: Number(t) as 1 | 2 | 3, targetId: rest.join(":"), msgType, msg }, msgId);
  }
  sendText(key: ConvKey, content: string, msgId?: string): Promise<MessageFrame> {
    return this.send(key, 1, { content }, msgId);
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
    this.socket?.close();
    this.socket = null;
  }
}
