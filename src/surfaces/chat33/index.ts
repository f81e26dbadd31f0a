import type { FastifyInstance } from "fastify";
import type { SurfaceDeps } from "../deps.ts";
import { accountRoutes } from "./accounts.ts";
import { setupScope } from "./http.ts";

/**
 * The chat33 surface (seed 002): see docs/chat33.md. One encapsulated scope under `deps.mount`
 * with chat33's own body parser, validator and `{result, message, data}` error handler
 * (http.ts, envelope.ts); each part of the document registers its routes into it.
 */
export async function chat33Surface(app: FastifyInstance, deps: SurfaceDeps): Promise<void> {
  await app.register(
    async (api) => {
      setupScope(api);
      accountRoutes(api, deps);
    },
    { prefix: deps.mount },
  );
}
