import { randomUUID } from "node:crypto";
import type { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  type AIMessage,
  type BaseMessage,
  HumanMessage,
  isAIMessage,
  isHumanMessage,
} from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import {
  Command,
  END,
  type LangGraphRunnableConfig,
  MemorySaver,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import {
  createBulkhead,
  createFairBulkhead,
  deadlineSignal,
  isCoreError,
  noopLogger,
  raceAbort,
  withDeadline,
} from "@mcp-langgraph/core";
import { AgentState, type AgentStateValue, type TurnStats } from "./agent-state.js";
import {
  approvalNode,
  asApprovalInterrupt,
  decideApprovals,
  needsApproval,
  type ToolApproval,
} from "./approval.js";
import { calculatorTool } from "./calculator-tool.js";
import { createCompaction } from "./compaction.js";
import { contextBudget } from "./context-window.js";
import { createConversationCache } from "./conversation-cache.js";
import { AgentError, toAgentError } from "./errors.js";
import { EventQueue } from "./event-queue.js";
import { fenceCheckpointer } from "./fenced-checkpointer.js";
import { lastActivity, listIdleThreads } from "./idle-threads.js";
import {
  type Conversation,
  closeUnansweredToolCalls,
  freezeConversation,
  freshenReusedToolCallIds,
  stampCreatedAt,
  toConversationMessages,
} from "./messages.js";
import { interruptOf, type TurnPause } from "./pause.js";
import { createStreamTranslator } from "./stream-events.js";
import { layeredThreadLocks, ThreadLocks } from "./thread-locks.js";
import { estimateTextTokens, estimateToolTokens } from "./token-estimate.js";
import { traceTurn, turnParent } from "./tracing.js";
import type {
  Agent,
  AgentEvent,
  AgentOptions,
  AgentReply,
  ChatInput,
  EmitEvent,
  SearchHit,
} from "./types.js";
import { assertIntegerInRange, assertText, assertThreadId } from "./validation.js";
import { createVerification } from "./verification.js";

export const DEFAULT_SYSTEM_PROMPT =
  "You are a helpful assistant. Use the calculator tool for any arithmetic and report its result exactly.";

/**
 * A turn waiting on a model costs memory (tens of kB), not CPU, so the defaults admit thousands;
 * the per-user bound keeps one user from taking every slot (ADR 0053).
 */
export const DEFAULT_MAX_CONCURRENT_TURNS = 2_000;
export const DEFAULT_MAX_QUEUED_TURNS = 2_000;
export const DEFAULT_MAX_TURNS_PER_USER = 1_000;

/**
 * Below every current hosted model's context (and Ollama's when raised), and a bound on what one
 * model call costs; an estimate, not a tokenizer count (ADR 0130).
 */
export const DEFAULT_CONTEXT_TOKENS = 32_000;
export const DEFAULT_VERIFY_THRESHOLD = 0.7;
export const DEFAULT_MAX_REFINEMENTS = 2;
/** Context left for messages once the system prompt and tool definitions are counted, at the least. */
const MIN_AVAILABLE_CONTEXT_TOKENS = 256;

const MAX_SEARCH_THREADS = 1_000;
const MAX_QUERY_CHARS = 1_000;
const MAX_SEARCH_LIMIT = 1_000;
const DEFAULT_SEARCH_LIMIT = 50;
const SEARCH_READ_CONCURRENCY = 8;

interface TurnContext extends Record<string, unknown> {
  model?: BaseChatModel;
  /** Offered this turn besides the agent's own tools (e.g. the caller's upstream MCP tools). */
  tools?: StructuredToolInterface[];
  approval?: ToolApproval;
}

type BoundModel = Runnable<BaseMessage[], AIMessage>;

export function createAgent(options: AgentOptions): Agent {
  const settings = resolveSettings(options);
  const baseCheckpointer = options.checkpointer ?? new MemorySaver();
  // Per thread: the signal of the shared lock this process holds for it (shared locks only).
  const heldLocks = new Map<string, AbortSignal>();
  const checkpointer = options.threadLocks
    ? fenceCheckpointer(baseCheckpointer, (threadId) =>
        typeof threadId === "string" ? heldLocks.get(threadId) : undefined,
      )
    : baseCheckpointer;
  const conversations = createConversationCache(options.conversationCache, options.checkpointer);
  const tools = options.tools ?? [calculatorTool];
  const defaultModel = bindTools(options.model, tools);
  const toolNode = new ToolNode(tools, { handleToolErrors: true });
  const logger = options.logger ?? noopLogger;
  const budget = contextBudget(
    settings.contextTokens,
    estimateTextTokens(settings.systemPrompt) + estimateToolTokens(tools),
  );
  if (budget.available < MIN_AVAILABLE_CONTEXT_TOKENS) {
    throw new AgentError(
      "AGENT_INPUT_INVALID",
      `contextTokens (${settings.contextTokens}) leaves ${budget.available} tokens after the system prompt and tools; at least ${MIN_AVAILABLE_CONTEXT_TOKENS} are needed`,
    );
  }
  const modelFor = (config: LangGraphRunnableConfig<TurnContext>) => config.context?.model ?? options.model;
  const boundModelFor = (config: LangGraphRunnableConfig<TurnContext>) => {
    const override = config.context?.model;
    const extra = config.context?.tools ?? [];
    return override || extra.length > 0
      ? bindTools(override ?? options.model, [...tools, ...extra])
      : defaultModel;
  };
  const compaction = createCompaction({ budget, logger, modelFor });
  const modelMessages = (state: AgentStateValue) => compaction.modelMessages(settings.systemPrompt, state);
  const verification = createVerification({
    ...(settings.verification ?? { threshold: DEFAULT_VERIFY_THRESHOLD, maxRefinements: 0 }),
    budget,
    logger,
    modelFor,
    boundModelFor,
    modelMessages,
  });
  const beforeModel = (state: AgentStateValue) => (compaction.needed(state) ? "compact" : "agent");

  const graph = new StateGraph(AgentState)
    .addNode("compact", (state, config) => compaction.node(state, config))
    .addNode("agent", async (state, config: LangGraphRunnableConfig<TurnContext>) => {
      const response = await boundModelFor(config).invoke(modelMessages(state), config);
      await options.yieldToLoop?.();
      // The messages reducer replaces a message with the same id, and some OpenAI-compatible servers
      // reuse completion ids; a fresh id keeps every model reply in the thread.
      if (!response.id || state.messages.some((message) => message.id === response.id))
        response.id = randomUUID();
      freshenReusedToolCallIds(response, state.messages);
      // Approvals and the tools node match answers to calls by id, so every call gets one.
      for (const call of response.tool_calls ?? []) call.id ||= randomUUID();
      return { messages: [stampCreatedAt(response)] };
    })
    .addNode("approval", (state, config: LangGraphRunnableConfig<TurnContext>) =>
      approvalNode(state.messages, config.context?.approval),
    )
    .addNode("tools", async (state, config: LangGraphRunnableConfig<TurnContext>) => {
      const extra = config.context?.tools ?? [];
      const node =
        extra.length > 0 ? new ToolNode([...tools, ...extra], { handleToolErrors: true }) : toolNode;
      const { messages } = (await node.invoke(state, config)) as { messages: BaseMessage[] };
      await options.yieldToLoop?.();
      return { messages: messages.map((message) => stampCreatedAt(message)) };
    })
    .addNode("verify", (state, config) => verification.verify(state, config))
    .addNode("refine", (state, config) => verification.refine(state, config))
    .addConditionalEdges(START, beforeModel, ["compact", "agent"])
    .addEdge("compact", "agent")
    .addConditionalEdges(
      "agent",
      (state, config: LangGraphRunnableConfig<TurnContext>) => {
        const next = routeAfterModel(state.messages, settings.maxSteps);
        if (next === "tools")
          return needsApproval(state.messages, config.context?.approval) ? "approval" : next;
        return next === END && settings.verification && isFinalAnswer(state.messages) ? "verify" : next;
      },
      ["tools", "approval", "verify", END],
    )
    .addEdge("approval", "tools")
    .addConditionalEdges("tools", beforeModel, ["compact", "agent"])
    .addConditionalEdges("verify", (state) => verification.routeAfterVerify(state), ["refine", END])
    .addConditionalEdges("refine", (state) => verification.routeAfterRefine(state), ["verify", END])
    .compile({ checkpointer });

  // Admission sits outside the thread lock, so calls piling up on one thread count against their
  // user's bound instead of waiting unbounded; a slot held while waiting for that lock is the price.
  const turns = createFairBulkhead({
    concurrency: settings.maxConcurrentTurns,
    maxQueue: settings.maxQueuedTurns,
    maxPerKey: settings.maxTurnsPerUser,
  });
  const turnDurations = new TurnDurations();
  const sharedLocks = options.threadLocks;
  const threadLocks = sharedLocks ? layeredThreadLocks(sharedLocks) : new ThreadLocks();
  /** Runs `operation` holding the thread's lock; with a shared lock, its signal also fences the thread's writes. */
  const withThreadLock = <T>(
    threadId: string,
    operation: (held: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> =>
    threadLocks.run(
      threadId,
      sharedLocks
        ? async (held) => {
            heldLocks.set(threadId, held);
            try {
              return await operation(held);
            } finally {
              heldLocks.delete(threadId);
            }
          }
        : operation,
      signal,
    );

  async function readMessages(
    threadId: string,
    signal: AbortSignal | undefined,
  ): Promise<BaseMessage[] | null> {
    return withDeadline(
      async () => {
        const tuple = await checkpointer.getTuple({
          configurable: { thread_id: threadId, checkpoint_ns: "" },
        });
        if (!tuple) return null;
        return (tuple.checkpoint.channel_values.messages as BaseMessage[] | undefined) ?? [];
      },
      {
        timeoutMs: settings.readTimeoutMs,
        signal,
        onTimeout: (ms) => new AgentError("AGENT_TIMEOUT", `reading the thread took longer than ${ms} ms`),
      },
    ).catch((error: unknown) => {
      throw toAgentError(error, signal);
    });
  }

  /** The id of the thread's newest checkpoint (none for a new thread): where a paused run waits. */
  async function latestCheckpointId(threadId: string, signal: AbortSignal): Promise<string | undefined> {
    return withDeadline(
      async () => {
        const tuple = await checkpointer.getTuple({
          configurable: { thread_id: threadId, checkpoint_ns: "" },
        });
        return tuple?.config.configurable?.checkpoint_id as string | undefined;
      },
      {
        timeoutMs: settings.readTimeoutMs,
        signal,
        onTimeout: (ms) => new AgentError("AGENT_TIMEOUT", `reading the thread took longer than ${ms} ms`),
      },
    );
  }

  /** The thread decoded and frozen, from the conversation cache when it holds it. */
  /**
   * Deletes a thread under its lock, so a turn in flight finishes (and writes) before the delete and
   * none writes after it; through the cache's write path, so no decoded copy of the thread survives.
   * With `stillWanted`, asked under the lock, the thread is kept when it answers false.
   */
  function deleteThreadLocked(
    threadId: string,
    signal: AbortSignal | undefined,
    stillWanted?: () => Promise<boolean>,
  ): Promise<boolean> {
    return withThreadLock(
      threadId,
      () =>
        conversations.write(threadId, () =>
          withDeadline(
            async () => {
              if (stillWanted && !(await stillWanted())) return false;
              await checkpointer.deleteThread(threadId);
              return true;
            },
            {
              timeoutMs: settings.readTimeoutMs,
              signal,
              onTimeout: (ms) =>
                new AgentError("AGENT_TIMEOUT", `deleting the thread took longer than ${ms} ms`),
            },
          ),
        ),
      signal,
    ).catch((error: unknown) => {
      throw toAgentError(error, signal);
    });
  }

  async function readConversation(
    threadId: string,
    signal: AbortSignal | undefined,
  ): Promise<Conversation | null> {
    // A cache hit does no I/O, but an aborted caller still gets AGENT_CANCELLED, as from the checkpointer.
    if (signal?.aborted) throw toAgentError(signal.reason, signal);
    return conversations.read(threadId, async () => {
      const messages = await readMessages(threadId, signal);
      return messages && freezeConversation(toConversationMessages(messages));
    });
  }

  async function runTurn(
    input: ChatInput,
    signal: AbortSignal,
    emit?: EmitEvent,
    traceCallbacks: BaseCallbackHandler[] = [],
  ): Promise<AgentReply> {
    const history = (await readMessages(input.threadId, signal)) ?? [];
    assertHistoryRoom(history, settings);
    const translator = emit ? createStreamTranslator(emit) : undefined;
    const callbacks = translator ? [translator.tokens, ...traceCallbacks] : traceCallbacks;
    const runConfig = {
      configurable: { thread_id: input.threadId },
      context: {
        ...(input.model ? { model: input.model } : {}),
        ...(input.tools?.length ? { tools: input.tools } : {}),
        ...(input.approval ? { approval: input.approval } : {}),
      },
      signal,
      streamMode: (emit ? ["values", "updates"] : ["values"]) as ("values" | "updates")[],
      ...(callbacks.length > 0 ? { callbacks } : {}),
      // Each step's checkpoint is written before the next step starts, so a cancelled or failed
      // turn leaves the same state on every checkpointer: the steps that completed, no more.
      durability: "sync" as const,
      // Backstop only: the router stops at maxSteps model calls first (up to four graph steps each:
      // compact, model, approval, tools), then verification adds a judge and a rewrite per refinement.
      recursionLimit: settings.maxSteps * 4 + 2 * (settings.verification?.maxRefinements ?? 0) + 3,
    };
    let messages: BaseMessage[] = [];
    let stats: TurnStats | undefined;
    let next: Parameters<typeof graph.stream>[0];
    let questionId: string;
    if (input.resume) {
      // Under the thread lock: the pause is resumed only from the very checkpoint it left, so an
      // answer replayed, or sent after the thread moved on, changes nothing (ADR 0185).
      if ((await latestCheckpointId(input.threadId, signal)) !== input.resume.checkpointId) {
        throw new AgentError(
          "AGENT_RESUME_STALE",
          "the conversation is not waiting for this answer (it was given already, or the conversation moved on)",
        );
      }
      questionId = history.findLast((message) => isHumanMessage(message))?.id ?? "";
      next = new Command({ resume: input.resume.value });
    } else {
      const question = stampCreatedAt(new HumanMessage({ content: input.message, id: randomUUID() }));
      questionId = question.id ?? "";
      // A paused run is abandoned by a new message: its unanswered calls are closed, not run (ADR 0185).
      next = { messages: [...closeUnansweredToolCalls(history), question] };
    }
    // A run paused for approval (ADR 0142) is resumed with the decisions until it runs to its end;
    // a deferred approval, or any other interrupt (the caller's own), ends the turn paused.
    for (;;) {
      const stream = await graph.stream(next, runConfig);
      let paused: { value: unknown } | undefined;
      for await (const [mode, chunk] of stream as AsyncIterable<[string, unknown]>) {
        const interrupted = interruptOf(chunk);
        if (mode === "values") {
          paused = interrupted ?? paused;
          if (!interrupted) ({ messages, turn: stats } = chunk as AgentStateValue);
        } else if (!interrupted)
          translator?.onUpdate(chunk as Record<string, { messages?: BaseMessage[] } | undefined>);
      }
      if (!paused) break;
      const approvals = asApprovalInterrupt(paused.value);
      if (!approvals || input.approval?.deferred) {
        const pause: TurnPause = {
          value: paused.value,
          checkpointId: (await latestCheckpointId(input.threadId, signal)) ?? "",
        };
        return { threadId: input.threadId, reply: "", messages: toConversationMessages(messages), pause };
      }
      next = new Command({ resume: await decideApprovals(approvals, input.approval, signal) });
    }
    const turnMessages = messages.slice(messages.findIndex((message) => message.id === questionId) + 1);
    const last = turnMessages.at(-1);
    if (!last || !isAIMessage(last) || (last.tool_calls?.length ?? 0) > 0) {
      throw new AgentError("AGENT_STEP_LIMIT", `the turn needed more than ${settings.maxSteps} model steps`, {
        details: { maxSteps: settings.maxSteps },
      });
    }
    const turnStats = stats?.turnId === questionId ? stats : undefined;
    const usage = sumUsage(turnMessages, turnStats);
    return {
      threadId: input.threadId,
      reply: last.text,
      messages: toConversationMessages(messages),
      ...(usage ? { usage } : {}),
      ...(settings.verification && turnStats
        ? { verification: { scores: turnStats.scores, refinements: turnStats.refinements } }
        : {}),
    };
  }

  function startTurn(input: ChatInput, emit?: EmitEvent): Promise<AgentReply> {
    assertThreadId(input?.threadId);
    assertText(input.message, "message", settings.maxMessageChars);
    if (input.model) bindTools(input.model, tools);
    const turnSignal = deadlineSignal(settings.turnTimeoutMs, input.signal);
    const { tracer } = options;
    const traceParent = turnParent(tracer);
    // The caller hears about a cancel or timeout at once, but the thread stays locked until the
    // run has really stopped and flushed its checkpoints, so the next turn never races it.
    const settled = turns.run(
      input.userId ?? "",
      () =>
        withThreadLock(
          input.threadId,
          async (held) => {
            const started = performance.now();
            await input.onAdmitted?.(turnSignal);
            // A lost shared lock stops the run as a cancel would; the lock provider reports why.
            const runSignal = sharedLocks ? AbortSignal.any([turnSignal, held]) : turnSignal;
            // Inside the thread lock: the cache drops the thread before the turn writes it and again
            // once the turn has settled (ok, failed or cancelled), before the next turn may start.
            const reply = await conversations.write(input.threadId, () =>
              tracer
                ? traceTurn(tracer, traceParent, (callbacks) => runTurn(input, runSignal, emit, callbacks))
                : runTurn(input, runSignal, emit),
            );
            turnDurations.add(performance.now() - started);
            return reply;
          },
          turnSignal,
        ),
      turnSignal,
    );
    // When the signal wins the race below, the run's own outcome has no reader left.
    settled.catch(() => {});
    return raceAbort(settled, turnSignal).catch((error: unknown) => {
      if (isCoreError(error) && error.code === "BULKHEAD_FULL")
        throw busyError(error, settings, turnDurations);
      throw toAgentError(error, input.signal, turnSignal, settings.turnTimeoutMs);
    });
  }

  return {
    maxMessageChars: settings.maxMessageChars,

    async chat(input) {
      return startTurn(input);
    },

    async *streamChat(input) {
      const consumer = new AbortController();
      const signal = input.signal ? AbortSignal.any([input.signal, consumer.signal]) : consumer.signal;
      const events = new EventQueue<AgentEvent>();
      startTurn({ ...input, signal }, (event) => events.push(event)).then(
        (reply) => {
          events.push({ type: "reply", reply });
          events.end();
        },
        (error: unknown) => events.fail(error),
      );
      try {
        yield* events;
      } finally {
        // A consumer that stops iterating early (client gone) cancels the turn; after the end it is a no-op.
        consumer.abort();
      }
    },

    async getConversation(threadId, opts = {}) {
      assertThreadId(threadId);
      return readConversation(threadId, opts.signal);
    },

    async deleteConversation(threadId, opts = {}) {
      assertThreadId(threadId);
      await deleteThreadLocked(threadId, opts.signal);
    },

    async listIdleConversations(query) {
      // The unfenced saver: listing writes nothing, and the fence only knows threads this process locks.
      return withDeadline(() => listIdleThreads(baseCheckpointer, query), {
        timeoutMs: settings.readTimeoutMs,
        signal: query?.signal,
        onTimeout: (ms) => new AgentError("AGENT_TIMEOUT", `listing idle threads took longer than ${ms} ms`),
      }).catch((error: unknown) => {
        throw toAgentError(error, query?.signal);
      });
    },

    async deleteIdleConversation(threadId, idleBefore, opts = {}) {
      assertThreadId(threadId);
      if (!(idleBefore instanceof Date) || Number.isNaN(idleBefore.getTime())) {
        throw new AgentError("AGENT_INPUT_INVALID", "idleBefore must be a valid Date");
      }
      // The last activity is read again under the thread's lock: a turn that ran since the thread
      // was listed keeps it, and no turn can start between this check and the delete.
      return deleteThreadLocked(threadId, opts.signal, async () => {
        const last = await lastActivity(checkpointer, threadId);
        return last !== undefined && last < idleBefore;
      });
    },

    async searchConversations(threadIds, query, opts = {}) {
      if (!Array.isArray(threadIds) || threadIds.length > MAX_SEARCH_THREADS) {
        throw new AgentError(
          "AGENT_INPUT_INVALID",
          `threadIds must be an array of at most ${MAX_SEARCH_THREADS} ids`,
        );
      }
      for (const threadId of threadIds) assertThreadId(threadId);
      assertText(query, "query", MAX_QUERY_CHARS);
      const limit = opts.limit ?? DEFAULT_SEARCH_LIMIT;
      assertIntegerInRange(limit, "limit", 1, MAX_SEARCH_LIMIT);
      const needle = query.toLowerCase();
      const reads = createBulkhead({ concurrency: SEARCH_READ_CONCURRENCY });
      // Each thread is matched as soon as it is read and then dropped, so memory holds a few
      // threads and the hits, not every thread searched.
      const hitsPerThread = await Promise.all(
        [...new Set(threadIds)].map((threadId) =>
          reads.run(async () => {
            const conversation = await readConversation(threadId, opts.signal);
            return conversation ? findHits(threadId, conversation, needle, limit) : [];
          }, opts.signal),
        ),
      ).catch((error: unknown) => {
        throw toAgentError(error, opts.signal);
      });
      return hitsPerThread.flat().slice(0, limit);
    },
  };
}

/** A running mean of recent turn durations, so a refused caller is told when a retry may succeed. */
class TurnDurations {
  #meanMs = 0;
  add(ms: number) {
    this.#meanMs = this.#meanMs === 0 ? ms : this.#meanMs * 0.9 + ms * 0.1;
  }
  /** About one turn's duration, at least a second: slots free up as running turns end. */
  retryAfterMs(): number {
    return Math.max(1_000, Math.ceil(this.#meanMs / 1_000) * 1_000);
  }
}

function busyError(
  refusal: Error & { details?: Record<string, unknown> },
  settings: ReturnType<typeof resolveSettings>,
  durations: TurnDurations,
): AgentError {
  const retryAfterMs = durations.retryAfterMs();
  const retry = `retry in about ${retryAfterMs / 1_000} s`;
  const perUser = refusal.details?.limit === "perKey";
  const message = perUser
    ? `you already have ${settings.maxTurnsPerUser} agent turns running or waiting (the per-user limit); ${retry}`
    : `the server is running ${settings.maxConcurrentTurns} agent turns and ${settings.maxQueuedTurns} more are waiting (the server limit); ${retry}`;
  return new AgentError("AGENT_BUSY", message, {
    cause: refusal,
    details: {
      limit: perUser ? "maxTurnsPerUser" : "maxQueuedTurns",
      max: perUser ? settings.maxTurnsPerUser : settings.maxQueuedTurns,
      retryable: true,
      retryAfterMs,
    },
  });
}

function findHits(
  threadId: string,
  conversation: Conversation,
  lowerCaseNeedle: string,
  limit: number,
): SearchHit[] {
  const hits: SearchHit[] = [];
  for (const [index, message] of conversation.entries()) {
    if (hits.length >= limit) break;
    if (message.content.toLowerCase().includes(lowerCaseNeedle)) {
      hits.push({ threadId, role: message.role, content: message.content, index });
    }
  }
  return hits;
}
function resolveSettings(options: AgentOptions) {
  if (!options || typeof options.model?.invoke !== "function") {
    throw new AgentError("AGENT_INPUT_INVALID", "createAgent needs a chat model");
  }
  const settings = {
    maxSteps: options.maxSteps ?? 8,
    systemPrompt: options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT,
    maxMessageChars: options.maxMessageChars ?? 16_000,
    maxHistoryChars: options.maxHistoryChars ?? 1_000_000,
    turnTimeoutMs: options.turnTimeoutMs ?? 120_000,
    readTimeoutMs: options.readTimeoutMs ?? 10_000,
    maxConcurrentTurns: options.maxConcurrentTurns ?? DEFAULT_MAX_CONCURRENT_TURNS,
    maxQueuedTurns: options.maxQueuedTurns ?? DEFAULT_MAX_QUEUED_TURNS,
    maxTurnsPerUser: options.maxTurnsPerUser ?? DEFAULT_MAX_TURNS_PER_USER,
    contextTokens: options.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
    verification: options.verification && {
      threshold: options.verification.threshold ?? DEFAULT_VERIFY_THRESHOLD,
      maxRefinements: options.verification.maxRefinements ?? DEFAULT_MAX_REFINEMENTS,
    },
  };
  assertIntegerInRange(settings.maxSteps, "maxSteps", 1, 100);
  assertIntegerInRange(settings.maxMessageChars, "maxMessageChars", 1, 10_000_000);
  assertIntegerInRange(settings.maxHistoryChars, "maxHistoryChars", 1, 1_000_000_000);
  assertIntegerInRange(settings.turnTimeoutMs, "turnTimeoutMs", 1, 3_600_000);
  assertIntegerInRange(settings.readTimeoutMs, "readTimeoutMs", 1, 600_000);
  assertIntegerInRange(settings.maxConcurrentTurns, "maxConcurrentTurns", 1, 1_000_000);
  assertIntegerInRange(settings.maxQueuedTurns, "maxQueuedTurns", 0, 1_000_000);
  assertIntegerInRange(settings.maxTurnsPerUser, "maxTurnsPerUser", 1, 1_000_000);
  assertIntegerInRange(settings.contextTokens, "contextTokens", 1_000, 100_000_000);
  if (settings.verification) {
    const { threshold, maxRefinements } = settings.verification;
    if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 1)) {
      throw new AgentError("AGENT_INPUT_INVALID", "verification.threshold must be a number from 0 to 1");
    }
    assertIntegerInRange(maxRefinements, "verification.maxRefinements", 0, 10);
  }
  return settings;
}

function bindTools(model: BaseChatModel, tools: StructuredToolInterface[]): BoundModel {
  if (typeof model?.bindTools !== "function") {
    throw new AgentError("AGENT_MODEL_UNSUPPORTED", "the chat model cannot call tools (it has no bindTools)");
  }
  return model.bindTools(tools) as BoundModel;
}

/** Model answered → done; model asked for tools → run them, unless this turn already used its steps. */
function routeAfterModel(messages: BaseMessage[], maxSteps: number): "tools" | typeof END {
  const last = messages.at(-1);
  if (!last || !isAIMessage(last) || (last.tool_calls?.length ?? 0) === 0) return END;
  const turnStart = messages.findLastIndex((message) => isHumanMessage(message));
  const stepsThisTurn = messages.slice(turnStart + 1).filter((message) => isAIMessage(message)).length;
  return stepsThisTurn >= maxSteps ? END : "tools";
}

/** The model answered in text: the turn's answer, which verification may judge. */
function isFinalAnswer(messages: BaseMessage[]): boolean {
  const last = messages.at(-1);
  return !!last && isAIMessage(last) && (last.tool_calls?.length ?? 0) === 0;
}

/**
 * Bounds what a thread stores. The model's context is bounded by compaction, not by this: a long
 * thread is summarised, never refused for its length in messages (ADR 0130).
 */
function assertHistoryRoom(history: BaseMessage[], settings: ReturnType<typeof resolveSettings>) {
  const chars = history.reduce((sum, message) => sum + message.text.length, 0);
  if (chars >= settings.maxHistoryChars) {
    throw new AgentError(
      "AGENT_HISTORY_LIMIT",
      `the thread holds ${chars} characters; the limit is ${settings.maxHistoryChars}`,
      { details: { chars, limit: settings.maxHistoryChars } },
    );
  }
}

/** The turn's messages' usage, plus its model calls that left no message (summaries, verdicts, replaced drafts). */
function sumUsage(messages: BaseMessage[], stats: TurnStats | undefined): AgentReply["usage"] {
  let inputTokens = stats?.extraInputTokens ?? 0;
  let outputTokens = stats?.extraOutputTokens ?? 0;
  let reported = inputTokens + outputTokens > 0;
  for (const message of messages) {
    if (!isAIMessage(message) || !message.usage_metadata) continue;
    reported = true;
    inputTokens += message.usage_metadata.input_tokens;
    outputTokens += message.usage_metadata.output_tokens;
  }
  return reported ? { inputTokens, outputTokens } : undefined;
}
