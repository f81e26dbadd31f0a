import type { FastifyInstance, RouteOptions } from "fastify";

/**
 * OpenAPI at `/docs`: security schemes, per-route security requirements and an example request
 * and response on every route, so "Try it out" works. Each surface calls `documentRoutes` on
 * its scope with the security its routes need and the examples of its seed document; examples
 * missing from the seed are generated from the route's own schemas (valid by construction for
 * the shapes the surfaces use — test/openapi.test.ts validates every request example).
 */

/** Every credential a surface accepts, as OpenAPI security schemes (components.securitySchemes). */
export const SECURITY_SCHEMES = {
  adminBearer: {
    type: "http",
    scheme: "bearer",
    description:
      "the admin token (PARLEY_ADMIN_TOKEN, or the one printed at first start / stored in <dataDir>/admin-token): every /admin/api route, gateway /api/register when gateway.registerRequiresAdmin, chat33 /user/muted",
  },
  metricsBearer: {
    type: "http",
    scheme: "bearer",
    description: "metrics.token (PARLEY_METRICS_TOKEN), when it is set: GET /metrics",
  },
  chat33Token: {
    type: "apiKey",
    in: "header",
    name: "FZM-AUTH-TOKEN",
    description: "chat33 session token from /user/pwdLogin or /user/register (or the FZM-AUTH-TOKEN cookie)",
  },
  chat33Device: {
    type: "apiKey",
    in: "header",
    name: "FZM-DEVICE",
    description: "chat33 device type: Web, Android, iOS or PC (case-insensitive)",
  },
  enterpriseAuth: {
    type: "apiKey",
    in: "header",
    name: "authorization",
    description:
      "enterprise session token from /auth/login (raw or `Bearer <token>`; the `authorization` query parameter works too)",
  },
  gatewaySystem: {
    type: "apiKey",
    in: "header",
    name: "SystemId",
    description: "gateway system id from /api/register",
  },
  gatewaySecret: {
    type: "apiKey",
    in: "header",
    name: "SystemSecret",
    description: "only for systems registered with a secret",
  },
} as const;

export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
/** OpenAPI security requirements: alternatives, each a set of schemes used together. */
export type Security = ReadonlyArray<Partial<Record<SecuritySchemeName, string[]>>>;

export interface RouteExamples {
  /** The JSON body, or the query/path parameters (enterprise), of an example request. */
  request?: Record<string, unknown>;
  /** The body of a successful answer. */
  response?: unknown;
}

export interface SurfaceDocs {
  /** The surface's mount (path prefix), stripped before `security` and `examples` look a path up. */
  mount: string;
  /** Security of a route by its path below the mount; undefined = no credentials needed. */
  security(path: string, method: string): Security | undefined;
  /** Examples from the seed document, by path below the mount. */
  examples?: Readonly<Record<string, RouteExamples>>;
}

type Schema = Record<string, unknown>;

/** Installs the documentation hook on a surface scope (before its routes are registered). */
export function documentRoutes(api: FastifyInstance, docs: SurfaceDocs): void {
  api.addHook("onRoute", (route: RouteOptions) => {
    const schema = route.schema as Schema | undefined;
    if (!schema || schema.hide) return;
    const path = route.url.startsWith(docs.mount) ? route.url.slice(docs.mount.length) || "/" : route.url;
    const method = (Array.isArray(route.method) ? route.method[0] : route.method) ?? "GET";
    const security = docs.security(path, String(method));
    if (security && !schema.security) schema.security = security;
    addExamples(schema, docs.examples?.[path]);
  });
}

/** Adds `examples` to the body, the parameters and the 2xx responses of a route schema (copies, never mutating shared schemas). */
export function addExamples(schema: Schema, seed: RouteExamples = {}): void {
  const body = schema.body as Schema | undefined;
  if (body && !body.examples) schema.body = { ...body, examples: [seed.request ?? exampleOf(body)] };
  for (const part of ["querystring", "params"] as const) {
    const s = schema[part] as Schema | undefined;
    if (s?.properties) schema[part] = withPropertyExamples(s, part === "querystring" ? seed.request : undefined);
  }
  const responses = schema.response as Record<string, Schema> | undefined;
  if (!responses) return;
  const out: Record<string, Schema> = { ...responses };
  for (const [status, r] of Object.entries(responses)) {
    if (!/^2/.test(status) || !r || r.examples || r.content) continue;
    out[status] = { ...r, examples: [seed.response ?? exampleOf(r)] };
  }
  schema.response = out;
}

