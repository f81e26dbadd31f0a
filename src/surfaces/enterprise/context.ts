import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import type { Authenticated } from "../../core/accounts/account-service.ts";
import type { SurfaceDeps } from "../deps.ts";
import { enterpriseHttp } from "./http.ts";
import { tokenOf } from "./params.ts";
import type { Presenter } from "./presenters.ts";

/** What every enterprise route module receives. */
export interface EnterpriseContext {
  deps: SurfaceDeps;
  presenter: Presenter;
  /** Resolves the request's session or throws the `unauthenticated` AppError (→ 401). */
  auth(req: FastifyRequest): Promise<Authenticated>;
}

/**
 * Base of the absolute URLs this surface hands out (QR links, file URLs): `publicUrl` when set,
 * else the request's protocol and host (`http.trustProxy` honours X-Forwarded-*). The surface's
 * mount is NOT included.
 */
export const publicBase = (publicUrl: string, req: FastifyRequest): string =>
  publicUrl.replace(/\/+$/, "") || `${req.protocol}://${req.host || "localhost"}`;

export function createContext(deps: SurfaceDeps, presenter: Presenter): EnterpriseContext {
  return { deps, presenter, auth: (req) => deps.accounts.authenticate(tokenOf(req)) };
}

/**
 * Registers `route` for its methods and answers every other method on the same path with 405
 * (`Allow` lists the accepted ones) in the surface's envelope.
 */
export function routeWith405(api: FastifyInstance, route: RouteOptions): void {
  enterpriseHttp.route(api, route);
}
