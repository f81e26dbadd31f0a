import type { Static } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { MOBILE_RE } from "../../core/accounts/account-service.ts";
import { invalid, notFound } from "../../core/errors.ts";
import type { UserPatch } from "../../ports/storage/accounts.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { presentUser } from "./presenters.ts";
import {
  CreateUserBody,
  envelope,
  ListUsersQuery,
  OutboxOut,
  OutboxQuery,
  UpdateUserBody,
  UserIdBody,
  UserOut,
} from "./schemas.ts";

const tags = ["admin"];

/** A username that looks like a mobile number would shadow that mobile's owner at login. */
function checkUsername(username: string | undefined): void {
  if (username !== undefined && MOBILE_RE.test(username))
    throw invalid("bad_username", "username must not be a mobile number");
}

/** Users, their sessions, and the SMS outbox. */
export function userRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { accounts, sms } = deps;

  api.route<{ Body: Static<typeof CreateUserBody> }>({
    method: "POST",
    url: "/users",
    schema: { summary: "create a user", tags, body: CreateUserBody, response: { 200: envelope(UserOut) } },
    handler: async (req) => {
      const { admin, ...b } = req.body;
      checkUsername(b.username);
      const user = await accounts.createUser({ ...b, isAdmin: admin });
      return ok(presentUser(user));
    },
  });

  api.route<{ Querystring: Static<typeof ListUsersQuery> }>({
    method: "GET",
    url: "/users",
    schema: {
      summary: "list users, newest first",
      tags,
      querystring: ListUsersQuery,
      response: { 200: envelope(Type.Object({ total: Type.Integer(), list: Type.Array(UserOut) })) },
    },
    handler: async (req) => {
      const { query = "", page = 1, size = 20 } = req.query;
      const { total, list } = await accounts.listUsers(query, (page - 1) * size, size);
      return ok({ total, list: list.map(presentUser) });
    },
  });

  api.route<{ Body: Static<typeof UpdateUserBody> }>({
    method: "POST",
    url: "/users/update",
    schema: {
      summary: "update a user (disabling it or setting its password ends its sessions)",
      tags,
      body: UpdateUserBody,
      response: { 200: envelope(UserOut) },
    },
    handler: async (req) => {
      const { id, admin, password, ...fields } = req.body;
      checkUsername(fields.username);
      const patch: UserPatch & { password?: string } = {};
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) (patch as Record<string, unknown>)[k] = v;
      if (admin !== undefined) patch.isAdmin = admin;
      if (password !== undefined) patch.password = password;
      const user = await accounts.adminUpdate(Number(id), patch);
      return ok(presentUser(user));
    },
  });

  api.route<{ Body: Static<typeof UserIdBody> }>({
    method: "POST",
    url: "/users/revoke-sessions",
    schema: {
      summary: "end every session of a user (its sockets are closed)",
      tags,
      body: UserIdBody,
      response: { 200: envelope(Type.Object({ id: Type.String(), revoked: Type.Integer() })) },
    },
    handler: async (req) => {
      const id = Number(req.body.id);
      if (!(await accounts.findUser(id))) throw notFound("user_not_found", "user does not exist");
      return ok({ id: String(id), revoked: await accounts.revokeAll(id, "admin") });
    },
  });

  api.route<{ Querystring: Static<typeof OutboxQuery> }>({
    method: "GET",
    url: "/sms/outbox",
    schema: {
      summary: "codes sent by the `log` SMS sender, newest first",
      tags,
      querystring: OutboxQuery,
      response: { 200: envelope(Type.Array(OutboxOut)) },
    },
    handler: async (req) => {
      const { mobile, limit = 50 } = req.query;
      return ok(await sms.outbox(mobile || null, limit));
    },
  });
}
