import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { mountBuild } from "./index.ts";

/**
 * The admin console (web/admin, docs/admin-console.md) served at `/admin/`, with the same caching,
 * ETags, gzip and Content-Security-Policy as the web client at `/app/` (./index.ts). It is only
 * static files: every page talks to the existing admin APIs (`/admin/api/*`, `/im/*`,
 * `/console/*`) with the admin token, which the page keeps in memory. Only the pages, `/admin/` and
 * `/admin/assets/*` are served here; everything else under `/admin/` (the admin API) is not.
 */

export interface AdminConsoleOptions {
  /** The built console's folder; `""` = web/admin/dist of this installation. */
  dir: string;
}

export const DEFAULT_ADMIN_DIR = fileURLToPath(new URL("../../../web/admin/dist", import.meta.url));

/**
 * The console's pages (web/admin/src/main.tsx), each a client-side route `/admin/<page>`. Only
 * these are served: `/admin/*` as a whole would swallow the admin API's own 401/404 answers for
 * unknown paths under `/admin/api/`.
 */
export const ADMIN_PAGES = ["dashboard", "people", "conversations", "gateway", "money", "cluster", "fleet"];

const NOT_BUILT =
  "The admin console is not built: run `npm run build:web` (npm install does it), then reload.\n" +
  "管理控制台尚未构建：请运行 npm run build:web，然后刷新。\n";

export async function adminConsoleSurface(app: FastifyInstance, opts: AdminConsoleOptions): Promise<void> {
  mountBuild(app, {
    mount: "/admin",
    dir: opts.dir || DEFAULT_ADMIN_DIR,
    notBuilt: NOT_BUILT,
    name: "the admin console",
    clientRoutes: ADMIN_PAGES,
  });
}
