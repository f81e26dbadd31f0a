// The curves of bench/scale.ts as one PNG: an SVG drawn here (no chart library, no network),
// rendered by the system Chromium through playwright-core (headless, a fresh profile, no network
// features). Also usable on its own to redraw a result file:
//   node --import tsx bench/scale-chart.ts bench/results/scale-latest.json bench/results/scale-latest.png
//   node --import tsx bench/scale-chart.ts idle.json audience.json out.png   (two runs' parts in one picture)
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { CHROMIUM, CHROMIUM_FLAGS } from "../test/helpers/chromium.ts";

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}
interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  series: Series[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(v % 1000 ? 1 : 0)}k` : `${+v.toFixed(Math.abs(v) < 10 ? 2 : 0)}`;

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panelSvg(p: Panel, x0: number, y0: number, w: number, h: number): string {
  const pad = { l: 70, r: 20, t: 34, b: 48 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const out: string[] = [
    `<g transform="translate(${x0},${y0})">`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#fff" stroke="#ddd"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
  ];
  if (!pts.length) {
    out.push(`<text x="${w / 2}" y="${h / 2}" text-anchor="middle" fill="#888">no data in this run</text></g>`);
    return out.join("");
  }
  const xs = pts.map(([x]) => x);
  let xMin = p.logX ? Math.min(...xs) : 0;
  let xMax = Math.max(...xs);
  if (xMin === xMax) {
    xMin = p.logX ? xMin / 2 : 0;
    xMax = xMax * 1.1 || 1;
  }
  const yMax = niceMax(Math.max(...pts.map(([, y]) => y)) * 1.05);
  const lx = (v: number) => (p.logX ? Math.log10(v) : v);
  const sx = (v: number) => pad.l + ((lx(v) - lx(xMin)) / (lx(xMax) - lx(xMin))) * pw;
  // a negative value (e.g. memory per connection while the start-up heap shrinks) gets room below 0
  const low = Math.min(0, ...pts.map(([, y]) => y));
  const yMin = low < 0 ? -niceMax(-low * 1.05) : 0;
  const sy = (v: number) => pad.t + ph - ((v - yMin) / (yMax - yMin)) * ph;
  // grid and axes
  for (let i = 0; i <= 5; i++) {
    const v = yMin + ((yMax - yMin) / 5) * i;
    out.push(
      `<line x1="${pad.l}" x2="${pad.l + pw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/>`,
      `<text x="${pad.l - 6}" y="${sy(v) + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`,
    );
  }
  const ticks = [...new Set(xs)].sort((a, b) => a - b);
  for (const t of ticks)
    out.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${pad.t}" y2="${pad.t + ph}" stroke="#f3f3f3"/>`,
      `<text x="${sx(t)}" y="${pad.t + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`,
    );
  out.push(
    `<line x1="${pad.l}" x2="${pad.l + pw}" y1="${pad.t + ph}" y2="${pad.t + ph}" stroke="#333"/>`,
    `<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${pad.t + ph}" stroke="#333"/>`,
    `<text x="${pad.l + pw / 2}" y="${h - 10}" text-anchor="middle" font-size="12">${esc(p.xLabel)}${p.logX ? " (log scale)" : ""}</text>`,
    `<text transform="translate(16,${pad.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  // series
  p.series.forEach((s, i) => {
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (!good.length) return;
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2.5" points="${good.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ")}"/>`,
      ...good.map(([x, y]) => `<circle cx="${sx(x)}" cy="${sy(y)}" r="4" fill="${s.color}"/>`),
      ...good.map(
        ([x, y]) =>
          `<text x="${sx(x)}" y="${sy(y) - 8}" text-anchor="middle" font-size="10" fill="${s.color}">${fmt(y)}</text>`,
      ),
      `<rect x="${pad.l + 10}" y="${pad.t + 6 + i * 16}" width="12" height="4" fill="${s.color}"/>`,
      `<text x="${pad.l + 28}" y="${pad.t + 11 + i * 16}" font-size="11">${esc(s.name)}</text>`,
    );
  });
  out.push("</g>");
  return out.join("");
}

