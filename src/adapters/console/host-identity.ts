import { hostname, networkInterfaces } from "node:os";

/**
 * What this node reports as its server (docs/console.md): the host name, and the MAC and IPv4
 * address of its first non-internal interface ("" when it has none, e.g. in a bare container).
 */
export function hostIdentity(): { name: string; mac: string; ip: string } {
  let mac = "";
  let ip = "";
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal || a.family !== "IPv4") continue;
      ip = a.address;
      mac = a.mac && a.mac !== "00:00:00:00:00:00" ? a.mac.toUpperCase() : "";
      break;
    }
    if (ip) break;
  }
  return { name: hostname().slice(0, 128), mac, ip };
}
