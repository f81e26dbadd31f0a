import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";

/**
 * The fast lane: hot routes (the gateway's pushes) answered without Fastify's per-request
 * machinery, for the plain case only, with the *same* pieces the route's Fastify path uses —
 * the surface's body parser (one JSON depth limit), the route's schema validators compiled by the
 * surface's validator compiler, the route's handler, the surface's error classification and
 * envelope, the same response headers and the same request-duration metric.
 *
 * Why: on the push gateway Fastify's own pipeline (router, request/reply objects, hook runners,
 * content-type parser with its async resource, reply serialisation) cost about as much CPU per
 * request as everything else Parley does for a push (BENCHMARKS.md, "bench (c)").
 *
 * What the lane takes; everything else goes to Fastify untouched, before any byte of the body is
 * read, so Fastify answers it exactly as before (405, 413, 415, 503 while closing, CORS, HEAD,
 * empty bodies, chunked bodies, query strings, trailing slashes, odd content types):
 * - `POST` to exactly a fast route's path (no query string);
 * - `Content-Type` `application/json` (optionally `; charset=utf-8`), a `Content-Length` between
 *   1 and the body limit, no `Transfer-Encoding`, no `Origin` header;
 * - the server is not closing.
 * It is installed only when request logging is off (with it on, Fastify logs every request), and
 * a scope with a hook the lane does not replicate (anything but the one metrics `onResponse`
 * hook) keeps all its routes on Fastify — checked once, when the server is ready.
 */

/** The part of a request a fast-lane handler may read (a FastifyRequest has both). */
export interface LaneRequest<B = unknown> {
  body: B;
  headers: IncomingHttpHeaders;
}

/** A compiled ajv-style validator: true, or false with `errors`. */
export interface LaneValidator {
  (data: unknown): boolean;
  errors?: unknown[] | null;
}

type ParseDone = (err: Error | null, body?: unknown) => void;

export interface LaneRoute {
  /** The full path (scope prefix included), as Fastify's `routeOptions.url` reports it. */
  url: string;
  /** The surface's body parser for a text body (the same function its Fastify parser runs). */
  parse: (text: string, done: ParseDone) => void;
  body: LaneValidator | null;
  headers: LaneValidator | null;
  handler: (req: LaneRequest) => Promise<unknown>;
  /** The surface's error handling: status and body for whatever was thrown or failed. */
  answer: (error: unknown) => { status: number; body: unknown };
  /** "<surface> request failed" for errors answered ≥ 500 */
  name: string;
}

export interface FastLaneOptions {
  bodyLimit: number;
  log: FastifyBaseLogger;
  /** The request-duration metric, exactly as the root `onResponse` hook feeds it. */
  observe: (method: string, url: string, status: number, seconds: number) => void;
}

const LANE = "parleyFastLane";
const JSON_TYPE = "application/json";
const JSON_TYPE_UTF8 = "application/json; charset=utf-8";
const CONTENT_TYPE = "application/json; charset=utf-8";
/** Lifecycle hooks; a scope with any of them (but the metrics onResponse) stays on Fastify. */
const LIFECYCLE = [
  "onRequest",
  "preParsing",
  "preValidation",
  "preHandler",
  "preSerialization",
  "onSend",
  "onError",
  "onTimeout",
  "onRequestAbort",
] as const;

class ValidationFailure extends Error {
  constructor(
    readonly validation: unknown[],
    readonly validationContext: string,
  ) {
    super(`${validationContext} failed validation`);
  }
}

class ParseFailure {
  constructor(readonly error: Error) {}
}

export class FastLane {
  /** A handful of routes: compared with `===` (no hash of the fresh URL string per request). */
  private readonly routes: LaneRoute[] = [];
  private readonly pending: Array<{ scope: FastifyInstance; route: LaneRoute }> = [];
  private closing = false;

  private constructor(private readonly opts: FastLaneOptions) {}

