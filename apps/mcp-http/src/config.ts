import { availableParallelism } from "node:os";
import { MAX_IDLE_THREAD_BATCH } from "@mcp-langgraph/agent-graph";
import type { JsonWebKey } from "@mcp-langgraph/auth-provider";
import {
  checkTaskLimitValues,
  DEFAULT_REQUEST_STATE_TTL_SECONDS,
  type McpServiceSettings,
  MIN_REQUEST_STATE_KEY_BYTES,
  SERVICE_SECRET_VARIABLES,
  serviceSettingsFromConfig,
  TASK_LIMIT_VARIABLES,
  type TaskStoreLimits,
  taskLimitsFromValues,
} from "@mcp-langgraph/mcp-server";
import { resolveSecrets as resolveSecretsOf, type SecretsProvider } from "@mcp-langgraph/secrets";
import { DEFAULT_LOCK_TTL_MS, DEFAULT_LOCK_WAIT_TIMEOUT_MS } from "@mcp-langgraph/session";
import { z } from "zod";
import { DEFAULT_EVENT_STORE_MAX_BYTES, DEFAULT_EVENT_STORE_MAX_EVENTS } from "./event-store.js";
import type { McpSessionLimits } from "./mcp-sessions.js";
import { DEFAULT_MAX_LISTEN_STREAMS } from "./modern-mcp.js";
import { multiProcessProblems } from "./multi-process.js";
import { DEFAULT_MAX_ERROR_MESSAGE_CHARS, DEFAULT_MAX_PENDING_SERVER_REQUESTS } from "./outbound-bounds.js";
import { DEFAULT_DISCONNECT_GRACE_MS } from "./session-transport.js";
import type { TracingSettings } from "./tracing.js";

/** Node timers fire at once beyond about 24.8 days: the longest maintenance interval or deadline. */
const MAX_MAINTENANCE_SECONDS = 2_147_483;

/** More processes than this on one machine is a typo, not a deployment. */
const MAX_WORKERS = 256;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
export const isLoopbackHost = (host: string) => LOOPBACK_HOSTS.has(host.toLowerCase());

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );
const flag = z
  .enum(["0", "1", "true", "false", ""])
  .optional()
  .transform((value) => value === "1" || value === "true");
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Variables that hold secrets: main.ts resolves them (environment, `NAME_FILE`, Infisical) into the
 * record loadConfig reads. METRICS_TOKEN is listed ahead of the metrics endpoint that reads it.
 */
export const SECRET_VARIABLES = [
  ...SERVICE_SECRET_VARIABLES,
  "OIDC_CLIENT_SECRET",
  "LOCAL_SIGNING_KEY",
  "METRICS_TOKEN",
  "MCP_REQUEST_STATE_KEY",
  "REDIS_URL",
  // May carry the collector's API key (e.g. `x-honeycomb-team=…`).
  "OTEL_EXPORTER_OTLP_HEADERS",
] as const;

/** `k=v,k2=v2` (OpenTelemetry's list format, values percent-encoded) as a record. */
const keyValueList = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const record: Record<string, string> = {};
    for (const item of (value ?? "").split(",")) {
      if (!item.trim()) continue;
      const equals = item.indexOf("=");
      const key = equals < 0 ? "" : item.slice(0, equals).trim();
      if (!key) {
        // The value may be a secret (headers): the message names the problem, not the text.
        ctx.addIssue({ code: "custom", message: "must be a comma-separated list of key=value pairs" });
        return z.NEVER;
      }
      try {
        record[key] = decodeURIComponent(item.slice(equals + 1).trim());
      } catch {
        ctx.addIssue({ code: "custom", message: `the value of ${key} is not valid percent-encoding` });
        return z.NEVER;
      }
    }
    return record;
  });

/**
 * Every environment variable the HTTP app reads, validated once at start-up.
 * This is the only place in the HTTP app that touches `process.env`; the README's
 * table documents the same variables.
 */
