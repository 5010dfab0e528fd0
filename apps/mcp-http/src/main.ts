#!/usr/bin/env node
import cluster from "node:cluster";
import { isMcpServerError } from "@mcp-langgraph/mcp-server";
import { isSecretsError, type SecretsProvider } from "@mcp-langgraph/secrets";
import { runPrimary } from "./cluster.js";
import { ConfigError, loadConfig, resolveSecrets } from "./config.js";
import { createAppLogger } from "./logger.js";
import { startHttpServer } from "./server.js";

async function main() {
  let config: ReturnType<typeof loadConfig>;
  let secrets: SecretsProvider;
  try {
    // The one asynchronous step: secrets from files and Infisical become plain variables, so
    // loadConfig stays a pure function of one record.
    secrets = await resolveSecrets();
    config = loadConfig(secrets.resolvedEnv());
  } catch (error) {
    if (
      error instanceof ConfigError ||
      (isMcpServerError(error) && error.code === "CONFIG_INVALID") ||
      (isSecretsError(error) && error.code !== "INFISICAL_UNAVAILABLE")
    ) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createAppLogger(config);
  if (config.workers > 1 && cluster.isPrimary) {
    // The primary serves nothing: the workers each resolve secrets and start their own server.
    secrets.close();
    runPrimary({
      workers: config.workers,
      url: (port) => `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`,
      drainTimeoutMs: config.drainTimeoutMs,
      logger,
    });
    return;
  }
  // Secret fields are redacted and the configured secrets scrubbed by the logger (ADR 0091).
  logger.debug({ config }, "configuration");
  logger.info({ sources: secrets.sources() }, "secrets resolved");
  // Values are read once at start-up (ADR 0092): a rotation in Infisical is applied by a restart.
  secrets.startBackgroundRefresh({
    logger,
    onChange: (names) => logger.warn({ names }, "secrets changed in Infisical: restart to apply them"),
  });
  const running = await startHttpServer(config, logger);
  // Under WORKERS=n the primary announces the address once every worker listens.
  if (!cluster.isWorker) process.stderr.write(`mcp-langgraph listening on ${running.url}/mcp\n`);

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "shutting down: draining connections");
    secrets.close();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mcp-langgraph failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
