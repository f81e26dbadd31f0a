import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { AdminTokenFile } from "./adapters/admin-token-file.ts";
import { modesOf } from "./adapters/data-dir.ts";
import { HubEventPublisher } from "./adapters/events/hub-publisher.ts";
import { createFileStore } from "./adapters/files/create-file-store.ts";
import { MemoryHub } from "./adapters/hub/memory-hub.ts";
import { MemoryRateLimiter } from "./adapters/ratelimit/memory-rate-limiter.ts";
import { sqliteBackup } from "./adapters/sql/sqlite-backup.ts";
import { checkDataDir, checkPostgres, StartupError } from "./adapters/startup-checks.ts";
import { accountServices } from "./compose/services.ts";
import { openStorage } from "./compose/storage.ts";
import { ConfigError, loadConfig, parseFlags } from "./config/load.ts";
import { type Config, envName, flagName, KEYS } from "./config/schema.ts";
import { MOBILE_RE } from "./core/accounts/account-service.ts";
import { AdminAuth } from "./core/admin/admin-token.ts";
import { DEMO_PASSWORD, seedDemo } from "./core/demo-seed.ts";
import { AppError } from "./core/errors.ts";
import type { CoreEvent } from "./core/events.ts";
import { parseCoins, WalletService } from "./core/wallet/wallet-service.ts";
import { VERSION } from "./version.ts";

const COMMANDS = `Usage: parley <command> [options]

Commands:
  serve                 start a Parley node (default)
  migrate               apply database migrations and exit
  admin-token [print]   say where the admin token comes from (a stored token is only kept hashed)
  admin-token rotate    generate a new admin token, store its hash, print it once
  user create           create a user and print its id and uid; its own options:
      --mobile=<11 digits starting with 1>   and/or   --username=<2-64 of A-Z a-z 0-9 _ . @ ->
      --password=<6-128 chars>   (omitted: a random password is generated and printed once)
      --nickname=<text>   --admin (a Parley administrator)
  seed --demo           create demo data once (company "Parley Demo", departments, roles, five
                        users with the public password "${DEMO_PASSWORD}") and print how to log in
  wallet verify         recompute every wallet and red-packet invariant from the ledger; exit 1
                        on any mismatch (docs/red-packets.md)
  backup --out=<file>   copy the SQLite database into a new file, online (PostgreSQL: pg_dump)
  files import-local    copy the uploads of <data-dir>/files into the database store
                        (files.store=database); idempotent, safe while servers run
  config check          validate the configuration (file, environment, flags) and print the
                        effective values, secrets masked
  help [command], --help, <command> --help
                        this text, or one command's
  --version             print the version

Exit status: 0 ok, 1 failure, 2 bad usage or configuration, 3 a service, port or directory it
needs is unavailable (docs/OPERATIONS.md).

Options (each also settable as an environment variable or in a JSON file given with --config):`;