const envSchema = z
  .object({
    HOST: z.string().min(1).default("127.0.0.1"),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    PUBLIC_URL: z.url().optional(),
    ALLOWED_HOSTS: csv,
    ALLOWED_ORIGINS: csv,
    MAX_BODY_BYTES: positiveInt(1_048_576),
    DRAIN_TIMEOUT_MS: positiveInt(10_000),
    USER_DATA_TIMEOUT_MS: positiveInt(10_000),
    LISTEN_BACKLOG: positiveInt(4096),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(65_000),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
    HTTP_REQUEST_TIMEOUT_MS: positiveInt(120_000),
    HTTP_IDLE_CONNECTION_TIMEOUT_MS: positiveInt(10_000),
    HTTP_MAX_CONNECTIONS: positiveInt(10_000),
    LOOP_SLICE_MS: z.coerce.number().int().min(0).max(1_000).default(10),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    REQUEST_ID_MAX_LENGTH: z.coerce.number().int().min(8).max(1_024).default(128),
    READINESS_TIMEOUT_MS: positiveInt(2_000),
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),

    AUTH_MODE: z.enum(["required", "none"]).default("required"),
    AUTH_PROVIDER: z.enum(["local", "oidc"]).default("local"),
    LOCAL_USERS: z.string().optional(),
    TOKEN_ISSUER: z.url().optional(),
    TOKEN_AUDIENCE: z.string().optional(),
    TOKEN_TTL_SECONDS: positiveInt(3600),
    LOCAL_SIGNING_KEY: z.string().min(1).optional(),
    LOGIN_HASH_CONCURRENCY: positiveInt(2),
    LOGIN_HASH_MAX_QUEUE: z.coerce.number().int().min(0).default(64),
    ROLE_MAPPING_FILE: z.string().min(1).optional(),
    API_KEYS: z.enum(["on", "off"]).default("off"),
    API_KEY_MAX_PER_USER: positiveInt(10),
    API_KEY_TTL_DAYS: positiveInt(90),
    LOGOUT_DENYLIST_MAX_ENTRIES: positiveInt(100_000),
    LOGIN_MAX_FAILURES: positiveInt(5),
    LOGIN_MAX_FAILURES_PER_ADDRESS: positiveInt(100),
    LOGIN_WINDOW_SECONDS: positiveInt(900),
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    RATE_LIMIT_TOOL_CALLS_PER_MINUTE: positiveInt(120),
    RATE_LIMIT_MODEL_TOKENS_PER_DAY: z.coerce.number().int().positive().optional(),
    RATE_LIMIT_TIERS_FILE: z.string().min(1).optional(),
    RATE_LIMIT_STORE_TIMEOUT_MS: positiveInt(2_000),
    OAUTH_REGISTRATION: z.enum(["open", "loopback", "off"]).default("loopback"),
    OAUTH_CLIENT_METADATA_DOCUMENTS: z.enum(["on", "off"]).default("on"),
    OAUTH_CLIENT_METADATA_ALLOW_PRIVATE: flag,
    OAUTH_CLIENT_METADATA_TIMEOUT_MS: positiveInt(2_500),
    OAUTH_CLIENT_METADATA_MAX_BYTES: positiveInt(5_120),
    OAUTH_CODE_TTL_SECONDS: positiveInt(60),
    OAUTH_INTERACTION_TTL_SECONDS: positiveInt(600),
    OAUTH_REFRESH_TOKEN_TTL_SECONDS: positiveInt(86_400),
    OAUTH_CLIENT_TTL_SECONDS: positiveInt(30 * 86_400),
    OAUTH_STORE_TIMEOUT_MS: positiveInt(2_000),
    OIDC_ISSUER: z.url().optional(),
    OIDC_AUDIENCE: z.string().min(1).optional(),
    OIDC_CLIENT_ID: z.string().min(1).optional(),
    OIDC_CLIENT_SECRET: z.string().min(1).optional(),

    SESSION_BACKEND: z.enum(["memory", "redis"]).default("memory"),
    WORKERS: z
      .string()
      .default("1")
      .refine((value) => value === "auto" || (/^\d+$/.test(value) && +value >= 1 && +value <= MAX_WORKERS), {
        message: `must be "auto" or a whole number from 1 to ${MAX_WORKERS}`,
      })
      .transform((value) => (value === "auto" ? ("auto" as const) : Number(value))),
    THREAD_LOCK_TTL_MS: z.coerce.number().int().min(1_000).max(600_000).default(DEFAULT_LOCK_TTL_MS),
    THREAD_LOCK_WAIT_TIMEOUT_MS: positiveInt(DEFAULT_LOCK_WAIT_TIMEOUT_MS),
    REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
    SESSION_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,128}$/, "letters, digits and : _ . - only (at most 128)")
      .optional(),
    SESSION_TTL_SECONDS: positiveInt(86_400),
    SESSION_MAX_PER_USER: positiveInt(5),

    MCP_SESSION_IDLE_SECONDS: positiveInt(1800),
    MCP_MAX_SESSIONS_PER_USER: positiveInt(16),
    MCP_EVENT_STORE_MAX_EVENTS: positiveInt(DEFAULT_EVENT_STORE_MAX_EVENTS),
    MCP_EVENT_STORE_MAX_BYTES: positiveInt(DEFAULT_EVENT_STORE_MAX_BYTES),
    MCP_ERROR_MESSAGE_MAX_CHARS: positiveInt(DEFAULT_MAX_ERROR_MESSAGE_CHARS),
    MCP_MAX_PENDING_SERVER_REQUESTS: positiveInt(DEFAULT_MAX_PENDING_SERVER_REQUESTS),
    MCP_DISCONNECT_GRACE_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(DEFAULT_DISCONNECT_GRACE_MS),
    MCP_CONFORMANCE_FIXTURES: flag,
    // A secret: the message states the rule, never the value.
    MCP_REQUEST_STATE_KEY: z
      .string()
      .refine((key) => Buffer.byteLength(key, "utf8") >= MIN_REQUEST_STATE_KEY_BYTES, {
        message: `must be at least ${MIN_REQUEST_STATE_KEY_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
      })
      .optional(),
    MCP_REQUEST_STATE_TTL_SECONDS: positiveInt(DEFAULT_REQUEST_STATE_TTL_SECONDS),
    MCP_MAX_LISTEN_STREAMS: positiveInt(DEFAULT_MAX_LISTEN_STREAMS),

    OTEL_SDK_DISABLED: flag,
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
    OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json", "grpc"]).default("http/protobuf"),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(["http/protobuf", "http/json", "grpc"]).optional(),
    OTEL_EXPORTER_OTLP_HEADERS: keyValueList,
    OTEL_EXPORTER_OTLP_TIMEOUT: positiveInt(10_000),
    OTEL_SERVICE_NAME: z.string().min(1).default("mcp-langgraph"),
    OTEL_RESOURCE_ATTRIBUTES: keyValueList,
    OTEL_TRACES_SAMPLER: z
      .enum([
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
      ])
      .default("parentbased_always_on"),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
    OTEL_BSP_MAX_QUEUE_SIZE: positiveInt(2_048),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: positiveInt(512),
    OTEL_BSP_SCHEDULE_DELAY: positiveInt(5_000),
    OTEL_BSP_EXPORT_TIMEOUT: positiveInt(30_000),
    ...TASK_LIMIT_VARIABLES,
    MCP_TASK_STORE_TIMEOUT_MS: positiveInt(2_000),
    MCP_SESSION_STORE_TIMEOUT_MS: positiveInt(2_000),
    MCP_SUBSCRIPTION_CLAIM_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),

    CONVERSATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
    CONVERSATION_RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(MAX_IDLE_THREAD_BATCH).default(100),
    MAINTENANCE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(MAX_MAINTENANCE_SECONDS).default(3_600),
    MAINTENANCE_JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(MAX_MAINTENANCE_SECONDS).default(600),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_PROVIDER === "oidc" && !env.OIDC_ISSUER) {
      ctx.addIssue({ code: "custom", path: ["OIDC_ISSUER"], message: "required when AUTH_PROVIDER=oidc" });
    }
    // Node measures the headers timeout of a kept-alive connection from its previous request: at or
    // below the keep-alive timeout it would cut connections that are merely idle between requests.
    const headersTimeout = env.HTTP_HEADERS_TIMEOUT_MS ?? env.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1_000;
    if (headersTimeout <= env.HTTP_KEEP_ALIVE_TIMEOUT_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["HTTP_HEADERS_TIMEOUT_MS"],
        message: `must be above HTTP_KEEP_ALIVE_TIMEOUT_MS (${env.HTTP_KEEP_ALIVE_TIMEOUT_MS})`,
      });
    }
    if (env.HTTP_REQUEST_TIMEOUT_MS < headersTimeout) {
      ctx.addIssue({
        code: "custom",
        path: ["HTTP_REQUEST_TIMEOUT_MS"],
        message: `must be at least the headers timeout (${headersTimeout} ms)`,
      });
    }
    const otlpProtocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
    if (otlpProtocol === "grpc" && !env.OTEL_SDK_DISABLED && otlpEndpoint(env) !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["OTEL_EXPORTER_OTLP_PROTOCOL"],
        message: "grpc is not supported: use http/protobuf (default) or http/json",
      });
    }
    if (env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE > env.OTEL_BSP_MAX_QUEUE_SIZE) {
      ctx.addIssue({
        code: "custom",
        path: ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"],
        message: `must be at most OTEL_BSP_MAX_QUEUE_SIZE (${env.OTEL_BSP_MAX_QUEUE_SIZE})`,
      });
    }
    checkTaskLimitValues(env, ctx);
    if (env.AUTH_MODE === "none" && !isLoopbackHost(env.HOST)) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_MODE"],
        message: `AUTH_MODE=none is only allowed on a loopback address (HOST is ${env.HOST})`,
      });
    }
  });

export type AppEnv = z.output<typeof envSchema>;

/**
 * Where spans go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else `/v1/traces` under
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (the OTLP exporter specification's rule); none: tracing is off.
 */
function otlpEndpoint(env: {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
}): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces`;
}

function tracingSettings(e: AppEnv): TracingSettings | undefined {
  const url = otlpEndpoint(e);
  if (e.OTEL_SDK_DISABLED || url === undefined) return undefined;
  return {
    url,
    protocol: (e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
      e.OTEL_EXPORTER_OTLP_PROTOCOL) as TracingSettings["protocol"],
    headers: e.OTEL_EXPORTER_OTLP_HEADERS,
    timeoutMs: e.OTEL_EXPORTER_OTLP_TIMEOUT,
    serviceName: e.OTEL_SERVICE_NAME,
    resourceAttributes: e.OTEL_RESOURCE_ATTRIBUTES,
    sampler: { name: e.OTEL_TRACES_SAMPLER, ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1 },
    batch: {
      maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
      scheduledDelayMillis: e.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMillis: e.OTEL_BSP_EXPORT_TIMEOUT,
    },
  };
}

export interface AppConfig {
  host: string;
  port: number;
  /** The URL clients use for this server; the token audience and resource-metadata links derive from it. */
  publicUrl: string;
  /** Host header values accepted (hostnames, port-agnostic); empty means any. */
  allowedHosts: string[];
  /** Browser origins allowed to call (CORS and Origin checks); never a wildcard. */
  allowedOrigins: string[];
  maxBodyBytes: number;
  drainTimeoutMs: number;
  /** Deadline of each backend call of the GDPR export and erase (one read, one delete). */
  userDataTimeoutMs: number;
  /** Pending connections the kernel queues for accept (capped by net.core.somaxconn). */
  listenBacklog: number;
  /** How long an idle keep-alive connection stays open (longer than clients' and proxies' own). */
  keepAliveTimeoutMs: number;
  /** Time a client has to send a request's headers; always above the keep-alive timeout. */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (headers and body); responses are not bounded by it. */
  requestTimeoutMs: number;
  /** A new connection that sends no byte within this is closed (Node's own timers start at the first byte). */
  idleConnectionTimeoutMs: number;
  /** Open connections per process; sockets past it are closed as soon as they are accepted. */
  maxConnections: number;
  /** CPU work per event-loop turn before MCP requests and agent turns yield to I/O; 0 = no slicing. */
  loopSliceMs: number;
  logLevel: AppEnv["LOG_LEVEL"];
  /** A caller's `x-request-id` longer than this (or with other than `A-Za-z0-9._:-`) is replaced by a fresh id. */
  requestIdMaxLength: number;
  /** Deadline of one readiness check; a backend that has not answered by then counts as down. */
  readinessTimeoutMs: number;
  /** `/metrics` requires `Authorization: Bearer <token>` when set; otherwise only loopback callers get it. */
  metricsToken: string | undefined;
  auth: {
    mode: "required" | "none";
    provider: "local" | "oidc";
    localUsers: string | undefined;
    issuer: string;
    audience: string;
    tokenTtlSeconds: number;
    /** Password hashes verified at once, and logins allowed to wait for one (beyond: 503 with Retry-After). */
    loginHashing: { concurrency: number; maxQueue: number };
    /** Private JWK shared by every instance behind one issuer; generated per process when unset. */
    signingKey: JsonWebKey | undefined;
    /** JSON/YAML rules turning claims into relations, synced to the authorizer per user. */
    roleMappingFile: string | undefined;
    /** Long-lived API keys (`Authorization: Bearer mcpk_…`), managed under /auth/api-keys. */
    apiKeys: { maxPerUser: number; ttlSeconds: number } | undefined;
    /** This server's client at the OIDC issuer, for password login through its token endpoint. */
    oidc: { clientId: string | undefined; clientSecret: string | undefined } | undefined;
    /** Logged-out OIDC tokens held in memory at once (SESSION_BACKEND=memory); beyond it logout answers 503. */
    logoutDenylistMaxEntries: number;
    /** The embedded issuer's OAuth 2.1 authorization server (AUTH_PROVIDER=local). */
    oauth: OAuthSettings;
  };
  sessions: { backend: "memory" } | { backend: "redis"; url: string; keyPrefix?: string };
  /** Worker processes serving the one port (node:cluster); 1 = this process serves (no cluster). */
  workers: number;
  /** Per-thread turn locks in Redis (SESSION_BACKEND=redis): expiry without renewal, and longest wait. */
  threadLocks: { ttlMs: number; waitTimeoutMs: number };
  /** Proxies in front of this server that append to `X-Forwarded-For`; 0 = use the TCP peer's address. */
  trustProxyHops: number;
  /** Counted in Redis with SESSION_BACKEND=redis (shared by every instance), in memory otherwise. */
  rateLimits: {
    /** Failed logins per username+address and per address within the window; beyond: 429. */
    login: { maxFailuresPerUser: number; maxFailuresPerAddress: number; windowSeconds: number };
    /** Tool calls per user per minute for users with no tier role. */
    toolCallsPerMinute: number;
    /** Model tokens per user per 24 hours for users with no tier role; unset: no token limit. */
    modelTokensPerDay: number | undefined;
    /** JSON/YAML per-role tiers, read and validated at start-up. */
    tiersFile: string | undefined;
    /** Deadline of each rate-counter store call. */
    storeTimeoutMs: number;
  };
  sessionTtlSeconds: number;
  sessionMaxPerUser: number;
  mcp: {
    idleSeconds: number;
    maxSessionsPerUser: number;
    conformanceFixtures: boolean;
    /** Deadline of each call to the MCP session directory in Redis (SESSION_BACKEND=redis). */
    sessionStoreTimeoutMs: number;
    /** How long the copy of a session that sends one resources/updated keeps its claim (SESSION_BACKEND=redis). */
    subscriptionClaimSeconds: number;
    /** Per-session bounds on memory a client can make the server hold (see README, "Memory bounds"). */
    limits: McpSessionLimits;
    /** MCP tasks: kept in Redis with SESSION_BACKEND=redis (any instance answers), in memory otherwise. */
    tasks: { limits: TaskStoreLimits; storeTimeoutMs: number };
    /**
     * The 2026-07-28 protocol's `requestState` seal. The key must be the same on every instance;
     * unset, each process generates its own at start (one instance only).
     */
    requestState: { key: string | undefined; ttlSeconds: number };
    /** 2026-07-28 `subscriptions/listen` streams this process holds open at once (ADR 0187). */
    maxListenStreams: number;
  };
  /** OpenTelemetry tracing (OTLP over HTTP); undefined, the default, loads no SDK at all. */
  tracing: TracingSettings | undefined;
  /**
   * Periodic jobs, run on one instance at a time with SESSION_BACKEND=redis (ADR 0178): each job
   * every `intervalMs`, each run cut at `jobTimeoutMs`. `retention` unset: no conversation is
   * deleted for its age.
   */
  maintenance: {
    intervalMs: number;
    jobTimeoutMs: number;
    retention: { days: number; batchSize: number } | undefined;
  };
  /** Authorizer, chat model, checkpointer and tool roles (variables shared with the stdio app). */
  services: Omit<McpServiceSettings, "logger">;
}

export interface OAuthSettings {
  /** Dynamic client registration: anyone, only loopback and https redirect URIs, or nobody. */
  registration: "open" | "loopback" | "off";
  /** Client ID Metadata Documents (an https client_id whose JSON the server fetches). */
  clientMetadataDocuments: boolean;
  /** Lets metadata documents be fetched from private and loopback addresses: for development and tests only. */
  clientMetadataAllowPrivate: boolean;
  clientMetadataTimeoutMs: number;
  clientMetadataMaxBytes: number;
  codeTtlSeconds: number;
  /** How long a person has to finish the login and consent pages. */
  interactionTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Lifetime of a dynamically registered client; MCP clients register again when theirs is gone. */
  clientTtlSeconds: number;
  /** Deadline per OAuth state store call (Redis). */
  storeTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "env"}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  }
  const e = parsed.data;
  const config = buildConfig(e, env);
  const problems = multiProcessProblems(config);
  if (problems.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n${problems.map((problem) => `  WORKERS: ${problem}`).join("\n")}`,
    );
  }
  return config;
}

function buildConfig(e: AppEnv, env: Record<string, string | undefined>): AppConfig {
  const loopback = isLoopbackHost(e.HOST);
  const urlHost = e.HOST.includes(":") && !e.HOST.startsWith("[") ? `[${e.HOST}]` : e.HOST;
  const publicUrl = (e.PUBLIC_URL ?? `http://${urlHost}:${e.PORT}`).replace(/\/$/, "");
  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl,
    allowedHosts:
      e.ALLOWED_HOSTS.length > 0 ? e.ALLOWED_HOSTS : loopback ? ["localhost", "127.0.0.1", "[::1]"] : [],
    allowedOrigins: e.ALLOWED_ORIGINS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    userDataTimeoutMs: e.USER_DATA_TIMEOUT_MS,
    listenBacklog: e.LISTEN_BACKLOG,
    keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS ?? e.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1_000,
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    idleConnectionTimeoutMs: e.HTTP_IDLE_CONNECTION_TIMEOUT_MS,
    maxConnections: e.HTTP_MAX_CONNECTIONS,
    loopSliceMs: e.LOOP_SLICE_MS,
    logLevel: e.LOG_LEVEL,
    requestIdMaxLength: e.REQUEST_ID_MAX_LENGTH,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    auth: {
      mode: e.AUTH_MODE,
      provider: e.AUTH_PROVIDER,
      localUsers: e.LOCAL_USERS,
      issuer: (e.AUTH_PROVIDER === "oidc" ? e.OIDC_ISSUER : e.TOKEN_ISSUER) ?? publicUrl,
      audience: (e.AUTH_PROVIDER === "oidc" ? e.OIDC_AUDIENCE : e.TOKEN_AUDIENCE) ?? `${publicUrl}/mcp`,
      tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
      loginHashing: { concurrency: e.LOGIN_HASH_CONCURRENCY, maxQueue: e.LOGIN_HASH_MAX_QUEUE },
      signingKey: e.LOCAL_SIGNING_KEY ? parseSigningKey(e.LOCAL_SIGNING_KEY) : undefined,
      roleMappingFile: e.ROLE_MAPPING_FILE,
      apiKeys:
        e.API_KEYS === "on"
          ? { maxPerUser: e.API_KEY_MAX_PER_USER, ttlSeconds: e.API_KEY_TTL_DAYS * 86_400 }
          : undefined,
      oidc:
        e.AUTH_PROVIDER === "oidc"
          ? { clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET }
          : undefined,
      logoutDenylistMaxEntries: e.LOGOUT_DENYLIST_MAX_ENTRIES,
      oauth: {
        registration: e.OAUTH_REGISTRATION,
        clientMetadataDocuments: e.OAUTH_CLIENT_METADATA_DOCUMENTS === "on",
        clientMetadataAllowPrivate: e.OAUTH_CLIENT_METADATA_ALLOW_PRIVATE,
        clientMetadataTimeoutMs: e.OAUTH_CLIENT_METADATA_TIMEOUT_MS,
        clientMetadataMaxBytes: e.OAUTH_CLIENT_METADATA_MAX_BYTES,
        codeTtlSeconds: e.OAUTH_CODE_TTL_SECONDS,
        interactionTtlSeconds: e.OAUTH_INTERACTION_TTL_SECONDS,
        refreshTokenTtlSeconds: e.OAUTH_REFRESH_TOKEN_TTL_SECONDS,
        clientTtlSeconds: e.OAUTH_CLIENT_TTL_SECONDS,
        storeTimeoutMs: e.OAUTH_STORE_TIMEOUT_MS,
      },
    },
    sessions:
      e.SESSION_BACKEND === "redis"
        ? {
            backend: "redis",
            url: e.REDIS_URL,
            ...(e.SESSION_KEY_PREFIX ? { keyPrefix: e.SESSION_KEY_PREFIX } : {}),
          }
        : { backend: "memory" },
    workers: e.WORKERS === "auto" ? availableParallelism() : e.WORKERS,
    threadLocks: { ttlMs: e.THREAD_LOCK_TTL_MS, waitTimeoutMs: e.THREAD_LOCK_WAIT_TIMEOUT_MS },
    trustProxyHops: e.TRUST_PROXY_HOPS,
    rateLimits: {
      login: {
        maxFailuresPerUser: e.LOGIN_MAX_FAILURES,
        maxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowSeconds: e.LOGIN_WINDOW_SECONDS,
      },
      toolCallsPerMinute: e.RATE_LIMIT_TOOL_CALLS_PER_MINUTE,
      modelTokensPerDay: e.RATE_LIMIT_MODEL_TOKENS_PER_DAY,
      tiersFile: e.RATE_LIMIT_TIERS_FILE,
      storeTimeoutMs: e.RATE_LIMIT_STORE_TIMEOUT_MS,
    },
    tracing: tracingSettings(e),
    maintenance: {
      intervalMs: e.MAINTENANCE_INTERVAL_SECONDS * 1000,
      jobTimeoutMs: e.MAINTENANCE_JOB_TIMEOUT_SECONDS * 1000,
      retention:
        e.CONVERSATION_RETENTION_DAYS === undefined
          ? undefined
          : { days: e.CONVERSATION_RETENTION_DAYS, batchSize: e.CONVERSATION_RETENTION_BATCH_SIZE },
    },
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    sessionMaxPerUser: e.SESSION_MAX_PER_USER,
    services: serviceSettingsFromConfig(env),
    mcp: {
      idleSeconds: e.MCP_SESSION_IDLE_SECONDS,
      maxSessionsPerUser: e.MCP_MAX_SESSIONS_PER_USER,
      sessionStoreTimeoutMs: e.MCP_SESSION_STORE_TIMEOUT_MS,
      subscriptionClaimSeconds: e.MCP_SUBSCRIPTION_CLAIM_SECONDS,
      conformanceFixtures: e.MCP_CONFORMANCE_FIXTURES,
      limits: {
        eventStoreMaxEvents: e.MCP_EVENT_STORE_MAX_EVENTS,
        eventStoreMaxBytes: e.MCP_EVENT_STORE_MAX_BYTES,
        maxErrorMessageChars: e.MCP_ERROR_MESSAGE_MAX_CHARS,
        maxPendingServerRequests: e.MCP_MAX_PENDING_SERVER_REQUESTS,
        disconnectGraceMs: e.MCP_DISCONNECT_GRACE_MS,
      },
      tasks: {
        limits: taskLimitsFromValues(e),
        storeTimeoutMs: e.MCP_TASK_STORE_TIMEOUT_MS,
      },
      requestState: { key: e.MCP_REQUEST_STATE_KEY, ttlSeconds: e.MCP_REQUEST_STATE_TTL_SECONDS },
      maxListenStreams: e.MCP_MAX_LISTEN_STREAMS,
    },
  };
}

function parseSigningKey(value: string): JsonWebKey {
  try {
    const key = JSON.parse(value) as JsonWebKey;
    if (typeof key === "object" && key !== null && typeof key.d === "string") return key;
  } catch {
    // reported below without echoing the (secret) value
  }
  throw new ConfigError(
    'Invalid configuration:\n  LOCAL_SIGNING_KEY: must be a private JWK (JSON with a "d" member)',
  );
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
