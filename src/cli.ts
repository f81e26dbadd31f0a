import { join } from "node:path";
import { AdminTokenFile } from "./adapters/admin-token-file.ts";
import { SqlStorage } from "./adapters/sql/sql-storage.ts";
import { ConfigError, loadConfig, parseFlags } from "./config/load.ts";
import { envName, flagName, KEYS } from "./config/schema.ts";
import { AdminAuth } from "./core/admin/admin-token.ts";

const COMMANDS = `Usage: parley <command> [options]

Commands:
  serve                 start a Parley node (default)
  migrate               apply database migrations and exit
  admin-token [print]   say where the admin token comes from (a stored token is only kept hashed)
  admin-token rotate    generate a new admin token, store its hash, print it once
  help, --help          this text

Options (each also settable as an environment variable or in a JSON file given with --config):`;

export function helpText(): string {
  const rows = KEYS.map((k) => {
    const def = k.secret
      ? ""
      : ` (default: ${Array.isArray(k.default) ? k.default.join(",") || '""' : JSON.stringify(k.default)})`;
    return `  ${flagName(k.path)}=<${k.kind === "enum" ? k.values?.join("|") : k.kind}>\n      ${envName(k.path)} — ${k.doc}${def}`;
  });
  return `${COMMANDS}\n  --config=<file>\n      PARLEY_CONFIG — JSON file with any of the keys below (nested or dotted)\n${rows.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { positional } = parseFlags(argv);
  const command = positional[0] ?? "serve";
  if (argv.includes("--help") || argv.includes("-h") || command === "help") {
    process.stdout.write(helpText());
    return 0;
  }
  // Flags are everything except the command words.
  const flagArgs = argv.filter((a) => !positional.includes(a));
  const { config, warnings } = loadConfig({ argv: flagArgs });

  switch (command) {
    case "serve": {
      const { serve } = await import("./serve.ts");
      await serve(config, warnings);
      return -1; // keep running
    }
    case "migrate": {
      const storage = new SqlStorage({
        databaseUrl: config.databaseUrl,
        sqliteFile: join(config.dataDir, "parley.db"),
      });
      try {
        const applied = await storage.migrate();
        process.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n");
      } finally {
        await storage.close();
      }
      return 0;
    }
    case "admin-token": {
      const admin = new AdminAuth(config.adminToken, new AdminTokenFile(config.dataDir));
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
    process.stderr.write(`parley: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
