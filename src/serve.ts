import type { Config } from "./config/schema.ts";
import { type App, buildApp } from "./main.ts";

/**
 * Starts one Parley node: builds the app, listens, logs risky defaults loudly, and shuts down
 * gracefully on SIGTERM/SIGINT (readiness off, sockets closed with 1001, requests finished).
 */
export async function serve(config: Readonly<Config>, warnings: string[] = []): Promise<App> {
  const app = await buildApp(config);
  const { log } = app;
  for (const w of warnings) log.warn(w);
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
  if (!config.databaseUrl) log.info({ file: `${config.dataDir}/parley.db` }, "storage: SQLite");
  else log.info("storage: PostgreSQL");
  log.info({ hub: app.hub.kind, node: app.hub.nodeId }, "hub ready");

  const { port, address, consolePort } = await app.listen();
  log.info({ port, address }, `Parley listening on http://${address === "0.0.0.0" ? "localhost" : address}:${port}`);
  if (consolePort !== null) log.info({ port: consolePort }, "customer console listening on its own port");
  if (app.reporter) log.info({ console: config.console.url }, "reporting this deployment to a customer console");

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
  return app;
}
