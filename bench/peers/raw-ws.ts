// Minimal raw `ws` implementation of the gateway contract: "the ceiling for Node".
// One JSON.stringify (and one Buffer) per push, one ws.send per recipient, no coalescing.
//   PORT=9001 node --import tsx bench/peers/raw-ws.ts
import http from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import {
  type Hub,
  handleHttp,
  installLifecycle,
  listenPort,
  NOTICES,
  newId,
  OFFLINE_CODE,
  type PushFrame,
  systems,
} from "./common-api.js";

interface Client {
  id: string;
  systemId: string;
  ws: WebSocket;
  userId: string;
  extend: string;
  groups: Set<string>;
}

const clients = new Map<string, Client>();
/** key: systemId + '\0' + groupName */
const groups = new Map<string, Set<Client>>();
const gkey = (systemId: string, group: string): string => `${systemId}\u0000${group}`;
const TEXT = { binary: false } as const;

function deliver(c: Client, buf: Buffer): void {
  if (c.ws.readyState === 1) c.ws.send(buf, TEXT);
}

const hub: Hub = {
  hasClient(systemId, clientId) {
    return clients.get(clientId)?.systemId === systemId;
  },
  join(systemId, clientId, group, userId, extend) {
    const c = clients.get(clientId);
    if (!c) return false;
    c.userId = userId;
    c.extend = extend;
    if (c.groups.has(group)) return false;
    c.groups.add(group);
    const k = gkey(systemId, group);
    let set = groups.get(k);
    if (!set) {
      set = new Set();
      groups.set(k, set);
    }
    set.add(c);
    return true;
  },
  sendToGroup(systemId, group, frame: PushFrame) {
    const set = groups.get(gkey(systemId, group));
    if (!set || set.size === 0) return;
    const buf = Buffer.from(JSON.stringify(frame));
    for (const c of set) deliver(c, buf);
  },
  sendToClient(clientId, frame) {
    const c = clients.get(clientId);
    if (!c) return false;
    deliver(c, Buffer.from(JSON.stringify(frame)));
    return true;
  },
};

const server = http.createServer((req, res) => {
  if (!handleHttp(hub, req, res)) {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 65_000;

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });

server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname !== "/ws") {
    socket.destroy();
    return;
  }
  const systemId = url.searchParams.get("systemId") ?? "";
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (!systemId || !systems.has(systemId)) {
      ws.send(JSON.stringify({ code: -1001, msg: systemId ? "系统ID无效" : "系统ID不能为空", data: [] }));
      ws.close();
      return;
    }
    const c: Client = { id: newId(), systemId, ws, userId: "", extend: "", groups: new Set() };
    clients.set(c.id, c);
    ws.on("close", () => {
      clients.delete(c.id);
      for (const g of c.groups) groups.get(gkey(systemId, g))?.delete(c);
      if (NOTICES) {
        for (const g of c.groups) {
          hub.sendToGroup(systemId, g, {
            messageId: newId(),
            sendUserId: "",
            code: OFFLINE_CODE,
            msg: "客户端下线",
            data: JSON.stringify({ clientId: c.id, userId: c.userId, extend: c.extend }),
          });
        }
      }
    });
    ws.on("error", () => ws.terminate());
    ws.send(JSON.stringify({ code: 0, msg: "success", data: { clientId: c.id } }));
  });
});

server.listen(listenPort(), "127.0.0.1", () => {
  process.stdout.write(`raw-ws peer listening on 127.0.0.1:${listenPort()} notices=${NOTICES}\n`);
});

installLifecycle(() => {
  server.close();
});
