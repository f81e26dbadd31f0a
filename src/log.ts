import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import type { Config } from "./config/schema.ts";

const LEVELS: Record<number, [string, string]> = {
  10: ["TRACE", "\x1b[90m"],
  20: ["DEBUG", "\x1b[36m"],
  30: ["INFO ", "\x1b[32m"],
  40: ["WARN ", "\x1b[33m"],
  50: ["ERROR", "\x1b[31m"],
  60: ["FATAL", "\x1b[41m"],
};
/** Fields every line carries that a person at a terminal does not need to read. */
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname"]);

const two = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * One pino JSON line as a line for people: local time, level, message, then `key=value` pairs
 * (an error's stack on the lines below). Colours only when `color` is set (a TTY).
 */
export function prettyLine(json: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json);
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const t = new Date(typeof o.time === "number" ? o.time : Date.now());
  const time = `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}.${two(t.getMilliseconds(), 3)}`;
  const [name, tint] = LEVELS[o.level as number] ?? [String(o.level), ""];
  const level = color ? `${tint}${name}\x1b[0m` : name;
  let stack = "";
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (HIDDEN.has(k) || v === undefined) continue;
    if ((k === "err" || k === "error") && v && typeof v === "object" && "stack" in v) {
      stack = `\n    ${String((v as { stack: unknown }).stack).replace(/\n/g, "\n    ")}`;
      continue;
    }
    const text = typeof v === "string" && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
    pairs.push(color ? `\x1b[90m${k}=\x1b[0m${text}` : `${k}=${text}`);
  }
  const msg = typeof o.msg === "string" ? o.msg : "";
  return `${time} ${level} ${msg}${pairs.length ? `  ${pairs.join(" ")}` : ""}${stack}\n`;
}

/** A pino destination that writes each line through `prettyLine`. */
export function prettyStream(out: NodeJS.WriteStream): DestinationStream {
  const color = out.isTTY === true && !process.env.NO_COLOR;
  return { write: (line: string) => void out.write(prettyLine(line, color)) };
}

/**
 * The process logger: JSON lines (for log collectors) unless `logFormat` is `pretty`, or `auto`
 * (the default) and the output is a terminal.
 */
export function createLogger(
  config: Pick<Readonly<Config>, "logLevel" | "logFormat">,
  opts: { level?: string; out?: NodeJS.WriteStream } = {},
): Logger {
  const out = opts.out ?? process.stdout;
  const pretty = config.logFormat === "pretty" || (config.logFormat === "auto" && out.isTTY === true);
  const options: LoggerOptions = {
    level: opts.level ?? config.logLevel,
    base: { pid: process.pid },
    hooks: {
      // Fastify logs "Server listening at …" once per interface; serve.ts logs the one start-up
      // line people read ("Parley … listening on …"), so Fastify's go to debug.
      logMethod(args, method, level) {
        if (level === 30 && typeof args[0] === "string" && args[0].startsWith("Server listening at "))
          return this.debug(...(args as [string]));
        return method.apply(this, args);
      },
    },
  };
  if (pretty) return pino(options, prettyStream(out));
  return out === process.stdout ? pino(options) : pino(options, out);
}

/**
 * A warning that may repeat at a high rate (every refused frame during an outage): at most one
 * line per `everyMs`, carrying how many occurrences it stands for (`count`) and the latest cause.
 */
export function throttledWarn(log: Pick<Logger, "warn">, msg: string, everyMs = 1000) {
  let loggedAt = 0;
  let since = 0;
  return (fields: Record<string, unknown>): void => {
    since++;
    const now = Date.now();
    if (now - loggedAt < everyMs) return;
    log.warn({ ...fields, count: since }, msg);
    loggedAt = now;
    since = 0;
  };
}
