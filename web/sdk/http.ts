import {
  type Apply,
  type Balance,
  Chat33Error,
  type Chatroom,
  type Device,
  type Friend,
  type FriendRequest,
  type GroupInfo,
  type GroupListItem,
  type LoginInfo,
  type Member,
  type Page,
  type ReadInfo,
  type ReadState,
  type RedPacketClaim,
  type RedPacketDetail,
  type RedPacketRecord,
  type RedPacketSend,
  type RedPacketSent,
  type SearchResult,
  type Unread,
  type UploadedImage,
  type UserInfo,
} from "./types.ts";

export interface ApiOptions {
  /** Where Parley is: `""` for the page's own origin, else e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** `FZM-DEVICE` (default `Web`). */
  device?: Device;
  /**
   * The session token, sent as `FZM-AUTH-TOKEN`. Leave it unset in a browser served by Parley:
   * after `adoptCookie()` the httpOnly cookie carries the session (docs/web.md, "Where the token lives").
   */
  token?: string;
  /** A guest's device id (`FZM-UUID`), for chat rooms without an account. */
  uuid?: string;
  fetch?: typeof fetch;
}

const OK = 0;

/**
 * The chat33 HTTP routes as typed functions. Every route is `POST` with a JSON body; the envelope
 * `{result, message, data}` is unwrapped: `data` on `result` 0, else a `Chat33Error`.
 */
export class Chat33Api {
  baseUrl: string;
  device: Device;
  token: string | undefined;
  uuid: string | undefined;
  private readonly doFetch: typeof fetch;

