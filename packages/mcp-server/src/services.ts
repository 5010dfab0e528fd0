import {
  type Agent,
  type AgentOptions,
  createAgent,
  createCheckpointer,
  useLightweightRunContext,
} from "@mcp-langgraph/agent-graph";
import { type Authorizer, createAuthorizer, loadProjectModel, type Tuple } from "@mcp-langgraph/authz";
import { type Logger, type LoopSlicer, noopLogger } from "@mcp-langgraph/core";
import { type ChatModelOptions, closeChatModel, createChatModel } from "@mcp-langgraph/llm-factory";
import { AGENT_TOOL_NAMES } from "./agent-tools.js";
import { type ConversationChangeBus, createInProcessChangeBus } from "./change-bus.js";
import { McpServerError } from "./errors.js";
import { loadSystemPromptFile } from "./system-prompt.js";

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
    | "maxSteps"
    | "systemPrompt"
  >;
  /** A UTF-8 file whose text is the agent's system prompt, read at start-up (instead of `agent.systemPrompt`). */
  systemPromptFile?: string;
  /** Resource subscriptions one MCP session may hold at once (default 100). */
  maxSubscriptionsPerSession?: number;
  logger?: Logger;
}

export interface RunningMcpServices {
  agent: Agent;
  authorizer: Authorizer;
  logger: Logger;
  /** Whether agent_chat should use the client's model (sampling) when the client offers it. */
  useClientSampling: boolean;
  /** Conversation changes, shared by every MCP session of this process. */
  changes: ConversationChangeBus;
  maxSubscriptionsPerSession?: number;
  /**
   * Whether each backend answers now (readiness): the authorizer by reading the tool-grant tuples
   * (any answer counts, so no role's grant is assumed) and the checkpointer by a round trip to
   * its storage. Never throws; the caller's signal bounds it.
   */
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
  const authorizer = await createAuthorizer({ ...settings.authorizer, model }, { logger });
  const closeAll: (() => Promise<void>)[] = [() => authorizer.close()];
  try {
    await syncToolGrants(
      authorizer,
      settings.toolRoles ?? DEFAULT_TOOL_ROLES,
      settings.authorizer.backend === "embedded",
    );
    const chatModel = await createChatModel({ logger, ...settings.model });
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
      ...(systemPrompt !== undefined ? { systemPrompt } : {}),
      ...(loopSlicer ? { yieldToLoop: () => loopSlicer.turn("continue") } : {}),
    });
    const offline = (settings.model.provider ?? "offline") === "offline";
    return {
      agent,
      authorizer,
      logger,
      useClientSampling: offline && settings.clientSampling !== "off",
      changes: createInProcessChangeBus(),
      ...(settings.maxSubscriptionsPerSession !== undefined
        ? { maxSubscriptionsPerSession: settings.maxSubscriptionsPerSession }
        : {}),
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
