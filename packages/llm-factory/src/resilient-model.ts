import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type {
  BaseLanguageModelInput,
  StructuredOutputMethodOptions,
} from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import {
  assembleStructuredOutputPipeline,
  createFunctionCallingParser,
} from "@langchain/core/language_models/structured_output";
import {
  AIMessageChunk,
  type BaseMessage,
  mergeUsageMetadata,
  type UsageMetadata,
} from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { isSerializableSchema } from "@langchain/core/utils/standard_schema";
import { isInteropZodSchema } from "@langchain/core/utils/types";
import {
  type Logger,
  markFailed,
  noopLogger,
  type RetryOptions,
  raceAbort,
  retry,
  type Tracer,
  withDeadline,
  withSpan,
} from "@mcp-langgraph/core";
import { context, type Span, SpanKind } from "@opentelemetry/api";
import { runWithCallSignal } from "./call-signal.js";
import { isLlmError, LlmError } from "./errors.js";
import { acquireSlot, enterCircuit, guardErrorToLlmError } from "./guarded-call.js";
import type { ProviderGuard } from "./guards.js";
import { estimateCostUsd, type PricingTable, type UsageReport } from "./pricing.js";
import { isRetryable, type ProviderContext, toLlmError } from "./provider-errors.js";
import {
  chatRequestAttributes,
  chatResponseAttributes,
  failureAttributes,
  type ModelFailure,
  type ModelFallback,
  type ModelRetry,
} from "./tracing.js";

type ChatRunnable = Runnable<BaseLanguageModelInput, AIMessageChunk>;

/** One model in a fallback chain, with the guards of its provider. */
export interface ModelRoute extends ProviderContext {
  chatModel: BaseChatModel;
  /** `chatModel`, or `chatModel` with tools bound. */
  runnable: ChatRunnable;
  guard: ProviderGuard;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  maxRetryAfterMs: number;
  pricing: PricingTable;
  /** The integration's fetch is `fetchBoundToCallSignal` (it ignores the call's signal itself). */
  scopesFetchToCall?: boolean;
  /**
   * A response_metadata key only the provider's final stream event carries. Set where the SDK
   * ends a stream silently when the connection drops (AWS over HTTP/2), so a truncated answer
   * is not mistaken for a complete one.
   */
  streamEndMarker?: string;
}

export interface ResilienceHooks {
  onUsage?: ((report: UsageReport) => void) | undefined;
  onRetry?: ((retry: ModelRetry) => void) | undefined;
  onFallback?: ((fallback: ModelFallback) => void) | undefined;
  tracer?: Tracer | undefined;
  logger?: Logger | undefined;
}

const RETRY_MAX_DELAY_MS = 8_000;

/**
 * A LangChain chat model over a fallback chain of provider models. Each call runs
 * route by route: retry (backoff + jitter, Retry-After) → circuit breaker →
 * deadline (caller signal + timeoutMs) → bulkhead slot → the provider's own
 * integration, which receives the combined signal so an abandoned call closes
 * its HTTP request. Streams fall back only before their first chunk: after that,
 * switching models would splice two different answers together.
 */
export class ResilientChatModel extends BaseChatModel<BaseChatModelCallOptions> {
  readonly routes: readonly ModelRoute[];
  readonly #hooks: ResilienceHooks;
  readonly #logger: Logger;

  constructor(routes: readonly ModelRoute[], hooks: ResilienceHooks = {}) {
    super({});
    if (routes.length === 0) throw new LlmError("LLM_CONFIG", "a chat model needs at least one route");
    this.routes = routes;
    this.#hooks = hooks;
    this.#logger = hooks.logger ?? noopLogger;
  }

  static override lc_name() {
    return "ResilientChatModel";
  }