function withPropertyExamples(s: Schema, seed: Record<string, unknown> | undefined): Schema {
  const props = s.properties as Record<string, Schema>;
  const out: Record<string, Schema> = {};
  for (const [name, p] of Object.entries(props)) {
    const given = seed && Object.hasOwn(seed, name) ? seed[name] : undefined;
    out[name] = p.examples ? p : { ...p, examples: [given ?? exampleOf(p, name)] };
  }
  return { ...s, properties: out };
}

/** Sample strings for the patterns the surfaces use (anything else: a plain word that is checked). */
const PATTERN_SAMPLES = ["13800138000", "alice", "1", "sex", "abc123", "alice@example.com", "example"];

/** Sample values by field name, where a plain word would be misleading. */
const BY_NAME: Readonly<Record<string, unknown>> = {
  mobile: "13800138000",
  password: "secret-pass-1",
  account: "alice",
  username: "alice",
  nickname: "Alice",
  systemId: "my-system",
  clientId: "<clientId from the first /ws frame>",
  groupName: "room-1",
  sendUserId: "user-1",
  msg: "hello",
  device: "pc",
  platform: "pc",
  avatar: "https://example.com/avatar.png",
  url: "https://example.com",
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  authorization: "<token from /auth/login>",
};

/** A value that satisfies `schema` for the keywords the surfaces' schemas use. */
export function exampleOf(schema: Schema, name = "", depth = 0): unknown {
  if (depth > 8) return null;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(union) && union.length) {
    const branch = union.find((b) => b.type !== "null") ?? union[0];
    return exampleOf(branch as Schema, name, depth + 1);
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== "null") ?? schema.type[0]) : schema.type;
  switch (type) {
    case "string":
      return stringExample(schema, name);
    case "integer":
    case "number": {
      const min = typeof schema.minimum === "number" ? schema.minimum : undefined;
      const max = typeof schema.maximum === "number" ? schema.maximum : undefined;
      const v =
        typeof BY_NAME[name] === "number"
          ? (BY_NAME[name] as number)
          : (min ?? (max !== undefined && max < 1 ? max : 1));
      return type === "integer" ? Math.ceil(v) : v;
    }
    case "boolean":
      return false;
    case "null":
      return null;
    case "array": {
      const items = (schema.items as Schema | undefined) ?? {};
      const n = Math.max(1, typeof schema.minItems === "number" ? schema.minItems : 1);
      const max = typeof schema.maxItems === "number" ? schema.maxItems : n;
      if (max === 0) return [];
      return Array.from({ length: Math.min(n, max) }, () => exampleOf(items, singular(name), depth + 1));
    }
    case "object": {
      const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
      const out: Record<string, unknown> = {};
      for (const [k, p] of Object.entries(props)) out[k] = exampleOf(p, k, depth + 1);
      return out;
    }
    default:
      return BY_NAME[name] ?? (name ? `<${name}>` : "value");
  }
}

const singular = (name: string) => name.replace(/s$/, "");

function stringExample(schema: Schema, name: string): string {
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Number.POSITIVE_INFINITY;
  const fits = (s: string) =>
    s.length >= min && s.length <= max && (typeof schema.pattern !== "string" || new RegExp(schema.pattern).test(s));
  const byName = BY_NAME[name];
  const candidates = [
    ...(typeof byName === "string" ? [byName] : []),
    ...(typeof schema.pattern === "string" ? PATTERN_SAMPLES : []),
    name || "example",
    "example",
  ];
  for (const c of candidates) if (fits(c)) return c;
  const base = candidates[0] ?? "x";
  if (base.length > max) return base.slice(0, max);
  return base.padEnd(min, "x");
}

export interface DocumentOptions {
  version: string;
  /** Mounts of the enabled surfaces (null = disabled), for the WebSocket URLs in the description. */
  gateway: string | null;
  chat33: string | null;
  enterprise: string | null;
}

/**
 * The `openapi` document options: info (with the WebSocket endpoints, which OpenAPI cannot
 * describe as operations), the security schemes and one tag per surface pointing to its page.
 */
