// Load-generator child process: holds a share of the WebSocket clients, binds them to groups via
// the HTTP API, and records a receive-latency histogram for every bench push.
// Started by bench/run.ts with child_process.fork; controlled over IPC (see ParentToLoadgen).
//   argv: <kind: parley|raw|socketio> <host> <port>
// parley/raw clients use the ws package; Socket.IO uses socket.io-client (websocket transport only).
import http from "node:http";
import { type Socket as IoSocket, io } from "socket.io-client";
import { type RawData, WebSocket } from "ws";
import {
  BENCH_MARKER,
  errMsg,
  Histogram,
  hasType,
  isTargetKind,
  type LoadgenStats,
  type LoadgenToParent,
  nowMs,
  type ParentToLoadgen,
  postJson,
} from "./lib/common.js";

const [kindArg = "", host = "127.0.0.1", portArg = "0"] = process.argv.slice(2);
if (!isTargetKind(kindArg)) throw new Error(`loadgen: unknown target kind ${kindArg}`);
const kind = kindArg;
const port = Number(portArg);
if (host !== "127.0.0.1" && host !== "localhost") throw new Error("loadgen: only loopback targets are allowed");

function send(m: LoadgenToParent): void {
  if (process.connected && process.send) process.send(m);
}

interface Conn {
  id: string;
  close(): void;
}

const conns: Conn[] = [];
const hist = new Histogram();
let recv = 0;
let frames = 0;
let malformed = 0;
let validated = 0;
let firstRecvMs = 0;
let lastRecvMs = 0;
let live = 0;
let disconnects = 0;

// ---------------------------------------------------------------------------------------------
// frame handling
// ---------------------------------------------------------------------------------------------
const MARKER_BUF = Buffer.from(`"${BENCH_MARKER}":`);
const T_BUF = Buffer.from('"t":');
const VALIDATE_FIRST = 20;

function recordLatency(sentMs: number, at: number): void {
  recv++;
  // One read turn can hold thousands of frames (1 000 sockets with a backlog each): report from
  // inside it too, or the driver sees no progress for seconds and stops waiting (bench (d)).
  if ((recv & 1023) === 0 && at - lastProgressAt >= 20) reportProgress(at);
  if (firstRecvMs === 0) firstRecvMs = at;
  lastRecvMs = at;
  hist.record((at - sentMs) * 1000);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Full structural check of a push frame: {messageId, sendUserId, code, msg, data:{pbm,t}}. */
function validPush(v: unknown): number | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v.messageId !== "string" || typeof v.sendUserId !== "string") return undefined;
  if (typeof v.code !== "number" || typeof v.msg !== "string") return undefined;
  const d = v.data;
  if (!isObj(d) || d[BENCH_MARKER] !== 1 || typeof d.t !== "number") return undefined;
  return d.t;
}

/** ws targets: the frame arrives as bytes; look for the marker without parsing non-bench frames. */
function onWsFrame(buf: Buffer): void {
  frames++;
  const m = buf.indexOf(MARKER_BUF);
  if (m === -1) return;
  const at = nowMs();
  if (validated < VALIDATE_FIRST) {
    validated++;
    let t: number | undefined;
    try {
      t = validPush(JSON.parse(buf.toString("utf8")));
    } catch {
      t = undefined;
    }
    if (t === undefined) {
      malformed++;
      return;
    }
    recordLatency(t, at);
    return;
  }
  const ti = buf.indexOf(T_BUF, m);
  if (ti === -1) {
    malformed++;
    return;
  }
  const start = ti + T_BUF.length;
  let end = start;
  while (end < buf.length) {
    const c = buf[end];
    if (c === 0x2c /* , */ || c === 0x7d /* } */) break;
    end++;
  }
  const t = Number(buf.toString("latin1", start, end));
  if (!Number.isFinite(t)) {
    malformed++;
    return;
  }
  recordLatency(t, at);
}

/** socket.io target: the frame arrives as a parsed object. */
function onIoMessage(v: unknown): void {
  frames++;
  if (!isObj(v) || !isObj(v.data) || v.data[BENCH_MARKER] !== 1) return;
  const at = nowMs();
  if (validated < VALIDATE_FIRST) {
    validated++;
    const t = validPush(v);
    if (t === undefined) {
      malformed++;
      return;
    }
    recordLatency(t, at);
    return;
  }
  const t = v.data.t;
  if (typeof t !== "number") {
    malformed++;
    return;
  }
  recordLatency(t, at);
}

function welcomeClientId(v: unknown): string | undefined {
  if (!isObj(v) || v.code !== 0 || !isObj(v.data)) return undefined;
  const id = v.data.clientId;
  return typeof id === "string" && id ? id : undefined;
}

// ---------------------------------------------------------------------------------------------
// connecting
// ---------------------------------------------------------------------------------------------
const CONNECT_TIMEOUT_MS = 30_000;

