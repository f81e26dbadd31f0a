import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Access tokens of the cluster-admin surface (seed 003 `/im/iplist`): the seed's plain text
 * `uid:<uid>:ttl:<expiry>:sid:<sid>:end` (expiry in seconds since epoch), followed by `.` and an
 * HMAC-SHA256 of that text under a key kept in storage and shared by every node. Opaque to
 * clients (base64url), unforgeable, bound to one uid and one sid, and expiring.
 */
export interface TokenClaims {
  uid: number;
  sid: number;
  /** Expiry, seconds since epoch. */
  ttl: number;
}

const PLAIN = /^uid:(\d{1,15}):ttl:(\d{1,12}):sid:(\d{1,15}):end$/;
/** Longest token accepted (anything longer is not one of ours). */
export const MAX_TOKEN_LENGTH = 256;

export class TokenSigner {
  constructor(private readonly key: Buffer) {}

  private mac(plain: string): Buffer {
    return createHmac("sha256", this.key).update(plain).digest();
  }

  sign(c: TokenClaims): string {
    const plain = `uid:${c.uid}:ttl:${c.ttl}:sid:${c.sid}:end`;
    return `${Buffer.from(plain).toString("base64url")}.${this.mac(plain).toString("base64url")}`;
  }

  /** The claims of a token this cluster signed (expired or not), else null. */
  verify(token: string): TokenClaims | null {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const dot = token.indexOf(".");
    if (dot <= 0) return null;
    const plain = Buffer.from(token.slice(0, dot), "base64url").toString("utf8");
    const m = PLAIN.exec(plain);
    if (!m) return null;
    // the text must be exactly what was signed (base64url has no second spelling we accept)
    if (Buffer.from(plain).toString("base64url") !== token.slice(0, dot)) return null;
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const want = this.mac(plain);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
    return { uid: Number(m[1]), ttl: Number(m[2]), sid: Number(m[3]) };
  }
}
