import type { FastifyRequest } from "fastify";

/** The token of an `Authorization: Bearer <token>` header (or the raw header value). */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return (m ? m[1] : h).trim() || undefined;
}
