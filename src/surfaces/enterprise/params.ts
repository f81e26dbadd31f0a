import type { IncomingMessage } from "node:http";
import { parse as parseQuery } from "node:querystring";
import type { FastifyInstance, FastifyRequest } from "fastify";

/**
 * "这里需要用 params 不可以用 data": the original client sends its parameters in the query string,
 * but form and JSON bodies are accepted too. Every request's parameters are merged into ONE object
 * (`req.query`) before validation: **query first, then the body — a body field overrides a query
 * parameter of the same name**. Route schemas therefore describe `querystring` only.
 */

export class ParamsError extends Error {
  readonly statusCode = 400;
  readonly code = "PARLEY_ENTERPRISE_PARAMS";
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** Body parsers of this surface: JSON (an empty body is no body) and `x-www-form-urlencoded`. */
export function installParsers(api: FastifyInstance): void {
  // Fastify's own JSON parser (prototype-poisoning checks: a poisoned body is a 400), but an
  // empty body with a JSON content type is "no parameters" rather than an error.
  const json = api.getDefaultJsonParser("error", "error");
  api.removeContentTypeParser("application/json");
  api.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (String(body).trim() === "") return done(null, undefined);
    json(req, String(body), done);
  });
  // Repeated keys become arrays (like the query string), which then fail a scalar schema.
  api.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    done(null, { ...parseQuery(String(body)) });
  });
}

/** preValidation hook: merges the body into the query (see above). */
export async function mergeParams(req: FastifyRequest): Promise<void> {
  const body = req.body;
  if (body === undefined || body === null) return;
  // Streams/buffers of a later multipart parser are not parameters; leave them alone.
  if (Buffer.isBuffer(body) || (typeof body === "object" && !Array.isArray(body) && !isPlainObject(body))) return;
  if (!isPlainObject(body)) throw new ParamsError("参数错误: 请求体必须是键值对(JSON对象或表单)");
  req.query = { ...(req.query as Record<string, unknown>), ...body };
}

/** `Bearer <token>` or a raw token → the token (undefined when empty). */
export function stripBearer(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim();
  const m = /^Bearer\s+(.+)$/i.exec(v);
  return (m ? m[1] : v).trim() || undefined;
}

const headerOf = (raw: IncomingMessage, name: string): string | undefined => {
  const v = raw.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The request's token: the `authorization` header wins; otherwise the `authorization` parameter
 * (query, form or JSON). Raw or `Bearer`.
 */
export function tokenOf(req: FastifyRequest): string | undefined {
  const header = stripBearer(headerOf(req.raw, "authorization"));
  if (header) return header;
  const p = (req.query as Record<string, unknown> | undefined)?.authorization;
  return typeof p === "string" ? stripBearer(p) : undefined;
}

/** The same for a WebSocket upgrade: the header wins, else `?authorization=`. */
export function upgradeToken(req: IncomingMessage, url: URL): string | undefined {
  return stripBearer(headerOf(req, "authorization")) ?? stripBearer(url.searchParams.get("authorization"));
}
