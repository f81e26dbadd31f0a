import { useEffect, useState } from "preact/hooks";
import { ParleyClient } from "../../sdk/client.ts";
import type { Chat33Api } from "../../sdk/http.ts";
import { Chat33Socket, type SocketState } from "../../sdk/socket.ts";
import { ConversationStore, type ConvKey, convKey } from "../../sdk/store.ts";
import {
  type Apply,
  Chat33Error,
  type Chatroom,
  type Friend,
  type FriendRequest,
  type GroupListItem,
  type LoginInfo,
  type MsgBody,
  type MsgType,
  type ServerFrame,
} from "../../sdk/types.ts";
import { t } from "./i18n.ts";

export type Tab = "chats" | "contacts" | "rooms" | "me";

export interface PendingSend {
  msgId: string;
  key: ConvKey;
  msgType: MsgType;
  msg: MsgBody;
  state: "sending" | "failed";
  error?: string;
  at: number;
}

export interface Toast {
  id: number;
  text: string;
}

/**
 * The web client's state around the SDK: who is signed in (or a guest), the directory (friends,
 * groups, chat rooms, requests), the open conversation, unacknowledged sends shown as "sending",
 * notifications. Components read it through `useModel()` and re-render on `notify()`.
 */
export class Model {
  client = new ParleyClient({ auth: "cookie", readEvents: true });
  me: LoginInfo | null = null;
  guest = false;
  booted = false;
  store: ConversationStore | null = null;
  socket: Chat33Socket | null = null;
  conn: SocketState = "closed";
  tab: Tab = "chats";
  open: ConvKey | null = null;
  /** A side panel over the conversation (group settings, friend settings). */
  panel: "group" | "friend" | null = null;
  friends = new Map<string, Friend>();
  groups = new Map<string, GroupListItem>();
  rooms: Chatroom[] = [];
  joinedRooms = new Set<string>();
  requests: FriendRequest[] = [];
  applications: Apply[] = [];
  pending = new Map<string, PendingSend>();
  /** Group read counts of one's own messages (event 60 / /room/readInfo), by logId. */
  receipts = new Map<string, number>();
  /** 1:1 read state: the seq each friend has read up to (/chat33/readState, event 61). */
  peerRead = new Map<string, number>();
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  toasts: Toast[] = [];
  private toastSeq = 0;
  private version = 0;
  private readonly subs = new Set<() => void>();

  get api(): Chat33Api {
    return this.client.api;
  }

