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
  MuteBody,
  OutboxOut,
  OutboxQuery,
  RevokeSessionBody,
  UpdateUserBody,
  UserIdBody,
  UserIdQuery,
  UserOut,
  UserSessionOut,
} from "./schemas.ts";

const tags = ["admin"];

/** A username that looks like a mobile number would shadow that mobile's owner at login. */
function checkUsername(username: string | undefined): void {
  if (username !== undefined && MOBILE_RE.test(username))
    throw invalid("bad_username", "username must not be a mobile number");
}

/** Users, their sessions, and the SMS outbox. */
export function userRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { accounts, sms, adminSessions } = deps;

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
      // a new password or a disabled account also ends the user's admin sessions
      if (fields.disabled || password !== undefined)
        await adminSessions.revokeUser(user.id, fields.disabled ? "disabled" : "admin");
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
      response: {
        200: envelope(
          Type.Object({
            id: Type.String(),
            revoked: Type.Integer({ description: "user sessions ended" }),
            adminSessions: Type.Integer({ description: "admin sessions of the user ended" }),
          }),
        ),
      },
    },
    handler: async (req) => {
      const id = Number(req.body.id);
      if (!(await accounts.findUser(id))) throw notFound("user_not_found", "user does not exist");
      const revoked = await accounts.revokeAll(id, "admin");
      return ok({ id: String(id), revoked, adminSessions: await adminSessions.revokeUser(id, "admin") });
    },
  });

  api.route<{ Body: Static<typeof MuteBody> }>({
    method: "POST",
    url: "/users/mute",
    schema: {
      summary: "mute a user everywhere for durationMs (0 lifts the mute); its sockets are told",
      tags,
      body: MuteBody,
      response: { 200: envelope(UserOut) },
    },
    handler: async (req) => ok(presentUser(await accounts.mute(Number(req.body.id), req.body.durationMs))),
  });

  api.route<{ Querystring: Static<typeof UserIdQuery> }>({
    method: "GET",
    url: "/users/sessions",
    schema: {
      summary: "a user's live sessions (logins on chat33 / enterprise / web), oldest first",
      tags,
      querystring: UserIdQuery,
      response: { 200: envelope(Type.Array(UserSessionOut)) },
    },
    handler: async (req) => {
      const id = Number(req.query.id);
      if (!(await accounts.findUser(id))) throw notFound("user_not_found", "user does not exist");
      return ok(
        (await accounts.liveSessions(id)).map((s) => ({
          id: s.id,
          device: s.device,
          deviceId: s.deviceId,
          platform: s.platform,
          createdAt: s.createdAt,
          expiresAt: s.expiresAt,
        })),
      );
    },
  });

  api.route<{ Body: Static<typeof RevokeSessionBody> }>({
    method: "POST",
    url: "/users/sessions/revoke",
    schema: {
      summary: "end one session of a user (its sockets are told and closed)",
      tags,
      body: RevokeSessionBody,
      response: { 200: envelope(Type.Object({ id: Type.String(), sessionId: Type.String() })) },
    },
    handler: async (req) => {
      const id = Number(req.body.id);
      if (!(await accounts.findUser(id))) throw notFound("user_not_found", "user does not exist");
      if (!(await accounts.revokeSessionOf(id, req.body.sessionId, "admin")))
        throw notFound("session_not_found", "no live session with this id for this user");
      return ok({ id: String(id), sessionId: req.body.sessionId });
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
