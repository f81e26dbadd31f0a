import type { FastifyInstance } from "fastify";
import type { SurfaceDeps } from "../deps.ts";

/** The enterprise surface: see docs/enterprise.md. */
export async function enterpriseSurface(_app: FastifyInstance, _deps: SurfaceDeps): Promise<void> {}