function connectWs(systemId: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}/ws?systemId=${encodeURIComponent(systemId)}`, {
      perMessageDeflate: false,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      // the bench only looks for its marker bytes; skip per-frame UTF-8 validation on the client side
      skipUTF8Validation: true,
    });
    let id: string | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) {
        settled = true;
        ws.terminate();
        reject(new Error("no welcome frame within timeout"));
      }
    }, CONNECT_TIMEOUT_MS);
    ws.on("message", (data: RawData) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (id !== undefined) {
        onWsFrame(buf);
        return;
      }
      let v: unknown;
      try {
        v = JSON.parse(buf.toString("utf8"));
      } catch {
        v = undefined;
      }
      const cid = welcomeClientId(v);
      settled = true;
      clearTimeout(timer);
      if (cid === undefined) {
        ws.terminate();
        reject(new Error(`bad welcome frame: ${buf.toString("utf8").slice(0, 200)}`));
        return;
      }
      id = cid;
      live++;
      resolve({ id: cid, close: () => ws.terminate() });
    });
    ws.on("close", () => {
      if (id !== undefined) {
        live--;
        disconnects++;
      } else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new Error("closed before welcome"));
      }
    });
    ws.on("error", (e: Error) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

function connectIo(systemId: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const s: IoSocket = io(`http://${host}:${port}`, {
      transports: ["websocket"],
      query: { systemId },
      reconnection: false,
      forceNew: true,
      timeout: CONNECT_TIMEOUT_MS,
    });
    let id: string | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) {
        settled = true;
        s.disconnect();
        reject(new Error("no welcome frame within timeout"));
      }
    }, CONNECT_TIMEOUT_MS);
    s.on("message", (v: unknown) => {
      if (id !== undefined) {
        onIoMessage(v);
        return;
      }
      const cid = welcomeClientId(v);
      settled = true;
      clearTimeout(timer);
      if (cid === undefined) {
        s.disconnect();
        reject(new Error(`bad welcome frame: ${JSON.stringify(v).slice(0, 200)}`));
        return;
      }
      id = cid;
      live++;
      resolve({ id: cid, close: () => s.disconnect() });
    });
    s.on("disconnect", () => {
      if (id !== undefined) {
        live--;
        disconnects++;
      }
    });
    s.on("connect_error", (e: Error) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        s.disconnect();
        reject(e);
      }
    });
  });
}

async function connectMany(count: number, systemId: string, batch: number): Promise<void> {
  const t0 = nowMs();
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  const connect = kind === "socketio" ? connectIo : connectWs;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const results = await Promise.allSettled(Array.from({ length: n }, () => connect(systemId)));
    for (const r of results) {
      if (r.status === "fulfilled") {
        conns.push(r.value);
        ok++;
      } else {
        failed++;
        if (errors.length < 5) errors.push(errMsg(r.reason));
      }
    }
  }
  send({ type: "connected", ok, failed, ms: nowMs() - t0, errors });
}

// ---------------------------------------------------------------------------------------------
// binding via HTTP
// ---------------------------------------------------------------------------------------------
async function bindRange(
  group: string,
  from: number,
  to: number,
  systemId: string,
  concurrency: number,
  deadlineMs: number,
): Promise<void> {
  const t0 = nowMs();
  let aborted = false;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = Math.max(0, from);
  const end = Math.min(to, conns.length);
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < end) {
      if (nowMs() > deadlineMs) {
        aborted = true;
        return;
      }
      const i = next++;
      const c = conns[i];
      if (!c) continue;
      try {
        const r = await postJson(
          agent,
          host,
          port,
          "/api/bind_to_group",
          { sendUserId: `u${process.pid}-${i}`, clientId: c.id, groupName: group },
          systemId,
        );
        if (r.status === 200 && r.env?.code === 0) ok++;
        else {
          failed++;
          if (errors.length < 5) errors.push(`HTTP ${r.status} ${r.raw.slice(0, 200)}`);
        }
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(errMsg(e));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  send({ type: "bound", ok, failed, ms: nowMs() - t0, errors, aborted });
}

// ---------------------------------------------------------------------------------------------
// IPC
// ---------------------------------------------------------------------------------------------
function stats(): LoadgenStats {
  const cpu = process.cpuUsage();
  return {
    recv,
    frames,
    hist: hist.toJSON(),
    firstRecvMs,
    lastRecvMs,
    malformed,
    live,
    disconnects,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssKiB: Math.round(process.memoryUsage.rss() / 1024),
  };
}

function reset(): void {
  hist.reset();
  recv = 0;
  frames = 0;
  malformed = 0;
  firstRecvMs = 0;
  lastRecvMs = 0;
}

let exiting = false;
function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // ignore
    }
  }
  // give the close frames / FINs a moment, then leave regardless
  setTimeout(() => process.exit(code), 200).unref();
}

let lastProgress = "";
let lastProgressAt = 0;
function reportProgress(at: number): void {
  lastProgressAt = at;
  const key = `${recv}/${frames}/${live}`;
  if (key !== lastProgress) {
    lastProgress = key;
    send({ type: "progress", recv, frames, live });
  }
}
const progressTimer = setInterval(() => reportProgress(nowMs()), 5);
progressTimer.unref();

function fatal(e: unknown): void {
  send({ type: "fatal", error: errMsg(e) });
  exit(1);
}

process.on("message", (raw: unknown) => {
  if (!hasType(raw)) return;
  const m = raw as ParentToLoadgen;
  switch (m.type) {
    case "connect":
      connectMany(m.count, m.systemId, m.batch).catch(fatal);
      break;
    case "bind":
      bindRange(m.group, m.from, m.to, m.systemId, m.concurrency, m.deadlineMs).catch(fatal);
      break;
    case "clientIds":
      send({ type: "clientIds", ids: conns.slice(m.from, m.to).map((c) => c.id) });
      break;
    case "reset":
      reset();
      send({ type: "resetDone" });
      break;
    case "collect":
      send({ type: "stats", stats: stats() });
      break;
    case "exit":
      exit(0);
      break;
  }
});
// parent gone (crash, SIGKILL): do not linger
process.on("disconnect", () => exit(0));
process.on("SIGTERM", () => exit(0));
process.on("SIGINT", () => exit(0));
process.on("uncaughtException", fatal);

send({ type: "ready", pid: process.pid });
