import { randomUUID } from "node:crypto";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  type AIMessage,
  type BaseMessage,
  HumanMessage,
  isAIMessage,
  isHumanMessage,
  isToolMessage,
  SystemMessage,
} from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import {
  type BaseCheckpointSaver,
  END,
  GraphRecursionError,
  type LangGraphRunnableConfig,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import {
  createBulkhead,
  deadlineSignal,
  isCodedError,
  isCoreError,
  raceAbort,
  withDeadline,
} from "@mcp-langgraph/core";
import { calculatorTool } from "./calculator-tool.js";
import { AgentError, isAgentError } from "./errors.js";
import { EventQueue } from "./event-queue.js";
import {
  type ConversationMessage,
  closeUnansweredToolCalls,
  stampCreatedAt,
  toConversationMessages,
} from "./messages.js";
import { assertIntegerInRange, assertText, assertThreadId } from "./validation.js";

export interface AgentReply {
  threadId: string;
  /** The assistant's final answer for this turn. */
  reply: string;
  /** The whole thread after this turn. */
  messages: ConversationMessage[];
  /** Tokens the model reported for this turn, summed over its steps (absent when the model reports none). */
  usage?: { inputTokens: number; outputTokens: number };
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
}

/** What `streamChat` yields, in order; the last event of a successful turn is always `reply`. */
export type AgentEvent =
  /** A piece of the assistant's text as the model produces it. */
  | { type: "token"; text: string }
  | { type: "tool_call"; name: string; args: Record<string, unknown> }
  | { type: "tool_result"; name: string; content: string }
  | { type: "reply"; reply: AgentReply };

type EmitEvent = (event: AgentEvent) => void;

export interface Agent {
  chat(input: ChatInput): Promise<AgentReply>;
  /**
   * The same turn as `chat`, as events. Failures are thrown from the iterator as
   * the same typed errors; stopping the iteration early cancels the turn.
   */
  streamChat(input: ChatInput): AsyncIterable<AgentEvent>;
  /** The thread's messages, or null when the thread does not exist. */
  getConversation(threadId: string, opts?: { signal?: AbortSignal }): Promise<ConversationMessage[] | null>;
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
  /** Default: [calculatorTool]. */
  tools?: StructuredToolInterface[];
  /** Model calls allowed in one turn; a turn needing more fails with AGENT_STEP_LIMIT. Default 8. */
  maxSteps?: number;
  systemPrompt?: string;
  /** Longest accepted user message. Default 16000 characters. */
  maxMessageChars?: number;
  /** A thread holding this many messages accepts no further turns. Default 500. */
  maxHistoryMessages?: number;
  /** A thread whose messages total this many characters accepts no further turns. Default 1000000. */
  maxHistoryChars?: number;
  /** Deadline for one whole turn (all model and tool steps). Default 120000 ms. */
  turnTimeoutMs?: number;
  /** Deadline for reading a thread. Default 10000 ms. */
  readTimeoutMs?: number;
  /** Turns running at once in this agent; more wait in a bounded queue. Default 16. */
  maxConcurrentTurns?: number;
  /** Turns allowed to wait for a slot; beyond this chat fails fast with AGENT_BUSY. Default 64. */
  maxQueuedTurns?: number;
}

export const DEFAULT_SYSTEM_PROMPT =
  "You are a helpful assistant. Use the calculator tool for any arithmetic and report its result exactly.";

const MAX_SEARCH_THREADS = 1_000;
const MAX_QUERY_CHARS = 1_000;
const MAX_SEARCH_LIMIT = 1_000;
const DEFAULT_SEARCH_LIMIT = 50;
const SEARCH_READ_CONCURRENCY = 8;

interface TurnContext extends Record<string, unknown> {
  model?: BaseChatModel;
}

type BoundModel = Runnable<BaseMessage[], AIMessage>;

export function createAgent(options: AgentOptions): Agent {
  const settings = resolveSettings(options);
  const checkpointer = options.checkpointer ?? new MemorySaver();
  const tools = options.tools ?? [calculatorTool];
  const systemMessage = new SystemMessage(settings.systemPrompt);
  const defaultModel = bindTools(options.model, tools);
  const toolNode = new ToolNode(tools, { handleToolErrors: true });

  const graph = new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state, config: LangGraphRunnableConfig<TurnContext>) => {
      const override = config.context?.model;
      const model = override ? bindTools(override, tools) : defaultModel;
      const response = await model.invoke([systemMessage, ...state.messages], config);
      // The messages reducer replaces a message with the same id, and some OpenAI-compatible servers
      // reuse completion ids; a fresh id keeps every model reply in the thread.
      if (!response.id || state.messages.some((message) => message.id === response.id))
        response.id = randomUUID();
      return { messages: [stampCreatedAt(response)] };
    })
    .addNode("tools", async (state, config) => {
      const { messages } = (await toolNode.invoke(state, config)) as { messages: BaseMessage[] };
      return { messages: messages.map((message) => stampCreatedAt(message)) };
    })
    .addEdge(START, "agent")
    .addConditionalEdges("agent", (state) => routeAfterModel(state.messages, settings.maxSteps), [
      "tools",
      END,
    ])
    .addEdge("tools", "agent")
    .compile({ checkpointer });

  const turns = createBulkhead({
    concurrency: settings.maxConcurrentTurns,
    maxQueue: settings.maxQueuedTurns,
  });
  const threadLocks = new ThreadLocks();

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

  async function runTurn(input: ChatInput, signal: AbortSignal, emit?: EmitEvent): Promise<AgentReply> {
    const history = (await readMessages(input.threadId, signal)) ?? [];
    assertHistoryRoom(history, settings);
    const question = stampCreatedAt(new HumanMessage({ content: input.message, id: randomUUID() }));
    const translator = emit ? createStreamTranslator(emit) : undefined;
    const stream = await graph.stream(
      { messages: [...closeUnansweredToolCalls(history), question] },
      {
        configurable: { thread_id: input.threadId },
        context: input.model ? { model: input.model } : {},
        signal,
        streamMode: emit ? ["values", "updates"] : ["values"],
        ...(translator ? { callbacks: [translator.tokens] } : {}),
        // Each step's checkpoint is written before the next step starts, so a cancelled or failed
        // turn leaves the same state on every checkpointer: the steps that completed, no more.
        durability: "sync",
        // Backstop only: the router stops at maxSteps model calls (two graph steps each) first.
        recursionLimit: settings.maxSteps * 2 + 2,
      },
    );
    let messages: BaseMessage[] = [];
    for await (const [mode, chunk] of stream as AsyncIterable<[string, unknown]>) {
      if (mode === "values") messages = (chunk as { messages: BaseMessage[] }).messages;
      else translator?.onUpdate(chunk as Record<string, { messages?: BaseMessage[] } | undefined>);
    }
    const turnMessages = messages.slice(messages.findIndex((message) => message.id === question.id) + 1);
    const last = turnMessages.at(-1);
    if (!last || !isAIMessage(last) || (last.tool_calls?.length ?? 0) > 0) {
      throw new AgentError("AGENT_STEP_LIMIT", `the turn needed more than ${settings.maxSteps} model steps`, {
        details: { maxSteps: settings.maxSteps },
      });
    }
    const usage = sumUsage(turnMessages);
    return {
      threadId: input.threadId,
      reply: last.text,
      messages: toConversationMessages(messages),
      ...(usage ? { usage } : {}),
    };
  }

  function startTurn(input: ChatInput, emit?: EmitEvent): Promise<AgentReply> {
    assertThreadId(input?.threadId);
    assertText(input.message, "message", settings.maxMessageChars);
    if (input.model) bindTools(input.model, tools);
    const turnSignal = deadlineSignal(settings.turnTimeoutMs, input.signal);
    // The caller hears about a cancel or timeout at once, but the thread stays locked until the
    // run has really stopped and flushed its checkpoints, so the next turn never races it.
    const settled = threadLocks.run(
      input.threadId,
      () => turns.run(() => runTurn(input, turnSignal, emit), turnSignal),
      turnSignal,
    );
    // When the signal wins the race below, the run's own outcome has no reader left.
    settled.catch(() => {});
    return raceAbort(settled, turnSignal).catch((error: unknown) => {
      throw toAgentError(error, input.signal, turnSignal, settings.turnTimeoutMs);
    });
  }

  return {
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
      const messages = await readMessages(threadId, opts.signal);
      return messages ? toConversationMessages(messages) : null;
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
            const messages = await readMessages(threadId, opts.signal);
            return messages ? findHits(threadId, toConversationMessages(messages), needle, limit) : [];
          }, opts.signal),
        ),
      ).catch((error: unknown) => {
        throw toAgentError(error, opts.signal);
      });
      return hitsPerThread.flat().slice(0, limit);
    },
  };
}

