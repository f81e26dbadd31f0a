// Raw `ws` chat-room peer for bench/rooms.ts: the straightforward Node broadcast.
// Client frames: {"join":"<room>"} → {"joined":"<room>"}; {"say":"<room>","text":"..."} → every
// member of the room (the sender too) gets {"room":"<room>","text":"..."}: one JSON.stringify and one
// Buffer per message, one ws.send per member, no coalescing.
//   PORT=9001 node --import tsx bench/peers/rooms-raw.ts
import http from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { installLifecycle, listenPort } from "./common-api.js";

const rooms = new Map<string, Set<WebSocket>>();
const TEXT = { binary: false } as const;

const server = http.createServer((req, res) => {
  if (req.url === "/readyz") res.writeHead(200).end("ok");
  else res.writeHead(404).end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });

server.on("upgrade", (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    const joined = new Set<string>();
    ws.on("message", (data: Buffer) => {
      let f: { join?: unknown; say?: unknown; text?: unknown };
      try {
        f = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (typeof f.join === "string") {
        let set = rooms.get(f.join);
        if (!set) {
          set = new Set();
          rooms.set(f.join, set);
        }
        set.add(ws);
        joined.add(f.join);
        ws.send(JSON.stringify({ joined: f.join }));
      } else if (typeof f.say === "string" && typeof f.text === "string") {
        const set = rooms.get(f.say);
        if (!set) return;
        const buf = Buffer.from(JSON.stringify({ room: f.say, text: f.text }));
        for (const m of set) if (m.readyState === 1) m.send(buf, TEXT);
      }
    });
    ws.on("close", () => {
      for (const r of joined) rooms.get(r)?.delete(ws);
    });
    ws.on("error", () => ws.terminate());
  });
});

server.listen(listenPort(), "127.0.0.1", () => {
  process.stdout.write(`raw-ws rooms peer on 127.0.0.1:${listenPort()}\n`);
});
installLifecycle(() => server.close());
