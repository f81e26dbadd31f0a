import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/errors.ts";
import { type EnterpriseContext, publicBase, routeWith405 } from "./context.ts";
import { type Envelope, ok } from "./envelope.ts";
import { Authorization, AuthParams, ErrorEnvelope, envelope, params, ScanLoginPath } from "./schemas.ts";

const tags = ["enterprise (001)"];

/** Group QR codes one user may request per minute. */
const GROUP_QR_PER_USER_PER_MINUTE = 30;

export const CnbiScanParams = params({
  authorization: Type.Optional(Authorization),
  platform: Type.Optional(Type.String({ maxLength: 32, description: "设备平台, e.g. pc" })),
  type: Type.Literal("group", { description: "类型: group (the only one)" }),
  targetId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "群id (you must be a member)" }),
});

const Responses = {
  cnbiScan: {
    200: envelope(
      Type.Object({ url: Type.String({ description: "…/auth/cnbi_scan/<code>/{userId}" }) }),
      "获取生成二维码地址成功！",
    ),
    "4xx": ErrorEnvelope,
  },
  cnbiJoin: {
    200: envelope(
      Type.Object({
        groupId: Type.Integer(),
        status: Type.String({ description: "joined | pending (an application waits) | member (already)" }),
      }),
      "加入群组成功",
    ),
    "4xx": ErrorEnvelope,
  },
};

/**
 * Group QR codes (seed 001 "获取(群)二维码的生成地址 SCAN_URL"): a member asks for a one-time URL;
 * a logged-in user who opens it (with `{userId}` replaced by their id) joins the group or applies
 * to it (GroupService.joinByLink decides).
 */
export function registerGroupRoutes(api: FastifyInstance, ctx: EnterpriseContext): void {
  const { qr, groups, limiter, config, mount } = ctx.deps;

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/auth/cnbi_scan",
    schema: {
      summary: "获取(群)二维码的生成地址 SCAN_URL — a one-time group-join URL (members only)",
      tags,
      querystring: CnbiScanParams,
      response: Responses.cnbiScan,
    },
    handler: async (req): Promise<Envelope> => {
      const p = req.query as Static<typeof CnbiScanParams>;
      const { user } = await ctx.auth(req);
      const limit = await limiter.hit(`ent:gqr:user:${user.id}`, GROUP_QR_PER_USER_PER_MINUTE, 60_000);
      if (!limit.ok) throw new AppError("rate_limited", "qr_rate_limited");
      const group = await groups.requireMemberOf(user, p.targetId);
      const code = await qr.createGroupJoin(user.id, String(group.id), p.platform?.trim() || "pc");
      return ok(
        { url: `${publicBase(config.publicUrl, req)}${mount}/auth/cnbi_scan/${code}/{userId}` },
        "获取生成二维码地址成功！",
      );
    },
  });

  routeWith405(api, {
    method: ["GET", "POST"],
    url: "/auth/cnbi_scan/:code/:userId",
    schema: {
      summary: "扫码入群 — the logged-in user who opened the group URL joins (or applies to) the group",
      tags,
      params: ScanLoginPath,
      querystring: AuthParams,
      response: Responses.cnbiJoin,
    },
    handler: async (req): Promise<Envelope> => {
      const { code, userId } = req.params as Static<typeof ScanLoginPath>;
      const { user } = await ctx.auth(req);
      const { groupId, createdBy } = await qr.consumeGroupJoin(code, user, userId);
      const status = await groups.joinByLink(user, groupId, createdBy);
      return ok({ groupId, status }, status === "pending" ? "已申请加入群组" : "加入群组成功");
    },
  });
}
