import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { isCodedError, type Logger } from "@mcp-langgraph/core";
import { type AgentStateValue, turnStatsOf, withUsage } from "./agent-state.js";
import {
  type ContextBudget,
  currentTurnStart,
  planCompaction,
  recentMessages,
  systemMessageWith,
} from "./context-window.js";
import { AgentError } from "./errors.js";
import { internalCallConfig } from "./internal-calls.js";
import { CHARS_PER_TOKEN } from "./token-estimate.js";
import { clip, transcriptChunks } from "./transcript.js";

export const SUMMARY_PROMPT =
  "You maintain the running summary of a conversation between a user and an AI assistant. " +
  "Merge the summary so far with the new messages into one updated summary. Keep the facts, " +
  "numbers, names, decisions, tool results and open questions the assistant needs to continue; " +
  "drop greetings and repetition. Write plain prose in the third person, with no preamble.";

export interface CompactionOptions {
  budget: ContextBudget;
  logger: Logger;
  /** The model of this turn (the agent's own, or the caller's per-turn model). */
  modelFor: (config: RunnableConfig) => BaseChatModel;
}

/**
 * Compaction (ADR 0130): a `compact` node runs before a model call only when the model's view
 * (system prompt, tools, summary, unsummarised messages) would exceed the context budget. It folds
 * whole older turns into the stored summary; `modelMessages` then sends the summary and the turns
 * after it. The thread's messages are never removed, so `getConversation` keeps every turn.
 */
export function createCompaction({ budget, logger, modelFor }: CompactionOptions) {
  const turnIdOf = (messages: BaseMessage[]) => messages[currentTurnStart(messages)]?.id ?? "";

  return {
    /** Router before the model: compact first when needed, unless the summariser already failed this turn. */
    needed(state: AgentStateValue): boolean {
      if (turnStatsOf(state, turnIdOf(state.messages)).summaryFailed) return false;
      return planCompaction(state.messages, state.summary, budget) !== undefined;
    },

    async node(state: AgentStateValue, config: RunnableConfig): Promise<Partial<AgentStateValue>> {
      const plan = planCompaction(state.messages, state.summary, budget);
      const stats = turnStatsOf(state, turnIdOf(state.messages));
      if (!plan) return {};
      try {
        const { text, usage } = await summarise(
          modelFor(config),
          state.summary?.text,
          state.messages.slice(plan.from, plan.to),
          budget,
          config,
        );
        return { summary: { text, messageCount: plan.to }, turn: withUsage(stats, usage) };
      } catch (error) {
        if (config.signal?.aborted) throw error;
        // The turn goes on: the model sees the previous summary (if any) and the newest turns that fit.
        logger.warn(
          { code: isCodedError(error) ? error.code : "UNKNOWN", messages: plan.to - plan.from },
          "agent: summarising older turns failed; sending the newest turns that fit instead",
        );
        return { turn: { ...stats, summaryFailed: true } };
      }
    },

    /** What the model is sent: one system message (prompt and summary), then the recent turns. */
    modelMessages(systemPrompt: string, state: AgentStateValue): BaseMessage[] {
      const recent = recentMessages(state.messages, state.summary, budget);
      return [systemMessageWith(systemPrompt, state.summary), ...recent.messages];
    },
  };
}

/**
 * Folds `messages` into `previous`, one model call per transcript chunk (one, unless the backlog
 * exceeds half the budget, as when the budget was lowered on a long thread).
 */
async function summarise(
  model: BaseChatModel,
  previous: string | undefined,
  messages: BaseMessage[],
  budget: ContextBudget,
  config: RunnableConfig,
): Promise<{ text: string; usage: { input_tokens: number; output_tokens: number } }> {
  const maxChars = budget.summaryTokens * CHARS_PER_TOKEN;
  // About three words to four tokens, so the summary fits its share of the context.
  const maxWords = Math.max(20, Math.floor((budget.summaryTokens * 3) / 4));
  let text = previous;
  const usage = { input_tokens: 0, output_tokens: 0 };
  for (const chunk of transcriptChunks(messages, budget.recentTokens)) {
    const response = await model.invoke(
      [
        new SystemMessage(`${SUMMARY_PROMPT} Use at most ${maxWords} words.`),
        new HumanMessage(`Summary so far:\n${text ?? "(none yet)"}\n\nNew messages:\n${chunk}`),
      ],
      internalCallConfig(config),
    );
    const answer = response.text.trim();
    if (!answer) throw new AgentError("AGENT_FAILED", "the summariser answered with no text");
    text = clip(answer, maxChars);
    usage.input_tokens += response.usage_metadata?.input_tokens ?? 0;
    usage.output_tokens += response.usage_metadata?.output_tokens ?? 0;
  }
  return { text: text ?? "", usage };
}
