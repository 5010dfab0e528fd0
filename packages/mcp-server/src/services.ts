import {
  type Agent,
  type AgentOptions,
  createAgent,
  createCheckpointer,
  type ThreadLockProvider,
  useLightweightRunContext,
} from "@mcp-langgraph/agent-graph";
import {
  type Authorizer,
  type AuthorizerOptions,
  createAuthorizer,
  loadProjectModel,
  type Tuple,
} from "@mcp-langgraph/authz";
import {
  type CircuitState,
  type Logger,
  type LoopSlicer,
  noopLogger,
  type Tracer,
} from "@mcp-langgraph/core";
import { type ChatModelOptions, closeChatModel, createChatModel } from "@mcp-langgraph/llm-factory";
import { AGENT_TOOL_NAMES } from "./agent-tools.js";
import { type ConversationChangeBus, createInProcessChangeBus } from "./change-bus.js";
import { McpServerError } from "./errors.js";
import { loadSystemPromptFile } from "./system-prompt.js";
import { DEFAULT_APPROVAL_TIMEOUT_MS } from "./upstreams/approval.js";
import { loadUpstreamsFile } from "./upstreams/config.js";
import { DEFAULT_UPSTREAM_TIMEOUT_MS, UpstreamGateway } from "./upstreams/gateway.js";

export type AuthorizerSettings =
  | {
      backend: "embedded";
      /**
       * Where the embedded engine keeps its tuples: memory (default) or Postgres. Must be
       * Postgres when the checkpointer is: conversations that outlive their ownership could be
       * claimed by anyone after a restart (ADR 0070).
       */
      storage?:
        | { backend: "memory" }
        | {
            backend: "postgres";
            connectionString: string;
            /** Tuple table (and prefix of its change-log tables). Default "authz_tuples". */
            table?: string;
            /** Connections for tuple writes and catch-ups. Default 4. */
            poolSize?: number;
          }
        | {
            backend: "sqlite";
            /** Database file; the checkpointer's own file, so one file holds a node's state (ADR 0111). */
            path: string;
            /** Tuple table (and prefix of its change-log tables). Default "authz_tuples". */
            table?: string;
            /** How long a write waits for the file's write lock. Default 5000 ms. */
            busyTimeoutMs?: number;
          };
    }
  | { backend: "openfga"; apiUrl: string; storeId?: string; modelId?: string; token?: string };

export type CheckpointerSettings =
  | { backend: "memory" }
  | {
      backend: "sqlite";
      /** Database file on this node (created with its directory); every worker process may share it. */
      path: string;
      /** How long a write waits for the file's write lock (agent-graph's default 5000 ms). */
      busyTimeoutMs?: number;
    }
  | {
      backend: "postgres";
      connectionString: string;
      /** Connections to Postgres: the bound on concurrent checkpoint queries (agent-graph's default 10). */
      poolSize?: number;
    };

