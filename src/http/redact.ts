import { type FastifyRequest, LogController } from "fastify";

/**
 * Secrets never reach a log line (issue 10 item 2): query parameters in logged URLs are masked by
 * name, one-time codes in URL paths by route (`SECRET_SEGMENT`), and pino's `redact` masks the same names as fields (request/response headers, bodies or
 * objects someone logs). One list for every surface.
 */
export const CENSOR = "[REDACTED]";

/**
 * Names of secret-bearing parameters, fields and headers (case-insensitive): passwords, SMS
 * codes/captchas, tokens of every surface (chat33 `FZM-AUTH-TOKEN`, enterprise `authorization`,
 * the admin bearer token), gateway secrets, keys, signatures and cookies.
 */
const SECRET_NAME =
  /^(password|passwd|pwd|new_?password|old_?password|captcha|code|sms_?code|verify_?code|token|access_?token|refresh_?token|auth|authorization|fzm-auth-token|x-admin-token|admin_?token|secret|client_?secret|system_?secret|key|api_?key|sign|signature|cookie|set-cookie|session)$/i;

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name);

/**
 * Path segments that are secrets: the one-time QR codes of the enterprise surface
 * (`/auth/scan_login/<code>/<userId>`, `/auth/cnbi_scan/<code>/<userId>`, under any mount prefix).
 */
const SECRET_SEGMENT = /(\/auth\/(?:scan_login|cnbi_scan)\/)[^/?#]+/gi;

const redactPath = (path: string): string => path.replace(SECRET_SEGMENT, `$1${CENSOR}`);

/**
 * `/auth/login?account=alice&password=x` → `/auth/login?account=alice&password=[REDACTED]`;
 * `/auth/cnbi_scan/<code>/7` → `/auth/cnbi_scan/[REDACTED]/7`.
 */
export function redactUrl(rawUrl: string): string {
  const end = rawUrl.search(/[?#]/);
  const url = end < 0 ? redactPath(rawUrl) : redactPath(rawUrl.slice(0, end)) + rawUrl.slice(end);
  const q = url.indexOf("?");
  if (q < 0) return url;
  const hash = url.indexOf("#", q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const parts = query.split("&").map((part) => {
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " "));
    } catch {
      // a malformed escape: judge the raw name
    }
    return isSecretName(name.trim()) ? `${rawName}=${CENSOR}` : part;
  });
  return `${url.slice(0, q)}?${parts.join("&")}${hash < 0 ? "" : url.slice(hash)}`;
}

const FIELDS = [
  "password",
  "newPassword",
  "oldPassword",
  "captcha",
  "token",
  "authorization",
  "secret",
  "key",
  "adminToken",
  "cookie",
  "systemsecret",
];
const HEADERS = ["authorization", "cookie", "set-cookie", "systemsecret", '"fzm-auth-token"', '"x-admin-token"'];

/** pino `redact` paths: the secret fields at the top level and one or two levels down, and headers. */
export const REDACT_PATHS: string[] = [
  ...FIELDS,
  ...FIELDS.map((f) => `*.${f}`),
  ...FIELDS.map((f) => `*.*.${f}`),
  ...HEADERS.flatMap((h) => [`headers.${h}`, `req.headers.${h}`, `res.headers.${h}`, `request.headers.${h}`]),
  "body.code",
  "query.code",
  "req.body.code",
  "req.query.code",
];

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request serializer, with the query's secrets masked. */
export function requestSerializer(req: LoggedRequest) {
  return {
    method: req.method,
    url: redactUrl(req.url ?? ""),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** Fastify's own "Route GET:/x?password=… not found" line, with the URL masked. */
export class RedactingLogController extends LogController {
  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(`Route ${request.raw.method}:${redactUrl(request.raw.url ?? "")} not found`);
  }
}