/** Each command's own usage (`parley <command> --help`, `parley help <command>`). */
const COMMAND_HELP: Record<string, string> = {
  serve: `Usage: parley serve [options]

Starts a Parley node: HTTP and WebSocket on --port (8080), storage and hub as configured. Stops
gracefully on SIGTERM/SIGINT. Takes every configuration option (parley --help lists them).
`,
  migrate: `Usage: parley migrate [options]

Applies the database migrations (SQLite file in --data-dir, or --database-url / PARLEY_DATABASE_URL)
and prints "applied: …" or "database is up to date". The server also does this at every start.
`,
  "admin-token": `Usage: parley admin-token [print|rotate] [options]

  print (default)   say where the admin token comes from; generate and print one if none exists
  rotate            generate a new token, store its hash in --data-dir and print it once; a running
                    server accepts it at once (refused when PARLEY_ADMIN_TOKEN is set)
`,
  user: `Usage: parley user create [--mobile=…] [--username=…] [--password=…] [--nickname=…] [--admin] [options]

Creates a user and prints its id and uid. Needs --mobile and/or --username:
  --mobile=<11 digits starting with 1>
  --username=<2-64 of A-Z a-z 0-9 _ . @ -> (not a mobile number)
  --password=<6-128 chars>   omitted: a random password is generated and printed once
  --nickname=<text>
  --admin                    a Parley administrator
Storage options (--data-dir, --database-url, …) as for serve.
`,
  seed: `Usage: parley seed --demo [options]

Creates the demo company "Parley Demo" (departments, roles, users admin, alice, bob, carol, dave
with the public password "${DEMO_PASSWORD}") once, and prints their ids and how to log in. Demo only.
`,
  wallet: `Usage: parley wallet verify [options]

Recomputes the wallet's invariants from the stored rows (docs/red-packets.md): every ledger entry
sums to zero, every balance equals its ledger and is not negative, every packet's escrow equals
its unsettled shares, every claimed share was credited once, refunds equal the refunded shares,
no user claimed a packet twice. Prints "wallet: consistent" (exit 0) or each mismatch (exit 1).
Safe while the server runs. Storage options (--data-dir, --database-url, …) as for serve.
`,
  backup: `Usage: parley backup --out=<file> [options]

Copies the SQLite database (<data-dir>/parley.db) into a new file with SQLite's online backup API:
safe while the server runs. Restore: docs/OPERATIONS.md ("Backup and restore"). With
PostgreSQL (--database-url) use pg_dump instead.
`,
  files: `Usage: parley files import-local [--from=<dir>] [options]

Copies every upload and thumbnail of a local file store (default <data-dir>/files) into the
database store, for switching to files.store=database (docs/OPERATIONS.md "File storage"). Needs
files.store=database and the storage options (--data-dir, --database-url, …) the nodes use. Checks
each file's bytes against its name, skips blobs the database has already, and prints
"imported N, already there M, skipped K". Safe to run again and while servers run.
`,
  config: `Usage: parley config check [--config=<file>] [options]

Loads the configuration the way serve does (JSON file, then PARLEY_* variables, then flags),
validates it and prints every effective value with where it came from; secrets are masked.
Exit status 0 when valid, 2 (with the reason) when not.
`,
};

export function helpText(): string {
  const rows = KEYS.map((k) => {
    const def = k.secret
      ? ""
      : ` (default: ${Array.isArray(k.default) ? k.default.join(",") || '""' : JSON.stringify(k.default)})`;
    return `  ${flagName(k.path)}=<${k.kind === "enum" ? k.values?.join("|") : k.kind}>\n      ${envName(k.path)} — ${k.doc}${def}`;
  });
  return `${COMMANDS}\n  --config=<file>\n      PARLEY_CONFIG — JSON file with any of the keys below (nested or dotted)\n${rows.join("\n")}\n`;
}

/** Options that belong to a command (not config keys): name → takes a value, or is a switch. */
const COMMAND_FLAGS: Record<string, Record<string, "value" | "switch">> = {
  user: {
    "--mobile": "value",
    "--username": "value",
    "--password": "value",
    "--nickname": "value",
    "--admin": "switch",
  },
  seed: { "--demo": "switch" },
  backup: { "--out": "value" },
  files: { "--from": "value" },
};

/**
 * Takes a command's own options out of argv (`--name=value`, `--name value`, `--switch`,
 * `--switch=true|false`) and returns them with the remaining arguments, which go to loadConfig
 * (where an unknown `--flag` is an error).
 */
function takeCommandFlags(
  argv: readonly string[],
  spec: Record<string, "value" | "switch">,
): { values: Map<string, string | boolean>; rest: string[] } {
  const values = new Map<string, string | boolean>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const kind = a.startsWith("--") ? spec[name] : undefined;
    if (!kind) {
      rest.push(a);
      continue;
    }
    if (kind === "switch") {
      const raw = eq > 0 ? a.slice(eq + 1).toLowerCase() : "true";
      if (!["true", "false", "1", "0"].includes(raw)) throw new ConfigError(`${name} takes no value (or true/false)`);
      values.set(name, raw === "true" || raw === "1");
    } else if (eq > 0) values.set(name, a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) values.set(name, argv[++i]);
    else throw new ConfigError(`${name} needs a value (${name}=…)`);
  }
  return { values, rest };
}

/** Storage a one-shot command opens, checked first so a failure is one line naming the setting. */
async function checkStorage(config: Readonly<Config>): Promise<void> {
  if (config.databaseUrl) await checkPostgres(config.databaseUrl);
  else checkDataDir(config.dataDir, modesOf(config).dir);
}

/**
 * The core services a one-shot command needs, without the HTTP server, the hub connection or
 * the admin token: nothing here publishes events, so an in-process hub is enough on any backend.
 */
