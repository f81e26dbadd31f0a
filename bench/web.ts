/**
 * The web client's size and first screen: `node --import tsx bench/web.ts [runs]`.
 *
 * Builds nothing: measures web/dist as it is (run `npm run build:web` first). Prints the gzipped
 * size of every file the first load fetches, then starts a Parley server (SQLite, in-process hub)
 * and loads `/app/` in `runs` fresh Chromium contexts (cold cache each), reading the page's
 * `parley:interactive` mark (the first screen rendered with its handlers attached) and the
 * navigation timing. Times are reported, never asserted (BENCHMARKS.md).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS } from "../test/helpers/chromium.ts";
import { startServer } from "../test/helpers/server.ts";

const runs = Number(process.argv[2] ?? 10);
const dist = join(import.meta.dirname, "..", "web", "dist");
const files: Array<[string, number, number]> = [];
const walk = (d: string) => {
  for (const n of readdirSync(d)) {
    const f = join(d, n);
    if (statSync(f).isDirectory()) walk(f);
    else {
      const b = readFileSync(f);
      files.push([f.slice(dist.length + 1), b.length, gzipSync(b, { level: 9 }).length]);
    }
  }
};
walk(dist);
for (const [f, raw, gz] of files) console.log(`${f}\t${raw} B\t${gz} B gzip`);
const js = files.filter(([f]) => f.endsWith(".js")).reduce((a, [, , gz]) => a + gz, 0);
console.log(`initial JS gzipped: ${(js / 1024).toFixed(1)} KiB`);

const s = await startServer();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: CHROMIUM_FLAGS,
});
const marks: number[] = [];
const dcl: number[] = [];
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${s.base}/app/`);
  await page.waitForFunction(() => performance.getEntriesByName("parley:interactive").length > 0);
  const t = await page.evaluate(() => {
    // (Node's lib has no PerformanceNavigationTiming; this runs in the page)
    const nav = performance.getEntriesByType("navigation" as never)[0] as unknown as {
      domContentLoadedEventEnd: number;
    };
    return {
      mark: performance.getEntriesByName("parley:interactive")[0].startTime,
      dcl: nav.domContentLoadedEventEnd,
    };
  });
  marks.push(t.mark);
  dcl.push(t.dcl);
  await ctx.close();
}
await browser.close();
await s.close();
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(
  `first screen interactive (navigation start → parley:interactive), ${runs} cold loads: ` +
    `median ${q(marks, 0.5).toFixed(0)} ms, p90 ${q(marks, 0.9).toFixed(0)} ms, max ${Math.max(...marks).toFixed(0)} ms; ` +
    `DOMContentLoaded median ${q(dcl, 0.5).toFixed(0)} ms`,
);
