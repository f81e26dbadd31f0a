import { readFileSync } from "node:fs";
import { parseTrustProxy } from "../http/client-address.ts";
import { type Config, envName, flagName, KEYS, type KeyDef } from "./schema.ts";

export class ConfigError extends Error {}

export interface LoadOptions {
  /** Command-line arguments after the sub-command (flags only). */
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Explicit overrides (tests); applied last. */
  overrides?: Partial<Record<string, unknown>>;
}

export interface Loaded {
  config: Readonly<Config>;
  /** Human-readable warnings (unknown keys, risky values); the caller logs them. */
  warnings: string[];
  /** Where each key's value came from: `default`, `file <path>`, `env PARLEY_…`, `flag --…`, `override`. */
  sources: ReadonlyMap<string, string>;
}

const byPath = new Map(KEYS.map((k) => [k.path, k]));
const byFlag = new Map(KEYS.map((k) => [flagName(k.path), k]));
/** Boolean flags never take the next word as their value (`--request-log serve`). */
const boolFlags = new Set(KEYS.filter((k) => k.kind === "bool").map((k) => flagName(k.path)));

function coerce(def: KeyDef, raw: unknown, where: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(`${where}: ${def.path} ${why}`);
  };
  switch (def.kind) {
    case "int": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
      if (!Number.isInteger(n)) fail(`must be an integer, got ${JSON.stringify(raw)}`);
      if (def.min !== undefined && n < def.min) fail(`must be ≥ ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`must be ≤ ${def.max}`);
      return n;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      const s = String(raw).toLowerCase();
      if (["1", "true", "yes", "on"].includes(s)) return true;
      if (["0", "false", "no", "off", ""].includes(s)) return false;
      return fail(`must be a boolean, got ${JSON.stringify(raw)}`);
    }
    case "list": {
      if (Array.isArray(raw)) return raw.map(String);
      if (typeof raw === "string")
        return raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      return fail("must be a list or a comma-separated string");
    }
    case "enum": {
      const s = String(raw);
      if (!def.values?.includes(s)) fail(`must be one of ${def.values?.join(", ")}`);
      return s;
    }
    default:
      // http.trustProxy was a boolean: `false` still means none; `true` is refused with a hint below.
      if (def.path === "http.trustProxy" && typeof raw === "boolean") return String(raw);
      if (typeof raw !== "string" && typeof raw !== "number") fail("must be a string");
      return String(raw);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

/** Flattens `{ws: {maxFrameBytes: 1}}` to `{"ws.maxFrameBytes": 1}`; leaves already-flat keys alone. */
function flatten(
  obj: Record<string, unknown>,
  prefix = "",
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !byPath.has(path))
      flatten(v as Record<string, unknown>, path, out);
    else out[path] = v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Splits `--key=value` / `--key value` / `--flag` into pairs; returns positional args too. */
export function parseFlags(argv: readonly string[]): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
    else if (!boolFlags.has(a) && i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags.set(a, argv[++i]);
    else flags.set(a, "true");
  }
  return { flags, positional };
}

export function loadConfig(opts: LoadOptions = {}): Loaded {
  const env = opts.env ?? process.env;
  const warnings: string[] = [];
  const values = new Map<string, unknown>();
  const sources = new Map<string, string>();
  const set = (path: string, value: unknown, source: string) => {
    values.set(path, value);
    sources.set(path, source);
  };
  for (const k of KEYS) set(k.path, Array.isArray(k.default) ? [...k.default] : k.default, "default");

  const { flags } = parseFlags(opts.argv ?? []);
  const file = flags.get("--config") ?? env.PARLEY_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new ConfigError(`config file ${file}: must hold a JSON object`);
    for (const [path, raw] of Object.entries(flatten(parsed as Record<string, unknown>))) {
      const def = byPath.get(path);
      if (!def) warnings.push(`config file ${file}: unknown key "${path}" ignored`);
      else set(path, coerce(def, raw, `config file ${file}`), `file ${file}`);
    }
  }

  const known = new Set(KEYS.map((k) => envName(k.path)));
  known.add("PARLEY_CONFIG");
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("PARLEY_") || raw === undefined) continue;
    if (!known.has(name)) {
      if (!IGNORED_ENV.has(name)) warnings.push(`environment: unknown variable ${name} ignored`);
      continue;
    }
    const def = KEYS.find((k) => envName(k.path) === name);
    if (def) set(def.path, coerce(def, raw, `environment ${name}`), `env ${name}`);
  }

  for (const [flag, raw] of flags) {
    if (flag === "--config") continue;
    const def = byFlag.get(flag);
    if (!def) throw new ConfigError(`unknown option ${flag} (see --help)`);
    set(def.path, coerce(def, raw, `option ${flag}`), `flag ${flag}`);
  }

  for (const [path, raw] of Object.entries(opts.overrides ?? {})) {
    const def = byPath.get(path);
    if (!def) throw new ConfigError(`override: unknown key ${path}`);
    set(path, coerce(def, raw, "override"), "override");
  }

  const config: Record<string, unknown> = {};
  for (const [path, v] of values) setPath(config, path, v);
  const c = config as unknown as Config;
  if (c.nodeId && !/^[0-9a-f]{16}$/.test(c.nodeId)) throw new ConfigError("nodeId must be 16 lowercase hex characters");
  if (c.databaseUrl && !/^postgres(ql)?:\/\//.test(c.databaseUrl))
    throw new ConfigError("databaseUrl must start with postgres:// (empty = SQLite)");
  if (c.redisUrl && !/^rediss?:\/\//.test(c.redisUrl)) throw new ConfigError("redisUrl must start with redis://");
  if (c.ws.idleTimeoutMs <= c.ws.pingIntervalMs)
    throw new ConfigError("ws.idleTimeoutMs must be greater than ws.pingIntervalMs (a live client answers pings)");
  for (const [name, prefix] of [
    ["gateway", c.gateway.prefix],
    ["chat33", c.chat33.prefix],
    ["enterprise", c.enterprise.prefix],
  ])
    if (prefix && !/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(prefix))
      throw new ConfigError(`${name}.prefix must look like /name`);
  if (c.sms.provider === "http" && !/^https?:\/\//.test(c.sms.httpUrl))
    throw new ConfigError("sms.httpUrl must be an http(s) URL when sms.provider is http");
  for (const [name, mode] of [
    ["dataDirMode", c.dataDirMode],
    ["fileMode", c.fileMode],
  ])
    if (!/^0?[0-7]{3}$/.test(mode)) throw new ConfigError(`${name} must be an octal mode such as 0700, got ${mode}`);
  if ((Number.parseInt(c.dataDirMode, 8) & 0o700) !== 0o700)
    throw new ConfigError("dataDirMode must give the owner rwx (7 in the first digit)");
  if ((Number.parseInt(c.fileMode, 8) & 0o600) !== 0o600)
    throw new ConfigError("fileMode must give the owner read and write (6 or 7 in the first digit)");
  try {
    parseTrustProxy(c.http.trustProxy);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (c.publicUrl && !/^https?:\/\/[^/]+/.test(c.publicUrl)) throw new ConfigError("publicUrl must be an http(s) URL");
  if (c.console.url && !/^https?:\/\/[^/]+/.test(c.console.url))
    throw new ConfigError("console.url must be an http(s) URL (empty = no reports)");
  if (c.console.url && !c.customerCode) throw new ConfigError("console.url is set: set customerCode too");
  if (c.console.licenceExpiry && !/^\d{4}-\d{2}-\d{2}$/.test(c.console.licenceExpiry))
    throw new ConfigError("console.licenceExpiry must be a date YYYY-MM-DD");
  return { config: deepFreeze(c), warnings, sources };
}

/** Variables read elsewhere (tests, CI), not config keys. */
const IGNORED_ENV = new Set(["PARLEY_REQUIRE_SERVICES", "PARLEY_TEST_KEEP", "PARLEY_BENCH", "PARLEY_RUN_FROM"]);
