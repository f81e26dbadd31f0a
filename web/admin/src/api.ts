/**
 * The admin console's client for Parley's operator APIs (docs/admin-console.md). Three envelopes:
 *
 * - `/admin/api/*` (docs/admin.md): `{code, msg, data}`, HTTP status = `code` on errors;
 * - `/im/*` (docs/cluster-admin.md, seed 003): the fields beside `code` / `errmsg`, `code 0` = Ok;
 * - `/console/*` (docs/console.md, seed 004): `{code, msg, data}` like the admin API.
 *
 * Every call carries the admin token (or an admin user's session token) as `Authorization:
 * Bearer`. The token lives only in this object, in memory: never in storage, never in a URL.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

function qs(q: Query | undefined): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export interface AdminApiOptions {
  token: string;
  /** Base URL of the server ("" = this origin). */
  base?: string;
  fetch?: typeof fetch;
  /** Called once when the server refuses the token (401): the page signs out. */
  onUnauthorized?: () => void;
}

export class AdminApi {
  private readonly base: string;
  private readonly f: typeof fetch;
  constructor(private readonly opts: AdminApiOptions) {
    this.base = opts.base ?? "";
    this.f = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  private async raw(method: string, path: string, body?: unknown, contentType = "application/json") {
    const headers: Record<string, string> = { authorization: `Bearer ${this.opts.token}` };
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      headers["content-type"] = contentType;
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const res = await this.f(`${this.base}${path}`, { method, headers, body: payload, credentials: "omit" });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new ApiError(res.status, res.status, `HTTP ${res.status}: not JSON`, path);
    }
    if (res.status === 401) this.opts.onUnauthorized?.();
    return { status: res.status, json };
  }

  /** `/admin/api/<path>`: GET with a query, or POST with a JSON body; answers `data`. */
  async admin<T>(method: "GET" | "POST" | "DELETE", path: string, params?: Query | object): Promise<T> {
    const url = `/admin/api${path}${method === "GET" ? qs(params as Query) : ""}`;
    const { status, json } = await this.raw(method, url, method === "GET" ? undefined : (params ?? {}));
    if (status !== 200 || json.code !== 0)
      throw new ApiError(status, Number(json.code ?? status), String(json.msg ?? `HTTP ${status}`), url);
    return json.data as T;
  }

  /** `/im/<path>?<query>` (GET, or POST with a text body for `/im/push`); answers the whole reply. */
  async im<T = Record<string, unknown>>(path: string, query: Query, pushBody?: string): Promise<T> {
    const url = `/im/${path}${qs(query)}`;
    const { status, json } = await this.raw(
      pushBody === undefined ? "GET" : "POST",
      url,
      pushBody,
      "text/plain; charset=utf-8",
    );
    // 10005: the credential is no longer accepted (an ended admin session, a rotated token)
    if (json.code === 10005) this.opts.onUnauthorized?.();
    if (json.code !== 0)
      throw new ApiError(status, Number(json.code ?? status), String(json.errmsg ?? `HTTP ${status}`), url);
    return json as T;
  }

  /** `/console/<path>` (seed 004's 界面接口), POST with a JSON body; answers `data`. */
  async console<T>(path: string, body: object = {}): Promise<T> {
    const url = `/console/${path}`;
    const { status, json } = await this.raw("POST", url, body);
    if (status !== 200 || json.code !== 0)
      throw new ApiError(status, Number(json.code ?? status), String(json.msg ?? `HTTP ${status}`), url);
    return json.data as T;
  }
}

// ---- the shapes the pages read (docs/admin.md, cluster-admin.md, console.md) ----

export interface User {
  id: string;
  uid: string;
  mobile: string | null;
  username: string | null;
  nickname: string;
  avatar: string;
  sex: number;
  position: string;
  email: string;
  level: number;
  admin: boolean;
  verified: boolean;
  mutedUntil: number;
  companyId: number | null;
  deptId: number | null;
  roleId: number | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface Company {
  id: number;
  text: string;
  code: string;
  licenseId: number | null;
  enable: boolean;
  pid: string;
  createdAt: number;
}
export interface Department {
  id: number;
  companyId: number;
  parentId: number | null;
  text: string;
  code: string;
  level: number;
  userCount: number;
  childCount: number;
}
export interface Role {
  id: number;
  companyId: number;
  text: string;
  admin: boolean;
  note: string;
}
export interface License {
  id: number;
  text: string;
  maxlevel: number;
  single: number;
  userCount: number;
}
export interface SmsRow {
  mobile: string;
  code: string;
  sentAt: number;
}

export interface ListendRow {
  idx: number;
  nid: number;
  type: number;
  ipaddr: string;
  status: number;
  total: number;
}
export interface StatBucket {
  idx: number;
  time: number;
  "time-str": string;
  num: number;
}
export interface Precision {
  idx: number;
  prec: number;
  "prec-str": string;
  num: number;
}

export interface Customer {
  id: string;
  code: string;
  name: string;
  mac: string;
  tcphost: string;
  tcpport: number;
  webhost: string;
  webport: number;
  filehost: string;
  fileport: number;
  timeout: string;
  contact: string;
  ctel: string;
  server: string;
  hasKey: boolean;
  lastReport: null | {
    name: string;
    mac: string;
    ip: string;
    timeout: string;
    count: number;
    updatetimes: number;
    reportedAt: number;
  };
}
export interface HistoryPoint {
  kind: "server" | "users" | "groups";
  reportedAt: number;
  values: Record<string, number | string>;
}

/** `{len, list}` of the seed-003 queries. */
export interface ImList<T> {
  len: number;
  list: T[];
}

/** An error as one line of text for the page. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Reads a route the adminapi branch adds; `null` while this server does not have it (its 404
 * `no route …`), so a page can say what it needs instead of failing.
 */
export async function optional<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && /no route/i.test(e.message)) return null;
    throw e;
  }
}
