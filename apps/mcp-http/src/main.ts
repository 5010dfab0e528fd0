#!/usr/bin/env node
import { isMcpServerError } from "@mcp-langgraph/mcp-server";
import { ConfigError, loadConfig } from "./config.js";
import { createAppLogger } from "./logger.js";
import { startHttpServer } from "./server.js";

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError || (isMcpServerError(error) && error.code === "CONFIG_INVALID")) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createAppLogger(config);
  // Secret fields are redacted and the configured secrets scrubbed by the logger (ADR 0091).
  logger.debug({ config }, "configuration");
  const running = await startHttpServer(config, logger);
  process.stderr.write(`mcp-langgraph listening on ${running.url}/mcp\n`);

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "shutting down: draining connections");
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