  subscribe(fn: () => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  notify(): void {
    this.version++;
    for (const fn of this.subs) fn();
  }
  get revision(): number {
    return this.version + (this.store?.revision ?? 0);
  }

  toast(text: string): void {
    const id = ++this.toastSeq;
    this.toasts = [...this.toasts, { id, text }].slice(-4);
    this.notify();
    setTimeout(() => {
      this.toasts = this.toasts.filter((x) => x.id !== id);
      this.notify();
    }, 5000);
  }

  /** On page load: the cookie's session, if any. */
  async boot(): Promise<void> {
    const me = await this.client.resume();
    if (me) await this.startSession(me);
    this.booted = true;
    this.notify();
  }

  async loginPassword(mobile: string, password: string): Promise<void> {
    await this.startSession(await this.client.loginWithPassword(mobile, password));
  }
  async loginSms(mobile: string, code: string): Promise<void> {
    await this.startSession(await this.client.loginWithSms(mobile, code));
  }
  async register(mobile: string, password: string, code: string): Promise<void> {
    await this.startSession(await this.client.register(mobile, password, code));
  }

  private async startSession(me: LoginInfo): Promise<void> {
    this.me = me;
    this.guest = false;
    await this.client.start();
    this.store = this.client.store;
    this.socket = this.client.socket;
    this.wire();
    await this.loadDirectory();
    this.notify();
  }

  /** A guest: chat rooms only, identified by a random id kept in this browser. */
  async startGuest(): Promise<void> {
    let uuid = "";
    try {
      uuid = localStorage.getItem("parley.uuid") ?? "";
      if (!uuid) {
        uuid = `g-${crypto.randomUUID()}`;
        localStorage.setItem("parley.uuid", uuid);
      }
    } catch {
      uuid = `g-${crypto.randomUUID()}`;
    }
    this.guest = true;
    this.api.uuid = uuid;
    this.socket = new Chat33Socket({ uuid });
    this.store = new ConversationStore(this.api, "");
    this.wire();
    this.socket.start();
    this.tab = "rooms";
    await this.loadRooms();
    this.notify();
  }

  private wire(): void {
    const socket = this.socket;
    const store = this.store;
    if (!socket || !store) return;
    store.subscribe(() => this.notify());
    socket.on("state", (s) => {
      this.conn = s;
      this.notify();
    });
    this.conn = socket.state;
    if (this.guest) socket.on("message", (f) => store.ingestLive(f).catch(() => {}));
    else
      socket.on("message", (f) => {
        // a message arriving in the open conversation while the page is visible is read
        const other = f.fromId === this.me?.id ? f.targetId : f.fromId;
        const key = f.channelType === 3 ? convKey(3, other) : convKey(f.channelType, f.targetId);
        if (f.fromId !== this.me?.id && key === this.open && key[0] !== "1") this.readSoon(key);
      });
    socket.on("frame", (f) => this.onFrame(f));
    socket.on("ended", () => {
      this.toast(t("error"));
      setTimeout(() => location.reload(), 1500);
    });
  }

  async loadDirectory(): Promise<void> {
    const [friends, groups, requests, applies] = await Promise.all([
      this.api.friends(),
      this.api.groups(),
      this.api.friendRequests(),
      this.api.applyList("", 50).catch(() => ({ applyList: [] as Apply[] })),
    ]);
    this.friends = new Map(friends.map((f) => [f.id, f]));
    this.groups = new Map(groups.map((g) => [g.id, g]));
    this.requests = requests;
    this.applications = applies.applyList.filter((a) => a.type === 1 && a.receiveInfo && a.status === 1);
    // every group is a conversation, even before its first message; previews for the list
    for (const g of groups) this.store?.get(convKey(2, g.id));
    this.notify();
    await this.store?.peek([...friends.map((f) => convKey(3, f.id)), ...groups.map((g) => convKey(2, g.id))]);
  }

  async loadRooms(): Promise<void> {
    this.rooms = await this.api.chatrooms();
    this.notify();
  }

  private onFrame(f: ServerFrame): void {
    const meId = this.me?.id;
    switch (f.eventType) {
      case 31: {
        const fromMe = f.senderInfo.id === meId;
        if (f.status === 1 && !fromMe) this.toast(t("friendRequestFrom", { name: f.senderInfo.name }));
        if (f.status === 3) {
          const other = fromMe ? f.receiveInfo : f.senderInfo;
          this.toast(t("friendAccepted", { name: other.name }));
        }
        this.loadDirectory().catch(() => {});
        break;
      }
      case 23:
        if (f.status === 1 && f.senderInfo.id !== meId)
          this.toast(t("groupApplyFrom", { name: f.senderInfo.name, group: f.receiveInfo.name }));
        this.loadDirectory().catch(() => {});
        break;
      case 20:
      case 21:
      case 22: {
        if (f.eventType === 21 && f.userId === meId && f.type === 2) this.toast(t("youWereKicked"));
        if (f.eventType === 22) this.toast(t("groupDissolved"));
        const gone = (f.eventType === 21 && f.userId === meId) || f.eventType === 22;
        if (gone) {
          this.store?.drop(convKey(2, f.roomId));
          if (this.open === convKey(2, f.roomId)) this.open = null;
        }
        this.loadDirectory().catch(() => {});
        break;
      }
      case 3:
        if (f.mutedLastTime > 0) this.toast(t("youWereMuted"));
        break;
      case 4:
      case 5: {
        const key = convKey(1, f.groupId);
        const name = this.nameOf(key).name;
        this.toast(`${name}: ${f.eventType === 4 ? t("roomClosed") : t("roomDeleted")}`);
        if (f.eventType === 5) {
          this.joinedRooms.delete(f.groupId);
          if (this.open === key) this.closeConversation();
          this.loadRooms().catch(() => {});
        }
        break;
      }
      case 60:
        this.receipts.set(f.logId, f.readNumber);
        this.notify();
        break;
      case 61:
        // a friend read our conversation up to seq (our own other devices' reads: nothing to show)
        if (f.fromId !== meId && f.seq > (this.peerRead.get(f.fromId) ?? 0)) {
          this.peerRead.set(f.fromId, f.seq);
          this.notify();
        }
        break;
      default:
        break;
    }
  }

  // ---- conversations ----

  /** The display name and avatar of a conversation. */
  nameOf(key: ConvKey): { name: string; avatar: string } {
    const [type, id] = [key[0], key.slice(2)];
    if (type === "3") {
      const f = this.friends.get(id);
      return { name: f ? f.remark || f.name : id, avatar: f?.avatar ?? "" };
    }
    if (type === "2") {
      const g = this.groups.get(id);
      return { name: g?.name ?? id, avatar: g?.avatar ?? "" };
    }
    const r = this.rooms.find((x) => x.groupId === id);
    return { name: r?.groupName ?? id, avatar: r?.avatar ?? "" };
  }

  muted(key: ConvKey): boolean {
    if (key[0] === "3") return this.friends.get(key.slice(2))?.noDisturbing === 1;
    if (key[0] === "2") return this.groups.get(key.slice(2))?.noDisturbing === 1;
    return false;
  }
  pinned(key: ConvKey): boolean {
    if (key[0] === "3") return this.friends.get(key.slice(2))?.onTop === 1;
    if (key[0] === "2") return this.groups.get(key.slice(2))?.onTop === 1;
    return false;
  }

  /** Unread over every conversation not on do-not-disturb (the badge and the title). */
  get totalUnread(): number {
    let n = 0;
    // chat rooms are not in the conversation list (their traffic is live chatter): not counted
    for (const c of this.store?.conversations.values() ?? []) if (c.type !== 1 && !this.muted(c.key)) n += c.unread;
    return n;
  }

  async openConversation(key: ConvKey): Promise<void> {
    const store = this.store;
    if (!store) return;
    this.open = key;
    this.panel = null;
    store.active = key;
    this.notify();
    await this.attempt(async () => {
      if (key[0] === "1" && !this.joinedRooms.has(key.slice(2))) {
        await this.socket?.join(key.slice(2));
        this.joinedRooms.add(key.slice(2));
      }
      await store.open(key);
    });
    if (!this.guest) await store.markRead(key).catch(() => {});
    if (key[0] === "3" && !this.guest) {
      const id = key.slice(2);
      const st = await this.api.readState(id).catch(() => null);
      if (st && st.peerReadSeq > (this.peerRead.get(id) ?? 0)) this.peerRead.set(id, st.peerReadSeq);
    }
    this.notify();
  }

  /** Marks the open conversation read shortly (after the live message is in the store), when visible. */
  private readSoon(key: ConvKey): void {
    if (this.readTimer) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      if (this.open === key && document.visibilityState === "visible") this.store?.markRead(key).catch(() => {});
    }, 200);
  }

  closeConversation(): void {
    this.open = null;
    this.panel = null;
    if (this.store) this.store.active = null;
    this.notify();
  }

  /** Sends through the SDK's outbox; shown as "sending" until acknowledged, "failed" on a failure frame. */
  send(key: ConvKey, msgType: MsgType, msg: MsgBody, msgId?: string): void {
    const socket = this.socket;
    if (!socket) return;
    const id = msgId ?? socket.nextMsgId();
    this.pending.set(id, { msgId: id, key, msgType, msg, state: "sending", at: Date.now() });
    this.notify();
    this.client
      .send(key, msgType, msg, id)
      .then(() => {
        this.pending.delete(id);
        if (this.open === key) this.store?.markRead(key).catch(() => {});
        this.notify();
      })
      .catch((e: unknown) => {
        const p = this.pending.get(id);
        if (p) {
          p.state = "failed";
          p.error = e instanceof Chat33Error ? e.message : String(e);
        }
        this.notify();
      });
  }

  /**
   * Sends an image: uploaded first (`/chat33/upload`: the server checks type and size), then a
   * msgType 3 message pointing at it. Shown as "sending" meanwhile; an upload failure is a notice.
   */
  async sendImage(key: ConvKey, file: File): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const id = socket.nextMsgId();
    this.pending.set(id, { msgId: id, key, msgType: 3, msg: {}, state: "sending", at: Date.now() });
    this.notify();
    try {
      const up = await this.api.uploadImage(file, file.name || "image");
      this.send(key, 3, { imageUrl: up.imageUrl, thumbUrl: up.thumbUrl, width: up.width, height: up.height }, id);
    } catch (e) {
      this.pending.delete(id);
      this.toast(e instanceof Chat33Error ? e.message || t("error") : t("error"));
    }
  }

  retry(msgId: string): void {
    const p = this.pending.get(msgId);
    if (p) this.send(p.key, p.msgType, p.msg, p.msgId);
  }

  /** Runs a call, showing its error as a notification; resolves to undefined on failure. */
  async attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.toast(e instanceof Chat33Error ? e.message || t("error") : t("error"));
      return undefined;
    }
  }

  /** Ends the session on the server (`/user/logout` revokes the token and clears the cookie), then reloads. */
  async signOut(): Promise<void> {
    await this.client.logout().catch(() => {});
    location.reload();
  }
}

export const model = new Model();

/** Re-renders the calling component whenever the model (or its store) changes. */
export function useModel(): Model {
  const [, setRev] = useState(0);
  useEffect(() => model.subscribe(() => setRev((n) => n + 1)), []);
  return model;
}
