export { type ConversationAccess, roleTuples, ToolAccess, type ToolObject } from "./access.js";
export { AGENT_TOOL_NAMES, agentToolTable } from "./agent-tools.js";
export {
  type ConversationChangeBus,
  type ConversationChangeListener,
  createInProcessChangeBus,
} from "./change-bus.js";
export {
  type ChangeBusRedisClient,
  type ChangeBusRedisSubscriber,
  createRedisChangeBus,
  type RedisChangeBus,
  type RedisChangeBusOptions,
} from "./change-bus-redis.js";
export type { CompletionRouter } from "./completions.js";
export { ConversationListens, type ConversationListensOptions } from "./conversation-listens.js";
export { isMcpServerError, McpServerError, type McpServerErrorCode } from "./errors.js";
export type { McpObserver } from "./observer.js";
export { loadRateTiersFile, parseRateTiers, type RateTier } from "./rate-tiers.js";
export {
  createUserBoundRequestStateCodec,
  DEFAULT_REQUEST_STATE_TTL_SECONDS,
  MIN_REQUEST_STATE_KEY_BYTES,
  type UserBoundRequestStateOptions,
} from "./request-state.js";
export {
  type CreateMcpServerOptions,
  createMcpServer,
  DEFAULT_SERVER_INFO,
  type McpRegistrar,
  type McpRegistrarContext,
  type McpServices,
  TASK_TOOLS,
} from "./server.js";
export {
  type AuthorizerSettings,
  type CheckpointerSettings,
  createMcpServices,
  DEFAULT_TOOL_ROLES,
  DEFAULT_UPSTREAM_MAX_RESULT_CHARS,
  type McpServiceSettings,
  type RunningMcpServices,
  toolGrantTuples,
  type UpstreamServices,
  type UpstreamSettings,
} from "./services.js";
export {
  SERVICE_SECRET_VARIABLES,
  type ServiceConfigRecord,
  serviceSettingsFromConfig,
} from "./settings.js";
export type { SharedSubscriptionStore, SubscriberRecord } from "./subscriptions.js";
export { CONVERSATION_URI_PREFIX, DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION } from "./subscriptions.js";
export { createMemoryTaskStore } from "./tasks/memory-task-store.js";
export {
  createRedisTaskStore,
  type RedisTaskStoreOptions,
  type TaskRedisClient,
  type TaskRedisSubscriber,
} from "./tasks/redis-task-store.js";
export {
  checkTaskLimitValues,
  TASK_LIMIT_VARIABLES,
  type TaskLimitValues,
  taskLimitsFromValues,
} from "./tasks/task-limit-variables.js";
export { createMcpTasks, type McpTasks } from "./tasks/task-runs.js";
export {
  DEFAULT_TASK_STORE_LIMITS,
  type RunStatusChange,
  type StoredTask,
  type TaskPage,
  type TaskStatus,
  type TaskStore,
  type TaskStoreLimits,
} from "./tasks/task-store.js";
export type { TaskSupport } from "./tasks/task-tool-call.js";
export { clientThreadId, conversationKey, ownThreadId, threadIdSchema } from "./thread-keys.js";
export {
  defineTool,
  errorCodeOf,
  type GuardedCall,
  guardedCall,
  registerToolTable,
  type ToolCall,
  type ToolDefinition,
  type ToolGuardOptions,
  type ToolTableOptions,
} from "./tool-table.js";
export {
  DEFAULT_PROGRESS_INTERVAL_MS,
  PROGRESS_META_KEY,
  type ProgressEvent,
} from "./turn-progress.js";
export { resultText, type UpstreamAgentToolsOptions, upstreamAgentTools } from "./upstreams/agent-tools.js";
export {
  approvalMessage,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  elicitationApproval,
  inputRequiredApproval,
} from "./upstreams/approval.js";
export {
  loadUpstreamsFile,
  matchesGlob,
  parseUpstreams,
  type UpstreamServerConfig,
} from "./upstreams/config.js";
export {
  DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  UpstreamGateway,
  type UpstreamGatewayOptions,
  type UpstreamTool,
} from "./upstreams/gateway.js";
export {
  createUsageLimits,
  DEFAULT_TOOL_CALLS_PER_MINUTE,
  type UsageLimitName,
  type UsageLimits,
  type UsageLimitsOptions,
} from "./usage-limits.js";
