import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { enterpriseDevice } from "../../core/accounts/devices.ts";
import { AppError } from "../../core/errors.ts";
import type { EnterpriseContext } from "./context.ts";
import { routeWith405 } from "./context.ts";
import { type Envelope, ok } from "./envelope.ts";
import { tokenOf } from "./params.ts";
import { AuthParams, LoginParams, Responses, ScanLoginPath, ScanLoginUrlParams } from "./schemas.ts";

const tags = ["enterprise (001)"];

/** QR codes one client IP may request per minute (an unauthenticated write). */
const QR_PER_IP_PER_MINUTE = 60;

/**
 * Login, logout, QR login and the user's own profile (seed 001 "登录登出二维码操作接口" and
 * `/api/left_user_info`). Parameters: see params.ts (query, form or JSON, merged).
 */
export function registerAuthRoutes(api: FastifyInstance, ctx: EnterpriseContext): void {
  const { accounts, qr, limiter, config, mount } = ctx.deps;
  const { presenter } = ctx;

  routeWith405(api, {
    method: "POST",
    url: "/auth/login",
    schema: {
      summary: "客户端帐号密码登录 USER_LOGIN — password login",
      tags,
      querystring: LoginParams,
      response: Responses.login,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof LoginParams>;
      const platform = p.platform?.trim() || undefined;
      try {
        const login = await accounts.passwordLogin({ username: p.account }, p.password, {
          device: enterpriseDevice(platform),
          deviceId: p.device?.trim() || undefined,
          platform,
          ip: req.ip,
        });
        return ok(await presenter.login(login), "登录成功");
      } catch (e) {
        // Never tell whether the account exists: an unknown account answers like a wrong password.
        if (e instanceof AppError && e.reason === "user_not_found")
          throw new AppError("unauthenticated", "bad_credentials", "wrong account or password");
        throw e;
      }
    },
  });

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/auth/logout",
    schema: {
      summary: "客户端登出 USER_LOGOUT — revoke the token",
      tags,
      querystring: AuthParams,
      response: Responses.logout,
    },
    handler: async (req): Promise<Envelope> => {
      const { session } = await ctx.auth(req);
      await accounts.logout(session);
      return ok(tokenOf(req), "退出成功");
    },
  });

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/api/left_user_info",
    schema: {
      summary: "查看个人资料 — the caller's own profile, company, department, role and license",
      tags,
      querystring: AuthParams,
      response: Responses.leftUserInfo,
    },
    handler: async (req): Promise<Envelope> => {
      const { user } = await ctx.auth(req);
      const p = await presenter.profile(user);
      return ok(
        { user: p.user, work: null, sex: p.sex, dept: p.dept, company: p.company, role: p.role, license: p.license },
        "查询成功",
      );
    },
  });

  const publicBase = (req: FastifyRequest): string =>
    config.publicUrl.replace(/\/+$/, "") || `${req.protocol}://${req.host || "localhost"}`;

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/auth/scan_login_url",
    schema: {
      summary: "获取登录二维码url SCAN_LOGIN_URL — one-time QR login URL for a waiting socket",
      tags,
      querystring: ScanLoginUrlParams,
      response: Responses.scanLoginUrl,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof ScanLoginUrlParams>;
      const limit = await limiter.hit(`ent:qr:ip:${req.ip}`, QR_PER_IP_PER_MINUTE, 60_000);
      if (!limit.ok) throw new AppError("rate_limited", "qr_rate_limited");
      const code = await qr.createLogin(p.device.trim(), p.platform?.trim() || "pc");
      return ok({ url: `${publicBase(req)}${mount}/auth/scan_login/${code}/{userId}` }, "获取扫一扫登录二维码");
    },
  });

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/auth/scan_login/:code/:userId",
    schema: {
      summary: "扫码确认登录 — the logged-in phone confirms a QR login (the URL of scan_login_url)",
      tags,
      params: ScanLoginPath,
      querystring: AuthParams,
      response: Responses.scanLogin,
    },
    handler: async (req): Promise<Envelope> => {
      const { code, userId } = req.params as Static<typeof ScanLoginPath>;
      const { user } = await ctx.auth(req);
      await qr.confirmLogin(code, user, userId);
      return ok(null, "确认登录成功");
    },
  });
}