  /**
   * Puts a lane in front of `app`'s request handler. Call right after creating the instance,
   * before surfaces register (they find the lane through a decorator).
   */
  static install(app: FastifyInstance, opts: FastLaneOptions): FastLane {
    const lane = new FastLane(opts);
    app.decorate(LANE, lane);
    const server = app.server;
    const fastify = server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    const [next] = fastify;
    if (fastify.length !== 1 || !next) return lane; // not the server shape we know: leave it alone
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (!lane.take(req, res)) next(req, res);
    });
    app.addHook("onReady", (done) => {
      lane.activate();
      done();
    });
    app.addHook("preClose", (done) => {
      lane.closing = true;
      done();
    });
    return lane;
  }

  /** The lane of `scope`'s server, if one is installed. */
  static of(scope: FastifyInstance): FastLane | null {
    return scope.hasDecorator(LANE) ? scope.getDecorator<FastLane>(LANE) : null;
  }

  /** Offers a route; it joins the lane when the server is ready, if its scope has no other hooks. */
  offer(scope: FastifyInstance, route: LaneRoute): void {
    this.pending.push({ scope, route });
  }

  /** The paths the lane answers (for tests and the startup log). */
  paths(): string[] {
    return this.routes.map((r) => r.url);
  }

  private activate(): void {
    for (const { scope, route } of this.pending.splice(0)) {
      if (replicable(scope)) this.routes.push(route);
      else this.opts.log.info({ url: route.url }, "fast lane: the route's scope has hooks, it stays on Fastify");
    }
  }

  private take(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== "POST" || this.closing) return false;
    const url = req.url;
    let route: LaneRoute | undefined;
    for (const r of this.routes)
      if (r.url === url) {
        route = r;
        break;
      }
    if (!route) return false;
    const h = req.headers;
    const type = h["content-type"];
    if (
      (type !== JSON_TYPE && type !== JSON_TYPE_UTF8) ||
      h.origin !== undefined ||
      h["transfer-encoding"] !== undefined
    )
      return false;
    const lengthText = h["content-length"];
    const length = lengthText !== undefined && /^\d{1,12}$/.test(lengthText) ? Number(lengthText) : 0;
    if (length < 1 || length > this.opts.bodyLimit) return false;
    this.run(route, req, res, length);
    return true;
  }

  private run(route: LaneRoute, req: IncomingMessage, res: ServerResponse, length: number): void {
    const start = performance.now();
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.on("error", () => {
      // the client went away mid-body: nothing to answer (Fastify does the same)
    });
    req.on("end", () => {
      if (received !== length) return this.reply(route, req, res, start, route.answer(lengthMismatch()), true);
      const text =
        chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8");
      let parsed: unknown;
      let failed: ParseFailure | null = null;
      route.parse(text, (err, body) => {
        if (err) failed = new ParseFailure(err);
        else parsed = body;
      });
      if (failed) return this.reply(route, req, res, start, route.answer((failed as ParseFailure).error), true);
      this.handle(route, req, res, start, parsed);
    });
  }

  private handle(route: LaneRoute, req: IncomingMessage, res: ServerResponse, start: number, body: unknown): void {
    // Fastify's order: body, then headers; an undefined part validates as null.
    const invalid =
      check(route.body, body === undefined ? null : body, "body") ?? check(route.headers, req.headers, "headers");
    if (invalid) {
      this.reply(route, req, res, start, route.answer(invalid), false);
      return;
    }
    let result: Promise<unknown>;
    try {
      result = route.handler({ body, headers: req.headers });
    } catch (err) {
      this.failed(route, req, res, start, err);
      return;
    }
    result.then(
      (payload) => this.reply(route, req, res, start, { status: 200, body: payload }, false),
      (err: unknown) => this.failed(route, req, res, start, err),
    );
  }

  private failed(route: LaneRoute, req: IncomingMessage, res: ServerResponse, start: number, err: unknown): void {
    const answer = route.answer(err);
    if (answer.status >= 500) this.opts.log.error({ err }, `${route.name} request failed`);
    this.reply(route, req, res, start, answer, false);
  }

  private reply(
    route: LaneRoute,
    req: IncomingMessage,
    res: ServerResponse,
    start: number,
    answer: { status: number; body: unknown },
    closeConnection: boolean,
  ): void {
    const payload = JSON.stringify(answer.body);
    const headers: Record<string, string | number> = {
      "content-type": CONTENT_TYPE,
      "content-length": Buffer.byteLength(payload),
    };
    // Fastify closes the connection after a body it could not parse (the client may send more)
    if (closeConnection) headers.connection = "close";
    res.writeHead(answer.status, headers);
    res.end(payload);
    this.opts.observe(req.method ?? "POST", route.url, answer.status, (performance.now() - start) / 1000);
  }
}

function check(validate: LaneValidator | null, data: unknown, context: string): ValidationFailure | null {
  if (!validate || validate(data)) return null;
  return new ValidationFailure(validate.errors ?? [], context);
}

function lengthMismatch(): Error {
  const err = new Error("Request body size did not match Content-Length") as Error & {
    statusCode: number;
    code: string;
  };
  err.statusCode = 400;
  err.code = "FST_ERR_CTP_INVALID_CONTENT_LENGTH";
  return err;
}

/** True when the only lifecycle hook `scope`'s routes run is the one metrics onResponse hook. */
function replicable(scope: FastifyInstance): boolean {
  const sym = Object.getOwnPropertySymbols(scope).find((s) => s.description === "fastify.hooks");
  const hooks = sym ? (scope as unknown as Record<symbol, Record<string, unknown[]> | undefined>)[sym] : undefined;
  if (!hooks) return false;
  if ((hooks.onResponse?.length ?? 0) !== 1) return false;
  return LIFECYCLE.every((name) => (hooks[name]?.length ?? 0) === 0);
}
