import { type TSchema, Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppError, ErrorCode } from "../core/errors.ts";
import { bearerToken } from "./auth.ts";
import type { Answer, HttpFailure, ValidationIssue } from "./scope.ts";

/**
 * The `{code, msg, data}` envelope of Parley's admin-like surfaces — the admin API
 * (`src/surfaces/admin/`, docs/admin.md) and the customer console (`src/surfaces/console/`,
 * docs/console.md). Success is HTTP 200 with `code 0, msg "success"`; every error is an HTTP
 * 4xx/5xx whose status is repeated in `code`, with `data: null`. A surface gives only its texts
 * (`EnvelopeTexts`); the mapping of failures and core errors to statuses is this one.
 */
export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

export const ok = (data: unknown): Envelope => ({ code: 0, msg: "success", data });

export const fail = (status: number, msg: string): Envelope => ({ code: status, msg, data: null });

/** Core error codes → HTTP status (and envelope code). The core's message is the `msg`. */
const STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** What a surface says for each kind of failure (the statuses are the same everywhere). */
export interface EnvelopeTexts {
  /** A schema failure as one sentence. */
  validation(issues: readonly ValidationIssue[], context: string): string;
  bad_json: string;
  too_deep: string;
  too_large: string;
  media_type: string;
  /** An empty JSON body where one is wanted; absent = the parser's own message. */
  empty_json?: string;
  /** The `msg` of a core error answered with a 5xx status (`coreMessage` is the core's). */
  serverError(status: number, coreMessage: string): string;
}

export interface EnvelopeErrors {
  /** A core error → its status and envelope. */
  fromAppError(e: AppError): Answer<Envelope>;
  /** Any failure (HttpFailure of the scope builder) → its status and envelope. */
  answer(f: HttpFailure): Answer<Envelope>;
}

/** The error answers of one surface, in the envelope, with the surface's texts. */
export function envelopeErrors(texts: EnvelopeTexts): EnvelopeErrors {
  const fromAppError = (e: AppError): Answer<Envelope> => {
    const status = STATUS[e.code] ?? 500;
    return { status, body: fail(status, status >= 500 ? texts.serverError(status, e.message) : e.message) };
  };
  const as = (status: number, msg: string): Answer<Envelope> => ({ status, body: fail(status, msg) });
  const answer = (f: HttpFailure): Answer<Envelope> => {
    switch (f.kind) {
      case "app":
        return fromAppError(f.error);
      case "validation":
        return as(400, texts.validation(f.issues, f.context));
      case "internal":
        return as(500, "internal error");
      case "bad_json":
      case "too_deep":
      case "too_large":
      case "media_type":
        return as(f.status, texts[f.kind]);
      case "empty_json":
        return as(f.status, texts.empty_json ?? f.message);
      default:
        return as(f.status, f.message);
    }
  };
  return { fromAppError, answer };
}

/**
 * An onRequest hook: without the admin credential (`Authorization: Bearer …`: the admin token or
 * an admin session's token, AdminAuth.check), 401 in the envelope — before the body is read, so
 * nothing else happens.
 */
export const requireAdminToken =
  (admin: { check(token: string | undefined): Promise<boolean> }) =>
  async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!(await admin.check(bearerToken(req)))) await reply.code(401).send(fail(401, "admin token required"));
  };

/** A not-found handler: an unknown path, in the envelope. */
export const notFoundInEnvelope = (req: FastifyRequest, reply: FastifyReply): void => {
  reply.code(404).send(fail(404, `no route ${req.method} ${req.url.split("?")[0]}`));
};

// --- OpenAPI (documentation only: the serializer is JSON.stringify) ---

/** A successful answer carrying `data`. */
export const envelopeSchema = (data: TSchema) =>
  Type.Object(
    { code: Type.Integer({ examples: [0] }), msg: Type.String({ examples: ["success"] }), data },
    { description: "code 0 = success" },
  );

/** Every error: its HTTP status repeated in `code`, `data: null`. */
export const ErrorEnvelope = Type.Object(
  {
    code: Type.Integer({ description: "the HTTP status", examples: [400] }),
    msg: Type.String({ examples: ["missing field: code"] }),
    data: Type.Null(),
  },
  { description: "an error: the HTTP status is repeated in code; msg says what was wrong" },
);
