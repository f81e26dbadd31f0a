import { Type } from "@sinclair/typebox";
import { Mobile, UserId } from "./schemas.ts";

/** Longest avatar URL accepted by /user/editAvatar. */
export const AVATAR_MAX = 1024;
/** Nickname length (code points, after trimming). */
export const NICKNAME_MAX = 32;
/** Longest mute: 100 years in ms (keeps `now + muted_time` a safe integer everywhere). */
export const MUTE_MAX_MS = 100 * 365 * 24 * 3600 * 1000;

export const SmsBody = Type.Object({ mobile: Mobile });

export const PwdLoginBody = Type.Object({
  mobile: Type.String({
    minLength: 1,
    maxLength: 64,
    description: "mobile number (accounts created by an admin with only a username may give the username)",
  }),
  password: Type.String({ minLength: 1, maxLength: 128 }),
});

export const RegisterBody = Type.Object({
  mobile: Mobile,
  password: Type.String({ minLength: 1, maxLength: 128, description: "6 to 128 characters" }),
  captcha: Type.String({ minLength: 1, maxLength: 16, description: "the code sent by /send/sms" }),
});

/** `/user/phoneLogin` (the later server's 验证验证码): `phone` (or `mobile`) and `code` (or `Code`). */
export const PhoneLoginBody = Type.Object({
  phone: Type.Optional(Mobile),
  mobile: Type.Optional(Mobile),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: "the code sent by /send/sms" })),
  Code: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: "the later server's spelling of code" })),
});

/** `/user/sendCode` (the later server's 发送验证码): `phone` (or `mobile`). */
export const SendCodeBody = Type.Object({ phone: Type.Optional(Mobile), mobile: Type.Optional(Mobile) });

export const UserInfoBody = Type.Object({ id: UserId });

export const EditAvatarBody = Type.Object({
  avatar: Type.String({
    minLength: 1,
    maxLength: AVATAR_MAX,
    description: "http(s) URL, or a path on this server such as /files/…",
  }),
});

export const EditNicknameBody = Type.Object({
  nickname: Type.String({
    minLength: 1,
    maxLength: 256,
    description: `1 to ${NICKNAME_MAX} characters after trimming`,
  }),
});

export const IsRegBody = Type.Object({ mobile: Mobile });

export const MutedBody = Type.Object({
  id: UserId,
  muted_time: Type.Integer({
    minimum: 0,
    maximum: MUTE_MAX_MS,
    description: "mute duration in ms from now; 0 lifts the mute",
  }),
});

const LoginFields = {
  account: Type.String({ description: "mobile, or the username when the account has no mobile" }),
  avatar: Type.String(),
  id: Type.String({ description: "user id" }),
  uid: Type.String({ description: "public user id (markId, zb_uid)" }),
  user_level: Type.Integer({ description: "0 guest, 1 user, 2 customer service" }),
  username: Type.String({ description: "the nickname" }),
  verified: Type.Integer({ description: "1 verified (实名), 2 not verified" }),
};

export const LoginData = Type.Object(LoginFields);
export const LoginWithTokenData = Type.Object({ ...LoginFields, token: Type.String() });
export const PhoneLoginData = Type.Object({
  ...LoginFields,
  token: Type.String(),
  type: Type.Integer({ description: "1 = logged in (the later server's 0 = registered never happens here)" }),
});

export const UserInfoData = Type.Object({
  id: Type.String(),
  sex: Type.Integer({ description: "0 unset, 1 male, 2 female" }),
  name: Type.String(),
  avatar: Type.String(),
  isFriend: Type.Integer({ description: "1 yes, 2 no" }),
  position: Type.Optional(
    Type.String({ description: "only between colleagues of the same company (and for oneself)" }),
  ),
  noDisturbing: Type.Optional(Type.Integer({ description: "friends only: 1 on, 2 off" })),
  stickyOnTop: Type.Optional(Type.Integer({ description: "friends only: 1 on, 2 off" })),
  addTime: Type.Optional(Type.Integer({ description: "friends only: ms" })),
  remark: Type.Optional(Type.String({ description: "friends only" })),
  com_id: Type.Optional(Type.String({ description: "admins and oneself only" })),
  uid: Type.Optional(Type.String()),
  account: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  verified: Type.Optional(Type.Integer()),
  userLevel: Type.Optional(Type.Integer()),
  description: Type.Optional(Type.String()),
});

export const IsRegData = Type.Object({ zb_uid: Type.String({ description: '"0" = not registered' }) });

export const PermissionData = Type.Object({
  permissionList: Type.Array(Type.Object({ permissionId: Type.Integer(), permissionName: Type.String() })),
});
