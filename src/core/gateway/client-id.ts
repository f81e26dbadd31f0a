import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/** Where a gateway client lives: the node that owns its socket and the socket's local id. */
export interface ClientAddress {
  nodeId: string;
  connId: number;
}

const NONCE = 12;
const TAG = 16;
const PLAIN = 14; // 8 bytes node id + 6 bytes connection id

/**
 * Encodes client ids as AES-256-GCM(nodeId ‖ connId) with the system id as associated data, in
 * base64url. Consequences: ids are opaque (nobody can read the node or counter), unforgeable
 * (the tag fails), routable (any node holding the cluster secret decodes the owner), and bound to
 * their system (decoding with another system's id fails exactly like a forged id).
 */
export class ClientIdCodec {
  private readonly key: Buffer;
  /**
   * Decoded ids, keyed by system + id: a busy client is addressed many times, and a map hit is
   * far cheaper than a GCM decryption. Bounded: cleared when full.
   */
  private readonly cache = new Map<string, ClientAddress>();
  private static readonly CACHE_MAX = 100_000;

  constructor(clusterSecret: Buffer) {
    this.key = Buffer.from(hkdfSync("sha256", clusterSecret, Buffer.alloc(0), "parley gateway client id", 32));
  }

  encode(addr: ClientAddress, systemId: string): string {
    const plain = Buffer.allocUnsafe(PLAIN);
    plain.write(addr.nodeId, 0, 8, "hex");
    plain.writeUIntBE(addr.connId, 8, 6);
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(systemId, "utf8"));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** The address, or null when the id is malformed, forged, or belongs to another system. */
  decode(clientId: string, systemId: string): ClientAddress | null {
    if (typeof clientId !== "string" || clientId.length !== 56) return null;
    const cacheKey = `${systemId}\u0000${clientId}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const addr = this.decrypt(clientId, systemId);
    if (addr) {
      if (this.cache.size >= ClientIdCodec.CACHE_MAX) this.cache.clear();
      this.cache.set(cacheKey, addr);
    }
    return addr;
  }

  private decrypt(clientId: string, systemId: string): ClientAddress | null {
    if (!/^[A-Za-z0-9_-]+$/.test(clientId)) return null;
    const raw = Buffer.from(clientId, "base64url");
    if (raw.length !== NONCE + PLAIN + TAG) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, NONCE));
      decipher.setAAD(Buffer.from(systemId, "utf8"));
      decipher.setAuthTag(raw.subarray(NONCE + PLAIN));
      const plain = Buffer.concat([decipher.update(raw.subarray(NONCE, NONCE + PLAIN)), decipher.final()]);
      return { nodeId: plain.toString("hex", 0, 8), connId: plain.readUIntBE(8, 6) };
    } catch {
      return null;
    }
  }
}
