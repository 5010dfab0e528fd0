import cluster from "node:cluster";
import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";
import type { AppConfig } from "./config.js";
import { configuredSecrets, redactPaths, secretScrubber } from "./log-secrets.js";
import { requestLogContext } from "./request-context.js";

/** An error as a log field: name, message and code; the stack only at `debug` and below. */
function errorSerializer(withStack: boolean) {
  return (error: unknown): Record<string, unknown> => {
    if (!(error instanceof Error)) return { message: String(error) };
    // Only these members: an error from an HTTP client may carry the request's headers or body.
    const code = (error as { code?: unknown }).code;
    return {
      type: error.name,
      message: error.message,
      ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
      ...(withStack && error.stack ? { stack: error.stack } : {}),
    };
  };
}

/**
 * The HTTP app's logger (ADR 0091): JSON lines on stdout; secret fields redacted by name, and the
 * configured secrets' values scrubbed from the finished line wherever they appear; every line
 * written while a request is served carries its `reqId`.
 */
export function createAppLogger(config: AppConfig, destination?: DestinationStream): PinoLogger {
  const scrub = secretScrubber(configuredSecrets(config));
  const withStack = config.logLevel === "debug" || config.logLevel === "trace";
  return pino(
    {
      level: config.logLevel,
      // Under WORKERS=n each line says which process wrote it.
      base: { service: "mcp-langgraph-http", ...(cluster.isWorker ? { pid: process.pid } : {}) },
      redact: { paths: redactPaths(), censor: "[Redacted]" },
      serializers: { err: errorSerializer(withStack), error: errorSerializer(withStack) },
      // A fresh object per line: pino merges the line's fields into what the mixin returns.
      mixin: () => {
        const context = requestLogContext.getStore();
        return context ? { reqId: context.reqId } : {};
      },
      hooks: { streamWrite: scrub },
    },
    destination ?? pino.destination(1),
  );
}