  constructor(opts: ApiOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? "").replace(/\/$/, "");
    this.device = opts.device ?? "Web";
    this.token = opts.token;
    this.uuid = opts.uuid;
    const f = opts.fetch ?? globalThis.fetch;
    this.doFetch = (input, init) => f(input, init);
  }

  /**
   * Uploads an image (PNG, JPEG, GIF or WebP; `/chat33/upload`, multipart): its path on the server
   * (`imageUrl`, for `msg.imageUrl` of msgType 3), a thumbnail's, the dimensions.
   */
  async uploadImage(file: Blob, name = "image"): Promise<UploadedImage> {
    const headers: Record<string, string> = { "FZM-DEVICE": this.device };
    if (this.token) headers["FZM-AUTH-TOKEN"] = this.token;
    const form = new FormData();
    form.append("file", file, name);
    const res = await this.doFetch(`${this.baseUrl}/chat33/upload`, {
      method: "POST",
      headers,
      body: form,
      credentials: "same-origin",
    });
    return this.unwrap<UploadedImage>(res, "/chat33/upload");
  }

  /** One call: the envelope's `data`, or a `Chat33Error` with its `result` and `message`. */
  async call<T>(path: string, body: object = {}): Promise<T> {
    const headers: Record<string, string> = { "content-type": "application/json", "FZM-DEVICE": this.device };
    if (this.token) headers["FZM-AUTH-TOKEN"] = this.token;
    if (this.uuid) headers["FZM-UUID"] = this.uuid;
    const res = await this.doFetch(`${this.baseUrl}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    return this.unwrap<T>(res, path);
  }

  private async unwrap<T>(res: Response, path: string): Promise<T> {
    const text = await res.text();
    let env: { result?: number; message?: string; data?: unknown };
    try {
      env = JSON.parse(text);
    } catch {
      throw new Chat33Error(-9000, `HTTP ${res.status}`, path);
    }
    if (typeof env.result !== "number") throw new Chat33Error(-9000, `HTTP ${res.status}`, path);
    if (env.result !== OK) throw new Chat33Error(env.result, env.message ?? "", path);
    return env.data as T;
  }

  // ---- accounts ----
  sendSms = (mobile: string) => this.call<Record<string, never>>("/send/sms", { mobile });
  register = (mobile: string, password: string, captcha: string) =>
    this.call<LoginInfo>("/user/register", { mobile, password, captcha });
  pwdLogin = (mobile: string, password: string) => this.call<LoginInfo>("/user/pwdLogin", { mobile, password });
  /** Login by the SMS code from `sendSms` (an existing account; an unknown number is -2001). */
  phoneLogin = (mobile: string, code: string) => this.call<LoginInfo>("/user/phoneLogin", { phone: mobile, code });
  /** Ends the session (its sockets close) and clears the cookie. */
  logout = () => this.call<Record<string, never>>("/user/logout");
  /** Checks the session (header or cookie) and sets the httpOnly `FZM-AUTH-TOKEN` cookie. */
  tokenLogin = () => this.call<LoginInfo>("/user/tokenLogin");
  userInfo = (id: string) => this.call<UserInfo>("/user/userInfo", { id });
  editNickname = (nickname: string) => this.call<Record<string, never>>("/user/editNickname", { nickname });
  editAvatar = (avatar: string) => this.call<Record<string, never>>("/user/editAvatar", { avatar });
  isreg = (mobile: string) => this.call<{ zb_uid: string }>("/user/isreg", { mobile });

  // ---- friends ----
  addFriend = (id: string, reason = "", remark = "") => this.call<object>("/friend/add", { id, reason, remark });
  answerFriend = (id: string, agree: boolean) => this.call<object>("/friend/response", { id, agree: agree ? 1 : 2 });
  friendRequests = () => this.call<FriendRequest[]>("/friend/requestList");
  friends = async () => (await this.call<{ userList: Friend[] }>("/friend/list", { type: 3 })).userList;
  deleteFriend = (id: string) => this.call<object>("/friend/delete", { id });
  setRemark = (id: string, remark: string) => this.call<object>("/friend/setRemark", { id, remark });
  setFriendDnd = (id: string, on: boolean) =>
    this.call<object>("/friend/setNoDisturbing", { id, setNoDisturbing: on ? 1 : 2 });
  setFriendTop = (id: string, on: boolean) => this.call<object>("/friend/stickyOnTop", { id, stickyOnTop: on ? 1 : 2 });
  friendLog = (id: string, startId = "", number = 30) => this.call<Page>("/friend/chatLog", { id, startId, number });
  friendUnread = async () => (await this.call<{ infos: Unread[] }>("/friend/unread")).infos;

  // ---- both kinds ----
  applyList = (id = "", number = 50) =>
    this.call<{ applyList: Apply[]; totalNumber: number; nextId: string }>("/chat33/applyList", { id, number });
  search = (markId: string) => this.call<SearchResult>("/chat33/search", { markId });
  /** Moves the read cursor (`type` 1 group, 2 friend) up to `logId` (the newest when absent). */
  markRead = (type: 1 | 2, id: string, logId?: string) =>
    this.call<object>("/chat33/markRead", logId ? { type, id, logId } : { type, id });
  /** Both read cursors (seq) of the conversation with friend `id`: the peer has read your messages up to `peerReadSeq`. */
  readState = (id: string) => this.call<ReadState>("/chat33/readState", { id });
  recall = (type: 1 | 2, logId: string) => this.call<object>("/chat33/revokeMsg", { type, logId });
  deleteMsg = (type: 1 | 2, logId: string) => this.call<object>("/chat33/deleteMsg", { type, logId });

  // ---- groups (chat33 "room") ----
  createGroup = (users: string[], roomName?: string) =>
    this.call<{ roomId: string }>("/room/create", roomName ? { users, roomName } : { users });
  groups = async () => (await this.call<{ roomList: GroupListItem[] }>("/room/list", { type: 3 })).roomList;
  groupUnread = async () => (await this.call<{ infos: Unread[] }>("/room/unread")).infos;
  groupInfo = (roomId: string) => this.call<GroupInfo>("/room/info", { roomId });
  groupMembers = async (roomId: string) =>
    (await this.call<{ userList: Member[] }>("/room/userList", { roomId })).userList;
  groupLog = (id: string, startId = "", number = 30) => this.call<Page>("/room/chatLog", { id, startId, number });
  invite = (roomId: string, users: string[]) => this.call<object>("/room/joinRoomInvite", { roomId, users });
  applyJoin = (roomId: string, applyReason = "") => this.call<object>("/room/joinRoomApply", { roomId, applyReason });
  approveJoin = (roomId: string, userId: string, agree: boolean) =>
    this.call<object>("/room/joinRoomApprove", { roomId, userId, agree: agree ? 1 : 2 });
  joinApplications = (roomId: string) =>
    this.call<{ applyList: Apply[]; totalNumber: number }>("/room/joinInRoomApplyList", { roomId });
  kick = (roomId: string, users: string[]) => this.call<object>("/room/kickOut", { roomId, users });
  leaveGroup = (roomId: string) => this.call<object>("/room/loginOut", { roomId });
  dissolveGroup = (roomId: string) => this.call<object>("/room/delete", { roomId });
  setLevel = (roomId: string, userId: string, level: 1 | 2 | 3) =>
    this.call<object>("/room/setLevel", { roomId, userId, level });
  setGroupPermission = (roomId: string, p: { canAddFriend?: 1 | 2; joinPermission?: 1 | 2 | 3 }) =>
    this.call<object>("/room/setPermission", { roomId, ...p });
  setGroupName = (roomId: string, name: string) => this.call<object>("/room/setName", { roomId, name });
  /** Mutes one member until `deadline` (ms since the epoch; 0 lifts it). */
  muteMember = (roomId: string, userId: string, deadline: number) =>
    this.call<object>("/room/setMutedSingle", { roomId, userId, deadline });
  setGroupDnd = (roomId: string, on: boolean) =>
    this.call<object>("/room/setNoDisturbing", { roomId, setNoDisturbing: on ? 1 : 2 });
  setGroupTop = (roomId: string, on: boolean) =>
    this.call<object>("/room/stickyOnTop", { roomId, stickyOnTop: on ? 1 : 2 });
  readInfo = (roomId: string, logId: string) => this.call<ReadInfo>("/room/readInfo", { roomId, logId });

  // ---- chat rooms (chat33 "group") ----
  chatrooms = async () => (await this.call<{ groups: Chatroom[] }>("/group/list", { groupStatus: 1 })).groups;
  chatroom = (groupId: string) => this.call<Chatroom>("/group/info", { groupId });
  chatroomLog = (id: string, startId = "", number = 30) =>
    this.call<Page>("/group/getGroupChatHistory", startId ? { id, startId, number } : { id, number });

  // ---- red packets (SPEC §4.3, docs/red-packets.md) ----
  sendRedPacket = (p: RedPacketSend) => this.call<RedPacketSent>("/red-packet/send", p);
  balance = async () => (await this.call<{ balances: Balance[] }>("/red-packet/balance")).balances;
  /** A logged-in member of the packet's conversation claims one share (credited at once). */
  claimRedPacket = (packetId: string) =>
    this.call<RedPacketClaim>("/red-packet/receive-entry", { packet_id: packetId });
  /** Sent and received packets of a month (`"2026-12"`) or a year (`"2026"`), in coin `coin` (default 1). */
  redPacketRecord = (date: string, coin?: number) =>
    this.call<RedPacketRecord>("/red-packet/record", coin === undefined ? { date } : { date, coin });
  redPacketDetail = (packetId: string) => this.call<RedPacketDetail>("/red-packet/detail", { packet_id: packetId });
}
