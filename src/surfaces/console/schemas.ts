import { type TSchema, Type } from "@sinclair/typebox";
import { CODE_SOURCE, DATE_SOURCE, HOST_SOURCE, MAC_SOURCE, PHONE_SOURCE } from "../../core/customers/validation.ts";

/**
 * TypeBox schemas of the customer console (seed 004, docs/console.md). One schema per route
 * describes its parameters wherever they come from: the query string (GET), a JSON or form body
 * (POST), merged first (query, then the body) — see index.ts. Query and form values are text, JSON
 * values may be numbers: integers accept digit strings too; `code` is always text (a JSON number
 * would lose its leading zeros). Values may have blanks around them (the core trims them); a blank
 * required value counts as missing. Unknown parameters are ignored (the seed's clients send what
 * they send). The core (src/core/customers/validation.ts) checks the same fields again and the
 * rules the schema cannot say (a real calendar date, a port string's range, one code per batch).
 *
 * `x-message` is what a bad value of a field is told after its name (`tcpport must be a port …`):
 * one text, or one per ajv keyword; see `describeConsoleValidation` in index.ts.
 */

/** Field shapes are checked on the trimmed value (the core trims too). */
const trimmed = (source: string) => `^\\s*(?:${source})\\s*$`;
/** Optional fields: empty is "not given". */
const orEmpty = (source: string) => `^\\s*(?:(?:${source})\\s*)?$`;
/** No control characters inside a text (blanks around it are trimmed). */
const NO_CONTROL = "^\\s*[^\\u0000-\\u001f\\u007f]*\\s*$";

type Opts = { description: string; example: unknown; required?: boolean };

const Text = (max: number, o: Opts) =>
  Type.String({
    maxLength: max,
    pattern: NO_CONTROL,
    ...(o.required ? { minLength: 1 } : {}),
    description: o.description,
    examples: [o.example],
    "x-message": `must be text of at most ${max} characters, without control characters`,
  });

/** Text where the seed's own examples are numbers (ids): a JSON number is accepted too. */
const TextOrNumber = (max: number, o: Opts) =>
  Type.Union([Text(max, o), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })], {
    description: o.description,
    examples: [o.example],
    "x-message": `must be text of at most ${max} characters (or a number)`,
  });

const Shaped = (source: string, max: number, message: string, o: Opts) =>
  Type.String({
    maxLength: max,
    pattern: o.required ? trimmed(source) : orEmpty(source),
    description: o.description,
    examples: [o.example],
    "x-message": message,
  });

const CODE_MESSAGE = "must be 1 to 64 letters, digits, '_', '-' or '.'";

export const Code = (description = "客户号 — the customer code, text (`0513001` keeps its zero)") =>
  Shaped(CODE_SOURCE, 72, CODE_MESSAGE, { description, example: "0513001", required: true });

const Host = (description: string, required = true) =>
  Shaped(HOST_SOURCE, 253, "must be a host name or an IP address", {
    description,
    example: "61.155.85.77",
    required,
  });

const Mac = (description: string) =>
  Shaped(MAC_SOURCE, 31, "must be 5 to 8 hex octets separated by ':' or '-'", {
    description,
    example: "56:E8:F6:23:EF",
  });

const DateField = (description: string, required: boolean) =>
  Shaped(DATE_SOURCE, 16, "must be a date YYYY-MM-DD", { description, example: "2016-09-21", required });

const Phone = (description: string) =>
  Type.Union(
    [
      Shaped(PHONE_SOURCE, 32, "must be a phone number", { description, example: "15151390310" }),
      Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    ],
    { description, examples: ["15151390310"], "x-message": "must be a phone number of at most 32 characters" },
  );

/**
 * Digit strings of the integers 0…max (or 1…max), leading zeros allowed as the core allows them:
 * `upTo(3660)` is `0*(?:\d{1,3}|[0-2]\d{3}|3[0-5]\d{2}|36[0-5]\d|3660)`. So a query or form
 * value is range-checked at the edge like a JSON number (no type coercion).
 */
export function digitsUpTo(max: number, positive = false): string {
  const d = String(max);
  const alts = d.length > 1 ? [`\\d{1,${d.length - 1}}`] : [];
  for (let i = 0; i < d.length; i++) {
    const digit = Number(d[i]);
    if (digit === 0) continue;
    const rest = d.length - i - 1;
    alts.push(`${d.slice(0, i)}[0-${digit - 1}]${rest ? `\\d{${rest}}` : ""}`);
  }
  alts.push(d);
  return `${positive ? "0*(?=[1-9])" : "0*"}(?:${alts.join("|")})`;
}

/** An integer 0…max, as a JSON number or a digit string (query and form values are text). */
const Count = (description: string, example: number, max = 2 ** 31 - 1) =>
  Type.Union([Type.Integer({ minimum: 0, maximum: max }), Type.String({ pattern: trimmed(digitsUpTo(max)) })], {
    description,
    examples: [example],
    "x-message": `must be an integer from 0 to ${max}`,
  });