function findHits(
  threadId: string,
  conversation: ConversationMessage[],
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

/** Receives the model's streamed tokens; awaited inline so tokens keep their order relative to graph updates. */
class TokenStreamHandler extends BaseCallbackHandler {
  name = "agent-token-stream";
  // Makes chat models stream (call _streamResponseChunks) even when invoked.
  readonly lc_prefer_streaming = true;
  readonly #onToken: (token: string) => void;

  constructor(onToken: (token: string) => void) {
    super();
    this.awaitHandlers = true;
    this.#onToken = onToken;
  }

  override handleLLMNewToken(token: string) {
    if (token) this.#onToken(token);
  }
}

/**
 * Turns a turn's progress into agent events. Tokens come from the model's
 * stream; a model that does not stream yields its whole answer as one token
 * when its step completes, so consumers always see the text.
 */
function createStreamTranslator(emit: EmitEvent) {
  let streamedThisStep = false;
  const tokens = new TokenStreamHandler((text) => {
    streamedThisStep = true;
    emit({ type: "token", text });
  });
  const onUpdate = (updates: Record<string, { messages?: BaseMessage[] } | undefined>) => {
    for (const message of updates.agent?.messages ?? []) {
      if (!isAIMessage(message)) continue;
      if (!streamedThisStep && message.text) emit({ type: "token", text: message.text });
      for (const call of message.tool_calls ?? [])
        emit({ type: "tool_call", name: call.name, args: call.args });
    }
    if (updates.agent) streamedThisStep = false;
    for (const message of updates.tools?.messages ?? []) {
      if (isToolMessage(message))
        emit({ type: "tool_result", name: message.name ?? "", content: message.text });
    }
  };
  return { tokens, onUpdate };
}

function resolveSettings(options: AgentOptions) {
  if (!options || typeof options.model?.invoke !== "function") {
    throw new AgentError("AGENT_INPUT_INVALID", "createAgent needs a chat model");
  }
  const settings = {
    maxSteps: options.maxSteps ?? 8,
    systemPrompt: options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT,
    maxMessageChars: options.maxMessageChars ?? 16_000,
    maxHistoryMessages: options.maxHistoryMessages ?? 500,
    maxHistoryChars: options.maxHistoryChars ?? 1_000_000,
    turnTimeoutMs: options.turnTimeoutMs ?? 120_000,
    readTimeoutMs: options.readTimeoutMs ?? 10_000,
    maxConcurrentTurns: options.maxConcurrentTurns ?? 16,
    maxQueuedTurns: options.maxQueuedTurns ?? 64,
  };
  assertIntegerInRange(settings.maxSteps, "maxSteps", 1, 100);
  assertIntegerInRange(settings.maxMessageChars, "maxMessageChars", 1, 10_000_000);
  assertIntegerInRange(settings.maxHistoryMessages, "maxHistoryMessages", 1, 1_000_000);
  assertIntegerInRange(settings.maxHistoryChars, "maxHistoryChars", 1, 1_000_000_000);
  assertIntegerInRange(settings.turnTimeoutMs, "turnTimeoutMs", 1, 3_600_000);
  assertIntegerInRange(settings.readTimeoutMs, "readTimeoutMs", 1, 600_000);
  assertIntegerInRange(settings.maxConcurrentTurns, "maxConcurrentTurns", 1, 10_000);
  // core's bulkhead refuses every call when its queue bound is 0, so at least one waiting place is required.
  assertIntegerInRange(settings.maxQueuedTurns, "maxQueuedTurns", 1, 1_000_000);
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

function assertHistoryRoom(history: BaseMessage[], settings: ReturnType<typeof resolveSettings>) {
  if (history.length >= settings.maxHistoryMessages) {
    throw new AgentError(
      "AGENT_HISTORY_LIMIT",
      `the thread holds ${history.length} messages; the limit is ${settings.maxHistoryMessages}`,
      { details: { messages: history.length, limit: settings.maxHistoryMessages } },
    );
  }
  const chars = history.reduce((sum, message) => sum + message.text.length, 0);
  if (chars >= settings.maxHistoryChars) {
    throw new AgentError(
      "AGENT_HISTORY_LIMIT",
      `the thread holds ${chars} characters; the limit is ${settings.maxHistoryChars}`,
      { details: { chars, limit: settings.maxHistoryChars } },
    );
  }
}

function sumUsage(messages: BaseMessage[]): AgentReply["usage"] {
  let reported = false;
  let inputTokens = 0;
  let outputTokens = 0;
  for (const message of messages) {
    if (!isAIMessage(message) || !message.usage_metadata) continue;
    reported = true;
    inputTokens += message.usage_metadata.input_tokens;
    outputTokens += message.usage_metadata.output_tokens;
  }
  return reported ? { inputTokens, outputTokens } : undefined;
}

/**
 * Typed errors pass through: the agent's own, and other packages' coded errors
 * (an llm-factory LLM_TIMEOUT says more than a generic failure). Everything else
 * becomes AGENT_FAILED with the original kept only as `cause`, since raw
 * provider or driver messages may carry details a client must not see.
 */
function toAgentError(
  error: unknown,
  callerSignal: AbortSignal | undefined,
  turnSignal?: AbortSignal,
  turnTimeoutMs?: number,
): Error {
  if (callerSignal?.aborted) {
    return new AgentError("AGENT_CANCELLED", "the caller cancelled the request", { cause: error });
  }
  if (turnSignal?.aborted) {
    return new AgentError("AGENT_TIMEOUT", `the turn took longer than ${turnTimeoutMs} ms`, { cause: error });
  }
  if (isAgentError(error)) return error;
  if (error instanceof GraphRecursionError) {
    return new AgentError("AGENT_STEP_LIMIT", "the turn exceeded the graph's step limit", { cause: error });
  }
  if (isCoreError(error) && error.code === "BULKHEAD_FULL") {
    return new AgentError("AGENT_BUSY", "too many agent turns are running; try again shortly", {
      cause: error,
    });
  }
  if (isCodedError(error)) return error;
  return new AgentError("AGENT_FAILED", "the agent run failed", { cause: error });
}

/** Runs one turn per thread at a time in this process, so concurrent turns cannot fork a thread. */
class ThreadLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(threadId: string, operation: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const previous = this.#tails.get(threadId) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(threadId, tail);
    void tail.then(() => {
      if (this.#tails.get(threadId) === tail) this.#tails.delete(threadId);
    });
    try {
      await (signal ? raceAbort(previous, signal) : previous);
      return await operation();
    } finally {
      release();
    }
  }
}
