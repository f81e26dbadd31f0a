import { type TObject, type TSchema, Type } from "@sinclair/typebox";

/**
 * TypeBox schemas of the admin API. JSON bodies are validated strictly (no coercion, unknown
 * fields refused); query strings are coerced from text (see index.ts).
 */
const strict = { additionalProperties: false };
/**
 * Free text the admin API stores or searches: anything but NUL, which PostgreSQL `text` cannot
 * hold (a NUL reaching it was a 500 there; found by the reliability fuzzer).
 */
const NO_NUL = "^[^\\u0000]*$";

/** A user id: the API presents it as a string; a JSON number is accepted too. */
export const UserId = Type.Union(
  [Type.String({ pattern: "^[1-9][0-9]{0,14}$" }), Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })],
  { description: "user id (string of digits, or a number)" },
);
const RefId = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
const NullableRef = (description: string) => Type.Union([RefId(description), Type.Null()], { description });
/** 001 writes flags as 0/1; booleans are accepted too. */
const Flag = (description: string) =>
  Type.Union([Type.Boolean(), Type.Integer({ minimum: 0, maximum: 1 })], { description });

const Mobile = Type.String({ pattern: "^1[0-9]{10}$", description: "11-digit mobile number starting with 1" });
const Username = Type.String({
  pattern: "^[A-Za-z0-9_.@-]{2,64}$",
  description: "2–64 of A–Z a–z 0–9 _ . @ - (must not be a mobile number)",
});
const Password = Type.String({ minLength: 6, maxLength: 128, description: "6–128 characters; stored as scrypt" });
const Nickname = Type.String({ minLength: 1, maxLength: 64, pattern: NO_NUL });
const Avatar = Type.String({ maxLength: 1024, pattern: NO_NUL, description: "avatar URL" });
const Sex = Type.Integer({ minimum: 0, maximum: 2, description: "0 unset, 1 male, 2 female" });
const Position = Type.String({ maxLength: 64, pattern: NO_NUL, description: "job title" });
const Email = Type.String({ maxLength: 128, pattern: "^(|[^\\s@]+@[^\\s@]+)$", description: "e-mail or empty" });
const Level = Type.Integer({ minimum: 0, maximum: 2, description: "0 guest, 1 user, 2 customer service" });

const userFields = {
  nickname: Type.Optional(Nickname),
  avatar: Type.Optional(Avatar),
  sex: Type.Optional(Sex),
  position: Type.Optional(Position),
  email: Type.Optional(Email),
  level: Type.Optional(Level),
  admin: Type.Optional(Type.Boolean({ description: "Parley administrator (may use admin features of surfaces)" })),
  verified: Type.Optional(Type.Boolean({ description: "identity verified (chat33 `verified`)" })),
};

export const CreateUserBody = Type.Object(
  {
    mobile: Type.Optional(Mobile),
    username: Type.Optional(Username),
    password: Password,
    ...userFields,
    companyId: Type.Optional(NullableRef("company id")),
    deptId: Type.Optional(NullableRef("department id (of companyId)")),
    roleId: Type.Optional(NullableRef("role id (of companyId)")),
  },
  strict,
);

export const UpdateUserBody = Type.Object(
  {
    id: UserId,
    mobile: Type.Optional(Mobile),
    username: Type.Optional(Username),
    password: Type.Optional(Password),
    ...userFields,
    companyId: Type.Optional(NullableRef("company id; null removes the user from its company")),
    deptId: Type.Optional(NullableRef("department id (of the resulting company)")),
    roleId: Type.Optional(NullableRef("role id (of the resulting company)")),
    disabled: Type.Optional(Type.Boolean({ description: "true ends every session and refuses logins" })),
  },
  strict,
);

export const UserIdBody = Type.Object({ id: UserId }, strict);

/** A user id in a query string (text). */
export const UserIdQuery = Type.Object(
  { id: Type.String({ pattern: "^[1-9][0-9]{0,14}$", description: "user id" }) },
  strict,
);

/** The longest mute (as chat33 `/user/muted`): 100 years. */
export const MUTE_MAX_MS = 100 * 365 * 24 * 3600 * 1000;

export const MuteBody = Type.Object(
  {
    id: UserId,
    durationMs: Type.Integer({
      minimum: 0,
      maximum: MUTE_MAX_MS,
      description: "mute for this long from now (ms); 0 lifts the mute",
    }),
  },
  strict,
);

