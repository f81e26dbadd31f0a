import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * The web client (web/app, docs/web.md) served at `/app/`, with `/` redirecting there.
 *
 * - Files come from the Vite build (`web/dist`, or `web.dir`), read into memory once — the whole
 *   client is a few hundred KiB — with a gzip copy of each text file and a strong ETag.
 * - Hashed assets (`/app/assets/<name>-<hash>.<ext>`) are `Cache-Control: public, max-age=31536000,
 *   immutable`; `index.html` (and anything unhashed) is `no-cache`, so a new build is picked up
 *   on the next load while the assets it names stay cached for good.
 * - Every answer under `/app/` carries a Content-Security-Policy that allows only this origin
 *   (scripts, styles, XHR and the WebSocket), images also from http(s)/data:/blob: (avatars are
 *   URLs), no plugins, no framing, no inline script.
 * - A path under `/app/` that is no file and has no extension is a client route: `index.html`.
 * - Without a build (the folder or its index.html missing) `/app/` answers 503 with the command
 *   that builds it, instead of failing the server's start.
 */

export interface WebAppOptions {
  /** The built client's folder; `""` = web/dist of this installation. */
  dir: string;
}

export const DEFAULT_DIR = fileURLToPath(new URL("../../../web/dist", import.meta.url));

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: http: https:",
  "media-src 'self' blob: http: https:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".map"]);
/** Vite's hashed names: `index-CFF5pvVC.js` (8 base64url characters before the extension). */
const HASHED = /^assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

interface File {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  immutable: boolean;
}

/** Reads every file of the build into memory, keyed by its path relative to the folder (`/` separators). */
export function loadBuild(dir: string): Map<string, File> | null {
  if (!existsSync(join(dir, "index.html"))) return null;
  const files = new Map<string, File>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      const rel = relative(dir, full).split(sep).join("/");
      const ext = extname(name).toLowerCase();
      const body = readFileSync(full);
      const gz = COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body, { level: 9 }) : null;
      files.set(rel, {
        body,
        gzip: gz && gz.length < body.length ? gz : null,
        type: TYPES[ext] ?? "application/octet-stream",
        etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
        immutable: HASHED.test(rel),
      });
    }
  };
  walk(dir);
  return files;
}

const NOT_BUILT =
  "The web client is not built: run `npm run build:web` (npm install does it), then reload.\n" +
  "网页客户端尚未构建：请运行 npm run build:web，然后刷新。\n";

export interface MountOptions {
  /** The URL folder without its trailing slash, e.g. `/app`. */
  mount: string;
  /** The build's folder. */
  dir: string;
  /** The text of the 503 answer while there is no build. */
  notBuilt: string;
  /** The OpenAPI summary's name of what is served. */
  name: string;
  /**
   * The client-side routes (`<mount>/<route>`), when the folder shares its URL space with other
   * routes: then only these, `<mount>/` and `<mount>/assets/*` are served, and every other path
   * under `<mount>/` is left to whoever owns it. Without it, `<mount>/*` is the build's.
   */
  clientRoutes?: string[];
}

/**
 * Serves one Vite build at `<mount>/` with the rules above (used for `/app/` and the admin
 * console's `/admin/`, src/surfaces/webapp/admin.ts): `<mount>` redirects to `<mount>/`.
 */
export function mountBuild(app: FastifyInstance, opts: MountOptions): void {
  const { dir, mount } = opts;
  let files = loadBuild(dir);
  /** A missing build is looked for again (at most once a second), so building after start works. */
  let lastTry = Date.now();
  const current = () => {
    if (!files && Date.now() - lastTry > 1000) {
      lastTry = Date.now();
      files = loadBuild(dir);
    }
    return files;
  };

  const send = (req: FastifyRequest, reply: FastifyReply, f: File) => {
    reply
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", f.immutable ? "public, max-age=31536000, immutable" : "no-cache")
      .header("etag", f.etag)
      .header("vary", "Accept-Encoding")
      .type(f.type);
    if (req.headers["if-none-match"] === f.etag) return reply.code(304).send();
    const gz = f.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    if (gz) reply.header("content-encoding", "gzip");
    return reply.send(gz ? f.gzip : f.body);
  };

  const serve = async (req: FastifyRequest, reply: FastifyReply, path: string) => {
    const built = current();
    if (!built) {
      return reply
        .code(503)
        .header("cache-control", "no-store")
        .header("content-security-policy", CSP)
        .type("text/plain; charset=utf-8")
        .send(opts.notBuilt);
    }
    const f = built.get(path);
    if (f) return send(req, reply, f);
    // a client-side route (no extension, not under assets/) gets the app; a missing asset is a 404
    if (!path.startsWith("assets/") && extname(path) === "") return send(req, reply, built.get("index.html") as File);
    return reply
      .code(404)
      .header("content-security-policy", CSP)
      .header("cache-control", "no-cache")
      .type("text/plain; charset=utf-8")
      .send("Not found\n");
  };

  const hidden = { hide: true, tags: ["web"] };
  app.get(mount, { schema: { ...hidden, summary: `redirects to ${mount}/` } }, async (_req, reply) =>
    reply.redirect(`${mount}/`, 301),
  );
  app.get(`${mount}/`, { schema: { ...hidden, summary: opts.name } }, async (req, reply) =>
    serve(req, reply, "index.html"),
  );
  const fileRoute = {
    schema: {
      ...hidden,
      summary: `${opts.name}: files (hashed assets immutable) and client-side routes`,
      params: Type.Object({ "*": Type.String({ maxLength: 512 }) }),
    },
  };
  const wildcard =
    (prefix: string) => async (req: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
      const path = `${prefix}${req.params["*"]}`;
      if (path.includes("..") || path.includes("\\") || path.includes("\0")) return reply.code(404).send();
      return serve(req, reply, path || "index.html");
    };
  if (!opts.clientRoutes) {
    app.get<{ Params: { "*": string } }>(`${mount}/*`, fileRoute, wildcard(""));
    return;
  }
  app.get<{ Params: { "*": string } }>(`${mount}/assets/*`, fileRoute, wildcard("assets/"));
  for (const route of opts.clientRoutes)
    app.get(`${mount}/${route}`, { schema: { ...hidden, summary: `${opts.name}: ${route}` } }, async (req, reply) =>
      serve(req, reply, "index.html"),
    );
}

export async function webAppSurface(app: FastifyInstance, opts: WebAppOptions): Promise<void> {
  app.get("/", { schema: { hide: true, tags: ["web"], summary: "redirects to the web client" } }, async (_req, reply) =>
    reply.header("cache-control", "no-cache").redirect("/app/", 302),
  );
  mountBuild(app, { mount: "/app", dir: opts.dir || DEFAULT_DIR, notBuilt: NOT_BUILT, name: "the web client" });
}
