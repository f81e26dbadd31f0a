import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { ConfigError } from "../config/load.ts";

/**
 * CORS for every HTTP surface and `/files` (`http.corsOrigins`, see docs/OPERATIONS.md).
 *
 * - Empty list (the default): closed. Nothing is installed, no `Access-Control-*` header is ever
 *   sent, and a preflight `OPTIONS` gets the route's answer (405 on the surfaces), as before.
 * - A listed origin (`https://app.example.com`): its preflights are answered here with 204 and
 *   the `Access-Control-*` headers (never a 405); its requests get `Access-Control-Allow-Origin:
 *   <origin>` and `Access-Control-Allow-Credentials: true`, on errors too, so a browser app can
 *   read the surface's error envelope.
 * - `*` in the list: any other origin is allowed too, but without credentials (`Allow-Origin: *`),
 *   so cookies and the browser's stored credentials never go to an origin nobody listed.
 *
 * Requests without an `Origin` header (curl, servers, same-origin GETs) are untouched.
 */

/** The methods the surfaces route (HEAD follows GET). */
const METHODS = "GET, HEAD, POST, PUT, DELETE, PATCH";
/** Response headers a browser app may read besides the CORS-safelisted ones (files, rate limits). */
const EXPOSE = "Content-Disposition, Content-Range, Accept-Ranges, Content-Length, Retry-After";
const MAX_AGE_S = "600";

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/;

/** Validates and normalises the configured list (lower case, no trailing slash). */
export interface CorsPolicy {
  listed: ReadonlySet<string>;
  any: boolean;
}

export function parseCorsOrigins(list: readonly string[]): CorsPolicy {
  const listed = new Set<string>();
  let any = false;
  for (const raw of list) {
    const o = raw.trim().replace(/\/+$/, "").toLowerCase();
    if (o === "*") any = true;
    else if (ORIGIN.test(o)) listed.add(o);
    else
      throw new ConfigError(
        `http.corsOrigins: ${JSON.stringify(raw)} is not an origin (scheme://host[:port], no path) or *`,
      );
  }
  return { listed, any };
}

/** Installs the CORS hook on the root instance (before the surfaces register, so all inherit it). */
export function installCors(app: FastifyInstance, { listed, any }: CorsPolicy): void {
  if (listed.size === 0 && !any) return;

  app.addHook("onRequest", (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || origin === "") return done();
    const credentials = listed.has(origin.toLowerCase());
    if (!credentials && !any) return done();

    reply.header("vary", "Origin");
    reply.header("access-control-allow-origin", credentials ? origin : "*");
    if (credentials) reply.header("access-control-allow-credentials", "true");

    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (!preflight) {
      reply.header("access-control-expose-headers", EXPOSE);
      return done();
    }
    reply.header("vary", "Origin, Access-Control-Request-Headers");
    reply.header("access-control-allow-methods", METHODS);
    const asked = req.headers["access-control-request-headers"];
    if (typeof asked === "string" && asked !== "") reply.header("access-control-allow-headers", asked);
    reply.header("access-control-max-age", MAX_AGE_S);
    reply.code(204).send();
  });
}
