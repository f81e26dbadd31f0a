import type { AppError, ErrorCode } from "../../core/errors.ts";
import type { Reason, ReasonTable } from "../../core/reasons.ts";

/** The chat33 envelope: `{result, message, data}`; success is `result 0, message "操作成功"`. */
export interface Envelope {
  result: number;
  message: string;
  data: unknown;
}

export const OK_MESSAGE = "操作成功";

/** The document's unified error codes (统一错误代码) that Parley answers with. */
export const Codes = {
  ok: 0,
  paramError: -1001,
  missingParam: -1002,
  sessionError: -1003,
  loginExpired: -1004,
  msgFormat: -1005,
  unknownDevice: -1006,
  otherTerminal: -1007,
  tooFrequent: -1012,
  userNotFound: -2001,
  userExists: -2002,
  zbLoginFailed: -2004,
  noSystemMsgPermission: -2006,
  userMuted: -2007,
  guestNoSend: -2008,
  alreadyFriends: -2017,
  notFriend: -2018,
  requestHandled: -2019,
  requestNotFound: -2020,
  selfOperation: -2021,
  deleteMsgFailed: -2023,
  /** The later server's: the recipient blocked you. */
  blocked: -2032,
  noPermission: -3000,
  notGroupMember: -3001,
  packetInternal: -4000,
  packetFinished: -4001,
  packetUnregistered: -4002,
  packetRegistered: -4003,
  packetBadMark: -4005,
  packetBadId: -4006,
  captchaWrong: -4007,
  captchaExpired: -4008,
  packetClaimed: -4009,
  packetNoPermission: -4010,
  chatroomNotFound: -5000,
  notInChatroom: -5001,
  smsFailed: -8000,
  internal: -9000,
  /** The later server's 暂未开放: a feature that needs the original's external services. */
  notSupported: -9002,
} as const;

/** The document's message for each code (the `message` of an error answer). */
export const MESSAGES: Record<number, string> = {
  [-1000]: "数据库连接失败",
  [-1001]: "参数错误",
  [-1002]: "缺少参数",
  [-1003]: "Session错误",
  [-1004]: "登录过期",
  [-1005]: "消息格式错误",
  [-1006]: "未知的设备类型",
  [-1007]: "账号已经在其他终端登录",
  [-1010]: "查询数据库失败",
  [-1011]: "写入数据库失败",
  [-1012]: "发送频率过快，请稍后再试",
  [-2001]: "用户不存在",
  [-2002]: "用户已存在",
  [-2004]: "找币token登录失败",
  [-2006]: "用户没有发系统消息权限",
  [-2007]: "用户被禁言",
  [-2008]: "游客没有发消息权限",
  [-2017]: "已经是好友关系",
  [-2018]: "对方不是您的好友",
  [-2019]: "好友请求已经被处理",
  [-2020]: "好友请求不存在",
  [-2021]: "不能对自己进行操作",
  [-2023]: "删除消息失败",
  [-2032]: "对方拒绝接收你的消息！",
  [-3000]: "权限不足",
  [-3001]: "用户没有加入聊天群权限",
  [-4000]: "红包内部错误",
  [-4001]: "红包已被领完",
  [-4002]: "用户未注册",
  [-4003]: "用户已注册",
  [-4004]: "仅限新人领取",
  [-4005]: "红包标识不匹配",
  [-4006]: "非法的红包ID",
  [-4007]: "验证码不正确",
  [-4008]: "验证码已经过期或者已使用",
  [-4009]: "红包已领取",
  [-4010]: "用户无发红包权限",
  [-5000]: "聊天室不存在",
  [-5001]: "用户未进入此聊天室",
  [-8000]: "获取手机验证码失败",
  [-9000]: "服务端内部错误",
  [-9002]: "暂未开放",
};

export const ok = (data: unknown = {}): Envelope => ({ result: 0, message: OK_MESSAGE, data });

/** An error envelope: the document's message for `result`, optionally followed by a detail. */
export const fail = (result: number, detail?: string): Envelope => {
  const base = MESSAGES[result] ?? "操作失败";
  return { result, message: detail ? `${base}: ${detail}` : base, data: {} };
};

/**
 * Core (and surface) error reasons → chat33 `[result, message override?]`. The one table of this
 * surface: later parts (friends, groups, chat rooms, red packets) add their reasons here.
 * A reason without a row falls back on its code (see `fromAppError`).
 */
