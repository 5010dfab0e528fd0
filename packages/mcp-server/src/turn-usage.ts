import type { AgentReply } from "@mcp-langgraph/agent-graph";
import { z } from "zod";

/**
 * Tokens one `agent_chat` turn cost, as the model reported them in its usage metadata and summed
 * over the turn's model steps. Absent when the model reported none (a client's own model through
 * sampling does not say).
 */
export const turnUsageSchema = z
  .object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    total_tokens: z.number().int().nonnegative(),
  })
  .describe("Tokens the model reported for this turn, summed over its steps");

export type TurnUsage = z.infer<typeof turnUsageSchema>;

export function turnUsage(usage: AgentReply["usage"]): { usage?: TurnUsage } {
  if (!usage) return {};
  const { inputTokens, outputTokens } = usage;
  return {
    usage: {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    },
  };
}