const Port = (description: string, example: number) =>
  Type.Union(
    [Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ pattern: trimmed(digitsUpTo(65535, true)) })],
    {
      description: `${description} (1–65535)`,
      examples: [example],
      "x-message": "must be a port from 1 to 65535",
    },
  );

const Id = Text(64, {
  description: "客户id — the customer's uuid (from customer/add or customer/list)",
  example: "616b6865-7503-4d27-92c7-c6b94e1c8cc2",
  required: true,
});

const Key = Text(128, {
  description: "the customer's report key, when it has one (never shown back)",
  example: "s3cret-report-key",
});

/** An object whose properties are optional but those named in `required`; unknown ones allowed. */
const object = (props: Record<string, TSchema>, required: readonly string[], message: string) =>
  Type.Object(
    Object.fromEntries(Object.entries(props).map(([k, s]) => [k, required.includes(k) ? s : Type.Optional(s)])),
    { additionalProperties: true, "x-message": message },
  );

const params = (props: Record<string, TSchema>, required: readonly string[] = []) =>
  object(props, required, "the parameters must be a JSON object or a form");

/** Every field of a customer; `add` requires the seed's, `update` none but `id`. */
const customerFields = (required: boolean) => ({
  code: required ? Code() : Code("客户号 — a new customer code"),
  name: Text(128, { description: "客户名称", example: "江苏中威科技", required: true }),
  mac: Mac("客户服务器的mac地址 (optional)"),
  tcphost: Host("客户部署TCP_Server的外网映射ip"),
  tcpport: Port("客户部署TCP_Server的外网映射端口", 10003),
  webhost: Host("客户部署WEB_Server的外网映射ip"),
  webport: Port("客户部署WEB_Server的外网映射端口", 10001),
  filehost: Host("客户部署FILE_Server的外网映射ip"),
  fileport: Port("客户部署FILE_Server的外网映射端口", 10004),
  timeout: DateField("通讯系统lic过期时间 (YYYY-MM-DD)", true),
  contact: Text(64, { description: "客户联系人", example: "杨燕龙" }),
  ctel: Phone("客户联系人电话"),
  server: Text(64, { description: "负责服务人员", example: "宋卫南" }),
  key: Key,
});

/** The seed's fields a customer/add may leave out. */
const OPTIONAL_ON_ADD = new Set(["mac", "contact", "ctel", "server", "key"]);
const REQUIRED_CUSTOMER = Object.keys(customerFields(true)).filter((k) => !OPTIONAL_ON_ADD.has(k));

export const CustomerAddParams = params(customerFields(true), REQUIRED_CUSTOMER);
export const CustomerUpdateParams = params({ id: Id, ...customerFields(false) }, ["id"]);
export const CustomerRemoveParams = params({ id: Id }, ["id"]);
export const NoParams = params({});
export const CodeParams = params({ code: Code() }, ["code"]);
export const HistoryParams = params(
  {
    code: Code(),
    days: Count("days back (default 30; 0 = all kept history)", 30, 3660),
    limit: Count("at most this many points (default 1000)", 1000, 10_000),
  },
  ["code"],
);

export const ServerCommitParams = params(
  {
    code: Code(),
    key: Key,
    name: Text(128, { description: "客户名称 / the server's name", example: "江苏中威科技" }),
    mac: Mac("客户服务器的mac地址"),
    ip: Host("客户服务器的ip地址", false),
    timeout: DateField("通讯系统lic过期时间 (YYYY-MM-DD, or empty)", false),
    count: Count("客户用户人数", 178),
    updatetimes: Count("客户通讯录更新次数", 32),
  },
  ["code"],
);

const row = (props: Record<string, TSchema>, required: readonly string[]) =>
  object(props, required, "must be an object");

const UserRow = row(
  {
    code: Code(),
    uuid: TextOrNumber(64, {
      description: "用户uuid",
      example: "616b6865-7503-4d27-92c7-c6b94e1c8cc2",
      required: true,
    }),
    nickname: Text(128, { description: "用户名", example: "龚超" }),
    onlinetime: Count("用户在线时间", 345),
    andtimes: Count("android客户端在线时间", 45),
    pctimes: Count("pc客户端在线时间", 120),
    iostimes: Count("ios在线时间", 180),
    fmsgs: Count("发送的消息数", 24),
    tmsgs: Count("接收的消息数", 32),
  },
  ["code", "uuid"],
);

const GroupRow = row(
  {
    code: Code(),
    gid: TextOrNumber(64, {
      description: "群组id",
      example: "616b6865-7503-4d27-92c7-c6b94e1c8cc2",
      required: true,
    }),
    name: Text(128, { description: "群组名称", example: "中威官方群" }),
    createrid: TextOrNumber(64, { description: "创建者id", example: "36" }),
    creatername: Text(128, { description: "创建者名称", example: "施东海" }),
    ucount: Count("群组人数", 178),
    msgcount: Count("群聊天消息数", 1878),
    ctime: Text(32, { description: "创建时间", example: "2016-08-09" }),
    fcount: Count("文件共享数", 32),
    ncount: Count("群公告数", 24),
  },
  ["code", "gid"],
);