async function openCore(config: Readonly<Config>) {
  await checkStorage(config);
  const log = pino({ level: config.logLevel === "silent" ? "silent" : "warn" }, process.stderr);
  const { storage } = await openStorage(config);
  // No sockets here: events go to an in-process hub nobody listens on.
  const events = new HubEventPublisher<CoreEvent>(new MemoryHub());
  const { accounts, org } = accountServices(
    { config, storage, events, limiter: new MemoryRateLimiter(), log },
    { smsSender: "log" },
  );
  return { storage, accounts, org, close: () => storage.close() };
}

async function userCreate(config: Readonly<Config>, flags: Map<string, string | boolean>): Promise<number> {
  const str = (k: string) => {
    const v = flags.get(k);
    return typeof v === "string" ? v : undefined;
  };
  const mobile = str("--mobile");
  const username = str("--username");
  if (!mobile && !username) throw new ConfigError("user create needs --mobile=… or --username=… (see --help)");
  if (username !== undefined && !/^[A-Za-z0-9_.@-]{2,64}$/.test(username))
    throw new ConfigError("--username must be 2-64 of A-Z a-z 0-9 _ . @ -");
  if (username !== undefined && MOBILE_RE.test(username))
    throw new ConfigError("--username must not be a mobile number (use --mobile)");
  const given = str("--password");
  const password = given ?? randomBytes(12).toString("base64url");
  const core = await openCore(config);
  try {
    const user = await core.accounts.createUser({
      mobile,
      username,
      password,
      nickname: str("--nickname"),
      isAdmin: flags.get("--admin") === true,
    });
    const lines = [
      `id: ${user.id}`,
      `uid: ${user.uid}`,
      `username: ${user.username ?? "-"}`,
      `mobile: ${user.mobile ?? "-"}`,
      `nickname: ${user.nickname}`,
      `admin: ${user.isAdmin}`,
    ];
    if (given === undefined) lines.push(`password: ${password}   (generated; shown only now)`);
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await core.close();
  }
}

async function seed(config: Readonly<Config>, flags: Map<string, string | boolean>): Promise<number> {
  if (flags.get("--demo") !== true) throw new ConfigError("seed needs --demo (the only kind of seed data)");
  const core = await openCore(config);
  try {
    const result = await seedDemo(core);
    if (!result.created) {
      process.stdout.write(
        `Demo data already present (company "${result.company.text}", id ${result.company.id}); nothing changed.\n` +
          `Demo logins: admin, alice, bob, carol, dave (mobiles 13800000000-13800000004), password ${DEMO_PASSWORD}\n`,
      );
      return 0;
    }
    const where = config.databaseUrl ? "PostgreSQL" : join(config.dataDir, "parley.db");
    const base = `http://localhost:${config.port || 8080}`;
    const rows = result.users.map(
      (u) =>
        `  ${String(u.id).padStart(4)}  ${u.username.padEnd(8)} ${u.mobile.padEnd(12)} ${u.password.padEnd(12)} ${u.nickname} / ${u.department} / ${u.role}${u.admin ? " (Parley admin)" : ""}`,
    );
    const alice = result.users.find((u) => u.username === "alice") ?? result.users[0];
    const bob = result.users.find((u) => u.username === "bob") ?? result.users[0];
    process.stdout.write(
      [
        `Demo data created in ${where}: company "${result.company.text}" (id ${result.company.id}),`,
        "departments 总部 → 研发部, 市场部, roles 管理员 (admin) and 员工, and these users:",
        "",
        `  ${"id".padStart(4)}  ${"username".padEnd(8)} ${"mobile".padEnd(12)} ${"password".padEnd(12)} name / department / role`,
        ...rows,
        "",
        "DEMO ONLY: this password is public. Never seed a server other people can reach.",
        "",
        "Log in once the server runs (npm start):",
        `  chat33      curl -s ${base}${config.chat33.prefix}/user/pwdLogin -H 'FZM-DEVICE: Web' -H 'Content-Type: application/json' \\`,
        `                -d '{"mobile":"${alice.mobile}","password":"${DEMO_PASSWORD}"}'`,
        `  enterprise  curl -s -X POST '${base}${config.enterprise.prefix}/auth/login?account=${alice.username}&password=${DEMO_PASSWORD}'`,
        "",
        `User ids for the messaging calls: ${alice.username} = ${alice.id}, ${bob.username} = ${bob.id}`,
        '(enterprise senderId / receiverId, chat33 targetId). README.md, "Try it with demo data", sends a first message.',
        "",
      ].join("\n"),
    );
    return 0;
  } finally {
    await core.close();
  }
}

