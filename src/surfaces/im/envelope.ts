import type { AppError, ErrorCode } from "../../core/errors.ts";

/**
 * Error codes of seed 003, the numbers of the original system (beehive-im `comm/errno.go`):
 * 1xxxx system level, 2xxxx service level. Every `/im/*` reply and every access-protocol error
 * carries `{code, errmsg}`; success is `code 0, errmsg "Ok"`. The table is in docs/cluster-admin.md.
 */
export const ImCodes = {
  ok: 0,
  system: 10001,
  unavailable: 10002,
  permissionDenied: 10005,
  missingBody: 10006,
  invalidRequest: 10017,
  bodyTooLarge: 10018,
  noSuchApi: 10020,
  methodNotAllowed: 10021,
  userRateLimited: 10023,
  onlineRefused: 20001,
  joinRefused: 20003,
  quitRefused: 20004,
  missingParameter: 20006,
  invalidParameter: 20007,
  authFailed: 20008,
  collision: 20009,
} as const;

export const OK_MSG = "Ok";

export interface ImEnvelope {
  code: number;
  errmsg: string;
  [field: string]: unknown;
}

/** A failure with its 003 code, thrown by the surface's own parameter checks. */
export class ImFail extends Error {
  constructor(
    readonly code: number,
    readonly errmsg: string,
  ) {
    super(errmsg);
  }
}

export const missing = (name: string) => new ImFail(ImCodes.missingParameter, `Paramter [${name}] is missing!`);
export const invalidParam = (name: string, why = "is invalid") =>
  new ImFail(ImCodes.invalidParameter, `Paramter [${name}] ${why}!`);

const BY_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: ImCodes.invalidParameter,
  not_found: ImCodes.invalidParameter,
  unauthenticated: ImCodes.authFailed,
  forbidden: ImCodes.permissionDenied,
  conflict: ImCodes.collision,
  rate_limited: ImCodes.userRateLimited,
  unavailable: ImCodes.unavailable,
  internal: ImCodes.system,
};

/** A core error in the 003 envelope (by its code; the core message is the errmsg). */
export function fromAppError(e: AppError): { code: number; errmsg: string } {
  const code = BY_CODE[e.code] ?? ImCodes.system;
  return { code, errmsg: code === ImCodes.system ? "System error" : e.message };
}

export const ok = <T extends object>(fields: T): T & { code: 0; errmsg: string } => ({
  ...fields,
  code: 0,
  errmsg: OK_MSG,
});
