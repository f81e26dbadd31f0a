/**
 * The one typed configuration schema. Every key has a default and a one-line doc; the table in
 * README.md and `parley --help` are generated from this list. Values are loaded from an optional
 * JSON file, then `PARLEY_*` environment variables, then command-line flags (later wins), validated
 * and frozen.
 */

export type KeyKind = "int" | "string" | "bool" | "list" | "enum";

export interface KeyDef {
  /** Dotted path in the config object, e.g. `ws.maxFrameBytes`. */
  path: string;
  kind: KeyKind;
  default: number | string | boolean | readonly string[];
  doc: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Never printed in logs, `--help` defaults or `parley config check`. */
  secret?: boolean;
}

/**
 * Every key: the one source of the `Config` type below, the loader, `--help`, `parley config
 * check` and the README table. Written `as const` so the type keeps each path, kind and value list.
 */
const KEY_LIST = [
  { path: "port", kind: "int", default: 8080, min: 0, max: 65535, doc: "HTTP/WebSocket port (0 = any free port)" },
  { path: "host", kind: "string", default: "0.0.0.0", doc: "address to listen on" },
  {
    path: "tcpPort",
    kind: "int",
    default: 0,
    min: 0,
    max: 65535,
    doc: "TCP access-protocol port of the cluster-admin surface (0 = disabled)",
  },
  {
    path: "dataDir",
    kind: "string",
    default: "./data",
    doc: "data directory (SQLite file, admin token hash, uploads)",
  },
  {
    path: "dataDirMode",
    kind: "string",
    default: "0700",
    doc: "octal mode of the data directory and the directories Parley creates in it (set at every start)",
  },
  {
    path: "fileMode",
    kind: "string",
    default: "0600",
    doc: "octal mode of the files Parley creates in the data directory (parley.db and its -wal/-shm, admin token hash, uploads, thumbnails)",
  },
  {
    path: "databaseUrl",
    kind: "string",
    default: "",
    secret: true,
    doc: "postgres://… to use PostgreSQL; empty = SQLite file in the data dir",
  },
  {
    path: "database.poolSize",
    kind: "int",
    default: 10,
    min: 1,
    doc: "PostgreSQL: connections this node's pool opens at most (per node; keep nodes × this under the server's max_connections)",
  },
  {
    path: "redisUrl",
    kind: "string",
    default: "",
    secret: true,
    doc: "redis://… to use the Redis hub (cluster mode); empty = in-process hub",
  },
  { path: "redisPrefix", kind: "string", default: "parley:", doc: "prefix of every Redis key and channel" },
  {
    path: "adminToken",
    kind: "string",
    default: "",
    secret: true,
    doc: "admin token; empty = generated on first start, printed once, stored hashed in the data dir",
  },
  { path: "nodeId", kind: "string", default: "", doc: "this node's id in a cluster (16 hex chars); empty = random" },
  {
    path: "cluster.heartbeatMs",
    kind: "int",
    default: 5000,
    min: 100,
    max: 60000,
    doc: "how often a node writes its heartbeat and registry entry to Redis (cluster mode)",
  },
  {
    path: "cluster.nodeTtlMs",
    kind: "int",
    default: 15000,
    min: 300,
    max: 600000,
    doc: "a node whose last heartbeat is older than this is dead: it leaves the registry, iplist and every presence list and count (cluster mode; keep it ≥ 3 × cluster.heartbeatMs)",
  },
  {
    path: "cluster.allowMixedSettings",
    kind: "bool",
    default: false,
    doc: "start even when a live node of the cluster runs with other cluster-wide settings (a warning instead of exit 3; for a rolling change of settings)",
  },
  {
    path: "logLevel",
    kind: "enum",
    default: "info",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    doc: "pino log level",
  },
  {
    path: "logFormat",
    kind: "enum",
    default: "auto",
    values: ["auto", "json", "pretty"],
    doc: "log lines as JSON (for collectors) or pretty (local time, for people); auto = pretty on a terminal, else JSON",
  },
  {
    path: "requestLog",
    kind: "bool",
    default: false,
    doc: "log every HTTP request (noisy; off by default; secrets in URLs and headers are masked)",
  },
  {
    path: "metrics.token",
    kind: "string",
    default: "",
    secret: true,
    doc: "bearer token GET /metrics requires (Authorization: Bearer …); empty = no authentication (restrict it at the proxy)",
  },
  {
    path: "http.bodyLimitBytes",
    kind: "int",
    default: 1048576,
    min: 1024,
    doc: "maximum HTTP request body size in bytes",
  },
  {
    path: "http.trustProxy",
    kind: "string",
    default: "",
    doc: "reverse proxies whose X-Forwarded-* headers are trusted: a hop count (e.g. 1) or a comma-separated list of addresses/CIDRs (also loopback, linklocal, uniquelocal); empty = none. The client address is the first untrusted hop",
  },
  {
    path: "http.corsOrigins",
    kind: "list",
    default: [],
    doc: "comma-separated Origin allow-list for browser (CORS) calls to every HTTP surface and /files; * = any origin without credentials; empty = closed",
  },
  {
    path: "ws.maxFrameBytes",
    kind: "int",
    default: 65536,
    min: 128,
    doc: "largest WebSocket frame a client may send; larger ones close the socket with 1009",
  },
  {
    path: "ws.maxBufferedBytes",
    kind: "int",
    default: 1048576,
    min: 1024,
    doc: "per-connection send buffer; a client that falls further behind is closed with 1013",
  },
  {
    path: "ws.fanoutCoalesceMs",
    kind: "int",
    default: 2,
    min: 0,
    max: 1000,
    doc: "how long a busy topic's fan-out (its last batch carried several events) waits for more before the next batch, so each write carries more frames; 0 = never wait",
  },
  { path: "ws.pingIntervalMs", kind: "int", default: 25000, min: 100, doc: "server ping interval" },
  {
    path: "ws.idleTimeoutMs",
    kind: "int",
    default: 60000,
    min: 200,
    doc: "close a socket (4002) that sent nothing, not even a pong, for this long",
  },
  {
    path: "ws.allowedOrigins",
    kind: "list",
    default: [],
    doc: "comma-separated Origin allow-list for WebSocket upgrades; empty = any origin",
  },
  { path: "gateway.enabled", kind: "bool", default: true, doc: "serve the push-gateway surface (seed 000)" },
  { path: "gateway.prefix", kind: "string", default: "", doc: "path prefix of the gateway surface, e.g. /gw" },
  {
    path: "gateway.registerRequiresAdmin",
    kind: "bool",
    default: false,
    doc: "require the admin token for POST /api/register (default: open, as in the original)",
  },
  {
    path: "gateway.groupNotices",
    kind: "bool",
    default: true,
    doc: "send the 1001/1002 online/offline notices to a group on bind/disconnect (n² frames while a big group fills)",
  },
  {
    path: "gateway.maxClientIds",
    kind: "int",
    default: 10000,
    min: 1,
    doc: "largest clientIds array accepted by send_to_clients",
  },
  {
    path: "publicUrl",
    kind: "string",
    default: "",
    doc: "base URL clients reach this server at (for generated links such as QR codes); empty = from the request",
  },
  {
    path: "accounts.sessionTtlMs",
    kind: "int",
    default: 30 * 24 * 3600 * 1000,
    min: 60000,
    doc: "how long a login session (token) lives",
  },
  {
    path: "accounts.multiLogin",
    kind: "enum",
    default: "per-device",
    values: ["per-device", "single", "multi"],
    doc: "per-device: one session per user and device type (a newer login ends the older); single: one session per user; multi: unlimited",
  },
  {
    path: "accounts.scryptLogN",
    kind: "int",
    default: 17,
    min: 10,
    max: 20,
    doc: "scrypt work factor log2(N) for new password hashes (r=8, p=1)",
  },
  {
    path: "accounts.loginFailures",
    kind: "int",
    default: 10,
    min: 1,
    doc: "failed logins allowed per account from one client address per window; then that pair is refused (hard stop), and the account's attempts from anywhere are delayed",
  },
  {
    path: "accounts.loginWindowMs",
    kind: "int",
    default: 15 * 60 * 1000,
    min: 1000,
    doc: "window of the per-(account, address) hard stop and of the per-account failure count",
  },
  {
    path: "accounts.loginFailuresPerAddress",
    kind: "int",
    default: 50,
    min: 1,
    doc: "failed logins allowed per client address over all accounts per accounts.loginAddressWindowMs",
  },
  {
    path: "accounts.loginAddressWindowMs",
    kind: "int",
    default: 60000,
    min: 1000,
    doc: "window of the per-address login limit (short, so one NAT is never locked out for long)",
  },
  {
    path: "accounts.loginDelayMs",
    kind: "int",
    default: 1000,
    min: 1,
    doc: "first spacing between login attempts on an account over accounts.loginFailures; doubles with each further failure",
  },
  {
    path: "accounts.loginDelayMaxMs",
    kind: "int",
    default: 30000,
    min: 1,
    doc: "largest spacing (and longest wait) of the per-account login delay; an attempt that would wait longer is refused",
  },
  {
    path: "accounts.hashConcurrency",
    kind: "int",
    default: 2,
    min: 1,
    max: 64,
    doc: "password hashes (scrypt) computed at once on this node",
  },
  {
    path: "accounts.hashQueue",
    kind: "int",
    default: 16,
    min: 0,
    doc: "password hashes that may wait for the pool; more are refused at once with the rate-limit answer",
  },
  {
    path: "sms.provider",
    kind: "enum",
    default: "log",
    values: ["log", "http"],
    doc: "SMS sender: log (server log + admin outbox) or http",
  },
  {
    path: "sms.httpUrl",
    kind: "string",
    default: "",
    doc: "http sender: URL that receives POST {mobile, code, text}",
  },
  { path: "sms.codeTtlMs", kind: "int", default: 300000, min: 1000, doc: "how long an SMS code is valid" },
  { path: "sms.resendMs", kind: "int", default: 60000, min: 0, doc: "minimum time between two codes to one mobile" },
  { path: "sms.dailyCap", kind: "int", default: 10, min: 1, doc: "codes one mobile may receive per 24 h" },
  { path: "sms.maxAttempts", kind: "int", default: 5, min: 1, doc: "wrong tries before a code is burnt" },
  { path: "sms.perIpPerHour", kind: "int", default: 30, min: 1, doc: "SMS sends one client IP may request per hour" },
  { path: "qr.ttlMs", kind: "int", default: 120000, min: 1000, doc: "lifetime of QR login / group-join codes" },
  { path: "im.enabled", kind: "bool", default: true, doc: "serve the cluster-admin surface (seed 003: /im/*, /im/ws)" },
  {
    path: "im.tokenTtlMs",
    kind: "int",
    default: 86400000,
    min: 1000,
    doc: "lifetime of an /im/iplist access token (its `expire`, in ms)",
  },
  {
    path: "im.onlineTimeoutMs",
    kind: "int",
    default: 10000,
    min: 100,
    doc: "an access connection that has not sent a valid `online` within this is closed",
  },
  {
    path: "im.maxFrameBytes",
    kind: "int",
    default: 65536,
    min: 128,
    max: 16777216,
    doc: "largest access-protocol TCP frame and /im/push body (larger: error 10018)",
  },
  {
    path: "im.advertiseHost",
    kind: "string",
    default: "",
    doc: "host /im/iplist advertises for this node's listeners (empty = `host`, or 127.0.0.1 when that is 0.0.0.0)",
  },
  {
    path: "im.statsIntervalMs",
    kind: "int",
    default: 2000,
    min: 0,
    doc: "how often the cluster's statistics sampler records the online-user count (0 = never)",
  },
  {
    path: "chatrooms.shardSize",
    kind: "int",
    default: 1000,
    min: 1,
    max: 1000000,
    doc: "chat-room audience shard size (分组容量) for fan-out; a room may override it",
  },
  {
    path: "chatrooms.historyMaxCount",
    kind: "int",
    default: 10000,
    min: 1,
    doc: "chat-room history retention: newest messages kept per room",
  },
  {
    path: "chatrooms.historyMaxAgeMs",
    kind: "int",
    default: 604800000,
    min: 1000,
    doc: "chat-room history retention: messages older than this (ms) are dropped (default 7 days)",
  },
  {
    path: "chatrooms.cacheTtlMs",
    kind: "int",
    default: 5000,
    min: 10,
    max: 600000,
    doc: "a node re-reads a cached chat room and a cached user's blacklist entry and mute in it (every chat-room send checks them) after this many ms, even when no invalidation arrived",
  },
  {
    path: "chatrooms.reportsPerMinute",
    kind: "int",
    default: 10,
    min: 0,
    doc: "/group/report calls one user may make per minute (more → -1012; 0 = no limit)",
  },
  {
    path: "chatrooms.guestReadsPerMinute",
    kind: "int",
    default: 120,
    min: 0,
    doc: "/group/list and /group/userList calls per minute from one client address without a login (more → -1012; 0 = no limit)",
  },
  {
    path: "messages.recallWindowMs",
    kind: "int",
    default: 120000,
    min: 0,
    doc: "how long after sending a user may recall their own message",
  },
  {
    path: "messages.maxBatch",
    kind: "int",
    default: 512,
    min: 1,
    max: 4096,
    doc: "most messages written by one group-commit transaction",
  },
  {
    path: "messages.writeLanes",
    kind: "int",
    default: 2,
    min: 1,
    max: 16,
    doc: "PostgreSQL: group-commit transactions in flight at once, conversations partitioned over them (1 = one at a time; SQLite: always 1)",
  },
  {
    path: "friends.cacheTtlMs",
    kind: "int",
    default: 5000,
    min: 10,
    max: 600000,
    doc: "a node re-reads a cached pair's friendship and blocks (every 1:1 send checks them) after this many ms, even when no invalidation arrived",
  },
  {
    path: "messages.sendRatePerUser",
    kind: "int",
    default: 0,
    min: 0,
    doc: "messages one user may send per second over every surface, device and node (0 = chat33.msgRatePerUser)",
  },
  {
    path: "groups.defaultCapacity",
    kind: "int",
    default: 500,
    min: 2,
    max: 100000,
    doc: "members a new group may have (chat33 room / enterprise group)",
  },
  {
    path: "groups.maxCapacity",
    kind: "int",
    default: 2000,
    min: 2,
    max: 100000,
    doc: "largest capacity a group owner may set",
  },
  {
    path: "groups.onlineNoticeMs",
    kind: "int",
    default: 1000,
    min: 100,
    doc: "at most one online-count notice (chat33 event 24) and one read-receipt notice per group per this many ms (per node)",
  },
  {
    path: "wallet.coins",
    kind: "list",
    default: ["1:BTY", "2:YCC"],
    doc: "coins of the wallet and red packets, as <id>:<name> (chat33 `coin` numbers)",
  },
  {
    path: "wallet.maxShares",
    kind: "int",
    default: 1000,
    min: 1,
    max: 100000,
    doc: "most shares (size) one red packet may have",
  },
  {
    path: "wallet.packetTtlMs",
    kind: "int",
    default: 86400000,
    min: 1000,
    doc: "how long a red packet can be claimed; its unclaimed shares are then refunded to the sender",
  },
  {
    path: "wallet.guestHoldMs",
    kind: "int",
    default: 600000,
    min: 1000,
    doc: "how long a guest's share (/red-packet/receive mark) is held for /red-packet/entry before it returns to the pool",
  },
  {
    path: "wallet.pendingHoldMs",
    kind: "int",
    default: 86400000,
    min: 1000,
    doc: "how long a share entered for an unregistered mobile waits for /red-packet/register-entry before it is refunded",
  },
  {
    path: "wallet.sendPerMinute",
    kind: "int",
    default: 20,
    min: 1,
    doc: "red packets one user may send per minute (over every node)",
  },
  {
    path: "wallet.guestPerMinute",
    kind: "int",
    default: 60,
    min: 1,
    doc: "guest red-packet requests (receive, entry, register-entry) one client address may make per minute",
  },
  {
    path: "wallet.sweepMs",
    kind: "int",
    default: 5000,
    min: 100,
    doc: "how often each node looks for expired red packets to refund (every node may; each refund happens once)",
  },
  {
    path: "wallet.recordsUtcOffsetMinutes",
    kind: "int",
    default: 480,
    min: -720,
    max: 840,
    doc: "time zone of the months and years of the red-packet records routes (default UTC+8, China)",
  },
  {
    path: "groups.cacheTtlMs",
    kind: "int",
    default: 5000,
    min: 10,
    max: 600000,
    doc: "a node reloads a cached group and its members (every permission check reads them) after this many ms, even when no invalidation arrived",
  },
  {
    path: "groups.createsPerMinute",
    kind: "int",
    default: 20,
    min: 0,
    doc: "groups one user may create per minute, cluster-wide (more → chat33 -1012, enterprise 429; 0 = no limit)",
  },
  {
    path: "groups.appliesPerMinute",
    kind: "int",
    default: 30,
    min: 0,
    doc: "join applications (and link joins) one user may make per minute, cluster-wide (more → -1012; 0 = no limit)",
  },
  { path: "chat33.enabled", kind: "bool", default: true, doc: "serve the chat33 surface (seed 002)" },
  { path: "chat33.prefix", kind: "string", default: "", doc: "path prefix of the chat33 surface" },
  {
    path: "chat33.msgRatePerConnection",
    kind: "int",
    default: 20,
    min: 1,
    doc: "WebSocket messages one chat33 connection may send per second (more → -1012)",
  },
  {
    path: "chat33.msgRatePerUser",
    kind: "int",
    default: 50,
    min: 1,
    doc: "older name of messages.sendRatePerUser, used while that key is 0 (more → chat33 -1012, enterprise 429)",
  },
  { path: "files.maxBytes", kind: "int", default: 20 * 1024 * 1024, min: 1024, doc: "largest accepted upload" },
  {
    path: "files.allowedTypes",
    kind: "list",
    default: [
      "image/png",
      "image/jpeg",
      "image/gif",
      "image/webp",
      "audio/mpeg",
      "audio/amr",
      "audio/ogg",
      "audio/wav",
      "video/mp4",
      "video/webm",
      "application/pdf",
      "application/zip",
      "text/plain",
      "application/msword",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.ms-excel",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/octet-stream",
    ],
    doc: "upload content types accepted (detected from the bytes where possible, not trusted from the client)",
  },
  { path: "files.thumbnailPx", kind: "int", default: 240, min: 16, max: 2048, doc: "longest side of image thumbnails" },
  {
    path: "files.store",
    kind: "enum",
    default: "local",
    values: ["local", "database"],
    doc: "where uploads are kept: local = <dataDir>/files on this node; database = chunks in the shared database (cluster)",
  },
  {
    path: "files.maxConcurrentUploads",
    kind: "int",
    default: 32,
    min: 1,
    max: 10000,
    doc: "uploads one node receives at once (each streams, holding a few chunks in memory); one more → busy (enterprise 503, chat33 -1012)",
  },
  {
    path: "files.chunkBytes",
    kind: "int",
    default: 262144,
    min: 4096,
    max: 8388608,
    doc: "bytes per database row of an upload with files.store=database (new uploads only)",
  },
  {
    path: "web.enabled",
    kind: "bool",
    default: true,
    doc: "serve the web chat client at /app/ (and redirect / there); docs/web.md",
  },
  {
    path: "web.dir",
    kind: "string",
    default: "",
    doc: "folder of the built web client (empty = web/dist of this installation)",
  },
  {
    path: "web.adminEnabled",
    kind: "bool",
    default: true,
    doc: "serve the admin console at /admin/ (it uses the admin token; docs/admin-console.md)",
  },
  {
    path: "web.adminDir",
    kind: "string",
    default: "",
    doc: "folder of the built admin console (empty = web/admin/dist of this installation)",
  },
  { path: "enterprise.enabled", kind: "bool", default: true, doc: "serve the enterprise surface (seed 001)" },
  { path: "enterprise.prefix", kind: "string", default: "", doc: "path prefix of the enterprise surface" },
  {
    path: "console.enabled",
    kind: "bool",
    default: true,
    doc: "serve the customer console (seed 004): /console/* (admin token) and /api/customer/info, /api/*/commit",
  },
  {
    path: "console.port",
    kind: "int",
    default: 0,
    min: 0,
    max: 65535,
    doc: "a listener of the console's own serving every console route at the seed's paths (/customer/list …); 0 = none",
  },
  {
    path: "console.bodyLimitBytes",
    kind: "int",
    default: 1048576,
    min: 1024,
    doc: "largest console request body (telemetry batches); larger ones are refused whole",
  },
  {
    path: "console.maxRows",
    kind: "int",
    default: 10000,
    min: 1,
    doc: "most user/group rows one telemetry batch may carry",
  },
  {
    path: "console.retentionDays",
    kind: "int",
    default: 90,
    min: 0,
    doc: "days of report history kept per customer (latest users/groups always kept); 0 = forever",
  },
  {
    path: "console.url",
    kind: "string",
    default: "",
    doc: "base URL of a customer console (another Parley, or the vendor's) this node reports to; empty = no reports",
  },
  {
    path: "console.reportIntervalMs",
    kind: "int",
    default: 300000,
    min: 1000,
    doc: "how often this node reports to console.url (failures retry sooner, with backoff)",
  },
  {
    path: "console.licenceExpiry",
    kind: "string",
    default: "",
    doc: "licence expiry (YYYY-MM-DD) this node reports as its server timeout; empty = none",
  },
  {
    path: "customerCode",
    kind: "string",
    default: "",
    doc: "this deployment's customer code at console.url; empty = no reports",
  },
  {
    path: "customerKey",
    kind: "string",
    default: "",
    secret: true,
    doc: "the key the console expects with this deployment's reports (sent as the key parameter); empty = none",
  },
  {
    path: "shutdown.drainDelayMs",
    kind: "int",
    default: 0,
    min: 0,
    doc: "on SIGTERM, report not-ready this long before closing sockets (for load balancers)",
  },
  {
    path: "shutdown.graceMs",
    kind: "int",
    default: 10000,
    min: 0,
    doc: "on SIGTERM, wait at most this long for in-flight work",
  },
] as const satisfies readonly KeyDef[];