export function openapiDocument(o: DocumentOptions) {
  const ws: string[] = [];
  if (o.gateway !== null)
    ws.push(
      `- **gateway (000)** \`GET ${o.gateway}/ws?systemId=<id>\` — first frame \`{"code":0,"msg":"success","data":{"clientId":"…"}}\` (an unknown or missing system: \`{"code":-1001,…}\`, then close 1008); then pushes \`{"messageId","sendUserId","code","msg","data"}\` and, when bound to groups, the 1001/1002 online/offline notices. Client frames are ignored. Pass the \`clientId\` to the \`/api/*\` routes below. Page: docs/gateway.md, "Connecting a client".`,
    );
  if (o.chat33 !== null)
    ws.push(
      `- **chat33 (002)** \`GET ${o.chat33}/ws\` with the token (\`FZM-AUTH-TOKEN\` header, \`?token=\` or the cookie set by /user/tokenLogin) and the device (\`FZM-DEVICE\` or \`?device=\`, default Web), or a guest's \`FZM-UUID\` / \`?uuid=\`. A \`systemId\` parameter or no credential at all routes the upgrade to the gateway. Frames \`{eventType, …}\`: event 0 sends a message (answered with the stored message or \`{eventType:-1, code, content}\`); events 3, 10, 31 and the refusal frames (-1004 → close 4001, -1007 → close 4003). Page: docs/chat33.md, "WebSocket".`,
    );
  if (o.enterprise !== null)
    ws.push(
      `- **enterprise (001)** \`GET ${o.enterprise}/socket?authorization=<token>&platform=pc\` (the header \`authorization\` works too; without a token the socket is anonymous and waits for a QR login). Frames \`{code, msg, data}\`: 1000 connected, 1001 QR login, 1002 kicked (then close 4003), 1003 login expired (then close 4001), 1006 read receipt, 1100 direct message. Page: docs/enterprise.md, "The socket".`,
    );
  const description = [
    "One IM server, five APIs. Each surface keeps its own envelope and error codes; the pages in the repository's docs/ folder (docs/gateway.md, docs/chat33.md, docs/enterprise.md, docs/admin.md) describe every answer.",
    "",
    "**Authorize** (the lock button) takes each surface's credentials: the admin token (admin API), `FZM-AUTH-TOKEN` + `FZM-DEVICE` (chat33), `authorization` (enterprise), `SystemId` (+ `SystemSecret` for systems with a secret) (gateway). Every route lists the ones it needs.",
    "",
    "### WebSocket endpoints",
    "",
    'OpenAPI has no operations for WebSockets; these are the upgrade endpoints. Close codes and the reconnect policy: docs/ARCHITECTURE.md, "Close codes and reconnecting".',
    "",
    ...ws,
  ].join("\n");
  return {
    openapi: "3.0.3",
    info: { title: "Parley", version: o.version, description },
    components: { securitySchemes: SECURITY_SCHEMES },
    tags: [
      {
        name: "gateway (000)",
        description: `push gateway; WebSocket \`${o.gateway ?? ""}/ws?systemId=\` (see above); page docs/gateway.md`,
      },
      {
        name: "chat33 (002)",
        description: `chat33 API; WebSocket \`${o.chat33 ?? ""}/ws\` (see above); page docs/chat33.md`,
      },
      {
        name: "enterprise (001)",
        description: `enterprise IM API; WebSocket \`${o.enterprise ?? ""}/socket\` (see above); page docs/enterprise.md`,
      },
      { name: "admin", description: "admin API: users, sessions, SMS outbox (bearer admin token); page docs/admin.md" },
      {
        name: "admin: organisation",
        description: "admin API: companies, departments, roles, licenses, dictionary; page docs/admin.md",
      },
      {
        name: "console (004)",
        description:
          "customer console: client lookup, telemetry reports (no token), customers, users, groups (admin token); page docs/console.md",
      },
      { name: "operations", description: "liveness, readiness, Prometheus metrics; page docs/OPERATIONS.md" },
    ],
  };
}

/** A documented non-JSON answer (bytes, text): OpenAPI `content` with an example, for a route's `response`. */
export const rawResponse = (contentType: string, description: string, example: string, format?: "binary") => ({
  description,
  content: { [contentType]: { schema: { type: "string", ...(format ? { format } : {}) }, example } },
});
