import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { throttledWarn } from "../log.ts";
import { AppError } from "../ports/errors.ts";
import type { UpgradeDecision, UpgradeRoute } from "./protocol.ts";
import type { WsTransport } from "./ws-transport.ts";

/**
 * Upgrade routing: decides every HTTP upgrade request (path, origin, draining, then the routes
 * registered for the path) and hands accepted ones to the WebSocket transport.
 */
export class UpgradeRouter {
  private readonly routes = new Map<string, UpgradeRoute[]>();
  draining = false;
  /** During an outage every reconnect is refused: one warning per second, with the count. */
  private readonly warnUnavailable: (fields: Record<string, unknown>) => void;

  constructor(
    private readonly transport: WsTransport,
    private readonly allowedOrigins: readonly string[],
    private readonly log: Logger,
    private readonly clientAddress?: (req: IncomingMessage) => string,
  ) {
    this.warnUnavailable = throttledWarn(log, "upgrade refused: a service is unavailable");
  }

  /** The client address of an upgrade (the same rule as HTTP's `req.ip`). */
  addressOf(req: IncomingMessage): string {
    return this.clientAddress ? this.clientAddress(req) : (req.socket.remoteAddress ?? "");
  }

  /**
   * Routes WebSocket upgrades for `path` (exact match) to `route`. Several surfaces may share a
   * path (chat33 and the gateway both use /ws): routes are asked in registration order and the
   * first non-null decision wins.
   */
  route(path: string, route: UpgradeRoute): void {
    const list = this.routes.get(path) ?? [];
    list.push(route);
    this.routes.set(path, list);
  }

  hasRoute(path: string): boolean {
    return this.routes.has(path);
  }

  /** Called by the HTTP server's `upgrade` event. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      // answered below
    }
    const routes = url ? this.routes.get(url.pathname) : undefined;
    const origin = req.headers.origin;
    let refusal: [number, string] | null = null;
    if (!url) refusal = [400, "Bad Request"];
    else if (!routes) refusal = [404, "Not Found"];
    else if (this.draining) refusal = [503, "Service Unavailable"];
    else if (this.allowedOrigins.length && origin && !this.allowedOrigins.includes(origin))
      refusal = [403, "Forbidden"];
    if (refusal || !url || !routes) {
      rejectUpgrade(socket, ...(refusal ?? [404, "Not Found"]));
      return;
    }
    decide(routes, req, url).then(
      (decision) => {
        if (!decision) rejectUpgrade(socket, 404, "Not Found");
        else if (!decision.accept) rejectUpgrade(socket, decision.status, decision.message);
        if (!decision?.accept || socket.destroyed) return;
        const address = this.addressOf(req);
        this.transport.accept(req, socket, head, decision.protocol, (conn) => {
          conn.address = address;
          return decision.onOpen(conn);
        });
      },
      (err: unknown) => {
        // storage or Redis unreachable (a restart, an outage): "try again", as on every surface
        if (err instanceof AppError && err.code === "unavailable") {
          this.warnUnavailable({ err, address: this.addressOf(req) });
          rejectUpgrade(socket, 503, "Service Unavailable");
          return;
        }
        this.log.error({ err, address: this.addressOf(req) }, "upgrade route failed");
        rejectUpgrade(socket, 500, "Internal Server Error");
      },
    );
  }
}

async function decide(routes: UpgradeRoute[], req: IncomingMessage, url: URL): Promise<UpgradeDecision | null> {
  for (const route of routes) {
    const d = await route(req, url);
    if (d) return d;
  }
  return null;
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}
