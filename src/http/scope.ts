import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseQuery } from "node:querystring";
import type { Options as AjvOptions } from "ajv";
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaCompiler,
  HTTPMethods,
  RawServerDefault,
  RouteGenericInterface,
  RouteOptions,
} from "fastify";
import { AppError } from "../core/errors.ts";
import { jsonTextTooDeep, MAX_JSON_DEPTH } from "../core/json-limits.ts";
import { FastLane, type LaneRequest, type LaneValidator } from "./fast-lane.ts";
import { strictValidatorCompiler } from "./validation.ts";

/**
 * One HTTP scope builder for every surface. A surface describes how its bodies are read and how a
 * failure looks in its envelope; `install` puts the parsers (with the one JSON depth limit), the
 * validator, the serializer and the error handler on the surface's encapsulated Fastify scope,
 * and `route` registers a route plus the 405 answer for every other method on its path.
 *
 * Error handling is two steps: `classify` turns whatever was thrown (an `AppError`, an ajv
 * validation error, a body-parser error, Fastify's own errors, a bug) into one `HttpFailure`;
 * the surface's `answer` turns that into `{status, body}`. Anything answered with a status ≥ 500
 * is logged (with the error, never the body).
 */

/** One ajv issue, as much of it as the surfaces read. */
export interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  data?: unknown;
  schema?: unknown;
}

/**
 * Everything that can go wrong before or inside a handler, classified once. Every non-core,
 * non-schema failure keeps the HTTP status and message Fastify (or the parser) gave it, so a
 * surface that has no special answer for a kind can answer it as a plain client error.
 */
export type HttpFailure =
  | { kind: "app"; error: AppError }
  /** schema validation; `context` is Fastify's `validationContext` (body, querystring, headers, params) */
  | { kind: "validation"; issues: ValidationIssue[]; context: string }
  | { kind: FailureKind; status: number; message: string }
  /** a bug: answered 500, logged */
  | { kind: "internal"; error: unknown };

/**
 * - `bad_json`: the body is not JSON;
 * - `too_deep`: the body nests deeper than MAX_JSON_DEPTH (checked on the text, before parsing);
 * - `empty_json`: a JSON content type with an empty body where the surface wants one;
 * - `too_large`: the body exceeds `http.bodyLimitBytes`;
 * - `media_type`: no parser for the Content-Type;
 * - `input`: a surface's own input rule (`HttpInputError`, e.g. enterprise: key/value pairs only);
 * - `client`: any other 4xx Fastify raises (e.g. a bad Content-Length).
 */
export type FailureKind = "bad_json" | "too_deep" | "empty_json" | "too_large" | "media_type" | "input" | "client";

export interface Answer<E> {
  status: number;
  body: E;
}

/** Thrown by a surface's own hooks for a bad request that is not a schema failure (→ `input`). */
export class HttpInputError extends Error {
  readonly statusCode = 400;
  readonly code = "PARLEY_HTTP_INPUT";
}

const TOO_DEEP = "PARLEY_JSON_TOO_DEEP";
const INVALID_JSON = "PARLEY_INVALID_JSON";

type CodedError = Error & { statusCode?: number; code?: string; validation?: unknown[]; validationContext?: string };

/** The one place thrown things become failures. */
export function classify(error: unknown): HttpFailure {
  if (error instanceof AppError) return { kind: "app", error };
  const e = error as CodedError;
  if (e?.validation)
    return { kind: "validation", issues: e.validation as ValidationIssue[], context: e.validationContext ?? "body" };
  const status = e?.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 0;
  const kind = e?.code ? KIND_BY_CODE[e.code] : undefined;
  if (kind) return { kind, status: status || 400, message: e.message };
  if (status) return { kind: "client", status, message: e.message };
  return { kind: "internal", error };
}

const KIND_BY_CODE: Readonly<Record<string, FailureKind>> = {
  [TOO_DEEP]: "too_deep",
  [INVALID_JSON]: "bad_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "bad_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "empty_json",
  FST_ERR_CTP_BODY_TOO_LARGE: "too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "media_type",
  PARLEY_HTTP_INPUT: "input",
};

/** How a surface reads request bodies. */
export type BodyRules =
  /**
   * The seeds' servers (gateway, chat33): every body is JSON whatever the Content-Type says;
   * an empty (or blank) body becomes `empty()`.
   */
  | { json: "any-content-type"; empty: () => unknown }
  /**
   * `application/json` through Fastify's own parser (prototype-poisoning checks), Fastify's
   * text/plain parser, 415 for the rest. `emptyIsNoBody`: an empty JSON body is no body rather
   * than `empty_json`. `form`: `application/x-www-form-urlencoded` too (repeated keys → arrays).
   */
  | { json: "application/json"; emptyIsNoBody: boolean; form?: boolean };

export interface SurfaceHttp<E> {
  /** For log lines ("<name> request failed"). */
  name: string;
  body: BodyRules;
  /** ajv options per request part (e.g. coerce query strings); default: strict, no coercion. */
  validator?: (httpPart: string | undefined) => AjvOptions;
  /** A failure in this surface's envelope. */
  answer(failure: HttpFailure): Answer<E>;
  /** The body of a 405 (the `Allow` header lists `allowed`). */
  methodNotAllowed(allowed: readonly string[]): E;
}

/** Methods a path answers with 405 when its route does not accept them (HEAD follows GET). */
const ALL_METHODS: HTTPMethods[] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

type ParseDone = (err: Error | null, body?: unknown) => void;

const parseError = (code: string, message: string): Error => {
  const err = new Error(message) as CodedError;
  err.statusCode = 400;
  err.code = code;
  return err;
};

