import type { FastifyInstance } from "fastify";
import type { SurfaceDeps } from "../deps.ts";

/** The chat33 surface: see docs/chat33.md. */
export async function chat33Surface(_app: FastifyInstance, _deps: SurfaceDeps): Promise<void> {}
