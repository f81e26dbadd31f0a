import type { FastifyInstance } from "fastify";
import { documentRoutes } from "../../http/openapi.ts";
import type { SurfaceDeps } from "../deps.ts";
import { registerAuthRoutes } from "./auth-routes.ts";
import { createContext } from "./context.ts";
import { registerFileRoutes } from "./file-routes.ts";
import { registerGroupRoutes } from "./group-routes.ts";
import { enterpriseHttp, enterpriseSecurity } from "./http.ts";
import { registerMessageRoutes } from "./message-routes.ts";
import { mergeParams } from "./params.ts";
import { Presenter } from "./presenters.ts";
import { installSocket } from "./socket.ts";

/**
 * The enterprise surface (seed 001): REST under `<mount>/auth/*` and `<mount>/api/*`, the socket at
 * `<mount>/socket`. An encapsulated Fastify plugin on the shared scope builder (http.ts: parsers
 * with form bodies, coercing validator, error answers, 405s) and its envelope. See docs/enterprise.md.
 */
export async function enterpriseSurface(app: FastifyInstance, deps: SurfaceDeps): Promise<void> {
  const presenter = new Presenter(deps.storage, deps.org);
  const log = app.log.child({ surface: "enterprise" });
  installSocket({
    mount: deps.mount,
    realtime: deps.realtime,
    accounts: deps.accounts,
    storage: deps.storage,
    groups: deps.groups,
    presenter,
    log,
  });
  const ctx = createContext(deps, presenter);

  await app.register(
    async (api) => {
      enterpriseHttp.install(api);
      documentRoutes(api, { mount: deps.mount, security: enterpriseSecurity });
      api.addHook("preValidation", mergeParams);

      registerAuthRoutes(api, ctx);
      registerMessageRoutes(api, ctx);
      registerGroupRoutes(api, ctx);
      await registerFileRoutes(api, ctx);
    },
    { prefix: deps.mount },
  );
}
