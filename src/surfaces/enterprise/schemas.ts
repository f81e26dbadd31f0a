import { type TProperties, type TSchema, Type } from "@sinclair/typebox";

/**
 * Parameters of every enterprise route. Query, form and JSON parameters are merged into one
 * object before validation (see params.ts), so each route has ONE schema, declared as its
 * `querystring` (that is also how the OpenAPI document lists them: the seed sends "params").
 * Unknown parameters are ignored, like the original (Spring MVC) server; numbers may arrive as
 * strings (the surface's validator coerces).
 */
export const params = <T extends TProperties>(props: T) => Type.Object(props, { additionalProperties: true });

export const Authorization = Type.String({
  maxLength: 1024,
  description: "the token from /auth/login (raw or `Bearer <token>`); the `authorization` header works too",
});

export const AuthParams = params({ authorization: Type.Optional(Authorization) });

export const LoginParams = params({
  account: Type.String({ minLength: 1, maxLength: 64, description: "登录用户名 — username or mobile" }),
  password: Type.String({ minLength: 1, maxLength: 128, description: "密码" }),
  platform: Type.Optional(
    Type.String({
      maxLength: 32,
      description: "pc, windows, mac, web, android, ios… (decides the device type of the multi-login policy)",
    }),
  ),
  device: Type.Optional(
    Type.String({ maxLength: 256, description: "client device id (deviceVo.device); random when absent" }),
  ),
});

export const ScanLoginUrlParams = params({
  platform: Type.Optional(Type.String({ maxLength: 32, description: "the PC's platform, e.g. pc" })),
  device: Type.String({
    minLength: 1,
    maxLength: 256,
    description: "设备号: data.device of the socket's first frame (code 1000)",
  }),
});

export const ScanLoginPath = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9_-]+$", description: "one-time code" }),
  userId: Type.String({ minLength: 1, maxLength: 32, description: "the confirming (phone) user's id" }),
});

export const envelope = (data: TSchema, description: string) =>
  Type.Object({ data, code: Type.Integer(), msg: Type.String() }, { description });

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Str = Nullable(Type.String());
const Bit = Type.Union([Type.Literal(0), Type.Literal(1)]);
const AnyAttr = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

const User = Type.Object({
  id: Type.Integer(),
  birthday: Str,
  avatar: Str,
  email: Str,
  phone: Str,
  sign: Str,
  trueName: Type.String(),
  username: Str,
  sex: Nullable(Type.Integer({ description: "id of the `sex` dictionary entry" })),
  workState: Type.Null(),
  enable: Bit,
});

const Dept = Type.Object({
  id: Type.Integer(),
  note: Str,
  code: Str,
  pid: Type.String({ description: 'parent department id, "0" for a root department' }),
  text: Type.String(),
  leaf: Bit,
  level: Type.Integer(),
  ownerId: Nullable(Type.Integer()),
  companyId: Type.Integer(),
  ownerName: Str,
  userCount: Type.Integer(),
  userContainChild: Type.Integer(),
  childDeptCount: Type.Integer(),
});

const Role = Type.Object({ id: Type.Integer(), text: Type.String(), companyId: Type.Integer(), admin: Bit, note: Str });

const Company = Type.Object({
  id: Type.Integer(),
  text: Type.String(),
  avatar: Str,
  note: Str,
  enable: Bit,
  licenseId: Nullable(Type.Integer()),
  createUser: AnyAttr,
  rangeId: AnyAttr,
  industryId: AnyAttr,
  typeId: AnyAttr,
  regionId: AnyAttr,
  rangeText: AnyAttr,
  industryText: AnyAttr,
  regionText: AnyAttr,
  typeText: AnyAttr,
  customerId: AnyAttr,
  url: Str,
  code: Str,
  pid: Str,
  leaf: Bit,
  primaryId: AnyAttr,
  level: Type.Integer(),
  authCompanyIds: AnyAttr,
  children: Type.Null(),
});

const License = Type.Object({
  id: Type.Integer(),
  text: Type.String(),
  maxlevel: Type.Integer(),
  single: Type.Integer(),
  userCount: Type.Integer(),
});

const Sex = Type.Object({ id: Type.Integer(), text: Type.String(), url: Str, type: Type.Null(), code: Type.String() });

export const LoginData = Type.Object({
  user: User,
  dept: Nullable(Dept),
  role: Nullable(Role),
  company: Nullable(Company),
  license: Nullable(License),
  deviceVo: Type.Object({ brand: Type.String(), device: Type.String(), platform: Type.String() }),
  authorization: Type.String({ description: "the session token" }),
});

export const ErrorEnvelope = envelope(Type.Null(), "error: `code` repeats the HTTP status");

export const Responses = {
  login: { 200: envelope(LoginData, "登录成功"), "4xx": ErrorEnvelope },
  logout: { 200: envelope(Type.String({ description: "the revoked token" }), "退出成功"), "4xx": ErrorEnvelope },
  leftUserInfo: {
    200: envelope(
      Type.Object({
        user: User,
        work: Type.Null(),
        sex: Nullable(Sex),
        dept: Nullable(Dept),
        company: Nullable(Company),
        role: Nullable(Role),
        license: Nullable(License),
      }),
      "查询成功",
    ),
    "4xx": ErrorEnvelope,
  },
  scanLoginUrl: {
    200: envelope(
      Type.Object({ url: Type.String({ description: "…/auth/scan_login/<code>/{userId}" }) }),
      "获取扫一扫登录二维码",
    ),
    "4xx": ErrorEnvelope,
  },
  scanLogin: { 200: envelope(Type.Null(), "确认登录成功"), "4xx": ErrorEnvelope },
};
