/**
 * A server→client WebSocket text frame, encoded once and written as-is to any number of sockets
 * ("serialise once"). Server frames are never masked (RFC 6455 §5.1), so the bytes are identical
 * for every recipient.
 */
export type PreparedFrame = Buffer;

export function prepareTextFrame(text: string): PreparedFrame {
  const len = Buffer.byteLength(text);
  let header: number;
  if (len < 126) header = 2;
  else if (len < 65536) header = 4;
  else header = 10;
  const buf = Buffer.allocUnsafe(header + len);
  buf[0] = 0x81; // FIN + text opcode
  if (header === 2) buf[1] = len;
  else if (header === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    buf.writeUInt32BE(len >>> 0, 6);
  }
  buf.write(text, header, "utf8");
  return buf;
}