export const RevokeSessionBody = Type.Object(
  {
    id: UserId,
    sessionId: Type.String({ minLength: 1, maxLength: 64, pattern: "^[0-9a-zA-Z_-]+$", description: "session id" }),
  },
  strict,
);

export const UserSessionOut = Type.Object({
  id: Type.String({ description: "session id (sid)" }),
  device: Type.String({ description: "web | android | ios | pc" }),
  deviceId: Type.String(),
  platform: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
});

export const ListUsersQuery = Type.Object(
  {
    query: Type.Optional(
      Type.String({ maxLength: 64, pattern: NO_NUL, description: "substring of mobile, username, nickname or uid" }),
    ),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: "from 1" })),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20, description: "1–200" })),
  },
  strict,
);

export const OutboxQuery = Type.Object(
  {
    mobile: Type.Optional(
      Type.String({ maxLength: 32, pattern: NO_NUL, description: "only codes sent to this mobile" }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: "1–500" })),
  },
  strict,
);

const Text = (description: string) => Type.String({ minLength: 1, maxLength: 128, pattern: NO_NUL, description });
const Short = (max: number, description: string) => Type.String({ maxLength: max, pattern: NO_NUL, description });
const NullableInt = (description: string) =>
  Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], { description });
const NullableStr = (description: string) =>
  Type.Union([Type.String({ maxLength: 256, pattern: NO_NUL }), Type.Null()], { description });

/** Documented 001 company fields Parley stores without interpreting (kept in `attrs`). */
const COMPANY_ATTRS = {
  rangeId: Type.Optional(NullableInt("company size range (dictionary id)")),
  industryId: Type.Optional(NullableInt("industry (dictionary id)")),
  regionId: Type.Optional(NullableInt("region code")),
  typeId: Type.Optional(NullableInt("company type (dictionary id)")),
  createUser: Type.Optional(Type.Union([UserId, Type.Null()], { description: "id of the user who created it" })),
  customerId: Type.Optional(NullableStr("customer id (text)")),
  rangeText: Type.Optional(NullableStr("company size range, as text")),
  industryText: Type.Optional(NullableStr("industry, as text")),
  regionText: Type.Optional(NullableStr("region, as text")),
  typeText: Type.Optional(NullableStr("company type, as text")),
};
export const COMPANY_ATTR_KEYS = Object.keys(COMPANY_ATTRS) as Array<keyof typeof COMPANY_ATTRS>;

export const CompanyBody = Type.Object(
  {
    text: Text("company name"),
    avatar: Type.Optional(Short(1024, "logo URL")),
    note: Type.Optional(Short(512, "note")),
    enable: Type.Optional(Flag("enabled (default true)")),
    licenseId: Type.Optional(NullableRef("license id")),
    code: Type.Optional(Short(64, "company code")),
    pid: Type.Optional(Type.String({ pattern: "^([1-9][0-9]{0,14})?$", description: "parent company id, as text" })),
    level: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: "level (default 1)" })),
    url: Type.Optional(Short(1024, "company URL")),
    ...COMPANY_ATTRS,
  },
  strict,
);

export const DepartmentBody = Type.Object(
  {
    companyId: RefId("company id"),
    parentId: Type.Optional(NullableRef("parent department (same company); null/absent = root")),
    text: Text("department name"),
    note: Type.Optional(Short(512, "note")),
    code: Type.Optional(Short(64, "department code")),
    ownerId: Type.Optional(Type.Union([UserId, Type.Null()], { description: "id of the department head (a user)" })),
  },
  strict,
);

export const RoleBody = Type.Object(
  {
    companyId: RefId("company id"),
    text: Text("role name"),
    admin: Type.Optional(Flag("administrator role (default false)")),
    note: Type.Optional(Short(512, "note")),
  },
  strict,
);

const Count = (description: string) => Type.Integer({ minimum: 0, maximum: 100_000_000, description });

export const LicenseBody = Type.Object(
  {
    text: Text("license name"),
    maxlevel: Type.Optional(Count("deepest department level (stored, not enforced; default 0)")),
    single: Type.Optional(Count("`single` of 001 (stored, not enforced; default 0)")),
    userCount: Type.Optional(Count("licensed users (stored, not enforced; default 0)")),
  },
  strict,
);

