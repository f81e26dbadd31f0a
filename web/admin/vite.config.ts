import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The admin console (docs/admin-console.md): web/admin built into web/admin/dist, served by Parley
 * at /admin/. `npm run admin:dev` (vite --config web/admin/vite.config.ts) serves it with hot reload and
 * proxies the admin APIs to a running Parley (PARLEY_URL, default http://127.0.0.1:8080).
 */
const parley = process.env.PARLEY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/admin/",
  publicDir: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    assetsDir: "assets",
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    host: "127.0.0.1",
    proxy: Object.fromEntries(
      ["/admin/api", "/im", "/console"].map((p) => [p, { target: parley, changeOrigin: false }]),
    ),
  },
});
