import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/**
 * The client address behind trusted reverse proxies: one rule for HTTP (Fastify's `req.ip` is
 * built with the same trust function) and for WebSocket upgrades (which never reach Fastify's
 * request object). Rate limits key on this address.
 *
 * `http.trustProxy` is
 * - empty (or `false`/`0`): no proxy is trusted; the address is the TCP peer;
 * - a hop count `N`: the N nearest hops (the TCP peer, then `X-Forwarded-For` from the right)
 *   are proxies; the next one is the client;
 * - a comma-separated list of addresses, CIDRs and the names `loopback`, `linklocal`,
 *   `uniquelocal`: hops from those addresses are proxies.
 *
 * Walking from the TCP peer leftwards through `X-Forwarded-For`, the client is the first hop
 * that is not trusted — so entries a client invents on the left are never reached.
 */
export type TrustFn = (address: string, hop: number) => boolean;

const NAMED: Record<string, string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** `::ffff:127.0.0.1` → `127.0.0.1` (dual-stack sockets report IPv4 peers this way). */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1] : address;
}

/** Parses `http.trustProxy`; null = trust nobody. Throws an Error naming the bad entry. */
export function parseTrustProxy(spec: string): TrustFn | null {
  const s = spec.trim();
  if (s === "" || s === "false" || s === "0") return null;
  if (s === "true")
    throw new Error(
      'http.trustProxy no longer accepts "true" (it trusted any client-sent X-Forwarded-For): give the number of proxies in front of Parley (e.g. 1) or their addresses/CIDRs (e.g. loopback,10.0.0.0/8)',
    );
  if (/^\d+$/.test(s)) {
    const hops = Number(s);
    if (hops > 64) throw new Error("http.trustProxy: a hop count must be at most 64");
    return (_address, hop) => hop < hops;
  }
  const list = new BlockList();
  for (const raw of s.split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    for (const cidr of NAMED[entry.toLowerCase()] ?? [entry]) {
      const [addr, bits, extra] = cidr.split("/");
      const ip = normalizeAddress(addr);
      const family = isIP(ip);
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d+$/.test(bits) ? Number(bits) : Number.NaN;
      if (!family || extra !== undefined || !(prefix >= 0 && prefix <= max))
        throw new Error(
          `http.trustProxy: "${entry}" is not an IP address, a CIDR, a hop count or one of loopback, linklocal, uniquelocal`,
        );
      list.addSubnet(ip, prefix, family === 4 ? "ipv4" : "ipv6");
    }
  }
  return (address) => {
    const ip = normalizeAddress(address);
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 4 ? "ipv4" : "ipv6");
  };
}

/** The hops of a request, nearest first: the TCP peer, then `X-Forwarded-For` right to left. */
function hops(req: IncomingMessage): string[] {
  const out = [req.socket.remoteAddress ?? ""];
  const header = req.headers["x-forwarded-for"];
  const value = Array.isArray(header) ? header.join(",") : header;
  if (value) {
    const parts = value.split(",");
    for (let i = parts.length - 1; i >= 0; i--) out.push(parts[i].trim());
  }
  return out;
}

/**
 * The client address of `req` under `trust` (the first untrusted hop; the farthest if all are),
 * exactly as Fastify computes `req.ip` with the same trust function.
 */
export function clientAddress(req: IncomingMessage, trust: TrustFn | null): string {
  if (!trust) return req.socket.remoteAddress ?? "";
  const list = hops(req);
  for (let i = 0; i < list.length - 1; i++) if (!trust(list[i], i)) return list[i];
  return list[list.length - 1];
}
