import type { TSchema } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../core/errors.ts";
import { describeValidation, strictValidatorCompiler } from "../../http/validation.ts";
import { Codes, type Envelope, fail, fromAppError, ok } from "./envelope.ts";
import { envelope, Headers } from "./schemas.ts";

/**
 * HTTP rules of the chat33 surface, applied to one encapsulated Fastify scope:
 * - every route is `POST` with a JSON body (document "约定"); other methods → HTTP 405;
 * - the body is parsed as JSON whatever the Content-Type says; an empty body is `{}` (several
 *   routes document "请求参数：无"); malformed JSON → HTTP 400, `-1001`;
 * - schema failures → HTTP 200, `-1002 缺少参数` (field absent or empty string) or `-1001 参数错误`;
 * - AppErrors → the table in envelope.ts; anything unexpected → HTTP 500, `-9000`, logged, no stack.
 */

type ValidationIssue = {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  data?: unknown;
  schema?: unknown;
};

/** Documented typos clients send: alias → canonical field (seed: `rootId` for `roomId`). */
export const FIELD_ALIASES: Readonly<Record<string, string>> = { rootId: "roomId" };

/** Rewrites documented alias fields in place (the canonical field wins when both are sent). */
export function applyAliases(body: unknown): void {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return;
  const b = body as Record<string, unknown>;
  for (const [alias, canonical] of Object.entries(FIELD_ALIASES)) {
    if (!Object.hasOwn(b, alias)) continue;
    if (!Object.hasOwn(b, canonical)) b[canonical] = b[alias];
    delete b[alias];
  }
}

/** A schema failure as the chat33 envelope: absent or empty required field → -1002, else -1001. */
export function validationEnvelope(issues: readonly ValidationIssue[]): Envelope {
  const first = issues[0];
  if (first?.keyword === "required" && typeof first.params?.missingProperty === "string")
    return fail(Codes.missingParam, first.params.missingProperty);
  if (first?.keyword === "minLength" && first.data === "") {
    const field = (first.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
    return fail(Codes.missingParam, field || "body");
  }
  return fail(Codes.paramError, describeValidation(issues, "body"));
}

type ParseError = Error & { statusCode: number; code: string };

/** Installs the parser, validator, alias hook and error handler on a chat33 scope. */
export function setupScope(api: FastifyInstance): void {
  api.setValidatorCompiler(strictValidatorCompiler({ verbose: true }));
  // Responses are plain JSON; schemas document them (OpenAPI) but never reshape them.
  api.setSerializerCompiler(() => (data) => JSON.stringify(data));
  api.removeAllContentTypeParsers();
  api.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === "") return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new Error("invalid JSON") as ParseError;
      err.statusCode = 400;
      err.code = "PARLEY_INVALID_JSON";
      done(err, undefined);
    }
  });
  api.addHook("preValidation", async (req) => {
    // no body at all (no Content-Type, no length): the parser did not run
    if (req.body === undefined) req.body = {};
    applyAliases(req.body);
  });

  api.setErrorHandler((error, req, reply) => {
    const e = error as Error & { code?: string; statusCode?: number; validation?: ValidationIssue[] };
    let status = 200;
    let body: Envelope;
    if (error instanceof AppError) {
      ({ status, body } = fromAppError(error));
      if (status >= 500) req.log.error({ err: error }, "chat33 request failed");
    } else if (e.validation) {
      body = validationEnvelope(e.validation);
    } else if (e.code === "PARLEY_INVALID_JSON") {
      status = 400;
      body = fail(Codes.paramError, "请求体不是合法的JSON");
    } else if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      status = 413;
      body = fail(Codes.paramError, "请求体过大");
    } else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      status = e.statusCode;
      body = fail(Codes.paramError);
    } else {
      req.log.error({ err: error }, "chat33 request failed");
      status = 500;
      body = fail(Codes.internal);
    }
    reply.status(status).send(body);
  });
}

export interface PostRoute<B> {
  path: string;
  summary: string;
  /** Request body schema (TypeBox); routes without parameters use an empty object. */
  body: TSchema;
  /** Schema of `data` on success (documentation only). */
  data: TSchema;
  /** Returns `data`; the wrapper adds the envelope. Throw AppError for failures. */
  handler: (req: FastifyRequest<{ Body: B }>, reply: FastifyReply) => Promise<unknown>;
}

const TAGS = ["chat33 (002)"];

/** Registers `POST path` with the envelope, and 405 for every other method on the same path. */
export function postRoute<B>(api: FastifyInstance, route: PostRoute<B>): void {
  api.route<{ Body: B }>({
    method: "POST",
    url: route.path,
    schema: {
      summary: route.summary,
      tags: TAGS,
      headers: Headers,
      body: route.body,
      response: { 200: envelope(route.data) },
    },
    handler: async (req, reply) => ok(await route.handler(req, reply)),
  });
  api.route({
    method: ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"],
    url: route.path,
    schema: { hide: true },
    handler: async (_req, reply) =>
      reply.status(405).header("allow", "POST").send(fail(Codes.paramError, "只支持 POST 请求")),
  });
}
