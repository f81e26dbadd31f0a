import type { AppError, ErrorCode } from "../../core/errors.ts";
import type { Reason, ReasonTable } from "../../core/reasons.ts";

/** The enterprise envelope: `{data, code, msg}`; success is `code 200`. */
export interface Envelope {
  data: unknown;
  code: number;
  msg: string;
}

export const ok = (data: unknown, msg: string): Envelope => ({ data, code: 200, msg });

/** Errors carry the HTTP status in `code` too, and `data: null`. */
export const fail = (status: number, msg: string): Envelope => ({ data: null, code: status, msg });

/**
 * Core error reasons → (HTTP status, message): the one table of this surface. The status is sent
 * both as the HTTP status and as `code`. Reasons not listed fall back to their error code below.
 */
const REASONS: ReasonTable<[number, string]> = {
  // authentication
  missing_token: [401, "未登录"],
  token_invalid: [401, "登录凭证无效"],
  token_expired: [401, "登录已过期"],
  session_revoked: [401, "登录已失效"],
  session_replaced: [401, "账号在其他地方登录"],
  user_disabled: [403, "账号已被禁用"],
  // login: a wrong password and an unknown account answer exactly the same (see auth-routes.ts)
  bad_credentials: [400, "账号或密码错误"],
  login_limited: [429, "登录失败次数过多，请稍后再试"],
  user_not_found: [404, "用户不存在"],
  user_exists: [409, "用户已存在"],
  bad_password: [400, "密码长度须为6到128位"],
  bad_mobile: [400, "手机号格式错误"],
  missing_parameter: [400, "缺少参数"],
  // QR login
  qr_invalid: [400, "二维码无效"],
  qr_expired: [400, "二维码已过期或已使用"],
  qr_wrong_user: [403, "只能用自己的账号确认登录"],
  qr_rate_limited: [429, "请求过于频繁，请稍后再试"],
  // organisation directory
  bad_company: [400, "公司不存在"],
  bad_department: [400, "部门不存在或不属于该公司"],
  bad_role: [400, "角色不存在或不属于该公司"],
  bad_license: [400, "授权不存在"],
  // messages and conversations
  not_self: [403, "只能以自己的身份操作"],
  not_friends: [403, "对方不是你的好友或同事"],
  user_muted: [403, "你已被禁言"],
  self_operation: [400, "不能给自己发消息"],
  bad_msg_id: [400, "消息id无效"],
  missing_file: [400, "缺少参数: fileId"],
  file_kind_mismatch: [400, "文件类型与消息类型不符"],
  bad_content: [400, "消息格式错误"],
  msg_rate_limited: [429, "发送频率过快，请稍后再试"],
  no_system_permission: [403, "没有发系统消息权限"],
  conversation_not_found: [404, "会话不存在"],
  group_not_found: [404, "群组不存在"],
  group_closed: [403, "该群禁止加入"],
  group_blacklisted: [403, "您在该群的黑名单中"],
  group_full: [403, "群成员已满"],
  group_no_permission: [403, "权限不足"],
  message_not_found: [404, "消息不存在"],
  // files
  file_not_found: [404, "文件不存在"],
  file_empty: [400, "文件为空"],
  file_too_large: [413, "文件过大"],
  file_type_not_allowed: [415, "不支持的文件类型"],
  not_multipart: [415, "请使用multipart/form-data上传文件(字段 file)"],
  missing_upload: [400, "缺少文件(字段 file)"],
  too_many_parts: [413, "上传内容过多(每次只能上传一个文件)"],
  bad_multipart: [400, "参数错误: 上传数据格式错误(multipart/form-data, 字段 file)"],
  upload_busy: [503, "上传繁忙，请稍后再试"],
};

/** The fallback per core code (total). */
const BY_CODE: Record<ErrorCode, [number, string]> = {
  invalid_argument: [400, "参数错误"],
  unauthenticated: [401, "未登录"],
  forbidden: [403, "无权操作"],
  not_found: [404, "资源不存在"],
  conflict: [409, "资源冲突"],
  rate_limited: [429, "请求过于频繁，请稍后再试"],
  unavailable: [503, "服务暂不可用"],
  internal: [500, "服务器内部错误"],
};

export function fromAppError(e: AppError): Envelope {
  const [status, msg] = REASONS[e.reason] ?? BY_CODE[e.code] ?? BY_CODE.internal;
  // An unlisted invalid_argument keeps the core's (English) explanation after the generic text.
  if (!REASONS[e.reason] && e.code === "invalid_argument" && e.message && e.message !== e.reason)
    return fail(status, `${msg}: ${e.message}`);
  return fail(status, msg);
}

/** The reasons with an explicit row (for tests and docs). */
export const MAPPED_REASONS = Object.keys(REASONS) as readonly Reason[];

/** Server → client WebSocket frames (`{code, msg, data}`, like the HTTP envelope). */
export const SocketCodes = {
  CONNECTED: 1000,
  QR_LOGIN: 1001,
  KICKED: 1002,
  EXPIRED: 1003,
  READ_RECEIPT: 1006,
  SINGLE_MESSAGE: 1100,
  GROUP_MESSAGE: 1101,
} as const;

export const frame = (code: number, msg: string, data: unknown = null): string => JSON.stringify({ code, msg, data });

export const KICKED_FRAME = frame(SocketCodes.KICKED, "账号在其他地方登录");
export const EXPIRED_FRAME = frame(SocketCodes.EXPIRED, "登录已过期");