/** The depth limit, on the text, before anything is built from it. */
const tooDeep = (text: string): Error | null =>
  jsonTextTooDeep(text) ? parseError(TOO_DEEP, `JSON nests deeper than ${MAX_JSON_DEPTH} levels`) : null;

export interface HttpScope<E> {
  readonly spec: SurfaceHttp<E>;
  /** Installs parsers, validator, serializer and error handler on the surface's scope. */
  install(api: FastifyInstance): void;
  /**
   * Registers `options` and, on the same path, a hidden route answering 405 (with `Allow`) in
   * the surface's envelope for every other method.
   */
  route<RG extends RouteGenericInterface = RouteGenericInterface>(
    api: FastifyInstance,
    options: RouteOptions<RawServerDefault, IncomingMessage, ServerResponse, RG>,
  ): void;
  /**
   * Like `route` for a hot `POST` route whose handler reads only `body` and `headers`: the same
   * route, and when the server has a fast lane (src/http/fast-lane.ts) its plain requests are
   * answered there with this scope's parser, validators, envelope and the same handler.
   * Only for `json: "any-content-type"` surfaces and routes without route-level hooks.
   */
  fastRoute<B>(
    api: FastifyInstance,
    options: { url: string; schema: { body: object; headers?: object } & Record<string, unknown> },
    handler: (req: LaneRequest<B>) => Promise<E>,
  ): void;
}

/** The "any-content-type" body rule on a text body (Fastify's parser and the fast lane run this). */
const parseAnyJson = (empty: () => unknown, text: string, done: ParseDone) => {
  if (text.trim() === "") return done(null, empty());
  const deep = tooDeep(text);
  if (deep) return done(deep, undefined);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return done(parseError(INVALID_JSON, "invalid JSON"), undefined);
  }
  done(null, body);
};

export function httpScope<E>(spec: SurfaceHttp<E>): HttpScope<E> {
  /** The validator compiler installed on each scope instance, so the fast lane compiles alike. */
  const compilers = new WeakMap<FastifyInstance, FastifySchemaCompiler<unknown>>();

  const installParsers = (api: FastifyInstance): void => {
    const rules = spec.body;
    if (rules.json === "any-content-type") {
      api.removeAllContentTypeParsers();
      api.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done: ParseDone) => {
        parseAnyJson(rules.empty, String(body), done);
      });
      return;
    }
    const json = api.getDefaultJsonParser("error", "error");
    api.removeContentTypeParser("application/json");
    api.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done: ParseDone) => {
      const text = String(body);
      if (rules.emptyIsNoBody && text.trim() === "") return done(null, undefined);
      const deep = tooDeep(text);
      if (deep) return done(deep, undefined);
      json(req, text, done);
    });
    if (rules.form)
      api.addContentTypeParser(
        "application/x-www-form-urlencoded",
        { parseAs: "string" },
        (_req, body, done: ParseDone) => {
          done(null, { ...parseQuery(String(body)) });
        },
      );
  };

  const installValidator = (api: FastifyInstance): void => {
    const options = spec.validator;
    if (!options) {
      const compiler = strictValidatorCompiler();
      compilers.set(api, compiler);
      api.setValidatorCompiler(compiler);
      return;
    }
    const perPart = new Map<string, FastifySchemaCompiler<unknown>>();
    const compiler: FastifySchemaCompiler<unknown> = (route) => {
      const part = route.httpPart ?? "";
      let c = perPart.get(part);
      if (!c) {
        c = strictValidatorCompiler(options(route.httpPart));
        perPart.set(part, c);
      }
      return c(route);
    };
    compilers.set(api, compiler);
    api.setValidatorCompiler(compiler);
  };

  const route: HttpScope<E>["route"] = (api, options) => {
    api.route(options);
    const allowed = (Array.isArray(options.method) ? options.method : [options.method]).map((m) =>
      String(m).toUpperCase(),
    );
    const others = ALL_METHODS.filter((m) => !allowed.includes(m));
    if (others.length === 0) return;
    const allow = allowed.join(", ");
    api.route({
      method: others,
      url: options.url,
      schema: { hide: true },
      handler: async (_req, reply) => reply.status(405).header("allow", allow).send(spec.methodNotAllowed(allowed)),
    });
  };

  /** The scope's error handling as one function: thrown thing → status and envelope. */
  const answerError = (error: unknown): Answer<E> => spec.answer(classify(error));

  return {
    spec,
    install(api) {
      installValidator(api);
      // Responses are plain JSON; schemas document them (OpenAPI) but never reshape them.
      api.setSerializerCompiler(() => (data) => JSON.stringify(data));
      installParsers(api);
      api.setErrorHandler((error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
        const { status, body } = answerError(error);
        if (status >= 500) req.log.error({ err: error }, `${spec.name} request failed`);
        reply.status(status).send(body);
      });
    },
    route,
    fastRoute(api, options, handler) {
      route(api, {
        method: "POST",
        url: options.url,
        schema: options.schema,
        handler: (req: FastifyRequest) => handler(req as unknown as Parameters<typeof handler>[0]),
      });
      const lane = FastLane.of(api);
      const rules = spec.body;
      const compile = compilers.get(api);
      if (!lane || rules.json !== "any-content-type" || !compile) return;
      const url = `${api.prefix}${options.url}`;
      const validator = (schema: object | undefined, httpPart: string): LaneValidator | null =>
        schema === undefined ? null : (compile({ schema, method: "POST", url, httpPart }) as LaneValidator);
      lane.offer(api, {
        url,
        name: spec.name,
        parse: (text, done) => parseAnyJson(rules.empty, text, done),
        body: validator(options.schema.body, "body"),
        headers: validator(options.schema.headers, "headers"),
        handler: handler as (req: LaneRequest) => Promise<E>,
        answer: answerError,
      });
    },
  };
}
