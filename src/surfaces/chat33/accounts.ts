import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { MOBILE_RE } from "../../core/accounts/account-service.ts";
import { AppError, forbidden, invalid, notFound } from "../../core/errors.ts";
import { bearerToken } from "../../http/auth.ts";
import type { User } from "../../ports/storage/accounts.ts";
import {
  AVATAR_MAX,
  EditAvatarBody,
  EditNicknameBody,
  IsRegBody,
  IsRegData,
  LoginData,
  LoginWithTokenData,
  MutedBody,
  NICKNAME_MAX,
  PermissionData,
  PhoneLoginBody,
  PhoneLoginData,
  PwdLoginBody,
  RegisterBody,
  SendCodeBody,
  SmsBody,
  UserInfoBody,
  UserInfoData,
} from "./account-schemas.ts";
import { readCredentials, requireDevice, requireUser, tokenCookie } from "./auth.ts";
import type { Chat33Deps } from "./deps.ts";
import { friendshipBetween } from "./friendship.ts";
import { postRoute } from "./http.ts";
import { loginView, userInfoView } from "./presenters.ts";
import { Empty, NoBody } from "./schemas.ts";

/** `/user/isreg` answers per client IP per minute (it tells whether a number is registered). */
export const ISREG_PER_MINUTE = 30;

/** chat33 permission ids (`/permission/permissionInfo`, deprecated in the document). */
const ADMIN_PERMISSIONS = [{ permissionId: 1, permissionName: "发系统消息" }];

/** A user id string → the user; anything that is not an existing user's id is -2001. */
async function userById(deps: Chat33Deps, id: string): Promise<User> {
  const user = /^[1-9][0-9]{0,14}$/.test(id) ? await deps.accounts.findUser(Number(id)) : null;
  if (!user) throw notFound("user_not_found", "user does not exist");
  return user;
}