export const DictBody = Type.Object(
  {
    type: Type.String({ pattern: "^[A-Za-z0-9_.-]{1,32}$", description: "dictionary name, e.g. sex" }),
    text: Text("display text"),
    code: Type.String({ minLength: 1, maxLength: 32, pattern: NO_NUL, description: "code, unique within the type" }),
    url: Type.Optional(Type.Union([Short(1024, "icon URL"), Type.Null()])),
  },
  strict,
);

/** An org entity's id in a body (update / delete). */
const OrgId = (description: string) => RefId(description);
export const OrgIdBody = Type.Object({ id: OrgId("id of the entry to delete") }, strict);

/** Every create field optional (only those given change), plus `id`; unknown fields refused. */
const patchOf = <T extends TObject>(body: T, idText: string) =>
  Type.Composite([Type.Object({ id: OrgId(idText) }), Type.Partial(body)], strict);

export const CompanyUpdateBody = patchOf(CompanyBody, "company id");
/** The company of a department or role stays: a user's department and role must be of its company. */
export const DepartmentUpdateBody = patchOf(Type.Omit(DepartmentBody, ["companyId"]), "department id");
export const RoleUpdateBody = patchOf(Type.Omit(RoleBody, ["companyId"]), "role id");
export const LicenseUpdateBody = patchOf(LicenseBody, "license id");

export const DeletedOut = Type.Object({ id: Type.Integer(), deleted: Type.Literal(true) });

export const CompanyQuery = Type.Object({ companyId: RefId("company id") }, strict);
export const OptionalCompanyQuery = Type.Object({ companyId: Type.Optional(RefId("company id")) }, strict);
export const DictQuery = Type.Object(
  { type: Type.String({ pattern: "^[A-Za-z0-9_.-]{1,32}$", description: "dictionary name" }) },
  strict,
);
export const EmptyQuery = Type.Object({}, strict);

// --- responses (documentation only: the serializer is JSON.stringify) ---

export { envelopeSchema as envelope } from "../../http/envelope.ts";

const Nullable = (s: TSchema) => Type.Union([s, Type.Null()]);

export const UserOut = Type.Object({
  id: Type.String(),
  uid: Type.String(),
  mobile: Nullable(Type.String()),
  username: Nullable(Type.String()),
  nickname: Type.String(),
  avatar: Type.String(),
  sex: Type.Integer(),
  position: Type.String(),
  email: Type.String(),
  level: Type.Integer(),
  admin: Type.Boolean(),
  verified: Type.Boolean(),
  mutedUntil: Type.Integer({ description: "ms since epoch; 0 = not muted" }),
  companyId: Nullable(Type.Integer()),
  deptId: Nullable(Type.Integer()),
  roleId: Nullable(Type.Integer()),
  disabled: Type.Boolean(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

export const CompanyOut = Type.Object(
  {
    id: Type.Integer(),
    text: Type.String(),
    avatar: Type.String(),
    note: Type.String(),
    enable: Type.Boolean(),
    licenseId: Nullable(Type.Integer()),
    code: Type.String(),
    pid: Type.String(),
    level: Type.Integer(),
    url: Type.String(),
    createdAt: Type.Integer(),
  },
  { additionalProperties: true, description: "plus rangeId … typeText (null when unset)" },
);

export const DepartmentOut = Type.Object({
  id: Type.Integer(),
  companyId: Type.Integer(),
  parentId: Nullable(Type.Integer()),
  text: Type.String(),
  note: Type.String(),
  code: Type.String(),
  ownerId: Nullable(Type.Integer()),
  level: Type.Integer({ description: "1 for a root department" }),
  createdAt: Type.Integer(),
});

export const DepartmentListOut = Type.Intersect([
  DepartmentOut,
  Type.Object({
    userCount: Type.Integer({ description: "users directly in this department" }),
    childCount: Type.Integer({ description: "direct sub-departments" }),
  }),
]);

export const RoleOut = Type.Object({
  id: Type.Integer(),
  companyId: Type.Integer(),
  text: Type.String(),
  admin: Type.Boolean(),
  note: Type.String(),
});

export const LicenseOut = Type.Object({
  id: Type.Integer(),
  text: Type.String(),
  maxlevel: Type.Integer(),
  single: Type.Integer(),
  userCount: Type.Integer(),
});

export const DictOut = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  text: Type.String(),
  code: Type.String(),
  url: Nullable(Type.String()),
});

export const OutboxOut = Type.Object({ mobile: Type.String(), code: Type.String(), sentAt: Type.Integer() });
