import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { createPgDatabase, DATABASE_URL, dropRedisPrefix, REDIS_URL } from "./backend.ts";
import { freePort } from "./ports.ts";
import { post } from "./server.ts";
import { TestClient } from "./ws-client.ts";

/**
 * Real cluster nodes for the cluster3-* tests: `parley serve` processes (bin/parley.mjs) on one
 * fresh PostgreSQL database and one Redis key prefix. Without PostgreSQL and Redis configured the
 * tests are skipped; configured but unreachable with PARLEY_REQUIRE_SERVICES=1, they fail.
 */
export const BIN = join(import.meta.dirname, "..", "..", "bin", "parley.mjs");
export const ADMIN_TOKEN = "cluster3-admin-token";
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * `describe`/`test` option: false to run, or the reason to skip. Skipped when PostgreSQL and Redis
 * are not configured (CI's SQLite run); a configured but unreachable service already fails in
 * `backend.ts` under PARLEY_REQUIRE_SERVICES=1, so CI's PostgreSQL + Redis run cannot skip these.
 */
export function servicesOrSkip(): false | string {
  if (DATABASE_URL && REDIS_URL) return false;
  return "needs PostgreSQL and Redis (PARLEY_DATABASE_URL, PARLEY_REDIS_URL)";
}

/** The environment of a node: this process's without any PARLEY_* variable, plus `vars`. */
export function nodeEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
  return { ...env, PARLEY_RUN_FROM: "src", ...vars };
}

