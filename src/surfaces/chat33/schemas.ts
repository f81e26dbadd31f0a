import { type TSchema, Type } from "@sinclair/typebox";

/**
 * Schemas shared by every chat33 route. Objects allow unknown fields (the original Go server
 * ignored them, and the document itself is loose); known fields are checked strictly, without
 * type coercion.
 */

/** Headers, for the OpenAPI page; all optional at schema level — each route decides what it needs. */
export const Headers = Type.Object({
  "fzm-auth-token": Type.Optional(Type.String({ description: "session token (or the FZM-AUTH-TOKEN cookie)" })),
  "fzm-device": Type.Optional(Type.String({ description: "Web | Android | iOS | PC (case-insensitive)" })),
  "fzm-uuid": Type.Optional(Type.String({ description: "guest device id (guests have no token)" })),
});

/** `{result, message, data}`; result 0 = success. */
export const envelope = (data: TSchema) =>
  Type.Object(
    {
      result: Type.Integer({ description: "0 = success; otherwise a code of the unified error list" }),
      message: Type.String({ description: '"操作成功" or the error message' }),
      data,
    },
    { description: "chat33 envelope" },
  );

export const NoBody = Type.Object({}, { description: "no parameters (an empty body is fine)" });
export const Empty = Type.Object({});

/** 11-digit mainland mobile number starting with 1. */
export const Mobile = Type.String({
  minLength: 1,
  maxLength: 11,
  pattern: "^1[0-9]{10}$",
  description: "11-digit mobile number",
});

/** A user id as chat33 sends it: the decimal string of the numeric id. */
export const UserId = Type.String({ minLength: 1, maxLength: 32, description: "user id (string)" });
