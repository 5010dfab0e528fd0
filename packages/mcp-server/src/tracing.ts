import { markFailed, type Tracer, withSpan } from "@mcp-langgraph/core";
import { SpanKind } from "@opentelemetry/api";
import { outcomeOf } from "./observer.js";

/**
 * Runs one tool call inside a `tools/call <tool>` span (OpenTelemetry's MCP conventions:
 * `mcp.method.name`, `gen_ai.tool.name`). A result the client sees as an error marks the span
 * with its code. Arguments and results are never recorded.
 */
export function traceToolCall<R extends object>(
  tracer: Tracer,
  tool: string,
  run: () => Promise<R>,
): Promise<R> {
  return withSpan(
    tracer,
    `tools/call ${tool}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
      },
    },
    async (span) => {
      const result = await run();
      if ((result as { isError?: boolean }).isError) markFailed(span, { name: outcomeOf(result) });
      return result;
    },
  );
}