export interface McpServiceSettings {
  authorizer: AuthorizerSettings;
  model: ChatModelOptions;
  checkpointer: CheckpointerSettings;
  /** Roles whose holders may execute every agent tool (seeded as `role:<r>#assignee executor tool:<t>`). */
  toolRoles?: string[];
  /**
   * "auto" (default): with no LLM provider configured, a client that offers
   * sampling answers through its own model; "off": always the configured model.
   */
  clientSampling?: "auto" | "off";
  /**
   * LangSmith tracing is switched on by environment. When it is not, LangChain's per-runnable
   * context is made cheap for the whole process (no RunTree per graph step; ADR 0054).
   */
  langsmithTracing?: boolean;
  /** Spreads the agent's CPU bursts over event-loop turns (the HTTP app shares one with its routes). */
  loopSlicer?: LoopSlicer;
  /** Serialises turns on one thread across instances (the HTTP app's Redis locks); default: this process only. */
  threadLocks?: ThreadLockProvider;
  /**
   * Admission limits, turn deadline and conversation-cache bounds of the agent (agent-graph's
   * defaults when unset). The conversation cache is on for the memory checkpointer (`false` turns
   * it off) and always off for Postgres, whatever is set here (ADR 0055).
   */
  agent?: Pick<
    AgentOptions,
    | "maxConcurrentTurns"
    | "maxQueuedTurns"
    | "maxTurnsPerUser"
    | "turnTimeoutMs"
    | "conversationCache"
    | "contextTokens"
    | "verification"
    | "maxSteps"
    | "systemPrompt"
  >;
  /** A UTF-8 file whose text is the agent's system prompt, read at start-up (instead of `agent.systemPrompt`). */
  systemPromptFile?: string;
  /** Resource subscriptions one MCP session may hold at once (default 100). */
  maxSubscriptionsPerSession?: number;
  /**
   * Where finished turns are announced to subscribed sessions. Default: this process only; the HTTP
   * app passes the Redis bus with SESSION_BACKEND=redis so every instance hears (ADR 0182).
   */
  changes?: ConversationChangeBus;
  /** Least time between two progress notifications carrying answer text, per agent_chat call (default 250 ms). */
  progressIntervalMs?: number;
  /** Upstream MCP servers whose tools the agent may call (ADR 0141); none when unset. */
  upstreams?: UpstreamSettings;
  logger?: Logger;
  /**
   * OpenTelemetry tracer for the authorizer's checks, the agent's turns and tool calls, the model's
   * calls and the MCP tool calls. The app builds it (only when tracing is configured); none: no spans.
   */
  tracer?: Tracer;
  /** Told of each authorization decision and whether the decision cache gave it (metrics). */
  onAuthzDecision?: AuthorizerOptions["onDecision"];
}

export interface UpstreamSettings {
  /** The upstreams file (JSON or YAML), read and validated at start-up. */
  file: string;
  /** Deadline of one upstream tool call. Default 30000 ms. */
  timeoutMs?: number;
  /** Deadline of connecting to an upstream and listing its tools. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Longest result text of one upstream call the model reads. Default 100000 characters. */
  maxResultChars?: number;
  /** How long a person has to approve a call that needs approval. Default 60000 ms. */
  approvalTimeoutMs?: number;
}

/** The running gateway and its limits, as the MCP tools use them. */
export interface UpstreamServices {
  gateway: UpstreamGateway;
  maxResultChars: number;
  approvalTimeoutMs: number;
}

export const DEFAULT_UPSTREAM_MAX_RESULT_CHARS = 100_000;

export interface RunningMcpServices {
  agent: Agent;
  authorizer: Authorizer;
  logger: Logger;
  /** The tracer the services were built with, for the MCP tool calls' spans. */
  tracer?: Tracer;
  /** Whether agent_chat should use the client's model (sampling) when the client offers it. */
  useClientSampling: boolean;
  /** Conversation changes, shared by every MCP session of this process (and of the others, when shared). */
  changes: ConversationChangeBus;
  maxSubscriptionsPerSession?: number;
  progressIntervalMs?: number;
  /** The upstream MCP servers' gateway, when MCP_UPSTREAMS_FILE configures one. */
  upstreams?: UpstreamServices;
  /**
   * Whether each backend answers now (readiness): the authorizer by reading the tool-grant tuples
   * (any answer counts, so no role's grant is assumed) and the checkpointer by a round trip to
   * its storage. Never throws; the caller's signal bounds it.
   */
  /** The authorizer's backend circuit, read at scrape time (`closed` for the in-process engine). */
  authorizerCircuitState(): CircuitState;
  probes: {
    authorizer(signal: AbortSignal): Promise<boolean>;
    checkpointer(signal: AbortSignal): Promise<boolean>;
  };
  close(): Promise<void>;
}

export const DEFAULT_TOOL_ROLES = ["user", "admin"];

