import {
  checkTaskLimitValues,
  type McpServiceSettings,
  SERVICE_SECRET_VARIABLES,
  serviceSettingsFromConfig,
  TASK_LIMIT_VARIABLES,
  type TaskStoreLimits,
  taskLimitsFromValues,
} from "@mcp-langgraph/mcp-server";
import { resolveSecrets as resolveSecretsOf, type SecretsProvider } from "@mcp-langgraph/secrets";
import { z } from "zod";

/** Variables that hold secrets: main.ts resolves them (environment, `NAME_FILE`, Infisical) first. */
export const SECRET_VARIABLES = [...SERVICE_SECRET_VARIABLES, "MCP_TOKEN"] as const;

/** Every environment variable the stdio binary reads; the only `process.env` access in this app. */
const envSchema = z
  .object({
    MCP_TOKEN: z.string().min(1).optional(),
    MCP_TOKEN_ISSUER: z.url().optional(),
    MCP_TOKEN_AUDIENCE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"),
    DRAIN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    ...TASK_LIMIT_VARIABLES,
  })
  .superRefine((env, ctx) => {
    checkTaskLimitValues(env, ctx);
    if (env.MCP_TOKEN && !env.MCP_TOKEN_ISSUER) {
      ctx.addIssue({
        code: "custom",
        path: ["MCP_TOKEN_ISSUER"],
        message:
          "MCP_TOKEN needs MCP_TOKEN_ISSUER (the issuer whose keys verify it, e.g. http://127.0.0.1:3000)",
      });
    }
  });

export interface StdioConfig {
  token: { value: string; issuer: string; audience: string } | undefined;
  logLevel: z.output<typeof envSchema>["LOG_LEVEL"];
  /** On SIGTERM, SIGINT or stdin closing: how long requests in flight may finish. */
  drainTimeoutMs: number;
  /** MCP tasks, kept in this process's memory (one client, one session). */
  taskLimits: TaskStoreLimits;
  /** Authorizer, chat model, checkpointer and tool roles (the same variables as the HTTP app). */
  services: Omit<McpServiceSettings, "logger">;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): StdioConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "env"}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  }
  const { MCP_TOKEN, MCP_TOKEN_ISSUER, MCP_TOKEN_AUDIENCE, LOG_LEVEL, DRAIN_TIMEOUT_MS } = parsed.data;
  const e = parsed.data;
  return {
    token:
      MCP_TOKEN && MCP_TOKEN_ISSUER
        ? {
            value: MCP_TOKEN,
            issuer: MCP_TOKEN_ISSUER.replace(/\/$/, ""),
            audience: MCP_TOKEN_AUDIENCE ?? `${MCP_TOKEN_ISSUER.replace(/\/$/, "")}/mcp`,
          }
        : undefined,
    logLevel: LOG_LEVEL,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    taskLimits: taskLimitsFromValues(e),
    services: serviceSettingsFromConfig(env),
  };
}

/**
 * The one asynchronous start-up step: secrets from `NAME_FILE` files and Infisical become plain
 * variables of the record `loadConfig` then reads, so `loadConfig` stays a pure function.
 */
export function resolveSecrets(
  env: Record<string, string | undefined> = process.env,
): Promise<SecretsProvider> {
  return resolveSecretsOf(env, SECRET_VARIABLES);
}