// biome-ignore lint/suspicious/noExplicitAny: reads the bench's own result JSON
export function chartSvg(r: any): string {
  const idle = (r.idle?.steps ?? []) as Array<Record<string, number>>;
  const aud = (r.audience ?? []) as Array<Record<string, never> & { audience: number }>;
  const pick = (rows: Array<Record<string, number>>, x: string, f: (row: Record<string, number>) => number) =>
    rows.map((row) => [row[x], f(row)] as [number, number]);
  const panels: Panel[] = [
    {
      title: "Memory per idle connection",
      xLabel: "idle connections (all nodes)",
      yLabel: "KiB per connection (RSS)",
      series: [
        {
          name: "nodes' RSS growth / connections",
          color: "#1f77b4",
          points: pick(idle, "connections", (s) => s.memPerConnKiB),
        },
      ],
    },
    {
      title: "CPU per ping sweep",
      xLabel: "idle connections (all nodes)",
      yLabel: "CPU ms per sweep (all nodes)",
      series: [
        {
          name: "one sweep: ping + pong of every socket",
          color: "#d62728",
          points: pick(idle, "connections", (s) => s.cpuPerSweepMs),
        },
      ],
    },
    {
      title: "Presence in Redis",
      xLabel: "idle connections (all nodes)",
      yLabel: "MiB (MEMORY USAGE of presence keys)",
      series: [
        {
          name: "presence sets",
          color: "#2ca02c",
          points: pick(idle, "connections", (s) => s.presenceBytes / 2 ** 20),
        },
      ],
    },
    {
      title: "One chat room: fan-out as the audience grows",
      xLabel: "members in the room (guests over all nodes)",
      yLabel: "ms / µs",
      logX: true,
      series: [
        {
          name: "whole room reached, p50 ms (1 in flight)",
          color: "#9467bd",
          points: aud.map((s) => [s.audience, (s as unknown as { fullFanoutMs: { p50: number } }).fullFanoutMs.p50]),
        },
        {
          name: "server CPU µs per delivery",
          color: "#ff7f0e",
          points: aud.map((s) => [s.audience, (s as unknown as { cpuUsPerDelivery: number }).cpuUsPerDelivery]),
        },
      ],
    },
  ];
  const W = 1400;
  const H = 940;
  const pw = 680;
  const ph = 400;
  // each ladder says how many nodes it ran on (they may come from different runs)
  const nodesOf = (rows: Array<{ nodes?: number }>) => [...new Set(rows.map((x) => x.nodes ?? r.nodes))].join("/");
  const ladders = [
    idle.length ? `idle: ${nodesOf(idle)} nodes` : "",
    aud.length ? `audience: ${nodesOf(aud as Array<{ nodes?: number }>)} nodes` : "",
  ].filter(Boolean);
  const title = `Parley scale bench — ${ladders.join(", ")}, PostgreSQL + Redis, ${r.machine?.cpus} CPUs — ${r.started} — load ${r.loadBefore} → ${r.loadAfter}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fafafa"/>`,
    `<text x="${W / 2}" y="30" text-anchor="middle" font-size="17">${esc(title)}</text>`,
    `<text x="${W / 2}" y="52" text-anchor="middle" font-size="12" fill="#a00">${esc("one box: the nodes, the client processes, PostgreSQL and Redis share its CPUs; compare shapes, not absolutes")}</text>`,
    panelSvg(panels[0], 13, 70, pw, ph),
    panelSvg(panels[1], 707, 70, pw, ph),
    panelSvg(panels[2], 13, 520, pw, ph),
    panelSvg(panels[3], 707, 520, pw, ph),
    "</svg>",
  ].join("\n");
}

/** Writes `<png>` (and the SVG next to it); returns the PNG's path. */
// biome-ignore lint/suspicious/noExplicitAny: reads the bench's own result JSON
export async function renderCharts(result: any, png: string): Promise<string> {
  const svg = chartSvg(result);
  const svgFile = png.replace(/\.png$/, ".svg");
  writeFileSync(svgFile, svg);
  // playwright-core gives the browser a fresh temporary profile of its own
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 940 } });
    await page.goto(pathToFileURL(svgFile).href);
    await page.screenshot({ path: png, clip: { x: 0, y: 0, width: 1400, height: 940 } });
  } finally {
    await browser.close();
  }
  return png;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // several result files (e.g. the idle steps and the audience steps of two runs made side by side):
  // the idle part of the first that has one, the audience part of the first that has one
  const args = process.argv.slice(2);
  const output = args.pop();
  if (!args.length || !output?.endsWith(".png")) {
    process.stderr.write("usage: node --import tsx bench/scale-chart.ts <scale-latest.json> [more.json …] <out.png>\n");
    process.exit(2);
  }
  const parts = args.map((f) => JSON.parse(readFileSync(f, "utf8")));
  const merged = { ...parts[0] };
  for (const key of ["idle", "audience"])
    merged[key] = parts.find((r) => r[key] && (r[key].steps ?? r[key]).length)?.[key];
  renderCharts(merged, output).then((p) => process.stdout.write(`${p}\n`));
}
