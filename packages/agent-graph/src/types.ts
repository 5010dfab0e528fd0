import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { StructuredToolInterface } from "@langchain/core/tools";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { Logger, Tracer } from "@mcp-langgraph/core";
import type { ToolApproval } from "./approval.js";
import type { ConversationCacheOptions } from "./conversation-cache.js";
import type { IdleThreadQuery } from "./idle-threads.js";
import type { Conversation, ConversationMessage } from "./messages.js";
import type { TurnPause, TurnResume } from "./pause.js";
import type { ThreadLockProvider } from "./thread-locks.js";

export interface AgentReply {
  threadId: string;
  /** The assistant's final answer for this turn. */
  reply: string;
  /** The whole thread after this turn. */
  messages: ConversationMessage[];
  /** Tokens the model reported for this turn, summed over its steps (absent when the model reports none). */
  usage?: { inputTokens: number; outputTokens: number };
  /**
   * With `verification` on: the judge's score of each answer it judged this turn, in order, and how
   * many times the answer was rewritten. The last rewrite is not judged again, so when
   * `refinements` equals `scores.length` the reply is a rewrite of the last answer scored.
   */
  verification?: { scores: number[]; refinements: number };
  /**
   * Set when the turn stopped for its caller's input instead of answering (a deferred approval, or
   * an interrupt of the caller's own): `reply` is empty and the thread waits at `pause.checkpointId`
   * until a turn with `resume` continues it, or a new message abandons it (ADR 0185).
   */
  pause?: TurnPause;
}

export interface SearchHit {
  threadId: string;
  role: ConversationMessage["role"];
  content: string;
  /** Position of the message in `getConversation(threadId)`. */
  index: number;
}

export interface ChatInput {
  threadId: string;
  message: string;
  /** Replaces the agent's model for this turn only (e.g. the MCP client's model via sampling). */
  model?: BaseChatModel;
  signal?: AbortSignal;
  /** Whose turn this is: turns are admitted fairly between users, each within `maxTurnsPerUser`. */
  userId?: string;
  /**
   * Runs once the turn is admitted and holds its thread, before anything is read or written:
   * the place for a claim on the thread (an ownership tuple), so a refused turn claims nothing.
   * A throw ends the turn with that error.
   */
  onAdmitted?: (signal: AbortSignal) => Promise<void>;
  /**
   * Tools offered for this turn only, besides the agent's own (e.g. the caller's upstream MCP
   * tools, bound to the caller so each call is authorized for them). Names must not repeat.
   */
  tools?: StructuredToolInterface[];
  /**
   * Tool calls that need a person's approval pause the turn (LangGraph `interrupt`) until `ask`
   * decides; a refused call does not run and the model reads why. None: nothing needs approval.
   */
  approval?: ToolApproval;
  /**
   * Continues the run a paused turn left (`AgentReply.pause`) with the caller's answer, instead of
   * adding `message` (which is then not stored). Refused with AGENT_RESUME_STALE, changing nothing,
   * unless the thread's newest checkpoint is still the pause's.
   */
  resume?: TurnResume;
}

/** What `streamChat` yields, in order; the last event of a successful turn is always `reply`. */
export type AgentEvent =
  /** A piece of the assistant's text as the model produces it. */
  | { type: "token"; text: string }
  | { type: "tool_call"; name: string; args: Record<string, unknown> }
  | { type: "tool_result"; name: string; content: string }
  | { type: "reply"; reply: AgentReply };

export type EmitEvent = (event: AgentEvent) => void;

