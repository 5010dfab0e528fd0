export {
  createAgent,
  DEFAULT_CONTEXT_TOKENS,
  DEFAULT_MAX_CONCURRENT_TURNS,
  DEFAULT_MAX_QUEUED_TURNS,
  DEFAULT_MAX_REFINEMENTS,
  DEFAULT_MAX_TURNS_PER_USER,
  DEFAULT_SYSTEM_PROMPT,
  DEFAULT_VERIFY_THRESHOLD,
} from "./agent.js";
export type { ConversationSummary } from "./agent-state.js";
export type {
  ApprovalDecision,
  ApprovalDecisions,
  ApprovalInterrupt,
  ToolApproval,
  ToolApprovalRequest,
} from "./approval.js";
export { evaluateArithmetic, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH } from "./arithmetic.js";
export { CALCULATOR_TOOL_NAME, calculatorTool } from "./calculator-tool.js";
export {
  type CheckpointerConfig,
  type ClosableCheckpointer,
  createCheckpointer,
  type MemoryCheckpointerConfig,
  type PostgresCheckpointerConfig,
  type SqliteCheckpointerConfig,
} from "./checkpointer.js";
export { SUMMARY_PROMPT } from "./compaction.js";
export {
  type ConversationCacheOptions,
  DEFAULT_CONVERSATION_CACHE_CHARS,
  DEFAULT_CONVERSATION_CACHE_THREADS,
} from "./conversation-cache.js";
export { AGENT_ERROR_FAMILY, AgentError, type AgentErrorCode, isAgentError } from "./errors.js";
export {
  type IdleThreadLister,
  type IdleThreadQuery,
  listIdleThreads,
  MAX_IDLE_THREAD_BATCH,
} from "./idle-threads.js";
export type { Conversation, ConversationMessage } from "./messages.js";
export { askCaller, type TurnPause, type TurnResume } from "./pause.js";
export {
  LANGSMITH_TRACING_VARIABLES,
  restoreRunContext,
  useLightweightRunContext,
} from "./run-context.js";
export { type ThreadLockProvider, ThreadLocks } from "./thread-locks.js";
export { estimateMessageTokens, estimateTextTokens } from "./token-estimate.js";
export type { Agent, AgentEvent, AgentOptions, AgentReply, ChatInput, SearchHit } from "./types.js";
export { JUDGE_PROMPT } from "./verification.js";
