// The gateway (go-websocket / seed 000) HTTP contract shared by the two peer servers.
// Transport specifics (how a frame reaches a connection) are supplied by each peer through `Hub`.
import { randomBytes } from "node:crypto";
import type http from "node:http";

export interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

/** The frame pushed to a connection: `{messageId, sendUserId, code, msg, data}`. */
export interface PushFrame {
  messageId: string;
  sendUserId: string;
  code: number;
  msg: string;
  data: unknown;
}

export interface Hub {
  /** true when the client exists and belongs to the system */
  hasClient(systemId: string, clientId: string): boolean;
  /** adds the client to the group; returns false if it was already a member */
  join(systemId: string, clientId: string, group: string, userId: string, extend: string): boolean;
  sendToGroup(systemId: string, group: string, frame: PushFrame): void;
  sendToClient(clientId: string, frame: PushFrame): boolean;
}

export const ONLINE_CODE = 1001;
export const OFFLINE_CODE = 1002;

/** Whether binding / disconnecting sends the 1001 / 1002 group notices (as go-websocket does). */
export const NOTICES = (process.env.NOTICES ?? "1") !== "0";

const ID_PREFIX = randomBytes(4).toString("hex");
let idCounter = 0;
/** 16 hex chars, unique per process. */
export function newId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return ID_PREFIX + idCounter.toString(16).padStart(8, "0");
}

export const systems = new Set<string>();

function send(res: http.ServerResponse, status: number, env: Envelope): void {
  const body = JSON.stringify(env);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const ok = (data: unknown): Envelope => ({ code: 0, msg: "success", data });
const fail = (msg: string): Envelope => ({ code: -1, msg, data: [] });

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Handles the HTTP routes; returns false if the path is not ours (caller sends 404). */
export function handleHttp(hub: Hub, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  if (path === "/readyz" || path === "/healthz") {
    send(res, 200, ok([]));
    return true;
  }
  if (!path.startsWith("/api/")) return false;
  if (req.method !== "POST") {
    send(res, 405, fail("method not allowed"));
    return true;
  }
  readBody(req).then(
    (raw) => {
      let body: Record<string, unknown>;
      try {
        const v: unknown = JSON.parse(raw);
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
        body = v as Record<string, unknown>;
      } catch {
        send(res, 400, fail("invalid json"));
        return;
      }
      route(hub, path, req, res, body);
    },
    () => send(res, 400, fail("bad body")),
  );
  return true;
}

function route(
  hub: Hub,
  path: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Record<string, unknown>,
): void {
  if (path === "/api/register") {
    const systemId = str(body, "systemId");
    if (!systemId) {
      send(res, 200, fail("系统ID不能为空"));
      return;
    }
    if (systems.has(systemId)) {
      send(res, 200, fail("该系统ID已被注册"));
      return;
    }
    systems.add(systemId);
    send(res, 200, ok([]));
    return;
  }
  const h = req.headers.systemid;
  const systemId = typeof h === "string" ? h : "";
  if (!systemId) {
    send(res, 200, fail("系统ID不能为空"));
    return;
  }
  if (!systems.has(systemId)) {
    send(res, 200, fail("系统ID无效"));
    return;
  }

  switch (path) {
    case "/api/bind_to_group": {
      const clientId = str(body, "clientId");
      const groupName = str(body, "groupName");
      const userId = str(body, "userId") || str(body, "sendUserId");
      const extend = str(body, "extend");
      if (!clientId || !groupName) {
        send(res, 200, fail("参数错误"));
        return;
      }
      if (!hub.hasClient(systemId, clientId)) {
        send(res, 200, fail("客户端不存在"));
        return;
      }
      const added = hub.join(systemId, clientId, groupName, userId, extend);
      if (added && NOTICES) {
        hub.sendToGroup(systemId, groupName, {
          messageId: newId(),
          sendUserId: "",
          code: ONLINE_CODE,
          msg: "客户端上线",
          data: JSON.stringify({ clientId, userId, extend }),
        });
      }
      send(res, 200, ok([]));
      return;
    }
    case "/api/send_to_group": {
      const groupName = str(body, "groupName");
      if (!groupName) {
        send(res, 200, fail("参数错误"));
        return;
      }
      const messageId = newId();
      hub.sendToGroup(systemId, groupName, {
        messageId,
        sendUserId: str(body, "sendUserId"),
        code: typeof body.code === "number" ? body.code : 0,
        msg: str(body, "msg"),
        data: body.data ?? "",
      });
      send(res, 200, ok({ messageId }));
      return;
    }
    case "/api/send_to_client": {
      const clientId = str(body, "clientId");
      if (!clientId) {
        send(res, 200, fail("参数错误"));
        return;
      }
      if (!hub.hasClient(systemId, clientId)) {
        send(res, 200, fail("客户端不存在"));
        return;
      }
      const messageId = newId();
      hub.sendToClient(clientId, {
        messageId,
        sendUserId: str(body, "sendUserId"),
        code: typeof body.code === "number" ? body.code : 0,
        msg: str(body, "msg"),
        data: body.data ?? "",
      });
      send(res, 200, ok({ messageId }));
      return;
    }
    default:
      send(res, 404, fail("not found"));
      return;
  }
}

/** Exit on SIGTERM/SIGINT and when the bench orchestrator that started us disappears. */
export function installLifecycle(close: () => void): void {
  const stop = (): void => {
    close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  const parent = Number(process.env.BENCH_PARENT_PID ?? "0");
  if (parent > 0) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        stop();
      }
    }, 1000).unref();
  }
}

export function listenPort(): number {
  const port = Number(process.env.PORT ?? "0");
  if (!Number.isInteger(port) || port <= 0) throw new Error("PORT env must be set to a positive integer");
  return port;
}