export function toolGrantTuples(roles: string[]): Tuple[] {
  return roles.flatMap((role) =>
    AGENT_TOOL_NAMES.map((tool) => ({
      user: `role:${role}#assignee`,
      relation: "executor",
      object: `tool:${tool}`,
    })),
  );
}

/**
 * Writes the configured tool grants. With the embedded authorizer this
 * configuration is the only source of grants, and durable tuple storage would
 * otherwise keep a role's grants after the role is removed from TOOL_ROLES, so
 * any other executor tuple on the agent tools is deleted. An OpenFGA store is
 * managed by its operators and is left alone.
 */
async function syncToolGrants(authorizer: Authorizer, roles: string[], exclusive: boolean): Promise<void> {
  const wanted = toolGrantTuples(roles);
  await authorizer.writeTuples(wanted);
  if (!exclusive) return;
  const keep = new Set(wanted.map((tuple) => `${tuple.object}|${tuple.user}`));
  const present = await Promise.all(
    AGENT_TOOL_NAMES.map((tool) => authorizer.readTuples({ relation: "executor", object: `tool:${tool}` })),
  );
  const stale = present.flat().filter((tuple) => !keep.has(`${tuple.object}|${tuple.user}`));
  if (stale.length > 0) await authorizer.deleteTuples(stale);
}

/**
 * Ownership tuples must be at least as durable as the conversations they guard:
 * persisted conversations with in-memory ownership would, after a restart, go
 * to whoever names their thread id first. Refuses to start instead.
 */
function assertDurableOwnership(settings: McpServiceSettings): void {
  const { authorizer, checkpointer } = settings;
  if (authorizer.backend !== "embedded" || checkpointer.backend === "memory") return;
  const storage = authorizer.storage?.backend ?? "memory";
  // SQLite conversations stay on one node, so Postgres ownership outlasts them safely; Postgres
  // conversations are read on every machine, so node-local SQLite ownership would diverge.
  const durableEnough = checkpointer.backend === "postgres" ? storage === "postgres" : storage !== "memory";
  if (!durableEnough) {
    const where = checkpointer.backend === "postgres" ? "Postgres" : "SQLite";
    throw new McpServerError(
      "CONFIG_INVALID",
      `Conversations are kept in ${where} but the embedded authorizer would keep their ownership in ${storage}: ` +
        `give it ${where} tuple storage (authorizer.storage) or use AUTHZ_BACKEND=openfga.`,
    );
  }
}

/**
 * Builds the services the MCP tools use (authorizer with the project model and
 * tool grants, chat model, checkpointer, agent) from typed settings. Both apps
 * call this; only their config modules turn environment variables into settings.
 */
