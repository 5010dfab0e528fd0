import { ToolMessage } from "@langchain/core/messages";
import { type StructuredToolInterface, tool } from "@langchain/core/tools";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { guardedCall, type ToolGuardOptions } from "../tool-table.js";
import type { UpstreamGateway, UpstreamTool } from "./gateway.js";

export interface UpstreamAgentToolsOptions {
  gateway: UpstreamGateway;
  guard: ToolGuardOptions;
  /** Longest result text the model gets from one call; the rest is cut with a note. */
  maxResultChars: number;
}

/**
 * The upstream tools for one caller's turn, as LangChain tools. Each call goes through the same
 * guard as the MCP tools (ADR 0140) with `upstream_tool:<name>` as the object, so a refused call
 * never reaches its server and the model reads the refusal as the tool's error.
 */
export function upstreamAgentTools(
  principal: Principal,
  options: UpstreamAgentToolsOptions,
): StructuredToolInterface[] {
  return options.gateway.tools().map((upstream) => upstreamAgentTool(upstream, principal, options));
}

function upstreamAgentTool(
  upstream: UpstreamTool,
  principal: Principal,
  { gateway, guard, maxResultChars }: UpstreamAgentToolsOptions,
): StructuredToolInterface {
  return tool(
    async (args: Record<string, unknown>, config) => {
      const signal = config.signal ?? new AbortController().signal;
      const result = await guardedCall(guard, {
        tool: upstream.name,
        object: {
          name: upstream.name,
          object: `upstream_tool:${upstream.name}`,
          relation: "executor",
          links: [gateway.serverLink(upstream)],
        },
        principal: () => principal,
        signal,
        metered: false,
        handler: () => gateway.call(upstream.name, args, signal),
      });
      // The turn's own cancellation ends the turn; it is not a tool result for the model.
      signal.throwIfAborted();
      return new ToolMessage({
        tool_call_id: config.toolCall?.id ?? "",
        name: upstream.name,
        status: result.isError ? "error" : "success",
        content: resultText(result, maxResultChars),
      });
    },
    {
      name: upstream.name,
      description: upstream.description,
      schema: upstream.inputSchema,
    },
  ) as StructuredToolInterface;
}

/** What the model reads of a result: its text blocks (other blocks named), else its structured content. */
export function resultText(result: CallToolResult, maxChars: number): string {
  const parts = result.content.map((block) =>
    block.type === "text" ? block.text : `[${block.type} content]`,
  );
  let text = parts.join("\n");
  if (!text && result.structuredContent !== undefined) text = JSON.stringify(result.structuredContent);
  if (!text) text = result.isError ? "The tool failed without a message." : "(no output)";
  return text.length > maxChars
    ? `${text.slice(0, maxChars)}\n[cut: the result had ${text.length} characters; ${maxChars} are shown]`
    : text;
}