  _llmType() {
    return "resilient";
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<BaseChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, BaseChatModelCallOptions> {
    const routes = this.routes.map((route) => {
      if (typeof route.chatModel.bindTools !== "function") {
        throw new LlmError(
          "LLM_CONFIG",
          `${route.provider} model "${route.model}" does not support tool calling`,
        );
      }
      return { ...route, runnable: route.chatModel.bindTools(tools, kwargs) as ChatRunnable };
    });
    return new ResilientChatModel(routes, this.#hooks);
  }

  /**
   * Structured output by tool calling, through the same routes. LangChain's base
   * implementation only accepts AIMessageChunk results, which the provider integrations
   * do not return from invoke(); this one parses (and validates, for Zod or standard
   * schemas) the tool call of any AI message.
   */
  // biome-ignore lint/suspicious/noExplicitAny: matches BaseChatModel's overloads, which are typed per schema kind
  override withStructuredOutput(schema: any, config?: StructuredOutputMethodOptions<boolean>): any {
    const name = config?.name ?? "extract";
    const parameters =
      isInteropZodSchema(schema) || isSerializableSchema(schema) ? toJsonSchema(schema) : (schema as object);
    const description = (parameters as { description?: unknown }).description;
    const llm = this.bindTools([
      {
        type: "function",
        function: { name, description: typeof description === "string" ? description : "", parameters },
      },
    ]);
    return assembleStructuredOutputPipeline(
      llm,
      createFunctionCallingParser(schema, name),
      config?.includeRaw,
      "StructuredOutput",
    );
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const generate = async (span: Span | undefined) => {
      const message = await this.#acrossRoutes(options.signal, span, (route, retrying) =>
        this.#invokeRoute(route, messages, options, retrying, span),
      );
      return { generations: [{ text: message.text, message }] };
    };
    const { tracer } = this.#hooks;
    if (!tracer) return generate(undefined);
    return withSpan(
      tracer,
      this.#spanName(),
      { kind: SpanKind.CLIENT, attributes: this.#spanAttributes() },
      generate,
    );
  }

  /** `chat <model>` after the gen_ai conventions, named for the first model asked. */
  #spanName() {
    return `chat ${this.routes[0]?.model ?? ""}`;
  }

  #spanAttributes() {
    // The constructor refuses an empty chain.
    return chatRequestAttributes(this.routes[0]!);
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    // A generator cannot run inside a context callback: the span is a child of the caller's
    // context and is ended by hand, once the stream has ended.
    const span = this.#hooks.tracer?.startSpan(
      this.#spanName(),
      { kind: SpanKind.CLIENT, attributes: this.#spanAttributes() },
      context.active(),
    );
    let stream: GuardedStream;
    try {
      stream = await this.#acrossRoutes(options.signal, span, (route, retrying) =>
        retry((attempt) => GuardedStream.open(route, messages, options, attempt + 1), retrying),
      );
    } catch (error) {
      if (span) endSpan(span, error);
      throw error;
    }
    const startedAt = stream.startedAt;
    let usage: UsageMetadata | undefined;
    let failure: unknown;
    try {
      for (let next = stream.first; !next.done; next = await stream.next()) {
        const chunk = next.value;
        // Some providers report input and output tokens in different events (Anthropic).
        if (chunk.usage_metadata)
          usage = usage ? mergeUsageMetadata(usage, chunk.usage_metadata) : chunk.usage_metadata;
        yield new ChatGenerationChunk({ text: chunk.text, message: chunk });
        await runManager?.handleLLMNewToken(chunk.text);
      }
    } catch (error) {
      // Past the first chunk there is no retry or fallback: this model's attempts are the whole story.
      failure =
        isLlmError(error) && error.code === "LLM_TIMEOUT"
          ? callFailure([{ route: stream.route, error, attempts: stream.attempt }], "mid-answer")
          : error;
      throw failure;
    } finally {
      stream.abandon();
      if (span) {
        span.setAttributes(chatResponseAttributes(stream.route, usage));
        endSpan(span, failure);
      }
    }
    const report = this.#report(stream.route, usage, startedAt);
    if (report) {
      yield new ChatGenerationChunk({
        text: "",
        message: new AIMessageChunk({ content: "", response_metadata: costMetadata(report) }),
      });
    }
  }

  async #invokeRoute(
    route: ModelRoute,
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    retrying: RetryOptions,
    span: Span | undefined,
  ) {
    const startedAt = performance.now();
    const message = await retry(
      () =>
        route.guard.breaker
          .execute(() =>
            withDeadline(
              async (signal) => {
                const release = await acquireSlot(route.guard.bulkhead, signal);
                try {
                  return await withCallScope(route, signal, () =>
                    route.runnable.invoke(messages, providerCallOptions(options, signal)),
                  );
                } catch (error) {
                  throw signal.aborted ? signal.reason : toLlmError(error, route);
                } finally {
                  release();
                }
              },
              { timeoutMs: route.timeoutMs, signal: options.signal, onTimeout: timeoutError(route) },
            ),
          )
          .catch((error: unknown) => {
            throw guardErrorToLlmError(error, route);
          }),
      retrying,
    );
    span?.setAttributes(chatResponseAttributes(route, message.usage_metadata));
    const report = this.#report(route, message.usage_metadata, startedAt);
    // The integration built this message for this call alone, so annotating it in place is safe.
    if (report) message.response_metadata = { ...message.response_metadata, ...costMetadata(report) };
    return message;
  }

  /**
   * Tries each route in order, with the retry options `run` must use for it (they count the
   * attempts the route gets); a caller abort ends the chain at once.
   */
  async #acrossRoutes<T>(
    signal: AbortSignal | undefined,
    span: Span | undefined,
    run: (route: ModelRoute, retrying: RetryOptions) => Promise<T>,
  ): Promise<T> {
    const failures: RouteFailure[] = [];
    for (const [index, route] of this.routes.entries()) {
      let attempts = 1;
      const onRetry = (retrying: ModelRetry) => {
        attempts++;
        span?.addEvent("gen_ai.retry", { ...failureAttributes(retrying), retry: retrying.retry });
        this.#callHook("onRetry", this.#hooks.onRetry, retrying);
      };
      try {
        return await run(route, retryOptions(route, signal, this.#logger, onRetry));
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const failure = isLlmError(error) ? error : toLlmError(error, route);
        failures.push({ route, error: failure, attempts });
        const next = this.routes[index + 1];
        if (next) {
          const failed: ModelFailure = { provider: route.provider, model: route.model, code: failure.code };
          this.#logger.warn({ ...failed }, "LLM call failed; falling back to the next model");
          span?.addEvent("gen_ai.fallback", failureAttributes(failed));
          this.#callHook("onFallback", this.#hooks.onFallback, {
            ...failed,
            next: { provider: next.provider, model: next.model },
          });
        }
      }
    }
    throw callFailure(failures, "no fallback");
  }

  /** A metrics hook must never fail the call it reports on. */
  #callHook<E>(name: string, hook: ((event: E) => void) | undefined, event: E) {
    if (!hook) return;
    try {
      hook(event);
    } catch (error) {
      this.#logger.warn({ error: String(error) }, `${name} hook threw`);
    }
  }

  #report(route: ModelRoute, usage: UsageMetadata | undefined, startedAt: number): UsageReport | undefined {
    if (!usage) return undefined;
    const report: UsageReport = {
      provider: route.provider,
      model: route.model,
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      totalTokens: usage.total_tokens,
      estimatedCostUsd: estimateCostUsd(route.model, usage, route.pricing),
      latencyMs: Math.round(performance.now() - startedAt),
    };
    try {
      this.#hooks.onUsage?.(report);
    } catch (error) {
      // A metrics hook must never fail the call that produced the answer.
      this.#logger.warn({ error: String(error) }, "onUsage hook threw");
    }
    return report;
  }
}