const REASONS: ReasonTable<[number, string?]> = {
  // request shape
  missing_parameter: [Codes.missingParam],
  bad_mobile: [Codes.paramError, "手机号必须是11位数字"],
  bad_password: [Codes.paramError, "密码长度必须为6到128个字符"],
  bad_avatar: [Codes.paramError, "头像必须是 http(s) 地址或本站路径，最长1024个字符"],
  bad_nickname: [Codes.paramError, "昵称长度必须为1到32个字符"],
  // authentication (FZM-AUTH-TOKEN / FZM-DEVICE)
  missing_token: [Codes.sessionError],
  token_invalid: [Codes.loginExpired],
  token_expired: [Codes.loginExpired],
  session_revoked: [Codes.loginExpired],
  session_replaced: [Codes.otherTerminal],
  bad_device: [Codes.unknownDevice],
  // accounts
  bad_credentials: [Codes.zbLoginFailed, "账号或密码错误"],
  user_not_found: [Codes.userNotFound],
  user_exists: [Codes.userExists],
  user_disabled: [Codes.noPermission, "账号已被禁用"],
  not_admin: [Codes.noPermission],
  // rate limits
  login_limited: [Codes.tooFrequent, "登录失败次数过多，请稍后再试"],
  sms_too_soon: [Codes.tooFrequent],
  sms_daily_cap: [Codes.tooFrequent, "今日验证码发送次数已达上限"],
  sms_ip_limit: [Codes.tooFrequent],
  isreg_limited: [Codes.tooFrequent],
  // SMS codes
  captcha_wrong: [Codes.captchaWrong],
  captcha_expired: [Codes.captchaExpired],
  sms_failed: [Codes.smsFailed],
  // friends
  self_operation: [Codes.selfOperation],
  already_friends: [Codes.alreadyFriends],
  not_friends: [Codes.notFriend],
  request_handled: [Codes.requestHandled],
  request_not_found: [Codes.requestNotFound],
  bad_text: [Codes.paramError, "参数错误: 备注和理由不能包含控制字符"],
  friend_blocked: [Codes.blocked],
  bad_question: [Codes.paramError, "参数错误: 需要问题和答案"],
  // messages (-2023 is the document's only message-operation failure code)
  user_muted: [Codes.userMuted],
  bad_msg_id: [Codes.paramError, "参数错误: msgId 必须是1到128个字符"],
  bad_log_id: [Codes.paramError, "参数错误: 消息id格式不正确"],
  message_not_found: [Codes.deleteMsgFailed, "删除消息失败: 消息不存在"],
  not_sender: [Codes.deleteMsgFailed, "删除消息失败: 只能撤回或删除自己发送的消息"],
  recall_window: [Codes.deleteMsgFailed, "删除消息失败: 已超过可撤回时间"],
  conversation_not_found: [Codes.paramError, "参数错误: 会话不存在"],
  not_snap: [Codes.paramError, "参数错误: 不是阅后即焚消息"],
  snap_in_group: [Codes.paramError, "参数错误: 阅后即焚只用于好友消息"],
  bad_forward: [Codes.paramError, "参数错误: 转发的消息或目标数量超出范围"],
  not_supported: [Codes.notSupported],
  // groups (chat33 rooms): non-members see -3001 whether or not the group exists
  group_not_found: [Codes.notGroupMember],
  group_no_permission: [Codes.noPermission],
  group_owner_cannot_leave: [Codes.noPermission, "权限不足: 群主不能退群，请先转让群主或解散群"],
  group_closed: [Codes.noPermission, "权限不足: 该群禁止加入"],
  group_blacklisted: [Codes.noPermission, "权限不足: 该用户在群黑名单中"],
  group_full: [Codes.noPermission, "权限不足: 群成员已满"],
  group_no_add_friend: [Codes.noPermission, "权限不足: 该群不允许群成员互加好友"],
  group_member_not_found: [Codes.paramError, "参数错误: 该用户不是群成员"],
  group_already_member: [Codes.paramError, "参数错误: 已经是群成员"],
  group_application_not_found: [Codes.paramError, "参数错误: 入群申请不存在"],
  group_application_handled: [Codes.paramError, "参数错误: 入群申请已经被处理"],
  bad_deadline: [Codes.paramError, "参数错误: 禁言截止时间必须晚于现在"],
  bad_capacity: [Codes.paramError, "参数错误: 群容量超出范围"],
  chatroom_not_found: [Codes.chatroomNotFound],
  // chat rooms (core/chatrooms): a closed room refuses sending with -5000 and its own message
  chatroom_not_joined: [Codes.notInChatroom],
  chatroom_closed: [Codes.chatroomNotFound, "聊天室已关闭"],
  chatroom_blacklisted: [Codes.noPermission, "权限不足: 已被移出此聊天室"],
  no_chatroom_permission: [Codes.noPermission],
  bad_shard_size: [Codes.paramError],
  bad_duration: [Codes.paramError],
  guest_no_send: [Codes.guestNoSend],
  no_system_permission: [Codes.noSystemMsgPermission],
  msg_rate_limited: [Codes.tooFrequent],
  bad_content: [Codes.msgFormat],
  // image uploads (/chat33/upload, uploads.ts)
  file_empty: [Codes.paramError, "参数错误: 文件为空"],
  file_too_large: [Codes.paramError, "参数错误: 文件过大"],
  file_type_not_allowed: [Codes.paramError, "参数错误: 只能上传 PNG、JPEG、GIF 或 WebP 图片"],
  not_multipart: [Codes.paramError, "参数错误: 请用 multipart/form-data 上传"],
  missing_upload: [Codes.missingParam, "缺少参数: file"],
  too_many_parts: [Codes.paramError, "参数错误: 只能上传一个文件"],
  bad_multipart: [Codes.paramError, "参数错误: multipart 格式错误"],
  upload_busy: [Codes.tooFrequent, "上传繁忙，请稍后再试"],
  // wallet and red packets (core/wallet): -4000…-4010; see docs/red-packets.md
  bad_coin: [Codes.paramError, "参数错误: 不支持的币种"],
  bad_amount: [Codes.paramError, "参数错误: 金额须为正数、最多8位小数，每份至少0.00000001"],
  bad_packet_size: [Codes.paramError, "参数错误: 红包个数超出范围"],
  bad_packet_type: [Codes.paramError, "参数错误: 红包类型须为1(拼手气)或2(普通)"],
  bad_date: [Codes.paramError, "参数错误: date 格式为 2018-08 或 2018"],
  insufficient_balance: [Codes.packetInternal, "余额不足"],
  packet_internal: [Codes.packetInternal],
  packet_not_found: [Codes.packetBadId],
  packet_finished: [Codes.packetFinished],
  packet_expired: [Codes.packetFinished, "红包已过期"],
  packet_claimed: [Codes.packetClaimed],
  packet_mobile_pending: [Codes.packetClaimed, "红包已领取: 该手机号已在等待领取此红包"],
  packet_no_permission: [Codes.packetNoPermission, "用户无领取该红包的权限"],
  packet_bad_mark: [Codes.packetBadMark],
  packet_user_registered: [Codes.packetRegistered],
  packet_user_unregistered: [Codes.packetUnregistered, "用户未注册: 请注册后领取"],
  packet_rate_limited: [Codes.tooFrequent],
};

