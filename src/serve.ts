import { modesOf } from "./adapters/data-dir.ts";
import {
  checkClusterMode,
  checkClusterPeers,
  checkDataDir,
  checkPostgres,
  checkRedis,
  clusterModeWarnings,
  listenError,
  urlWhere,
} from "./adapters/startup-checks.ts";
import type { Config } from "./config/schema.ts";
import { type App, buildApp } from "./main.ts";
import { VERSION } from "./version.ts";

/**
 * What a node needs before it starts, checked one by one so that a failure is one line naming
 * the setting (`StartupError`, exit status 3) instead of a stack trace from deep inside a driver.
 */
export async function checkStartup(config: Readonly<Config>): Promise<string[]> {
  checkDataDir(config.dataDir, modesOf(config).dir);
  if (config.databaseUrl) await checkPostgres(config.databaseUrl);
  if (config.redisUrl) await checkRedis(config.redisUrl);
  checkClusterMode(config);
  // cluster mode: this node's cluster-wide settings must match the live nodes' (warnings when allowed)
  return [...clusterModeWarnings(config), ...(await checkClusterPeers(config))];
}

/**
 * Starts one Parley node: builds the app, listens, logs risky defaults loudly, and shuts down
 * gracefully on SIGTERM/SIGINT (readiness off, sockets closed with 1001, requests finished).
 */
export async function serve(config: Readonly<Config>, warnings: string[] = []): Promise<App> {
  const mixed = await checkStartup(config);
  const app = await buildApp(config);
  const { log } = app;
  for (const w of [...warnings, ...mixed]) log.warn(w);
  if (app.generatedAdminToken) {
    // Printed once on stdout (not only the log) so it is seen even with logLevel=silent.
    process.stdout.write(
      `\n  Parley admin token (shown once, stored hashed in ${config.dataDir}):\n\n    ${app.generatedAdminToken}\n\n  Rotate it with: parley admin-token rotate\n\n`,
    );
    log.warn("admin token was generated on first start (see above); set PARLEY_ADMIN_TOKEN to choose your own");
  }
  if (config.gateway.enabled && !config.gateway.registerRequiresAdmin)
    log.warn(
      "gateway registration is open: anyone can POST /api/register (set PARLEY_GATEWAY_REGISTER_REQUIRES_ADMIN=1)",
    );
  // Signal handlers first: whoever sees the listening line may stop us at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    app.close().then(
      () => {
        log.info("bye");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception; exiting");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    log.error({ err }, "unhandled promise rejection");
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  let bound: Awaited<ReturnType<typeof app.listen>>;
  try {
    bound = await app.listen();
  } catch (e) {
    await app.close().catch(() => {});
    throw listenError(e, config.host, config.port);
  }
  const { port, address, consolePort } = bound;
  // The one start-up line shown at the default level: where to connect, and what it runs on.
  const storage = config.databaseUrl
    ? `PostgreSQL ${urlWhere(config.databaseUrl)}`
    : `SQLite ${config.dataDir}/parley.db`;
  const hub = config.redisUrl ? `Redis hub ${urlWhere(config.redisUrl)}` : "in-process hub";
  const host =
    address === "0.0.0.0" || address === "::" ? "localhost" : address.includes(":") ? `[${address}]` : address;
  log.info(
    { port, address, version: VERSION, storage: app.storage.kind, hub: app.hub.kind, node: app.hub.nodeId },
    `Parley ${VERSION} listening on http://${host}:${port} (${storage}, ${hub}, node ${app.hub.nodeId})`,
  );
  if (consolePort !== null) log.info({ port: consolePort }, "customer console listening on its own port");
  if (app.reporter) log.info({ console: config.console.url }, "reporting this deployment to a customer console");

  return app;
}
