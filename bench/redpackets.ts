/**
 * Red-packet claims per second (issue 13 item 8): `npm run bench:redpackets [-- --pg=<url>]`.
 *
 * Starts one Parley node as a child process (SQLite in a temp dir, or a fresh PostgreSQL database
 * on the server of --pg), creates N users in one group, funds a sender, then measures two cases
 * with claim requests from two client processes (bench/redpackets-client.ts), 64 in flight:
 *  - hot: ONE packet of N shares, every user claims it once (the contended case);
 *  - many: N/20 packets of 20 shares, every user claims one of them.
 * Reports claims/s (successful claims over the wall time of the slowest client), p50/p99 of the
 * successful claims, and the server's CPU time per claim (from /proc). Each claim also posts its
 * msgType 6 notice into the group (part of the measured work). Prints a Markdown table row.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const N = Number(args.get("users") ?? 1000);
const PG = args.get("pg") ?? "";
const CLIENTS = 2;
const IN_FLIGHT = 64;
const ROOT = new URL("..", import.meta.url).pathname;
const ADMIN = "bench-admin-token";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "parley-bench-rp-"));
let dbName = "";
let server: ChildProcess | null = null;
async function cleanup() {
  server?.kill("SIGKILL");
  if (dbName) {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main() {
  let databaseUrl = "";
  if (PG) {
    dbName = `parley_bench_${process.pid}`;
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const u = new URL(PG);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [join(ROOT, "bin/parley.mjs"), "serve"], {
    env: {
      ...process.env,
      PARLEY_RUN_FROM: "src",
      PARLEY_PORT: String(port),
      PARLEY_HOST: "127.0.0.1",
      PARLEY_DATA_DIR: dir,
      PARLEY_DATABASE_URL: databaseUrl,
      PARLEY_ADMIN_TOKEN: ADMIN,
      PARLEY_LOG_LEVEL: "silent",
      PARLEY_ACCOUNTS_SCRYPT_LOG_N: "10",
      PARLEY_GROUPS_DEFAULT_CAPACITY: String(N + 10),
      PARLEY_GROUPS_MAX_CAPACITY: String(N + 10),
      PARLEY_WALLET_SEND_PER_MINUTE: "100000",
      PARLEY_WALLET_MAX_SHARES: String(N),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 600) throw new Error("server did not start");
    await sleep(100);
  }
  const post = async (path: string, body: unknown, headers: Record<string, string>) => {
    const r = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return (await r.json()) as { result?: number; code?: number; message?: string; data: Record<string, unknown> };
  };
  const chat = (token: string) => ({ "FZM-DEVICE": "iOS", "FZM-AUTH-TOKEN": token });

  // users and their sessions
  const tokens: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i <= N; i++) {
    const username = `bench${i}`;
    const made = await post(
      "/admin/api/users",
      { username, password: "bench-pass-1" },
      { authorization: `Bearer ${ADMIN}` },
    );
    ids.push(String(made.data.id));
    const login = await post("/user/pwdLogin", { mobile: username, password: "bench-pass-1" }, { "FZM-DEVICE": "iOS" });
    if (login.result !== 0) throw new Error(`login: ${login.message}`);
    tokens.push(String(login.data.token));
  }
  const [senderToken, ...claimers] = tokens;
  const [senderId, ...claimerIds] = ids;
  const room = await post("/room/create", { roomName: "bench", users: claimerIds.slice(0, 200) }, chat(senderToken));
  const roomId = String(room.data.roomId);
  for (let i = 200; i < claimerIds.length; i += 200)
    await post("/room/joinRoomInvite", { roomId, users: claimerIds.slice(i, i + 200) }, chat(senderToken));
  await post(
    "/admin/api/wallet/deposit",
    { userId: senderId, coin: 1, amount: 1_000_000, idempotencyKey: "bench" },
    { authorization: `Bearer ${ADMIN}` },
  );
  const send = async (size: number) => {
    const r = await post(
      "/red-packet/send",
      { cType: 1, toId: roomId, coin: 1, type: 1, amount: size, size },
      chat(senderToken),
    );
    if (r.result !== 0) throw new Error(`send: ${r.message}`);
    return String(r.data.packetId);
  };

  const run = async (name: string, claims: Array<[string, string]>) => {
    const per = Math.ceil(claims.length / CLIENTS);
    const cpu0 = cpuSeconds(server?.pid ?? 0);
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => {
        const file = join(dir, `job-${name}-${c}.json`);
        writeFileSync(
          file,
          JSON.stringify({ base, claims: claims.slice(c * per, (c + 1) * per), concurrency: IN_FLIGHT / CLIENTS }),
        );
        return new Promise<{ latencies: number[]; codes: Record<string, number>; wallMs: number }>(
          (resolve, reject) => {
            const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench/redpackets-client.ts"), file], {
              stdio: ["ignore", "pipe", "inherit"],
            });
            let out = "";
            child.stdout.on("data", (d) => {
              out += d;
            });
            child.on("exit", (code) =>
              code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exit ${code}`)),
            );
          },
        );
      }),
    );
    const cpu = cpuSeconds(server?.pid ?? 0) - cpu0;
    const lat = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const wall = Math.max(...results.map((r) => r.wallMs)) / 1000;
    const codes: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.codes)) codes[k] = (codes[k] ?? 0) + v;
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]?.toFixed(1);
    return {
      name,
      claims: lat.length,
      perSecond: (lat.length / wall).toFixed(0),
      p50: q(0.5),
      p99: q(0.99),
      cpuMsPerClaim: ((cpu * 1000) / Math.max(1, lat.length)).toFixed(2),
      codes,
    };
  };

  const hot = await send(N);
  const hotRun = await run(
    "hot",
    claimers.map((t) => [t, hot]),
  );
  const packets: string[] = [];
  for (let i = 0; i < N / 20; i++) packets.push(await send(20));
  const manyRun = await run(
    "many",
    claimers.map((t, i) => [t, packets[i % packets.length]]),
  );
  const verify = spawn(process.execPath, [join(ROOT, "bin/parley.mjs"), "wallet", "verify"], {
    env: { ...process.env, PARLEY_RUN_FROM: "src", PARLEY_DATA_DIR: dir, PARLEY_DATABASE_URL: databaseUrl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let verified = "";
  verify.stdout.on("data", (d) => {
    verified += d;
  });
  await new Promise((r) => verify.on("exit", r));
  const backend = PG ? "PostgreSQL" : "SQLite";
  process.stdout.write(
    `machine: ${cpus().length}× ${cpus()[0]?.model}, load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} (shared with other agents)\n`,
  );
  process.stdout.write(
    "| backend | case | claims | claims/s | p50 ms | p99 ms | server CPU ms/claim | answers |\n|---|---|---|---|---|---|---|---|\n",
  );
  for (const r of [hotRun, manyRun])
    process.stdout.write(
      `| ${backend} | ${r.name} | ${r.claims} | ${r.perSecond} | ${r.p50} | ${r.p99} | ${r.cpuMsPerClaim} | ${JSON.stringify(r.codes)} |\n`,
    );
  process.stdout.write(`parley wallet verify: ${verified.trim()}\n`);
}

main()
  .catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(cleanup);