/** A secret as `config check` shows it: empty, a URL with its password and query hidden, or `***`. */
export function maskSecret(value: string): string {
  if (value === "") return '""';
  try {
    const u = new URL(value);
    if (u.password) u.password = "***";
    if (u.search) u.search = "?***";
    return u.toString();
  } catch {
    return "***";
  }
}

/** `parley config check`: every key, its effective value (secrets masked) and its source. */
function configCheck(config: Readonly<Config>, sources: ReadonlyMap<string, string>, warnings: string[]): number {
  const get = (path: string): unknown =>
    path.split(".").reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], config);
  const rows = KEYS.map((k) => {
    const v = get(k.path);
    const shown = k.secret
      ? maskSecret(String(v))
      : Array.isArray(v)
        ? v.join(",") || '""'
        : v === ""
          ? '""'
          : String(v);
    return [k.path, shown, sources.get(k.path) ?? "default"];
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.min(48, Math.max(...rows.map((r) => r[1].length)));
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(
    `configuration is valid${warnings.length ? ` (${warnings.length} warning${warnings.length > 1 ? "s" : ""} on stderr)` : ""}\n` +
      rows.map(([p, v, src]) => `  ${p.padEnd(w0)}  ${v.padEnd(w1)}  ${src}`).join("\n") +
      "\n",
  );
  return 0;
}

/** `parley wallet verify`: the books, recomputed; exit 1 on any mismatch. */
async function walletVerify(config: Readonly<Config>): Promise<number> {
  await checkStorage(config);
  const { storage } = await openStorage(config);
  try {
    const issues = await new WalletService(storage, parseCoins(config.wallet.coins)).verify();
    if (issues.length === 0) {
      process.stdout.write("wallet: consistent\n");
      return 0;
    }
    for (const i of issues) process.stdout.write(`MISMATCH ${i.check}: ${i.detail}\n`);
    process.stdout.write(`wallet: ${issues.length} mismatch(es)\n`);
    return 1;
  } finally {
    await storage.close();
  }
}

/** Prints a command's usage; `to: "stderr"` when it is shown because the command was incomplete. */
function usage(command: string, to: "stdout" | "stderr" = "stdout"): number {
  (to === "stdout" ? process.stdout : process.stderr).write(COMMAND_HELP[command]);
  return to === "stdout" ? 0 : 2;
}

/** `parley files import-local`: the local store's blobs into the database store. */
async function filesImportLocal(config: Readonly<Config>, values: Map<string, string | boolean>): Promise<number> {
  if (config.files.store !== "database")
    throw new ConfigError("files import-local copies into the database store: set files.store=database");
  const from = values.get("--from");
  const root = typeof from === "string" && from !== "" ? from : join(config.dataDir, "files");
  if (!existsSync(root)) throw new StartupError("--from", `no local file store at ${root}`);
  await checkStorage(config);
  const { storage } = await openStorage(config);
  try {
    const { importLocalBlobs } = await import("./adapters/files/import-local.ts");
    const r = await importLocalBlobs(root, createFileStore(config, storage));
    for (const s of r.skipped)
      process.stderr.write(`skipped ${join(root, s)}: not a blob of this store, or its bytes do not match its name\n`);
    process.stdout.write(`imported ${r.imported}, already there ${r.present}, skipped ${r.skipped.length}\n`);
    return r.skipped.length ? 1 : 0;
  } finally {
    await storage.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const first = parseFlags(argv).positional[0] ?? "serve";
  // A command's own options are taken out first; everything else must be a config option.
  const own = COMMAND_FLAGS[first] ? takeCommandFlags(argv, COMMAND_FLAGS[first]) : { values: new Map(), rest: argv };
  const { positional } = parseFlags(own.rest);
  const command = positional[0] ?? "serve";
  if (argv.includes("--version") || command === "version") {
    process.stdout.write(`parley ${VERSION}\n`);
    return 0;
  }
  if (command === "help") {
    const topic = positional[1];
    if (topic && !COMMAND_HELP[topic]) throw new ConfigError(`no help for ${topic}: unknown command (see --help)`);
    if (topic) return usage(topic);
    process.stdout.write(helpText());
    return 0;
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    if (positional[0] && COMMAND_HELP[positional[0]]) return usage(positional[0]);
    process.stdout.write(helpText());
    return 0;
  }
  if (command === "user" && positional.length === 1) return usage("user", "stderr");
  if (command === "config" && positional.length === 1) return usage("config", "stderr");
  if (command === "wallet" && positional.length === 1) return usage("wallet", "stderr");
  if (command === "files" && positional.length === 1) return usage("files", "stderr");
  // Flags are everything except the command words.
  const flagArgs = own.rest.filter((a) => !positional.includes(a));
  const { config, warnings, sources } = loadConfig({ argv: flagArgs });

  switch (command) {
    case "serve": {
      const { serve } = await import("./serve.ts");
      await serve(config, warnings);
      return -1; // keep running
    }
    case "migrate": {
      await checkStorage(config);
      const { storage, applied } = await openStorage(config);
      try {
        process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
      } finally {
        await storage.close();
      }
      return 0;
    }
    case "admin-token": {
      const admin = new AdminAuth(config.adminToken, new AdminTokenFile(config.dataDir, modesOf(config)));
      const sub = positional[1] ?? "print";
      if (sub === "rotate") {
        if (admin.source === "configured") {
          process.stderr.write("PARLEY_ADMIN_TOKEN is set: change it there instead of rotating.\n");
          return 1;
        }
        process.stdout.write(`${admin.rotate()}\n`);
        process.stderr.write(
          "The new admin token is active now, also on a running server; the old one no longer works.\n",
        );
        return 0;
      }
      if (sub !== "print") throw new ConfigError(`unknown admin-token action ${sub} (print|rotate)`);
      if (admin.source === "configured")
        process.stdout.write("The admin token comes from PARLEY_ADMIN_TOKEN / --admin-token.\n");
      else {
        const generated = admin.ensure();
        if (generated) process.stdout.write(`${generated}\n`);
        else
          process.stdout.write(
            `A token is stored hashed in ${config.dataDir}/admin-token.sha256 and cannot be shown again; run \`parley admin-token rotate\` for a new one.\n`,
          );
      }
      return 0;
    }
    case "user": {
      const sub = positional[1];
      if (sub !== "create") throw new ConfigError(`unknown user action ${sub ?? "(none)"} (create)`);
      if (positional.length > 2) throw new ConfigError(`unexpected argument ${positional[2]}`);
      return userCreate(config, own.values);
    }
    case "wallet": {
      if (positional[1] !== "verify") throw new ConfigError(`unknown wallet action ${positional[1]} (verify)`);
      if (positional.length > 2) throw new ConfigError(`unexpected argument ${positional[2]}`);
      return walletVerify(config);
    }
    case "backup": {
      if (positional.length > 1) throw new ConfigError(`unexpected argument ${positional[1]}`);
      if (config.databaseUrl)
        throw new ConfigError("backup copies the SQLite file; with PostgreSQL use pg_dump (docs/OPERATIONS.md)");
      const out = own.values.get("--out");
      if (typeof out !== "string" || out === "") throw new ConfigError("backup needs --out=<new file>");
      const file = join(config.dataDir, "parley.db");
      if (!existsSync(file))
        throw new StartupError("PARLEY_DATA_DIR", `no database at ${file}: is this the server's data directory?`);
      if (existsSync(out)) throw new ConfigError(`${out} already exists; back up into a new file`);
      const { pages } = await sqliteBackup(file, out);
      process.stdout.write(`backup of ${file} written to ${out} (${pages} pages)\n`);
      return 0;
    }
    case "config": {
      if (positional[1] !== "check") throw new ConfigError(`unknown config action ${positional[1]} (check)`);
      if (positional.length > 2) throw new ConfigError(`unexpected argument ${positional[2]}`);
      return configCheck(config, sources, warnings);
    }
    case "seed": {
      if (positional.length > 1) throw new ConfigError(`unexpected argument ${positional[1]}`);
      return seed(config, own.values);
    }
    case "files": {
      if (positional[1] !== "import-local")
        throw new ConfigError(`unknown files action ${positional[1]} (import-local)`);
      if (positional.length > 2) throw new ConfigError(`unexpected argument ${positional[2]}`);
      return filesImportLocal(config, own.values);
    }
    default:
      throw new ConfigError(`unknown command ${command} (see --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartupError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exit(3);
    }
    if (err instanceof AppError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exit(1);
    }
    if ((err as { code?: string })?.code === "ERR_DLOPEN_FAILED") {
      const first = String((err as Error).message).split("\n")[0];
      process.stderr.write(
        `parley: a native module in node_modules was built for another Node.js (this is ${process.version}); run \`npm rebuild\` with this Node: ${first}\n`,
      );
      process.exit(1);
    }
    process.stderr.write(`parley: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
