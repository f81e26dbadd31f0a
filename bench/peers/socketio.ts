// Socket.IO implementation of the gateway contract (rooms for groups). Same HTTP routes on the
// same http server; clients connect with the websocket transport only and `query: { systemId }`;
// the first frame and every push arrive as a `message` event carrying the same JSON objects.
//   PORT=9002 node --import tsx bench/peers/socketio.ts
import http from "node:http";
import { Server, type Socket } from "socket.io";
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

interface ClientInfo {
  systemId: string;
  userId: string;
  extend: string;
  groups: Set<string>;
}

const clients = new Map<string, { socket: Socket; info: ClientInfo }>();
const room = (systemId: string, group: string): string => `${systemId}\u0000${group}`;

const server = http.createServer();
server.keepAliveTimeout = 65_000;

const io = new Server(server, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
});

const hub: Hub = {
  hasClient(systemId, clientId) {
    return clients.get(clientId)?.info.systemId === systemId;
  },
  join(systemId, clientId, group, userId, extend) {
    const c = clients.get(clientId);
    if (!c) return false;
    c.info.userId = userId;
    c.info.extend = extend;
    if (c.info.groups.has(group)) return false;
    c.info.groups.add(group);
    void c.socket.join(room(systemId, group));
    return true;
  },
  sendToGroup(systemId, group, frame: PushFrame) {
    // the in-memory adapter encodes the packet once and writes it to every member
    io.to(room(systemId, group)).emit("message", frame);
  },
  sendToClient(clientId, frame) {
    const c = clients.get(clientId);
    if (!c) return false;
    c.socket.emit("message", frame);
    return true;
  },
};

// engine.io wraps the existing 'request' listeners: /socket.io/* goes to it, the rest to us.
server.on("request", (req, res) => {
  if (!handleHttp(hub, req, res)) {
    res.writeHead(404).end();
  }
});

io.on("connection", (socket) => {
  const q = socket.handshake.query.systemId;
  const systemId = typeof q === "string" ? q : "";
  if (!systemId || !systems.has(systemId)) {
    socket.emit("message", { code: -1001, msg: systemId ? "系统ID无效" : "系统ID不能为空", data: [] });
    socket.disconnect(true);
    return;
  }
  const info: ClientInfo = { systemId, userId: "", extend: "", groups: new Set() };
  clients.set(socket.id, { socket, info });
  socket.on("disconnect", () => {
    clients.delete(socket.id);
    if (NOTICES) {
      for (const g of info.groups) {
        hub.sendToGroup(systemId, g, {
          messageId: newId(),
          sendUserId: "",
          code: OFFLINE_CODE,
          msg: "客户端下线",
          data: JSON.stringify({ clientId: socket.id, userId: info.userId, extend: info.extend }),
        });
      }
    }
  });
  socket.emit("message", { code: 0, msg: "success", data: { clientId: socket.id } });
});

server.listen(listenPort(), "127.0.0.1", () => {
  process.stdout.write(`socket.io peer listening on 127.0.0.1:${listenPort()} notices=${NOTICES}\n`);
});

installLifecycle(() => {
  void io.close();
});