export async function until<T>(what: string, fn: () => Promise<T | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One `parley serve` process; restartable on the same ports, node id and data directory. */
export class NodeProc {
  proc: ChildProcess | null = null;
  exited: Promise<number | null> = Promise.resolve(null);
  output = "";
  readonly dataDir: string;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly tcpPort: number,
    readonly nodeId: string,
    private readonly vars: Record<string, string>,
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), `parley-c3-${name}-`));
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get ws(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
  get alive(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the process and resolves once /readyz answers 200. */
  async start(extra: Record<string, string> = {}): Promise<void> {
    this.output = "";
    const proc = spawn(process.execPath, [BIN, "serve"], {
      env: nodeEnv({
        ...this.vars,
        PARLEY_PORT: String(this.port),
        PARLEY_TCP_PORT: String(this.tcpPort),
        PARLEY_NODE_ID: this.nodeId,
        PARLEY_DATA_DIR: this.dataDir,
        ...extra,
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = proc;
    proc.stdout?.on("data", (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    });
    proc.stderr?.on("data", (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    });
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
    await until(
      `node ${this.name} ready`,
      async () => {
        if (!this.alive) throw new Error(`node ${this.name} exited: ${this.output}`);
        const r = await fetch(`${this.base}/readyz`);
        return r.status === 200;
      },
      90_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.output}`);
    });
  }

  /** kill -9: no goodbye to Redis, sockets or the database. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.proc?.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (graceful shutdown) and waits for the exit; its status. */
  async stop(): Promise<number | null> {
    if (!this.alive) return this.exited;
    this.proc?.kill("SIGTERM");
    const code = await Promise.race([this.exited, new Promise<"slow">((r) => setTimeout(() => r("slow"), 30_000))]);
    if (code === "slow") {
      this.proc?.kill("SIGKILL");
      return this.exited;
    }
    return code;
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface Cluster {
  nodes: NodeProc[];
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** The variables every node shares. */
  vars: Record<string, string>;
  /** An admin-token call of the admin API on `node`. */
  admin<T = Record<string, unknown>>(node: NodeProc, path: string, body: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts `n` nodes on one fresh database and Redis prefix (the first alone, so it applies the
 * migrations; the others together). Heartbeats are short so a dead node leaves presence quickly.
 */
export async function startCluster(
  n: number,
  opts: { redisUrl?: string; vars?: Record<string, string> } = {},
): Promise<Cluster> {
  const db = await createPgDatabase(DATABASE_URL);
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const prefix = `parley-c3-${randomBytes(5).toString("hex")}:`;
  const vars: Record<string, string> = {
    PARLEY_HOST: "127.0.0.1",
    PARLEY_DATABASE_URL: db.url,
    PARLEY_REDIS_URL: redisUrl,
    PARLEY_REDIS_PREFIX: prefix,
    PARLEY_ADMIN_TOKEN: ADMIN_TOKEN,
    PARLEY_LOG_LEVEL: "warn",
    PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
    PARLEY_CLUSTER_HEARTBEAT_MS: "500",
    PARLEY_CLUSTER_NODE_TTL_MS: "2500",
    PARLEY_CHAT33_MSG_RATE_PER_CONNECTION: "1000",
    PARLEY_CHAT33_MSG_RATE_PER_USER: "1000",
    PARLEY_WALLET_SEND_PER_MINUTE: "1000",
    PARLEY_GROUPS_CREATES_PER_MINUTE: "1000",
    PARLEY_SHUTDOWN_GRACE_MS: "3000",
    ...opts.vars,
  };
  const nodes: NodeProc[] = [];
  for (let i = 0; i < n; i++)
    nodes.push(
      new NodeProc(
        String.fromCharCode(97 + i),
        await freePort(),
        await freePort(),
        randomBytes(8).toString("hex"),
        vars,
      ),
    );
  const cluster: Cluster = {
    nodes,
    databaseUrl: db.url,
    redisUrl,
    prefix,
    vars,
    async admin<T>(node: NodeProc, path: string, body: unknown): Promise<T> {
      const r = await post<{ code: number; msg: string; data: T }>(`${node.base}/admin/api${path}`, body, ADMIN);
      if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.data;
    },
    async close() {
      await Promise.all(nodes.map((nd) => nd.kill9()));
      for (const nd of nodes) nd.cleanup();
      await db.drop().catch(() => {});
      await dropRedisPrefix(redisUrl, prefix).catch(() => {});
    },
  };
  try {
    await nodes[0].start();
    await Promise.all(nodes.slice(1).map((nd) => nd.start()));
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}

export type Env<T = Record<string, unknown>> = { result: number; message: string; data: T };

/** A chat33 user: created through the admin API, logged in through /user/pwdLogin. */
export interface Person {
  id: string;
  mobile: string;
  token: string;
}

let mobileSeq = 0;
export async function person(
  c: Cluster,
  node: NodeProc,
  attrs: { nickname: string; companyId?: number; admin?: boolean },
): Promise<Person> {
  const mobile = `139${String(process.pid % 10000).padStart(4, "0")}${String(++mobileSeq).padStart(4, "0")}`;
  const user = await c.admin<{ id: string }>(node, "/users", { mobile, password: "pass-1234", ...attrs });
  const r = await post<Env<{ token: string }>>(
    `${node.base}/user/pwdLogin`,
    { mobile, password: "pass-1234" },
    { "FZM-DEVICE": "iOS" },
  );
  if (r.body.result !== 0) throw new Error(`login: ${r.body.message}`);
  return { id: user.id, mobile, token: r.body.data.token };
}

/** A chat33 HTTP call as `p`; the envelope. */
export async function chat33<T = Record<string, unknown>>(
  node: NodeProc,
  p: Person | null,
  path: string,
  body: unknown,
): Promise<Env<T>> {
  const headers: Record<string, string> = { "FZM-DEVICE": "iOS" };
  if (p) headers["FZM-AUTH-TOKEN"] = p.token;
  return (await post<Env<T>>(`${node.base}${path}`, body, headers)).body;
}

/**
 * Opens `p`'s chat33 socket on `node` and waits until it is live cluster-wide: a 003 push to the
 * user (published from `via`) reaches it. Probe frames are consumed.
 */
export async function liveSocket(node: NodeProc, p: Person, via: NodeProc): Promise<TestClient> {
  const c = new TestClient(`${node.ws}/ws`, { headers: { "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": p.token } });
  await c.opened;
  await probe(c, via, p.id);
  return c;
}

/** Pushes `{probe}` to user `uid` from `via` until `c` receives one; drops the probe frames. */
export async function probe(c: TestClient, via: NodeProc, uid: string): Promise<void> {
  const tag = randomBytes(4).toString("hex");
  await until(
    `socket of user ${uid} live`,
    async () => {
      const r = await fetch(`${via.base}/im/push?dim=uid&uid=${uid}`, {
        method: "POST",
        headers: ADMIN,
        body: JSON.stringify({ probe: tag }),
      });
      if (((await r.json()) as { code: number }).code !== 0) return false;
      for (;;) {
        const f = await c.next<{ probe?: string }>(400).catch(() => null);
        if (f === null) return false;
        if (f.probe === tag) return true;
      }
    },
    30_000,
  );
  // later copies of the probe (earlier rounds that arrived late) are skipped by the readers
  while (!(await c.silent(150))) await c.next();
}

/** Frames of `c` until one matches `pred` (others skipped); fails after `timeoutMs`. */
export async function nextWhere<T = Record<string, unknown>>(
  c: TestClient,
  pred: (f: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  const skipped: unknown[] = [];
  for (;;) {
    const left = end - Date.now();
    const f = left > 0 ? await c.next<T>(left).catch(() => null) : null;
    if (f === null) throw new Error(`no matching frame in time; skipped: ${JSON.stringify(skipped.slice(-3))}`);
    if (pred(f)) return f;
    skipped.push(f);
  }
}

/** A gateway client (seed 000) and its clientId. */
export async function gateway(node: NodeProc, systemId: string): Promise<{ c: TestClient; clientId: string }> {
  const c = new TestClient(`${node.ws}/ws?systemId=${encodeURIComponent(systemId)}`);
  const first = await c.next<{ code: number; data: { clientId: string } }>(10_000);
  if (first.code !== 0) throw new Error(`gateway connect: ${JSON.stringify(first)}`);
  return { c, clientId: first.data.clientId };
}

export type MsgFrame = {
  eventType: number;
  msgId: string;
  logId: string;
  seq: number;
  channelType: number;
  fromId: string;
  targetId: string;
  msgType: number;
  msg: Record<string, unknown>;
  code?: number;
};

/**
 * A chat33 sender that survives its node going away: it sends direct messages one at a time
 * (`<tag>-<n>`), records every acknowledged one (the echo with its logId), and after a close or a
 * missing ack reconnects to another serving node and sends the same msgId again (the server
 * answers a retry with the stored message: never a duplicate).
 */
export class ResilientSender {
  readonly acked = new Map<string, { logId: string; seq: number }>();
  private stopped = false;
  private n = 0;
  reconnects = 0;
  readonly done: Promise<void>;

  constructor(
    private readonly nodes: () => NodeProc[],
    private readonly from: Person,
    private readonly to: Person,
    private readonly tag: string,
    private readonly max = Number.POSITIVE_INFINITY,
    /** A pause after each acknowledged message (keeps a long test's load modest). */
    private readonly pauseMs = 0,
  ) {
    this.done = this.run();
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  private async connect(): Promise<WebSocket> {
    for (let i = 0; ; i++) {
      const list = this.nodes().filter((nd) => nd.alive);
      const node = list[(this.reconnects + i) % Math.max(1, list.length)];
      if (node) {
        const ws = new WebSocket(`${node.ws}/ws`, {
          headers: { "FZM-DEVICE": "Android", "FZM-AUTH-TOKEN": this.from.token },
        });
        const ok = await new Promise<boolean>((resolve) => {
          ws.once("open", () => resolve(true));
          ws.once("error", () => resolve(false));
          ws.once("unexpected-response", () => resolve(false));
        });
        if (ok) return ws;
        ws.terminate();
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async run(): Promise<void> {
    let ws: WebSocket | null = null;
    while (!this.stopped && this.n < this.max) {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        ws?.terminate();
        ws = await this.connect();
        this.reconnects++;
      }
      const msgId = `${this.tag}-${this.n}`;
      const sock: WebSocket = ws;
      const echo = await new Promise<MsgFrame | null>((resolve) => {
        const timer = setTimeout(() => finish(null), 5000);
        const onMsg = (data: Buffer) => {
          let f: MsgFrame;
          try {
            f = JSON.parse(data.toString()) as MsgFrame;
          } catch {
            return;
          }
          if (f.eventType === 0 && f.msgId === msgId && f.logId) finish(f);
          else if (f.eventType === 0 && f.msgId === msgId && f.code !== undefined) finish(null);
        };
        const onClose = () => finish(null);
        const finish = (v: MsgFrame | null) => {
          clearTimeout(timer);
          sock.off("message", onMsg);
          sock.off("close", onClose);
          resolve(v);
        };
        sock.on("message", onMsg);
        sock.once("close", onClose);
        sock.send(
          JSON.stringify({
            eventType: 0,
            msgId,
            channelType: 3,
            targetId: this.to.id,
            msgType: 1,
            msg: { content: msgId },
          }),
          () => {},
        );
      });
      if (echo) {
        this.acked.set(msgId, { logId: echo.logId, seq: echo.seq });
        this.n++;
        if (this.pauseMs) await new Promise((r) => setTimeout(r, this.pauseMs));
      } else {
        // no ack: the same msgId again, on a fresh connection
        sock.terminate();
        ws = null;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    ws?.close();
  }
}

/** Every message of the direct conversation of `p` with `peer`, oldest first, from /friend/chatLog. */
export async function directHistory(node: NodeProc, p: Person, peer: Person): Promise<MsgFrame[]> {
  const out: MsgFrame[] = [];
  let startId = "";
  for (let page = 0; page < 1000; page++) {
    const r = await chat33<{ logs: MsgFrame[]; nextLog: string }>(node, p, "/friend/chatLog", {
      id: peer.id,
      number: 100,
      ...(startId ? { startId } : {}),
    });
    if (r.result !== 0) throw new Error(`chatLog: ${r.message}`);
    out.push(...r.data.logs);
    if (!r.data.nextLog || r.data.nextLog === "-1" || r.data.logs.length === 0) break;
    startId = r.data.nextLog;
  }
  return out.sort((a, b) => a.seq - b.seq);
}
