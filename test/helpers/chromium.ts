import { existsSync } from "node:fs";
import { join } from "node:path";

/** `PARLEY_CHROMIUM`: a path, or a command name looked up on PATH (as .ci/run does); default Debian's. */
export function findChromium(): string {
  const given = process.env.PARLEY_CHROMIUM ?? "/usr/bin/chromium";
  if (given.includes("/")) return given;
  for (const dir of (process.env.PATH ?? "").split(":"))
    if (dir && existsSync(join(dir, given))) return join(dir, given);
  return given;
}

/** The Chromium binary the browser tests and benches drive. */
export const CHROMIUM = findChromium();

/**
 * Launch flags for this machine: headless as root, and no background networking (the network is
 * loopback only, and Chromium's own fetches would be refused many at a time).
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
