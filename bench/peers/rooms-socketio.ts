// Socket.IO chat-room peer for bench/rooms.ts: Socket.IO 4 rooms, websocket transport only.
// Events: "join" (room) → ack "joined"; "say" ({room, text}) → io.to(room).emit("msg", {room, text})
// (the sender is in the room, so it gets its copy like every member).
//   PORT=9002 node --import tsx bench/peers/rooms-socketio.ts
import http from "node:http";
import { Server } from "socket.io";
import { installLifecycle, listenPort } from "./common-api.js";

const server = http.createServer((req, res) => {
  if (req.url === "/readyz") res.writeHead(200).end("ok");
  else if (!req.url?.startsWith("/socket.io/")) res.writeHead(404).end();
});
const io = new Server(server, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 65536,
});

io.on("connection", (socket) => {
  socket.on("join", (room: unknown, ack?: (r: string) => void) => {
    if (typeof room !== "string") return;
    void socket.join(room);
    if (typeof ack === "function") ack("joined");
  });
  socket.on("say", (m: { room?: unknown; text?: unknown }) => {
    if (typeof m?.room !== "string" || typeof m.text !== "string") return;
    io.to(m.room).emit("msg", { room: m.room, text: m.text });
  });
});

server.listen(listenPort(), "127.0.0.1", () => {
  process.stdout.write(`socket.io rooms peer on 127.0.0.1:${listenPort()}\n`);
});
installLifecycle(() => void io.close());
