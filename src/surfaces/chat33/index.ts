import type { FastifyInstance } from "fastify";
import { accountRoutes } from "./accounts.ts";
import { chatroomRoutes } from "./chatrooms.ts";
import { compatRoutes } from "./compat.ts";
import type { Chat33Deps } from "./deps.ts";
import { friendRoutes } from "./friends.ts";
import { setupScope } from "./http.ts";
import { messageRoutes } from "./messages.ts";
import { redPacketPage } from "./red-packet-page.ts";
import { redPacketRoutes } from "./red-packets.ts";
import { roomRoutes } from "./rooms.ts";
import { installSocket } from "./socket.ts";
import { uploadRoutes } from "./uploads.ts";

/**
 * The chat33 surface (seed 002): see docs/chat33.md. One encapsulated scope under `deps.mount`
 * with chat33's own body parser, validator and `{result, message, data}` error handler
 * (http.ts, envelope.ts); each part of the document registers its routes into it. The WebSocket
 * `<mount>/ws` (socket.ts) is routed before the gateway's `/ws?systemId=` (see main.ts).
 */
export async function chat33Surface(app: FastifyInstance, deps: Chat33Deps): Promise<void> {
  installSocket(deps, app.log.child({ surface: "chat33" }));
  await app.register(
    async (api) => {
      setupScope(api, deps.mount);
      accountRoutes(api, deps);
      friendRoutes(api, deps);
      messageRoutes(api, deps);
      chatroomRoutes(api, deps);
      roomRoutes(api, deps);
      redPacketRoutes(api, deps);
      compatRoutes(api, deps);
    },
    { prefix: deps.mount },
  );
  // the red packet's page (packetUrl): GET, HTML, outside the POST-only JSON scope
  await app.register(async (web) => redPacketPage(web, deps), { prefix: deps.mount });
  // image uploads: multipart, in a scope of their own (uploads.ts)
  await app.register(async (up) => uploadRoutes(up, deps), { prefix: deps.mount });
}
