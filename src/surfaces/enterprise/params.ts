import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";
import { HttpInputError } from "../../http/scope.ts";

/**
 * "这里需要用 params 不可以用 data": the original client sends its parameters in the query string,
 * but form and JSON bodies are accepted too. Every request's parameters are merged into ONE object
 * (`req.query`) before validation: **query first, then the body — a body field overrides a query
 * parameter of the same name**. Route schemas therefore describe `querystring` only.
 */

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** preValidation hook: merges the body into the query (see above). */
export async function mergeParams(req: FastifyRequest): Promise<void> {
  const body = req.body;
  if (body === undefined || body === null) return;
  // Streams/buffers of a later multipart parser are not parameters; leave them alone.
  if (Buffer.isBuffer(body) || (typeof body === "object" && !Array.isArray(body) && !isPlainObject(body))) return;
  if (!isPlainObject(body)) throw new HttpInputError("参数错误: 请求体必须是键值对(JSON对象或表单)");
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