/**
 * `data` of a user/group commit: a JSON array of rows, or a JSON string of one (what a form or a
 * query string carries). The surface parses a string before validation (index.ts), so the rows
 * are checked here either way; the string branch only documents the wire.
 */
const rows = (item: TSchema, maxRows: number, what: string) =>
  Type.Union(
    [
      Type.Array(item, { maxItems: maxRows }),
      Type.String({ description: "the same array as a JSON string (`data=[{…},{…}]` in a form or query)" }),
    ],
    {
      description: `只包含一个参数data: the ${what} rows, a JSON array (at most ${maxRows}) or a JSON string of one; every row carries the same code`,
      "x-message": { anyOf: "must be a JSON array of objects", maxItems: `has more than ${maxRows} rows` },
    },
  );

export const UserCommitParams = (maxRows: number) =>
  params({ key: Key, data: rows(UserRow, maxRows, "user") }, ["data"]);
export const GroupCommitParams = (maxRows: number) =>
  params({ key: Key, data: rows(GroupRow, maxRows, "group") }, ["data"]);

// --- answers (documentation only: the serializer is JSON.stringify) ---

const Str = (example: string) => Type.String({ examples: [example] });
const Int = (example: number) => Type.Integer({ examples: [example] });
const Nullable = (s: TSchema) => Type.Union([s, Type.Null()]);

const ServerReportOut = Type.Object({
  name: Str("江苏中威科技"),
  mac: Str("56:E8:F6:23:EF"),
  ip: Str("192.168.0.7"),
  timeout: Str("2016-09-21"),
  count: Int(178),
  updatetimes: Int(32),
  reportedAt: Type.Integer({ description: "ms since epoch" }),
});

export const CustomerOut = Type.Object({
  id: Str("616b6865-7503-4d27-92c7-c6b94e1c8cc2"),
  code: Str("0513001"),
  name: Str("江苏中威科技"),
  mac: Str("56:E8:F6:23:EF"),
  tcphost: Str("61.155.85.77"),
  tcpport: Int(10003),
  webhost: Str("61.155.85.77"),
  webport: Int(10001),
  filehost: Str("61.155.85.77"),
  fileport: Int(10004),
  timeout: Str("2016-09-21"),
  contact: Str("杨燕龙"),
  ctel: Str("15151390310"),
  server: Str("宋卫南"),
  hasKey: Type.Boolean({ description: "reports must carry the customer's key" }),
  createdAt: Type.Integer({ description: "ms since epoch" }),
  updatedAt: Type.Integer({ description: "ms since epoch" }),
});

export const CustomerListOut = Type.Array(
  Type.Intersect([CustomerOut, Type.Object({ lastReport: Nullable(ServerReportOut) })]),
);

export const CustomerInfoOut = Type.Composite([
  Type.Omit(CustomerOut, ["id", "mac", "contact", "ctel", "server", "hasKey", "createdAt", "updatedAt"]),
  Type.Object({ expired: Type.Boolean({ description: "true from the day after timeout (UTC)" }) }),
]);

export const StoredOut = Type.Object({ stored: Type.Integer({ description: "rows accepted", examples: [2] }) });
export const RemovedOut = Type.Object({ id: Str("616b6865-7503-4d27-92c7-c6b94e1c8cc2") });

export const UserListOut = Type.Array(
  Type.Object({
    uuid: Str("616b6865-7503-4d27-92c7-c6b94e1c8cc2"),
    nickname: Str("龚超"),
    onlinetime: Int(345),
    andtimes: Int(45),
    pctimes: Int(120),
    iostimes: Int(180),
    fmsgs: Int(24),
    tmsgs: Int(32),
    reportedAt: Type.Integer({ description: "ms since epoch" }),
  }),
);

export const GroupListOut = Type.Array(
  Type.Object({
    gid: Str("616b6865-7503-4d27-92c7-c6b94e1c8cc2"),
    name: Str("中威官方群"),
    createrid: Str("36"),
    creatername: Str("施东海"),
    ucount: Int(178),
    msgcount: Int(1878),
    ctime: Str("2016-08-09"),
    fcount: Int(32),
    ncount: Int(24),
    reportedAt: Type.Integer({ description: "ms since epoch" }),
  }),
);

export const HistoryOut = Type.Array(
  Type.Object({
    kind: Type.Union([Type.Literal("server"), Type.Literal("users"), Type.Literal("groups")]),
    reportedAt: Type.Integer({ description: "ms since epoch" }),
    values: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]), {
      description: "server: the report; users/groups: {rows, …sums of the counts}",
    }),
  }),
);