/**
 * One streaming attempt against one route, holding its circuit admission and
 * bulkhead slot until the stream ends. Opening waits for the first chunk, so
 * connection failures and error statuses surface while retry/fallback can still help.
 * Each chunk must arrive within `timeoutMs` of asking for the previous one (an idle
 * deadline: long answers are fine, a stalled stream is not).
 */
class GuardedStream {
  readonly startedAt = performance.now();
  first!: IteratorResult<AIMessageChunk>;
  #iterator: AsyncIterator<AIMessageChunk> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  #finish: ((error?: unknown) => void) | undefined;
  #sawEndMarker = false;

  private constructor(
    readonly route: ModelRoute,
    /** Which attempt at this route the stream is (1 for the first). */
    readonly attempt: number,
    callerSignal: AbortSignal | undefined,
  ) {
    this.#signal = callerSignal
      ? AbortSignal.any([callerSignal, this.#controller.signal])
      : this.#controller.signal;
  }

  static async open(
    route: ModelRoute,
    messages: BaseMessage[],
    options: BaseChatModelCallOptions,
    attempt: number,
  ): Promise<GuardedStream> {
    const stream = new GuardedStream(route, attempt, options.signal);
    let circuit: Awaited<ReturnType<typeof enterCircuit>>;
    try {
      circuit = await enterCircuit(route.guard.breaker);
    } catch (error) {
      throw guardErrorToLlmError(error, route);
    }
    let release: (() => void) | undefined;
    stream.#finish = (error) => {
      stream.#finish = undefined;
      clearTimeout(stream.#timer);
      release?.();
      if (error === undefined) circuit.succeed();
      else circuit.fail(error);
    };
    try {
      stream.#armDeadline();
      release = await acquireSlot(route.guard.bulkhead, stream.#signal);
      const iterable = await withCallScope(route, stream.#signal, () =>
        route.runnable.stream(messages, providerCallOptions(options, stream.#signal)),
      );
      stream.#iterator = iterable[Symbol.asyncIterator]();
      stream.first = await stream.next();
      return stream;
    } catch (error) {
      throw stream.#fail(error);
    }
  }

  async next(): Promise<IteratorResult<AIMessageChunk>> {
    const iterator = this.#iterator;
    if (!iterator) throw new Error("stream not opened");
    try {
      this.#armDeadline();
      const result = await raceAbort(
        withCallScope(this.route, this.#signal, () => iterator.next()),
        this.#signal,
      );
      const marker = this.route.streamEndMarker;
      if (marker && !result.done && result.value.response_metadata?.[marker] !== undefined)
        this.#sawEndMarker = true;
      if (result.done && marker && !this.#sawEndMarker) {
        throw new LlmError(
          "LLM_UNAVAILABLE",
          `${this.route.provider} model "${this.route.model}": stream cut off`,
          {
            details: { provider: this.route.provider, model: this.route.model, transient: true },
          },
        );
      }
      if (result.done) this.#finish?.();
      return result;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Ends a stream the consumer stopped reading; a no-op once it has finished. */
  abandon() {
    if (!this.#finish) return;
    // Not the provider's fault, so it does not count against its circuit.
    this.#finish(new Error("stream abandoned by its consumer"));
    this.#controller.abort(new Error("stream abandoned by its consumer"));
  }

  /**
   * Runs from one `next()` call to the next, so it also ends a stream whose consumer stopped
   * reading without closing it: the request, the bulkhead slot and the circuit admission are
   * released instead of being held forever.
   */
  #armDeadline() {
    clearTimeout(this.#timer);
    const { timeoutMs } = this.route;
    this.#timer = setTimeout(() => {
      const error = timeoutError(this.route)(timeoutMs);
      this.#controller.abort(error);
      this.#finish?.(error);
    }, timeoutMs);
  }

  #fail(error: unknown): unknown {
    const failure = this.#signal.aborted
      ? this.#signal.reason
      : guardErrorToLlmError(toLlmErrorUnlessAbort(error, this.route), this.route);
    this.#finish?.(failure);
    // Closes the provider's HTTP request if it is still open.
    if (!this.#controller.signal.aborted) this.#controller.abort(failure);
    return failure;
  }
}

/** Ends a span the caller started by hand (streams), marking a failure (see core's `withSpan`). */
function endSpan(span: Span, failure: unknown) {
  if (failure !== undefined) markFailed(span, failure);
  span.end();
}

function toLlmErrorUnlessAbort(error: unknown, route: ModelRoute): unknown {
  return isLlmError(error) ? error : toLlmError(error, route);
}

/** Scopes the call's signal for integrations that need `fetchBoundToCallSignal`; free for the rest. */
function withCallScope<T>(route: ModelRoute, signal: AbortSignal, operation: () => T): T {
  return route.scopesFetchToCall ? runWithCallSignal(signal, operation) : operation();
}

function retryOptions(
  route: ModelRoute,
  signal: AbortSignal | undefined,
  logger: Logger,
  onRetry: (retry: ModelRetry) => void,
): RetryOptions {
  return {
    retries: route.maxRetries,
    baseDelayMs: route.retryBaseDelayMs,
    maxDelayMs: RETRY_MAX_DELAY_MS,
    signal,
    classify: (error: unknown) => {
      if (!isLlmError(error) || !isRetryable(error)) return { retry: false };
      // A timed-out attempt has already cost the caller a whole timeoutMs, and asking the same model
      // again rarely ends differently (it is down, overloaded, or its answer outlasts the deadline):
      // the call moves on to the next model instead, so it ends within one deadline per model plus
      // the fast failures' backoff (ADR 0044).
      if (error.code === "LLM_TIMEOUT") return { retry: false };
      const retryAfterMs = error.retryAfterMs;
      // A provider asking for a long pause is better served by the next model in the chain.
      if (retryAfterMs !== undefined && retryAfterMs > route.maxRetryAfterMs) return { retry: false };
      return { retry: true, retryAfterMs };
    },
    onRetry: (error, attempt, delayMs) => {
      const failed = { provider: route.provider, model: route.model, code: (error as LlmError).code };
      logger.info({ ...failed, attempt, delayMs }, "LLM call failed; retrying");
      onRetry({ ...failed, retry: attempt + 1, delayMs });
    },
  };
}

/** The call options a provider integration receives: ours minus what LangChain already applied. */
function providerCallOptions(options: BaseChatModelCallOptions, signal: AbortSignal) {
  const { signal: _callerSignal, timeout: _timeout, callbacks: _callbacks, ...forwarded } = options;
  // Explicit empty callbacks: the outer model reports this run; inheriting the ambient
  // callbacks would report every token twice (stream events, LangGraph "messages" mode).
  return { ...forwarded, signal, callbacks: [] };
}

/** One attempt's deadline expiry; `callFailure` restates it with the attempts once the call ends. */
function timeoutError(route: ModelRoute) {
  return (timeoutMs: number) =>
    new LlmError("LLM_TIMEOUT", `${route.provider} model "${route.model}" timed out after ${timeoutMs} ms`, {
      details: { provider: route.provider, model: route.model, timeoutMs },
    });
}

/** One model's part in a failed call: how its last attempt failed and how many attempts it got. */
interface RouteFailure {
  route: ModelRoute;
  error: LlmError;
  attempts: number;
}

/**
 * The error a failed call ends with. One model: its own error, except that a timeout is restated
 * with its deadline and attempts, plus `note` (why no other model was tried). Several models:
 * LLM_TIMEOUT when every one timed out, else LLM_UNAVAILABLE, with each model's outcome in the
 * message. Both stay safe to log: model names, codes and numbers, never a provider's own text.
 */
function callFailure(failures: readonly RouteFailure[], note: string): LlmError {
  // A chain has at least one route (the constructor checks), so a failed call has a failure.
  const first = failures[0]!;
  if (failures.length === 1 && first.error.code !== "LLM_TIMEOUT") return first.error;
  const models = failures.map(({ route, error, attempts }) => {
    const timeoutMs = timeoutMsOf(error);
    return {
      provider: route.provider,
      model: route.model,
      code: error.code,
      attempts,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
  });
  // Fallbacks inherit the primary's deadline unless given their own; a single number only when shared.
  const deadlines = new Set(
    models.flatMap((entry) => (entry.timeoutMs === undefined ? [] : [entry.timeoutMs])),
  );
  const [sharedTimeoutMs] = deadlines.size === 1 ? deadlines : [];
  const details = {
    ...(failures.length === 1 ? { provider: first.route.provider, model: first.route.model } : {}),
    ...(sharedTimeoutMs === undefined ? {} : { timeoutMs: sharedTimeoutMs }),
    attempts: models.reduce((total, entry) => total + entry.attempts, 0),
    models,
  };
  if (failures.length === 1) {
    return new LlmError("LLM_TIMEOUT", outcome(first, note), { cause: first.error, details });
  }
  const everyTimedOut = failures.every(({ error }) => error.code === "LLM_TIMEOUT");
  return new LlmError(
    everyTimedOut ? "LLM_TIMEOUT" : "LLM_UNAVAILABLE",
    `all ${failures.length} models failed: ${failures.map((failure) => outcome(failure)).join("; ")}`,
    {
      cause: new AggregateError(
        failures.map(({ error }) => error),
        "every model in the fallback chain failed",
      ),
      details,
    },
  );
}

/** `openai model "gpt-4o-mini" timed out after 2000 ms (1 attempt, no fallback)`. */
function outcome({ route, error, attempts }: RouteFailure, note?: string): string {
  const timedOut = error.code === "LLM_TIMEOUT";
  const timeoutMs = timeoutMsOf(error);
  // A provider client's own timeout (rare: ours is shorter) comes without a known duration.
  const what = !timedOut
    ? `failed with ${error.code}`
    : timeoutMs === undefined
      ? "timed out"
      : `timed out after ${timeoutMs} ms`;
  const facts = [`${attempts} attempt${attempts === 1 ? "" : "s"}`];
  // Timeouts are not retried, so of several attempts only the last can have timed out.
  if (timedOut && attempts > 1) facts.push("the last timed out");
  if (note) facts.push(note);
  return `${route.provider} model "${route.model}" ${what} (${facts.join(", ")})`;
}

function timeoutMsOf(error: LlmError): number | undefined {
  const value = error.details?.timeoutMs;
  return typeof value === "number" ? value : undefined;
}

function costMetadata(report: UsageReport) {
  return { llm_provider: report.provider, estimated_cost_usd: report.estimatedCostUsd };
}
