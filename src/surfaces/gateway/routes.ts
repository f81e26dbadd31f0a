import type { Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AdminAuth } from "../../core/admin/admin-token.ts";
import { AppError } from "../../core/errors.ts";
import type { GatewayService, Push } from "../../core/gateway/gateway-service.ts";
import { bearerToken } from "../../http/auth.ts";
import type { LaneRequest } from "../../http/fast-lane.ts";
import { documentRoutes } from "../../http/openapi.ts";
import type { Realtime } from "../../realtime/realtime.ts";
import { type Envelope, ok } from "./envelope.ts";
import { GATEWAY_EXAMPLES, gatewayHttp } from "./http.ts";
import {
  BindBody,
  CloseBody,
  OnlineListBody,
  RegisterBody,
  Responses,
  SendToClientBody,
  SendToGroupBody,
  SystemHeaders,
  sendToClientsBody,
} from "./schemas.ts";
import { closeClient, installGatewaySocket } from "./socket.ts";

export interface GatewaySurfaceOptions {
  /** Path prefix of the surface (not `prefix`: Fastify would apply that one itself). */
  mount: string;
  registerRequiresAdmin: boolean;
  maxClientIds: number;
  gateway: GatewayService;
  realtime: Realtime;
  admin: AdminAuth;
}

const header = (req: LaneRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The push-gateway surface (seed 000): HTTP API under `<prefix>/api/*` and the client socket at
 * `<prefix>/ws?systemId=`. An encapsulated Fastify plugin with its own validator, body parser and
 * error handler, so its envelope never leaks into other surfaces.
 */
export async function gatewaySurface(app: FastifyInstance, opts: GatewaySurfaceOptions): Promise<void> {
  const { gateway, realtime, admin } = opts;

  installGatewaySocket(realtime, gateway, opts.mount);

  await app.register(
    async (api) => {
      gatewayHttp.install(api);
      documentRoutes(api, {
        mount: opts.mount,
        security: (path) =>
          path !== "/api/register"
            ? [{ gatewaySystem: [] }, { gatewaySystem: [], gatewaySecret: [] }]
            : opts.registerRequiresAdmin
              ? [{ adminBearer: [] }]
              : undefined,
        examples: GATEWAY_EXAMPLES,
      });

      const system = (req: LaneRequest) => gateway.authorize(header(req, "systemid"), header(req, "systemsecret"));
      const tags = ["gateway (000)"];

      /**
       * A push route: the same route, and its plain requests take the fast lane when the server
       * has one (src/http/fast-lane.ts); its handler reads only the body and the headers.
       */
      const pushRoute = <B>(
        path: string,
        summary: string,
        body: object,
        response: object,
        handler: (req: LaneRequest<B>) => Promise<Envelope>,
      ) => {
        gatewayHttp.fastRoute<B>(
          api,
          { url: path, schema: { summary, tags, body, headers: SystemHeaders, response: { 200: response } } },
          handler,
        );
      };

      const post = <B>(
        path: string,
        summary: string,
        body: object,
        response: object,
        handler: (req: FastifyRequest<{ Body: B }>) => Promise<Envelope>,
        withSystem = true,
        emptyBodyIsObject = false,
      ) => {
        gatewayHttp.route<{ Body: B }>(api, {
          method: "POST",
          url: path,
          // get_online_list has no required field: an empty body means "no filter"
          ...(emptyBodyIsObject
            ? {
                preValidation: async (req: FastifyRequest) => {
                  req.body ??= {};
                },
              }
            : {}),
          schema: {
            summary,
            tags,
            body,
            ...(withSystem ? { headers: SystemHeaders } : {}),
            response: { 200: response },
          },
          handler,
        });
      };

      post<Static<typeof RegisterBody>>(
        "/register",
        "注册系统 — register a system",
        RegisterBody,
        Responses.empty,
        async (req) => {
          if (opts.registerRequiresAdmin && !(await admin.check(bearerToken(req))))
            throw new AppError("unauthenticated", "admin_required");
          await gateway.register(req.body.systemId, req.body.secret);
          return ok([]);
        },
        false,
      );

      pushRoute<Static<typeof SendToClientBody>>(
        "/send_to_client",
        "发送信息给指定客户端 — push to one client",
        SendToClientBody,
        Responses.messageId,
        async (req) => {
          const sys = await system(req);
          // the schema allows exactly clientId + the push fields; the core reads the push fields only
          const b = req.body;
          return ok({ messageId: await gateway.sendToClient(sys, b.clientId, b as Push) });
        },
      );

      const ClientsBody = sendToClientsBody(opts.maxClientIds);
      pushRoute<Static<typeof ClientsBody>>(
        "/send_to_clients",
        "批量发送信息给指定客户端 — push to several clients",
        ClientsBody,
        Responses.messageId,
        async (req) => {
          const sys = await system(req);
          const b = req.body;
          return ok({ messageId: await gateway.sendToClients(sys, b.clientIds, b as Push) });
        },
      );

      pushRoute<Static<typeof BindBody>>(
        "/bind_to_group",
        "绑定客户端到分组 — bind a client to a group",
        BindBody,
        Responses.empty,
        async (req) => {
          const sys = await system(req);
          const b = req.body;
          await gateway.bindToGroup(sys, b.clientId, b.groupName, b.userId ?? b.sendUserId ?? "", b.extend ?? "");
          return ok([]);
        },
      );

      pushRoute<Static<typeof SendToGroupBody>>(
        "/send_to_group",
        "发送信息给指定分组 — push to a group",
        SendToGroupBody,
        Responses.messageId,
        async (req) => {
          const sys = await system(req);
          const b = req.body;
          return ok({ messageId: await gateway.sendToGroup(sys, b.groupName, b as Push) });
        },
      );

      post<Static<typeof OnlineListBody>>(
        "/get_online_list",
        "获取在线的客户端列表 — online clients of a group (or of the system)",
        OnlineListBody,
        Responses.onlineList,
        async (req) => {
          const sys = await system(req);
          const list = await gateway.onlineList(sys, req.body.groupName ?? "");
          return ok({ count: list.length, list });
        },
        true,
        true,
      );

      post<Static<typeof CloseBody>>(
        "/close_client",
        "关闭指定连接 — close a client",
        CloseBody,
        Responses.closed,
        async (req) => {
          const sys = await system(req);
          await closeClient(realtime, gateway, sys, req.body.clientId);
          return ok({});
        },
      );
    },
    { prefix: `${opts.mount}/api` },
  );
}