/** The keys, for code that walks them (the loader, `--help`, the README table). */
export const KEYS: readonly KeyDef[] = KEY_LIST;

/** One key of the list, with its literal path, kind and values. */
type Key = (typeof KEY_LIST)[number];

/** The TypeScript type of a key's value, from its kind (enum keys: the union of their values). */
type ValueOf<K> = K extends { kind: "int" }
  ? number
  : K extends { kind: "bool" }
    ? boolean
    : K extends { kind: "list" }
      ? string[]
      : K extends { kind: "enum"; values: readonly (infer V)[] }
        ? V
        : string;

type Head<P> = P extends `${infer H}.${string}` ? H : P;
/** The keys under `H.`, with that segment taken off their path. */
type Under<K, H extends string> = K extends { path: `${H}.${infer R}` } ? Omit<K, "path"> & { path: R } : never;
type Tree<K extends { path: string }> = {
  [H in Head<K["path"]>]: [Extract<K, { path: H }>] extends [never]
    ? Tree<Under<K, H>>
    : ValueOf<Extract<K, { path: H }>>;
};

/**
 * The loaded configuration, derived from `KEYS` (the one source): `ws.maxFrameBytes` of kind
 * `int` becomes `config.ws.maxFrameBytes: number`, an enum key the union of its values.
 */
export type Config = Tree<Key>;

/** `ws.maxFrameBytes` → `PARLEY_WS_MAX_FRAME_BYTES`. */
export function envName(path: string): string {
  return `PARLEY_${path
    .replace(/\./g, "_")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()}`;
}

/** `ws.maxFrameBytes` → `--ws-max-frame-bytes`. */
export function flagName(path: string): string {
  return `--${path
    .replace(/\./g, "-")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()}`;
}

/**
 * The per-user send rate limit of the message pipeline (every surface): `messages.sendRatePerUser`,
 * or — while that is 0, its default — the older chat33-only key `chat33.msgRatePerUser`.
 */
export function sendRatePerUser(config: Pick<Config, "messages" | "chat33">): number {
  return config.messages.sendRatePerUser > 0 ? config.messages.sendRatePerUser : config.chat33.msgRatePerUser;
}
