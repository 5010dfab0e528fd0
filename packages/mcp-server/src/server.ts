import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { type Agent, askCaller } from "@mcp-langgraph/agent-graph";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Authorizer } from "@mcp-langgraph/authz";
import { type Logger, noopLogger, type Tracer } from "@mcp-langgraph/core";
import {
  createSamplingChatModel,
  SamplingChatModel,
  type SamplingResponse,
} from "@mcp-langgraph/llm-factory";
import {
  type CreateMessageRequestParams,
  McpServer,
  type RequestStateCodec,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { ToolAccess } from "./access.js";
import { registerAgentTools } from "./agent-tools.js";
import { callSampling } from "./call-sampling.js";
import type { ConversationChangeBus } from "./change-bus.js";
import { CompletionRouter } from "./completions.js";
import { registerConversationResources } from "./conversation-resources.js";
import type { SamplingInterrupt } from "./input-required.js";
import type { McpObserver } from "./observer.js";
import type { UpstreamServices } from "./services.js";
import { trackSessionLogLevel } from "./session-log.js";
import {
  DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
  type SharedSubscriptionStore,
  trackResourceSubscriptions,
} from "./subscriptions.js";
import { installTasks } from "./tasks/install-tasks.js";
import type { McpTasks } from "./tasks/task-runs.js";
import type { TaskSupport } from "./tasks/task-tool-call.js";
import { cacheToolList } from "./tool-list-cache.js";
import type { ToolCall } from "./tool-table.js";
import { DEFAULT_PROGRESS_INTERVAL_MS } from "./turn-progress.js";
import { upstreamAgentTools } from "./upstreams/agent-tools.js";
import { elicitationApproval, inputRequiredApproval } from "./upstreams/approval.js";
import type { UsageLimits } from "./usage-limits.js";

export interface McpServices {
  agent: Agent;
  authorizer: Authorizer;
  logger?: Logger;
  /** Let agent_chat answer through the client's own model when the client offers sampling. */
  useClientSampling?: boolean;
  /**
   * Shared by every session of the process: a finished turn is published here, and sessions
   * subscribed to that conversation send `notifications/resources/updated`.
   */
  changes: ConversationChangeBus;
  /** Resource subscriptions one session may hold (default 100). */
  maxSubscriptionsPerSession?: number;
  /**
   * Least time between two `notifications/progress` carrying answer text, per `agent_chat` call
   * whose request has a progress token (default 250 ms; 0: one per streamed piece).
   */
  progressIntervalMs?: number;
  /** Per-user tool-call and model-token limits, shared by every session of the process (none when unset). */
  usageLimits?: UsageLimits;
  /** Told of every tool call and agent turn with its outcome (e.g. the HTTP app's metrics). */
  observer?: McpObserver;
  /** Upstream MCP servers' tools for the agent, with approval by elicitation (none when unset). */
  upstreams?: UpstreamServices;
  /** Traces tool calls (`tools/call <tool>` spans); none when unset. */
  tracer?: Tracer;
  /**
   * MCP tasks of the process (`createMcpTasks(store)`: a store in memory or Redis, and the runs
   * in flight). When set, the server advertises `tasks` and agent_chat may be called as a task.
   */
  tasks?: McpTasks;
}

/** Tools a client may call as tasks (MCP `execution.taskSupport`): a turn can take long. */
export const TASK_TOOLS: Readonly<Record<string, TaskSupport>> = { agent_chat: "optional" };

export interface CreateMcpServerOptions {
  services: McpServices;
  /**
   * Who the current request acts for. The HTTP app derives it from the
   * request's verified token; the stdio app returns its one local identity.
   */
  principalOf: (ctx: ServerContext) => Principal;
  serverInfo?: { name: string; version: string };
  /**
   * More tools, resources or prompts, registered after the built-in ones (e.g. the conformance
   * suite's fixtures from `@mcp-langgraph/mcp-server/conformance`, which the main entry does not
   * carry so that no production bundle ships them). Each runs once per created server.
   */
  registrars?: readonly McpRegistrar[];
  maxMessageChars?: number;
  maxSearchResults?: number;
  /**
   * The protocol era this server serves: `legacy` (2025-11-25, one server per session, the
   * default) or `modern` (2026-07-28, one server per request, no server-to-client requests).
   * That protocol has no server-to-client requests: with `requestState` set, a modern server asks
   * for approvals and for the client's model (sampling) mid-turn by ending agent_chat with an
   * input_required result and resuming the paused run on the retry (ADR 0185); without it, turns
   * use the configured model and calls that need approval are refused.
   */
  era?: "legacy" | "modern";
  /**
   * Verifies every echoed 2026-07-28 `requestState` before a handler runs (a forged, expired or
   * another user's state is refused with -32602). `createUserBoundRequestStateCodec` builds one.
   */
  requestState?: RequestStateCodec<unknown>;
  /**
   * The session's resource subscriptions when the session is shared by several instances (the HTTP
   * app's Redis store, ADR 0183), with the deadline of its calls made outside a request. Unset:
   * they live in this server.
   */
  sharedSubscriptions?: { store: SharedSubscriptionStore; timeoutMs: number };
}

/** What a registrar may extend besides the server: the session's completions and subscribable URIs. */
export interface McpRegistrarContext {
  /** The session's one `completion/complete` handler; a registrar adds its prompts' or templates' sources. */
  completions: CompletionRouter;
  /** Static resources anyone may subscribe to (conversations need read permission instead). */
  subscribableUris: Set<string>;
}

/** Adds tools, resources or prompts to a server `createMcpServer` is building. */
export type McpRegistrar = (server: McpServer, context: McpRegistrarContext) => void;

export const DEFAULT_SERVER_INFO = { name: "mcp-langgraph", version: "0.1.0" } as const;

/**
 * Builds one MCP server (tools, resources, prompts) for one client session.
 * Transport-agnostic: both the Streamable HTTP app and the stdio binary
 * connect what this returns, so no tool is defined twice.
 */
export function createMcpServer(options: CreateMcpServerOptions): McpServer {
  const { services, principalOf, registrars = [] } = options;
  const logger = services.logger ?? noopLogger;
  const modern = options.era === "modern";
  const server = new McpServer(options.serverInfo ?? DEFAULT_SERVER_INFO, {
    ...(options.requestState ? { requestState: { verify: options.requestState.verify } } : {}),
    capabilities: {
      tools: {},
      resources: { subscribe: true },
      prompts: {},
      logging: {},
      completions: {},
    },
    instructions:
      "mcp-langgraph runs a LangGraph agent. Call agent_chat with a message (and a thread_id to continue a conversation); read your conversations with conversation_get and conversation_search.",
  });

  const access = new ToolAccess(services.authorizer);
  const reportFailure = (tool: string, error: unknown) =>
    logger.error({ tool, err: describeError(error) }, "tool call failed");
  const completions = new CompletionRouter();
  const { changes } = services;
  // Modern turns pause for the client's input only when the pause can be sealed into a requestState.
  const pausable = modern && options.requestState !== undefined;

  registerAgentTools(server, {
    agent: services.agent,
    modelForCall: !services.useClientSampling
      ? async () => undefined
      : pausable
        ? askingSamplingModel(server)
        : modern
          ? async () => undefined
          : clientSamplingModel(server),
    inputRequired:
      pausable && options.requestState
        ? { codec: options.requestState, clientSamplesTools: () => clientSamplesTools(server) }
        : undefined,
    access,
    principalOf,
    reportFailure,
    changes,
    sessionLog: trackSessionLogLevel(server),
    maxMessageChars: options.maxMessageChars ?? services.agent.maxMessageChars,
    maxSearchResults: options.maxSearchResults ?? 50,
    limits: services.usageLimits,
    observer: services.observer,
    progressIntervalMs: services.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    turnExtras: services.upstreams
      ? upstreamTurnExtras(server, services.upstreams, access, reportFailure, modern, pausable)
      : undefined,
    tracer: services.tracer,
  });
  registerConversationResources(server, { agent: services.agent, access, principalOf, completions });
  const subscribableUris = new Set<string>();
  for (const register of registrars) register(server, { completions, subscribableUris });
  trackResourceSubscriptions(server, {
    access,
    principalOf,
    changes,
    maxSubscriptions: services.maxSubscriptionsPerSession ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
    publicUris: subscribableUris,
    ...(options.sharedSubscriptions
      ? { shared: options.sharedSubscriptions.store, sharedTimeoutMs: options.sharedSubscriptions.timeoutMs }
      : {}),
    logger,
  });
  completions.install(server);
  if (services.tasks) {
    installTasks(server, {
      tasks: services.tasks,
      taskTools: TASK_TOOLS,
      principalOf,
      // The same check as the tool table's (`tool:<name>`, executor): a task runs no tool the caller could not call.
      authorize: (principal, tool, signal) =>
        access.requireTool(principal, { name: tool, object: `tool:${tool}`, relation: "executor" }, signal),
      // The tool table's own limit, counted once: here, so a call over it creates no task.
      admit: async (principal, signal) => services.usageLimits?.admitToolCall(principal, signal),
      reportFailure,
    });
  }
  cacheToolList(server);
  return server;
}

/** Each turn gets the caller's upstream tools (guarded per call) and asks approvals of the caller's client. */
function upstreamTurnExtras(
  server: McpServer,
  { gateway, maxResultChars, approvalTimeoutMs }: UpstreamServices,
  access: ToolAccess,
  reportFailure: (tool: string, error: unknown) => void,
  modern: boolean,
  pausable: boolean,
) {
  return ({ principal, ctx }: ToolCall) => ({
    tools: upstreamAgentTools(principal, { gateway, guard: { access, reportFailure }, maxResultChars }),
    approval: modern
      ? inputRequiredApproval(server, gateway, pausable)
      : elicitationApproval(server, ctx, gateway, approvalTimeoutMs),
  });
}

/**
 * The client's own model, reached through MCP sampling, for clients that
 * declared the capability; built once per session. If the client declines a
 * request, the turn falls back to the offline model rather than failing.
 */
function clientSamplingModel(server: McpServer): () => Promise<BaseChatModel | undefined> {
  let model: Promise<BaseChatModel> | undefined;
  return async () => {
    if (!server.server.getClientCapabilities()?.sampling) return undefined;
    model ??= createSamplingChatModel({
      sample: (request, { signal }) => {
        // Tool use in sampling is a separate client capability; without it the client's model answers in text.
        const { tools, toolChoice, ...plain } = request;
        const params = (clientSamplesTools(server) ? request : plain) as CreateMessageRequestParams;
        // Through the current call when there is one (a task run's call marks its task input_required).
        const ask = callSampling() ?? ((p, options) => server.server.createMessage(p, options));
        return ask(params, { signal }) as Promise<SamplingResponse>;
      },
      fallbacks: [{ provider: "offline" }],
    });
    return model;
  };
}

/**
 * The client's own model on the 2026-07-28 protocol, for clients that declared sampling: each
 * model call pauses the turn with its request (askCaller), agent_chat returns it as an
 * input_required `sampling/createMessage`, and the retry's result resumes the model call (ADR
 * 0185). No fallback model: a pause is not a failure to fall back from.
 */
function askingSamplingModel(server: McpServer): () => Promise<BaseChatModel | undefined> {
  let model: BaseChatModel | undefined;
  return async () => {
    if (!server.server.getClientCapabilities()?.sampling) return undefined;
    model ??= new SamplingChatModel({
      sample: async (request) =>
        askCaller<SamplingResponse>({ sampling: request } satisfies SamplingInterrupt),
    });
    return model;
  };
}

function clientSamplesTools(server: McpServer): boolean {
  return Boolean(server.server.getClientCapabilities()?.sampling?.tools);
}

/** Error facts safe for operator logs: code and message, never request data or tokens. */
function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { name: error.name, code: (error as { code?: unknown }).code, message: error.message };
  }
  return { value: String(error) };
}
