import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AdminSession } from "../../core/admin/admin-sessions.ts";
import { AppError, invalid, unauthenticated } from "../../core/errors.ts";
import { bearerToken } from "../../http/auth.ts";
import type { User } from "../../ports/storage/accounts.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { presentUser } from "./presenters.ts";
import { EmptyQuery, envelope, UserOut } from "./schemas.ts";

const tags = ["admin: session"];

/** The route that needs no admin credential (it is how one gets one). */
export const SIGN_IN_PATH = "/session";

const SignInBody = Type.Object(
  {
    account: Type.String({ minLength: 1, maxLength: 64, description: "username or mobile of a user with `admin`" }),
    password: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
const SessionIdBody = Type.Object(
  {
    id: Type.String({
      pattern: "^[0-9a-f]{24}$",
      description: "admin session id (from GET /sessions)",
      examples: ["5f0c3a9e1b2d4c6e8f0a1b2c"],
    }),
  },
  { additionalProperties: false },
);

const SessionOut = Type.Object({
  id: Type.String({ description: "session id (not the token)" }),
  userId: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  nickname: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  ip: Type.String(),
  userAgent: Type.String(),
  current: Type.Boolean({ description: "the session of this request" }),
});

const SignInOut = Type.Object({
  token: Type.String({ description: "the bearer token (pas_…): shown once, only its hash is stored" }),
  sessionId: Type.String(),
  expiresAt: Type.Integer({ description: "ms since epoch; the session is not renewed by use" }),
  user: UserOut,
});

const WhoAmIOut = Type.Union([
  Type.Object({ kind: Type.Literal("token") }, { description: "the admin token" }),
  Type.Object(
    {
      kind: Type.Literal("session"),
      sessionId: Type.String(),
      createdAt: Type.Integer(),
      expiresAt: Type.Integer(),
      user: UserOut,
    },
    { description: "an admin session" },
  ),
]);

const userAgentOf = (req: FastifyRequest) => {
  const ua = req.headers["user-agent"];
  return (Array.isArray(ua) ? ua[0] : ua) ?? "";
};

/** Signing in as an admin user (docs/admin.md "Signing in as an admin user"). */
export function sessionRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { adminSessions, accounts } = deps;

  const present = (s: AdminSession, user: User | null, currentId: string | null) => ({
    id: s.id,
    userId: String(s.userId),
    username: user?.username ?? null,
    nickname: user?.nickname ?? "",
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    ip: s.ip,
    userAgent: s.userAgent,
    current: s.id === currentId,
  });

  api.route<{ Body: Static<typeof SignInBody> }>({
    method: "POST",
    url: SIGN_IN_PATH,
    schema: {
      summary: "sign in as an admin user (no admin credential needed): a revocable session token",
      tags,
      body: SignInBody,
      response: { 200: envelope(SignInOut) },
    },
    handler: async (req) => {
      const { account, password } = req.body;
      try {
        const r = await adminSessions.signIn(account, password, { ip: req.ip, userAgent: userAgentOf(req) });
        return ok({
          token: r.token,
          sessionId: r.session.id,
          expiresAt: r.session.expiresAt,
          user: presentUser(r.user),
        });
      } catch (e) {
        // an unknown account answers like a wrong password: sign-in does not tell who exists
        if (e instanceof AppError && e.reason === "user_not_found")
          throw unauthenticated("bad_credentials", "wrong account or password");
        throw e;
      }
    },
  });

  api.route<{ Querystring: Static<typeof EmptyQuery> }>({
    method: "GET",
    url: "/session",
    schema: {
      summary: "who is calling: the admin token, or an admin session and its user",
      tags,
      querystring: EmptyQuery,
      response: { 200: envelope(WhoAmIOut) },
    },
    handler: async (req) => {
      const p = await adminSessions.principal(bearerToken(req));
      if (!p) return ok({ kind: "token" });
      return ok({
        kind: "session",
        sessionId: p.session.id,
        createdAt: p.session.createdAt,
        expiresAt: p.session.expiresAt,
        user: presentUser(p.user),
      });
    },
  });

  api.route({
    method: "DELETE",
    url: "/session",
    schema: {
      summary: "sign out: revoke the admin session of this request",
      tags,
      response: { 200: envelope(Type.Object({ id: Type.String(), revoked: Type.Literal(true) })) },
    },
    handler: async (req) => {
      const p = await adminSessions.principal(bearerToken(req));
      if (!p)
        throw invalid("not_a_session", "the admin token is not a session (rotate it with `parley admin-token rotate`)");
      await adminSessions.revoke(p.session.id, "logout");
      return ok({ id: p.session.id, revoked: true as const });
    },
  });

  api.route<{ Querystring: Static<typeof EmptyQuery> }>({
    method: "GET",
    url: "/sessions",
    schema: {
      summary: "live admin sessions, newest first",
      tags,
      querystring: EmptyQuery,
      response: { 200: envelope(Type.Array(SessionOut)) },
    },
    handler: async (req) => {
      const [list, me] = await Promise.all([adminSessions.list(), adminSessions.principal(bearerToken(req))]);
      const users = new Map<number, User | null>();
      for (const s of list) if (!users.has(s.userId)) users.set(s.userId, await accounts.findUser(s.userId));
      return ok(list.map((s) => present(s, users.get(s.userId) ?? null, me?.session.id ?? null)));
    },
  });

  api.route<{ Body: Static<typeof SessionIdBody> }>({
    method: "POST",
    url: "/sessions/revoke",
    schema: {
      summary: "revoke an admin session by id",
      tags,
      body: SessionIdBody,
      response: { 200: envelope(Type.Object({ id: Type.String(), revoked: Type.Literal(true) })) },
    },
    handler: async (req) => {
      await adminSessions.revoke(req.body.id, "admin");
      return ok({ id: req.body.id, revoked: true as const });
    },
  });
}