export async function createMcpServices(settings: McpServiceSettings): Promise<RunningMcpServices> {
  const logger = settings.logger ?? noopLogger;
  if (!settings.langsmithTracing) useLightweightRunContext();
  assertDurableOwnership(settings);
  const model = await loadProjectModel();
  // The packages' own warnings ("authz unavailable: denying", model retries and fallbacks) go to the app's log.
  const { tracer, onAuthzDecision } = settings;
  const authorizer = await createAuthorizer(
    { ...settings.authorizer, model },
    { logger, ...(tracer ? { tracer } : {}), ...(onAuthzDecision ? { onDecision: onAuthzDecision } : {}) },
  );
  const closeAll: (() => Promise<void>)[] = [() => authorizer.close()];
  try {
    const toolRoles = settings.toolRoles ?? DEFAULT_TOOL_ROLES;
    await syncToolGrants(authorizer, toolRoles, settings.authorizer.backend === "embedded");
    const upstreams = settings.upstreams
      ? await startUpstreams(
          settings.upstreams,
          authorizer,
          toolRoles,
          settings.authorizer.backend === "embedded",
          logger,
        )
      : undefined;
    if (upstreams) closeAll.push(() => upstreams.gateway.close());
    const chatModel = await createChatModel({ logger, ...(tracer ? { tracer } : {}), ...settings.model });
    closeAll.push(() => closeChatModel(chatModel));
    const systemPrompt = settings.systemPromptFile
      ? await loadSystemPromptFile(settings.systemPromptFile, { signal: AbortSignal.timeout(5_000) })
      : settings.agent?.systemPrompt;
    const checkpointer = await createCheckpointer(settings.checkpointer);
    closeAll.push(() => checkpointer.close());
    const { loopSlicer } = settings;
    // Only this process writes an in-memory checkpointer, so its threads may stay decoded between
    // reads; SQLite and Postgres are written by every worker process, whose turns would go unseen.
    const conversationCache =
      settings.checkpointer.backend === "memory" ? (settings.agent?.conversationCache ?? {}) : false;
    const agent = createAgent({
      ...settings.agent,
      model: chatModel,
      checkpointer,
      conversationCache,
      // A summariser or judge that failed is logged; the turn goes on without it.
      logger,
      ...(tracer ? { tracer } : {}),
      ...(systemPrompt !== undefined ? { systemPrompt } : {}),
      ...(loopSlicer ? { yieldToLoop: () => loopSlicer.turn("continue") } : {}),
      ...(settings.threadLocks ? { threadLocks: settings.threadLocks } : {}),
    });
    const offline = (settings.model.provider ?? "offline") === "offline";
    return {
      agent,
      authorizer,
      logger,
      ...(tracer ? { tracer } : {}),
      useClientSampling: offline && settings.clientSampling !== "off",
      changes: settings.changes ?? createInProcessChangeBus(),
      ...(upstreams ? { upstreams } : {}),
      ...(settings.maxSubscriptionsPerSession !== undefined
        ? { maxSubscriptionsPerSession: settings.maxSubscriptionsPerSession }
        : {}),
      ...(settings.progressIntervalMs !== undefined
        ? { progressIntervalMs: settings.progressIntervalMs }
        : {}),
      authorizerCircuitState: () => authorizer.circuitState,
      probes: {
        authorizer: (signal) =>
          authorizer
            .readTuples({ relation: "executor", object: `tool:${AGENT_TOOL_NAMES[0]}` }, { signal })
            .then(
              () => true,
              () => false,
            ),
        checkpointer: (signal) => checkpointer.ping({ signal }),
      },
      async close() {
        await Promise.allSettled(closeAll.map((close) => close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(closeAll.map((close) => close()));
    throw error;
  }
}

/**
 * Reads the upstreams file (a bad field stops start-up, named), grants each server's roles (the
 * embedded authorizer's only source of grants, so stale ones go as for the agent tools) and
 * connects every server; one that is down does not stop start-up and keeps being retried.
 */
async function startUpstreams(
  settings: UpstreamSettings,
  authorizer: Authorizer,
  toolRoles: string[],
  exclusive: boolean,
  logger: Logger,
): Promise<UpstreamServices> {
  const servers = await loadUpstreamsFile(settings.file, { signal: AbortSignal.timeout(5_000) });
  const gateway = new UpstreamGateway({
    servers,
    timeoutMs: settings.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    ...(settings.connectTimeoutMs !== undefined ? { connectTimeoutMs: settings.connectTimeoutMs } : {}),
    logger,
  });
  const wanted = gateway.grantTuples(toolRoles);
  await authorizer.writeTuples(wanted);
  if (exclusive) {
    const keep = new Set(wanted.map((tuple) => `${tuple.object}|${tuple.user}`));
    const present = await Promise.all(
      gateway
        .serverNames()
        .map((name) => authorizer.readTuples({ relation: "executor", object: `upstream_server:${name}` })),
    );
    const stale = present.flat().filter((tuple) => !keep.has(`${tuple.object}|${tuple.user}`));
    if (stale.length > 0) await authorizer.deleteTuples(stale);
  }
  await gateway.start();
  return {
    gateway,
    maxResultChars: settings.maxResultChars ?? DEFAULT_UPSTREAM_MAX_RESULT_CHARS,
    approvalTimeoutMs: settings.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
  };
}