/** http(s) URL or a path on this server; no whitespace, control characters, quotes or angle brackets. */
export const AVATAR_RE = /^(?:https?:\/\/[^\s"'<>\\\p{Cc}]+|\/[^\s"'<>\\\p{Cc}]*)$/iu;
const CONTROL_RE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** The user routes of seed 002 (用户相关接口) plus `/send/sms` and the `/user/register` extension. */
export function accountRoutes(api: FastifyInstance, deps: Chat33Deps): void {
  const { accounts, sms, limiter, admin } = deps;
  const cred = (req: FastifyRequest) => readCredentials(req.headers);

  postRoute<Static<typeof SmsBody>>(api, {
    path: "/send/sms",
    summary: "获取手机验证码 — send an SMS code (valid 5 min, one per mobile per 60 s)",
    body: SmsBody,
    data: Empty,
    handler: async (req) => {
      await sms.send(req.body.mobile, req.ip);
      return {};
    },
  });

  postRoute<Static<typeof PwdLoginBody>>(api, {
    path: "/user/pwdLogin",
    summary: "用户密码登录 — password login (FZM-DEVICE required)",
    body: PwdLoginBody,
    data: LoginWithTokenData,
    handler: async (req) => {
      const device = requireDevice(cred(req).device);
      const { mobile, password } = req.body;
      const account = MOBILE_RE.test(mobile) ? { mobile } : { username: mobile };
      const { user, token } = await accounts.passwordLogin(account, password, { device, ip: req.ip });
      return { ...loginView(user), token };
    },
  });

  postRoute<Static<typeof RegisterBody>>(api, {
    path: "/user/register",
    summary: "注册 (Parley extension) — SMS-verified sign-up; logs in like /user/pwdLogin",
    body: RegisterBody,
    data: LoginWithTokenData,
    handler: async (req) => {
      const device = requireDevice(cred(req).device);
      const { mobile, password, captcha } = req.body;
      const { user, token } = await accounts.register(mobile, password, captcha, { device, ip: req.ip });
      return { ...loginView(user), token };
    },
  });

  postRoute<Static<typeof SendCodeBody>>(api, {
    path: "/user/sendCode",
    summary: "发送验证码 (the later server's) — the same as /send/sms, the mobile in `phone`",
    body: SendCodeBody,
    data: Empty,
    handler: async (req) => {
      const mobile = req.body.phone ?? req.body.mobile;
      if (!mobile) throw invalid("missing_parameter", "phone is required");
      await sms.send(mobile, req.ip);
      return {};
    },
  });

  postRoute<Static<typeof PhoneLoginBody>>(api, {
    path: "/user/phoneLogin",
    summary: "验证码登录 (the later server's) — log in an existing account with the code from /send/sms",
    body: PhoneLoginBody,
    data: PhoneLoginData,
    handler: async (req) => {
      const device = requireDevice(cred(req).device);
      const mobile = req.body.phone ?? req.body.mobile;
      const code = req.body.code ?? req.body.Code;
      if (!mobile) throw invalid("missing_parameter", "phone is required");
      if (!code) throw invalid("missing_parameter", "code is required");
      const { user, token } = await accounts.smsLogin(mobile, code, { device, ip: req.ip });
      return { ...loginView(user), token, type: 1 };
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/user/tokenLogin",
    summary: "用户登录 — check FZM-AUTH-TOKEN + FZM-DEVICE, return the user, set the FZM-AUTH-TOKEN cookie",
    body: NoBody,
    data: LoginData,
    handler: async (req, reply) => {
      const ctx = await requireUser(accounts, req.headers);
      const maxAge = (ctx.session.expiresAt - Date.now()) / 1000;
      reply.header("set-cookie", tokenCookie(ctx.token, maxAge, req.protocol === "https"));
      return loginView(ctx.user);
    },
  });

  postRoute<Static<typeof UserInfoBody>>(api, {
    path: "/user/userInfo",
    summary: "查看用户详情 — a user's profile, fields by relationship (friend, colleague, admin, self)",
    body: UserInfoBody,
    data: UserInfoData,
    handler: async (req) => {
      const { user: viewer } = await requireUser(accounts, req.headers);
      const target = await userById(deps, req.body.id);
      return userInfoView(viewer, target, await friendshipBetween(deps.friends, viewer.id, target.id));
    },
  });

  postRoute<Static<typeof EditAvatarBody>>(api, {
    path: "/user/editAvatar",
    summary: "用户编辑头像 — set one's avatar URL",
    body: EditAvatarBody,
    data: Empty,
    handler: async (req) => {
      const { user } = await requireUser(accounts, req.headers);
      const avatar = req.body.avatar;
      if (!AVATAR_RE.test(avatar))
        throw invalid("bad_avatar", `avatar must be an http(s) URL or a /path of at most ${AVATAR_MAX} characters`);
      await accounts.editProfile(user.id, { avatar });
      return {};
    },
  });

  postRoute<Static<typeof EditNicknameBody>>(api, {
    path: "/user/editNickname",
    summary: "用户修改昵称 — set one's nickname (1 to 32 characters)",
    body: EditNicknameBody,
    data: Empty,
    handler: async (req) => {
      const { user } = await requireUser(accounts, req.headers);
      const nickname = req.body.nickname.trim();
      const length = [...nickname].length;
      if (length < 1 || length > NICKNAME_MAX || CONTROL_RE.test(nickname))
        throw invalid("bad_nickname", `nickname must be 1 to ${NICKNAME_MAX} characters`);
      await accounts.editProfile(user.id, { nickname });
      return {};
    },
  });

  postRoute<Static<typeof IsRegBody>>(api, {
    path: "/user/isreg",
    summary: '用户是否已注册 — the user\'s uid for a mobile, "0" when not registered',
    body: IsRegBody,
    data: IsRegData,
    handler: async (req) => {
      if (!(await limiter.hit(`chat33:isreg:${req.ip}`, ISREG_PER_MINUTE, 60_000)).ok)
        throw new AppError("rate_limited", "isreg_limited", "too many lookups from this address");
      const user = await deps.accounts.findUserByMobile(req.body.mobile);
      return { zb_uid: user ? user.uid : "0" };
    },
  });

  postRoute<Static<typeof MutedBody>>(api, {
    path: "/user/muted",
    summary: "管理端禁言用户（全局禁言）— admin users, or Authorization: Bearer <admin token>",
    body: MutedBody,
    data: Empty,
    handler: async (req) => {
      const adminToken = bearerToken(req);
      if (!(adminToken && admin.verify(adminToken))) {
        // not the admin token: an admin user's session, else -3000 (-1003 when no credentials at all)
        if (!cred(req).token && adminToken) throw forbidden("not_admin", "admin token or admin user required");
        const { user } = await requireUser(accounts, req.headers);
        if (!user.isAdmin) throw forbidden("not_admin", "admin users only");
      }
      const target = await userById(deps, req.body.id);
      await accounts.mute(target.id, req.body.muted_time);
      return {};
    },
  });

  postRoute<Static<typeof NoBody>>(api, {
    path: "/permission/permissionInfo",
    summary: "(已弃用) 获取权限信息 — admin users may send system messages (permission 1)",
    body: NoBody,
    data: PermissionData,
    handler: async (req) => {
      const { user } = await requireUser(accounts, req.headers);
      return { permissionList: user.isAdmin ? ADMIN_PERMISSIONS : [] };
    },
  });
}