export interface Agent {
  /** The longest message `chat` accepts: callers validating input up front use this one limit. */
  readonly maxMessageChars: number;
  chat(input: ChatInput): Promise<AgentReply>;
  /**
   * The same turn as `chat`, as events. Failures are thrown from the iterator as
   * the same typed errors; stopping the iteration early cancels the turn.
   */
  streamChat(input: ChatInput): AsyncIterable<AgentEvent>;
  /**
   * The thread's messages, or null when the thread does not exist. The messages are frozen (they
   * may be shared with the conversation cache); copy them to change them.
   */
  getConversation(threadId: string, opts?: { signal?: AbortSignal }): Promise<Conversation | null>;
  /**
   * Deletes the thread and all its checkpoints (a no-op for an unknown thread, so a retried erase is
   * safe). Waits for a turn in flight on the thread; bounded by `readTimeoutMs`.
   */
  deleteConversation(threadId: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * One page of threads whose last activity is before `query.before` (thread-id order, after
   * `query.after`): what a retention sweep deletes. Bounded by `readTimeoutMs`.
   */
  listIdleConversations(query: IdleThreadQuery): Promise<string[]>;
  /**
   * Deletes the thread if its last activity is still before `idleBefore` (checked under the
   * thread's lock, so a turn that ran since it was listed keeps it). True when it was deleted.
   */
  deleteIdleConversation(
    threadId: string,
    idleBefore: Date,
    opts?: { signal?: AbortSignal },
  ): Promise<boolean>;
  /** Case-insensitive substring search over the given threads only; unknown threads are ignored. */
  searchConversations(
    threadIds: string[],
    query: string,
    opts?: { limit?: number; signal?: AbortSignal },
  ): Promise<SearchHit[]>;
}

export interface AgentOptions {
  model: BaseChatModel;
  /** Where threads live. Default: a new in-memory saver (lost on restart). */
  checkpointer?: BaseCheckpointSaver;
  /**
   * Serialises turns on one thread across every agent sharing `checkpointer` (e.g. session's
   * `RedisLocks`), behind this process's own lock. While a turn runs, checkpoint writes for a
   * thread whose lock was lost are refused (ADR 0165). Default: one process only (no I/O).
   */
  threadLocks?: ThreadLockProvider;
  /** Default: [calculatorTool]. */
  tools?: StructuredToolInterface[];
  /** Model calls allowed in one turn; a turn needing more fails with AGENT_STEP_LIMIT. Default 8. */
  maxSteps?: number;
  systemPrompt?: string;
  /** Longest accepted user message. Default 16000 characters. */
  maxMessageChars?: number;
  /**
   * A thread whose stored messages total this many characters accepts no further turns: a bound on
   * storage, not on the model's context (compaction bounds that). Default 1000000.
   */
  maxHistoryChars?: number;
  /** Deadline for one whole turn (all model and tool steps). Default 120000 ms. */
  turnTimeoutMs?: number;
  /** Deadline for reading a thread. Default 10000 ms. */
  readTimeoutMs?: number;
  /** Turns running at once in this agent; more wait in a bounded queue. Default 2000. */
  maxConcurrentTurns?: number;
  /** Turns allowed to wait for a slot; beyond this chat fails fast with AGENT_BUSY. Default 2000 (0: no waiting). */
  maxQueuedTurns?: number;
  /** Turns one user (`ChatInput.userId`) may have running or waiting. Default 1000. */
  maxTurnsPerUser?: number;
  /**
   * Awaited before each CPU burst of a turn (after the model answers, after tools run), so a host
   * serving thousands of turns can spread those bursts over event-loop turns and stay responsive
   * (core's `createLoopSlicer`). Default: none.
   */
  yieldToLoop?: () => Promise<void>;
  /**
   * Keeps recently read threads decoded (an LRU) so `getConversation` and `searchConversations`
   * skip the checkpointer. The cache learns of writes only from this agent's own turns, so it is
   * allowed only on a `MemorySaver` that this agent alone writes: never on a shared store such as
   * Postgres, where other processes write (ADR 0055). Default: on (default bounds) when the agent
   * creates its own saver, off when `checkpointer` is given; `false` turns it off.
   */
  conversationCache?: ConversationCacheOptions | false;
  /**
   * The model's context, in estimated tokens (about four characters a token; ADR 0130). When the
   * system prompt, tools, summary and unsummarised turns would exceed it, older whole turns are
   * summarised by the model into one note sent with the system prompt; the thread keeps every
   * message. Default 32000.
   */
  contextTokens?: number;
  /**
   * Judge each final answer (a model call with structured output: score 0..1 and feedback) and
   * rewrite it while it scores below `threshold` (default 0.7), at most `maxRefinements` times per
   * turn (default 2; 0 only scores). A failed judge or rewrite keeps the answer. Default: off.
   */
  verification?: { threshold?: number; maxRefinements?: number };
  /** Warnings the turn survives (a summariser or judge that failed). Default: none. */
  logger?: Logger;
  /**
   * Traces each turn as an `invoke_agent` span and each tool call as an `execute_tool <name>`
   * child (gen_ai semantic conventions; token counts, never message text). None when unset.
   */
  tracer?: Tracer;
}