type Answer = { status: number; body: Envelope };

/** The fallback per core code (total: a new code fails `tsc` until it is answered here). */
const BY_CODE: Record<ErrorCode, (e: AppError) => Answer> = {
  // core messages are short English sentences meant for clients (never stacks or SQL)
  invalid_argument: (e) => ({ status: 200, body: fail(Codes.paramError, e.message) }),
  not_found: (e) => ({ status: 200, body: fail(Codes.paramError, e.message) }),
  conflict: (e) => ({ status: 200, body: fail(Codes.paramError, e.message) }),
  unauthenticated: () => ({ status: 200, body: fail(Codes.loginExpired) }),
  forbidden: () => ({ status: 200, body: fail(Codes.noPermission) }),
  rate_limited: () => ({ status: 200, body: fail(Codes.tooFrequent) }),
  unavailable: () => ({ status: 503, body: { result: Codes.internal, message: "服务暂不可用", data: {} } }),
  internal: () => ({ status: 500, body: fail(Codes.internal) }),
};

/** HTTP status + envelope for an AppError. Business errors are HTTP 200, like the original server. */
export function fromAppError(e: AppError): Answer {
  const row = REASONS[e.reason];
  if (row) return { status: 200, body: { result: row[0], message: row[1] ?? MESSAGES[row[0]], data: {} } };
  return (BY_CODE[e.code] ?? BY_CODE.internal)(e);
}

/** The reasons with an explicit row (for tests and docs). */
export const MAPPED_REASONS = Object.keys(REASONS) as readonly Reason[];
