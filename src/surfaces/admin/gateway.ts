import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { invalid } from "../../core/errors.ts";
import type { Push } from "../../core/gateway/gateway-service.ts";
import type { Json } from "../../ports/hub.ts";
import type { GatewaySystem } from "../../ports/storage/gateway.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { envelope } from "./schemas.ts";

const tags = ["admin: gateway"];
const strict = { additionalProperties: false };

const SystemId = Type.String({ minLength: 1, maxLength: 128, pattern: "^[^\\s]+$", description: "system id" });
const GroupName = Type.String({ minLength: 1, maxLength: 256, description: "group name (bind_to_group)" });
const ClientId = Type.String({ minLength: 1, maxLength: 128, description: "client id (the /ws first frame)" });

const SystemBody = Type.Object(
  {
    systemId: SystemId,
    secret: Type.Optional(
      Type.String({ minLength: 16, maxLength: 256, description: "API calls of the system must then send it" }),
    ),
  },
  strict,
);
const OnlineQuery = Type.Object(
  {
    systemId: SystemId,
    groupName: Type.Optional(Type.String({ maxLength: 256, description: "empty = every client" })),
  },
  strict,
);
const pushBody = (maxIds: number) =>
  Type.Object(
    {
      systemId: SystemId,
      clientId: Type.Optional(ClientId),
      clientIds: Type.Optional(Type.Array(ClientId, { minItems: 1, maxItems: maxIds })),
      groupName: Type.Optional(GroupName),
      sendUserId: Type.String({ maxLength: 256 }),
      code: Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 }),
      msg: Type.String({ maxLength: 4096 }),
      data: Type.Union([Type.String(), Type.Array(Type.Unknown()), Type.Object({}, { additionalProperties: true })], {
        description: "passed through unchanged (string, array or object)",
      }),
    },
    { ...strict, description: "exactly one of clientId, clientIds, groupName" },
  );

const SystemOut = Type.Object({
  systemId: Type.String(),
  hasSecret: Type.Boolean({ description: "registered with a secret (never shown)" }),
  createdAt: Type.Integer(),
  online: Type.Integer({ description: "clients connected now (cluster-wide)" }),
});

/**
 * The push gateway (seed 000) for operators (docs/admin.md "Gateway"): the registered systems,
 * their online clients, registering one, and a test push as `send_to_client(s)` /
 * `send_to_group` — as the operator, so no SystemSecret is needed.
 */
export function gatewayRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { gateway } = deps;
  const PushBody = pushBody(deps.config.gateway.maxClientIds);

  const system = async (systemId: string): Promise<GatewaySystem> => {
    const s = await gateway.findSystem(systemId);
    if (!s) throw invalid("system_id_invalid", "unknown systemId");
    return s;
  };

  api.route({
    method: "GET",
    url: "/gateway/systems",
    schema: { summary: "registered gateway systems", tags, response: { 200: envelope(Type.Array(SystemOut)) } },
    handler: async () => {
      const list = await gateway.systems();
      return ok(
        await Promise.all(
          list.map(async (s) => ({
            ...s,
            online: (await gateway.onlineList(await system(s.systemId), "")).length,
          })),
        ),
      );
    },
  });

  api.route<{ Body: Static<typeof SystemBody> }>({
    method: "POST",
    url: "/gateway/systems",
    schema: {
      summary: "register a gateway system (as /api/register)",
      tags,
      body: SystemBody,
      response: { 200: envelope(SystemOut) },
    },
    handler: async (req) => {
      const { systemId, secret } = req.body;
      await gateway.register(systemId, secret);
      const s = await system(systemId);
      return ok({ systemId, hasSecret: s.secretHash !== null, createdAt: s.createdAt, online: 0 });
    },
  });

  api.route<{ Querystring: Static<typeof OnlineQuery> }>({
    method: "GET",
    url: "/gateway/online",
    schema: {
      summary: "a system's online clients, of one group or all (as /api/get_online_list)",
      tags,
      querystring: OnlineQuery,
      response: { 200: envelope(Type.Object({ count: Type.Integer(), list: Type.Array(Type.String()) })) },
    },
    handler: async (req) => {
      const list = await gateway.onlineList(await system(req.query.systemId), req.query.groupName ?? "");
      return ok({ count: list.length, list });
    },
  });

  api.route<{ Body: Static<typeof PushBody> }>({
    method: "POST",
    url: "/gateway/push",
    schema: {
      summary: "test push: send_to_client, send_to_clients or send_to_group as the operator",
      tags,
      body: PushBody,
      response: {
        200: envelope(
          Type.Object({ messageId: Type.String(), target: Type.String({ description: "client | clients | group" }) }),
        ),
      },
    },
    handler: async (req) => {
      const { systemId, clientId, clientIds, groupName, sendUserId, code, msg, data } = req.body;
      const targets = [clientId, clientIds, groupName].filter((x) => x !== undefined).length;
      if (targets !== 1) throw invalid("missing_parameter", "give exactly one of clientId, clientIds, groupName");
      const s = await system(systemId);
      const push: Push = { sendUserId, code, msg, data: data as Json };
      if (clientId !== undefined)
        return ok({ messageId: await gateway.sendToClient(s, clientId, push), target: "client" });
      if (clientIds !== undefined)
        return ok({ messageId: await gateway.sendToClients(s, clientIds, push), target: "clients" });
      return ok({ messageId: await gateway.sendToGroup(s, groupName as string, push), target: "group" });
    },
  });
}
