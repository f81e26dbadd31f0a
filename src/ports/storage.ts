/** The storage ports, one file per aggregate in `./storage/`; this re-exports them (see its index). */
export * from "./storage/index.ts";
