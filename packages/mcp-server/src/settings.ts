import { LANGSMITH_TRACING_VARIABLES } from "@mcp-langgraph/agent-graph";
import { chatModelOptionsFromConfig, isLlmError, type LlmConfigRecord } from "@mcp-langgraph/llm-factory";
import { z } from "zod";
import { McpServerError } from "./errors.js";
import { DEFAULT_TOOL_ROLES, type McpServiceSettings } from "./services.js";

/**
 * The services' variables that hold secrets: besides the environment, the apps may take them from
 * `NAME_FILE` files or Infisical (@mcp-langgraph/secrets). Only these are, so a vault entry never
 * changes a non-secret setting.
 */
export const SERVICE_SECRET_VARIABLES = [
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GOOGLE_API_KEY",
  "AZURE_OPENAI_API_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "DATABASE_URL",
  "OPENFGA_API_TOKEN",
] as const;

/** Relative to the working directory: `pnpm start` from a clone keeps it in the clone's `data/` (git-ignored). */
export const DEFAULT_SQLITE_PATH = "./data/mcp-langgraph.sqlite";

const wholeNumber = (min: number) => z.coerce.number().int().min(min).max(1_000_000);

const settingsSchema = z
  .object({
    AUTHZ_BACKEND: z.enum(["embedded", "openfga"]).default("embedded"),
    OPENFGA_API_URL: z.url().optional(),
    OPENFGA_STORE_ID: z.string().min(1).optional(),
    OPENFGA_MODEL_ID: z.string().min(1).optional(),
    OPENFGA_API_TOKEN: z.string().min(1).optional(),
    CHECKPOINTER_BACKEND: z.enum(["memory", "sqlite", "postgres"]).default("memory"),
    SQLITE_PATH: z.string().min(1).default(DEFAULT_SQLITE_PATH),
    SQLITE_BUSY_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).optional(),
    DATABASE_URL: z.string().min(1).optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(10_000).optional(),
    AUTHZ_TUPLE_TABLE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,54}$/, "must be a plain identifier (letters, digits, underscore)")
      .optional(),
    AUTHZ_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(10_000).optional(),
    TOOL_ROLES: z.string().optional(),
    LLM_CLIENT_SAMPLING: z.enum(["auto", "off"]).default("auto"),
    AGENT_MAX_CONCURRENT_TURNS: wholeNumber(1).optional(),
    AGENT_MAX_QUEUED_TURNS: wholeNumber(0).optional(),
    AGENT_MAX_TURNS_PER_USER: wholeNumber(1).optional(),
    AGENT_TURN_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).optional(),
    AGENT_CONTEXT_TOKENS: z.coerce.number().int().min(1_000).max(100_000_000).optional(),
    AGENT_VERIFY: z.enum(["on", "off"]).default("off"),
    AGENT_VERIFY_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
    AGENT_MAX_REFINEMENTS: z.coerce.number().int().min(0).max(10).optional(),
    AGENT_MAX_STEPS: z.coerce.number().int().min(1).max(100).optional(),
    SYSTEM_PROMPT: z.string().trim().min(1).optional(),
    SYSTEM_PROMPT_FILE: z.string().min(1).optional(),
    MAX_SUBSCRIPTIONS_PER_SESSION: wholeNumber(0).optional(),
    AGENT_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).optional(),
    MCP_UPSTREAMS_FILE: z.string().min(1).optional(),
    MCP_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).optional(),
    MCP_UPSTREAM_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).optional(),
    MCP_UPSTREAM_MAX_RESULT_CHARS: z.coerce.number().int().min(1).max(10_000_000).optional(),
    APPROVAL_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.AUTHZ_BACKEND === "openfga" && !env.OPENFGA_API_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["OPENFGA_API_URL"],
        message: "required when AUTHZ_BACKEND=openfga",
      });
    }
    if (env.SYSTEM_PROMPT !== undefined && env.SYSTEM_PROMPT_FILE !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["SYSTEM_PROMPT_FILE"],
        message: "set SYSTEM_PROMPT or SYSTEM_PROMPT_FILE, not both",
      });
    }
    if (env.CHECKPOINTER_BACKEND === "postgres" && !env.DATABASE_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_URL"],
        message: "required when CHECKPOINTER_BACKEND=postgres",
      });
    }
  });

/** The configuration variables behind the MCP services, as an app's config module passes them in. */
export type ServiceConfigRecord = LlmConfigRecord &
  Partial<Record<keyof z.input<typeof settingsSchema>, string>>;

/**
 * Turns configuration variables (a plain record: the app's environment) into
 * service settings, so both apps read the same variables the same way.
 * Throws CONFIG_INVALID with every problem listed; messages name variables, never values.
 */
