import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/**
 * Answers a request Node's HTTP parser rejected (a 20 KB request line → 431, a malformed request →
 * 400, a slow one → 408) the way Fastify does — a JSON body — but says `Connection: close`, since
 * the server closes the socket after it: a keep-alive client then knows not to reuse it instead of
 * seeing ECONNRESET on its next request. The socket is ended (so the answer is delivered) and
 * destroyed shortly after if the peer does not close its side.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Client Timeout"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Exceeded maximum allowed HTTP header size"]
        : [400, "Client Error"];
  const error = STATUS_CODES[status] ?? "Error";
  const body = JSON.stringify({ error, message, statusCode: status });
  this.log.debug({ code: err.code, status }, "client error");
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${error}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}
