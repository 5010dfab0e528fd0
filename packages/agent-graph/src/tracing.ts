import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { markFailed, type Tracer, withSpan } from "@mcp-langgraph/core";
import { type Context, context, type Span, SpanKind } from "@opentelemetry/api";
import type { AgentReply } from "./types.js";

/** The agent's name in `invoke_agent` spans (gen_ai semantic conventions). */
export const AGENT_NAME = "mcp-langgraph";

/**
 * The context a turn's span is a child of, captured when the turn is asked for: the turn runs
 * later, once admitted, from a queue whose async context is whoever freed the slot.
 */
export function turnParent(tracer: Tracer | undefined): Context | undefined {
  return tracer ? context.active() : undefined;
}

/**
 * Runs one admitted turn inside an `invoke_agent` span, with a callback handler that gives each
 * tool call its own `execute_tool <name>` child span. Token usage is recorded; the message, the
 * reply, tool arguments and results never are.
 */
export function traceTurn(
  tracer: Tracer,
  parent: Context | undefined,
  run: (callbacks: BaseCallbackHandler[]) => Promise<AgentReply>,
): Promise<AgentReply> {
  return withSpan(
    tracer,
    `invoke_agent ${AGENT_NAME}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": AGENT_NAME },
      ...(parent ? { parent } : {}),
    },
    async (span) => {
      const reply = await run([new ToolSpans({ tracer, parent: context.active() })]);
      if (reply.usage) {
        span.setAttributes({
          "gen_ai.usage.input_tokens": reply.usage.inputTokens,
          "gen_ai.usage.output_tokens": reply.usage.outputTokens,
        });
      }
      return reply;
    },
  );
}

interface ToolSpanFields {
  tracer: Tracer;
  /** The turn's span context: tool spans are its children wherever LangChain calls the handler from. */
  parent: Context;
  spans?: Map<string, Span>;
}

/**
 * Tool spans from LangChain's tool callbacks. Awaited (`_awaitHandler`), so a span starts before
 * its tool runs and ends when it returns. LangChain copies handlers through their constructor, so
 * every field, the open spans included, travels in the one fields object.
 */
class ToolSpans extends BaseCallbackHandler {
  name = "mcp_langgraph_tool_spans";
  readonly tracer: Tracer;
  readonly parent: Context;
  readonly spans: Map<string, Span>;

  constructor(fields: ToolSpanFields) {
    super({ _awaitHandler: true });
    this.tracer = fields.tracer;
    this.parent = fields.parent;
    this.spans = fields.spans ?? new Map();
  }

  override handleToolStart(
    _tool: Serialized,
    _input: string,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ) {
    const name = runName ?? "tool";
    const span = this.tracer.startSpan(
      `execute_tool ${name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": name,
          ...(toolCallId ? { "gen_ai.tool.call.id": toolCallId } : {}),
        },
      },
      this.parent,
    );
    this.spans.set(runId, span);
  }

  override handleToolEnd(_output: unknown, runId: string) {
    this.#end(runId, undefined);
  }

  override handleToolError(error: unknown, runId: string) {
    this.#end(runId, error ?? new Error("tool failed"));
  }

  #end(runId: string, error: unknown) {
    const span = this.spans.get(runId);
    if (!span) return;
    this.spans.delete(runId);
    if (error !== undefined) markFailed(span, error);
    span.end();
  }
}