export function serviceSettingsFromConfig(config: ServiceConfigRecord): Omit<McpServiceSettings, "logger"> {
  const parsed = settingsSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".")}: ${issue.message}`)
      .join("; ");
    throw new McpServerError("CONFIG_INVALID", `Invalid service configuration: ${problems}`);
  }
  const env = parsed.data;
  const toolRoles = (env.TOOL_ROLES ?? "")
    .split(",")
    .map((role) => role.trim())
    .filter(Boolean);
  return {
    authorizer:
      env.AUTHZ_BACKEND === "openfga"
        ? {
            backend: "openfga",
            apiUrl: env.OPENFGA_API_URL ?? "",
            ...(env.OPENFGA_STORE_ID ? { storeId: env.OPENFGA_STORE_ID } : {}),
            ...(env.OPENFGA_MODEL_ID ? { modelId: env.OPENFGA_MODEL_ID } : {}),
            ...(env.OPENFGA_API_TOKEN ? { token: env.OPENFGA_API_TOKEN } : {}),
          }
        : env.CHECKPOINTER_BACKEND === "postgres"
          ? {
              // Ownership must last as long as the conversations it guards (ADR 0070).
              backend: "embedded",
              storage: {
                backend: "postgres",
                connectionString: env.DATABASE_URL ?? "",
                ...(env.AUTHZ_TUPLE_TABLE ? { table: env.AUTHZ_TUPLE_TABLE } : {}),
                ...(env.AUTHZ_DATABASE_POOL_SIZE !== undefined
                  ? { poolSize: env.AUTHZ_DATABASE_POOL_SIZE }
                  : {}),
              },
            }
          : env.CHECKPOINTER_BACKEND === "sqlite"
            ? {
                // Same file as the conversations, a table of its own (ADR 0111).
                backend: "embedded",
                storage: {
                  backend: "sqlite",
                  path: env.SQLITE_PATH,
                  ...(env.AUTHZ_TUPLE_TABLE ? { table: env.AUTHZ_TUPLE_TABLE } : {}),
                  ...(env.SQLITE_BUSY_TIMEOUT_MS !== undefined
                    ? { busyTimeoutMs: env.SQLITE_BUSY_TIMEOUT_MS }
                    : {}),
                },
              }
            : { backend: "embedded" },
    checkpointer:
      env.CHECKPOINTER_BACKEND === "postgres"
        ? {
            backend: "postgres",
            connectionString: env.DATABASE_URL ?? "",
            ...(env.DATABASE_POOL_SIZE !== undefined ? { poolSize: env.DATABASE_POOL_SIZE } : {}),
          }
        : env.CHECKPOINTER_BACKEND === "sqlite"
          ? {
              backend: "sqlite",
              path: env.SQLITE_PATH,
              ...(env.SQLITE_BUSY_TIMEOUT_MS !== undefined
                ? { busyTimeoutMs: env.SQLITE_BUSY_TIMEOUT_MS }
                : {}),
            }
          : { backend: "memory" },
    model: chatModelOptionsFrom(config),
    toolRoles: toolRoles.length > 0 ? toolRoles : DEFAULT_TOOL_ROLES,
    clientSampling: env.LLM_CLIENT_SAMPLING,
    langsmithTracing: LANGSMITH_TRACING_VARIABLES.some((name) => config[name] === "true"),
    agent: {
      ...(env.AGENT_MAX_CONCURRENT_TURNS !== undefined
        ? { maxConcurrentTurns: env.AGENT_MAX_CONCURRENT_TURNS }
        : {}),
      ...(env.AGENT_MAX_QUEUED_TURNS !== undefined ? { maxQueuedTurns: env.AGENT_MAX_QUEUED_TURNS } : {}),
      ...(env.AGENT_MAX_TURNS_PER_USER !== undefined
        ? { maxTurnsPerUser: env.AGENT_MAX_TURNS_PER_USER }
        : {}),
      ...(env.AGENT_TURN_TIMEOUT_MS !== undefined ? { turnTimeoutMs: env.AGENT_TURN_TIMEOUT_MS } : {}),
      ...(env.AGENT_CONTEXT_TOKENS !== undefined ? { contextTokens: env.AGENT_CONTEXT_TOKENS } : {}),
      ...(env.AGENT_VERIFY === "on"
        ? {
            verification: {
              ...(env.AGENT_VERIFY_THRESHOLD !== undefined ? { threshold: env.AGENT_VERIFY_THRESHOLD } : {}),
              ...(env.AGENT_MAX_REFINEMENTS !== undefined
                ? { maxRefinements: env.AGENT_MAX_REFINEMENTS }
                : {}),
            },
          }
        : {}),
      ...(env.AGENT_MAX_STEPS !== undefined ? { maxSteps: env.AGENT_MAX_STEPS } : {}),
      ...(env.SYSTEM_PROMPT !== undefined ? { systemPrompt: env.SYSTEM_PROMPT } : {}),
    },
    ...(env.SYSTEM_PROMPT_FILE !== undefined ? { systemPromptFile: env.SYSTEM_PROMPT_FILE } : {}),
    ...(env.MAX_SUBSCRIPTIONS_PER_SESSION !== undefined
      ? { maxSubscriptionsPerSession: env.MAX_SUBSCRIPTIONS_PER_SESSION }
      : {}),
    ...(env.AGENT_PROGRESS_INTERVAL_MS !== undefined
      ? { progressIntervalMs: env.AGENT_PROGRESS_INTERVAL_MS }
      : {}),
    ...(env.MCP_UPSTREAMS_FILE
      ? {
          upstreams: {
            file: env.MCP_UPSTREAMS_FILE,
            ...(env.MCP_UPSTREAM_TIMEOUT_MS !== undefined ? { timeoutMs: env.MCP_UPSTREAM_TIMEOUT_MS } : {}),
            ...(env.MCP_UPSTREAM_CONNECT_TIMEOUT_MS !== undefined
              ? { connectTimeoutMs: env.MCP_UPSTREAM_CONNECT_TIMEOUT_MS }
              : {}),
            ...(env.MCP_UPSTREAM_MAX_RESULT_CHARS !== undefined
              ? { maxResultChars: env.MCP_UPSTREAM_MAX_RESULT_CHARS }
              : {}),
            ...(env.APPROVAL_TIMEOUT_MS !== undefined ? { approvalTimeoutMs: env.APPROVAL_TIMEOUT_MS } : {}),
          },
        }
      : {}),
  };
}

function chatModelOptionsFrom(config: LlmConfigRecord) {
  try {
    return chatModelOptionsFromConfig(config);
  } catch (error) {
    if (isLlmError(error))
      throw new McpServerError("CONFIG_INVALID", `Invalid model configuration: ${error.message}`);
    throw error;
  }
}
