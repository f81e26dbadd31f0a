import type { FastifyInstance } from "fastify";
import type { SurfaceDeps } from "../deps.ts";

/** The admin surface: see docs/admin.md. */
export async function adminSurface(_app: FastifyInstance, _deps: SurfaceDeps): Promise<void> {}
