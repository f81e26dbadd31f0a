/**
 * Preloaded into every test file by `npm test` (through `test/helpers/preload.ts`): a test may
 * connect only to loopback (127.0.0.0/8, ::1, `localhost`) or to a local socket path. Private and
 * documentation addresses appear in tests as data (a client address, a recorded listener); this
 * makes sure none is ever dialled. A connection elsewhere throws where it is made, and — in case
 * a library turned that error into an expected failure (a test of an unreachable host) — the test
 * process exits non-zero, naming every address it tried.
 */
import net from "node:net";

const tried: string[] = [];

function loopback(host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith("127.");
}

/** The host a `Socket.connect` call dials (null: a local socket path), from any of its call forms. */
function hostOf(args: unknown[]): string | null {
  // net.connect() passes its normalised arguments as one array
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === "object" && first !== null) {
    const o = first as { path?: unknown; host?: unknown };
    if (typeof o.path === "string") return null;
    return typeof o.host === "string" && o.host !== "" ? o.host : "localhost";
  }
  if (typeof first === "string" && !/^\d+$/.test(first)) return null; // connect(path)
  const host = Array.isArray(args[0]) ? undefined : args[1];
  return typeof host === "string" && host !== "" ? host : "localhost";
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function loopbackOnly(this: net.Socket, ...args: unknown[]) {
  const host = hostOf(args);
  if (host !== null && !loopback(host)) {
    tried.push(host);
    throw new Error(`tests may connect to loopback only (127.0.0.0/8): refused a connection to ${host}`);
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;

process.on("exit", () => {
  if (tried.length === 0) return;
  process.stderr.write(`tests may connect to loopback only: this process tried ${[...new Set(tried)].join(", ")}\n`);
  process.exitCode = 1;
});
