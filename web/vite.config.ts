import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * The web client (docs/web.md): web/app built into web/dist, served by Parley at /app/.
 * `npm run web:dev` serves it with hot reload and proxies the chat33 routes and /ws to a running
 * Parley (PARLEY_URL, default http://127.0.0.1:8080).
 */
const parley = process.env.PARLEY_URL ?? "http://127.0.0.1:8080";
const proxied = ["/user", "/send", "/friend", "/chat33", "/room", "/group", "/red-packet", "/files", "/api"];

export default defineConfig({
  root: fileURLToPath(new URL("./app", import.meta.url)),
  base: "/app/",
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
    proxy: {
      ...Object.fromEntries(proxied.map((p) => [p, { target: parley, changeOrigin: false }])),
      "/ws": { target: parley.replace(/^http/, "ws"), ws: true },
    },
  },
});
