import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  isAIMessage,
  isToolMessage,
  SystemMessage,
} from "@langchain/core/messages";
import type { Runnable, RunnableConfig } from "@langchain/core/runnables";
import { END } from "@langchain/langgraph";
import { isCodedError, type Logger } from "@mcp-langgraph/core";
import { z } from "zod";
import { type AgentStateValue, type TurnStats, turnStatsOf, withUsage } from "./agent-state.js";
import { type ContextBudget, currentTurnStart } from "./context-window.js";
import { AgentError } from "./errors.js";
import { internalCallConfig } from "./internal-calls.js";
import { stampCreatedAt } from "./messages.js";
import { CHARS_PER_TOKEN } from "./token-estimate.js";
import { clip, transcriptChunks } from "./transcript.js";

export const JUDGE_PROMPT =
  "You review an AI assistant's answer to a user's question. Judge whether the answer is correct " +
  "(consistent with the tool results shown, if any), complete, relevant and clear. Give a score " +
  "from 0 (wrong or useless) to 1 (fully correct and complete), and feedback that says concretely " +
  "what to fix (empty when nothing).";

const MAX_FEEDBACK_CHARS = 2_000;

const verdictSchema = z
  .object({
    score: z.number().min(0).max(1).describe("0 = wrong or useless, 1 = fully correct and complete"),
    feedback: z.string().describe("What to fix in the answer; empty when nothing"),
  })
  .describe("Your verdict on the answer");

export interface VerificationSettings {
  /** An answer scoring below this is refined. */
  threshold: number;
  /** Refinements allowed per turn. */
  maxRefinements: number;
}

export interface VerificationOptions extends VerificationSettings {
  budget: ContextBudget;
  logger: Logger;
  /** The model of this turn, for the judge (structured output). */
  modelFor: (config: RunnableConfig) => BaseChatModel;
  /** The same model with the tools bound, as the agent node calls it (providers reject tool history without tools). */
  boundModelFor: (config: RunnableConfig) => Runnable<BaseMessage[], AIMessage>;
  /** What the agent node would send the model for this state (system prompt, summary, recent turns). */
  modelMessages: (state: AgentStateValue) => BaseMessage[];
}

type StateUpdate = Partial<AgentStateValue>;

/**
 * Verification (ADR 0131): after a final answer, a `verify` node asks the model for a verdict
 * (structured output: score and feedback); below the threshold a `refine` node has the model
 * rewrite the answer given the feedback, and the rewrite replaces the draft in the thread. A failed
 * judge or rewrite keeps the answer it has: verification never fails the turn.
 */
export function createVerification(options: VerificationOptions) {
  const { threshold, maxRefinements, budget, logger } = options;

  const turnOf = (state: AgentStateValue) => {
    const start = currentTurnStart(state.messages);
    const question = state.messages[start];
    const answer = state.messages.at(-1);
    const stats = turnStatsOf(state, question?.id ?? "");
    return { start, question, answer, stats };
  };

  const stop = (stats: TurnStats, step: "judge" | "refine", error: unknown): StateUpdate => {
    logger.warn(
      { code: isCodedError(error) ? error.code : "UNKNOWN", step },
      "agent: verification step failed; keeping the current answer",
    );
    return { turn: { ...stats, verifyStopped: true } };
  };

  return {
    async verify(state: AgentStateValue, config: RunnableConfig): Promise<StateUpdate> {
      const { start, question, answer, stats } = turnOf(state);
      if (!question || !answer || !isAIMessage(answer)) return {};
      try {
        const evidence = state.messages.slice(start + 1).filter((message) => isToolMessage(message));
        const judge = options.modelFor(config).withStructuredOutput(verdictSchema, {
          name: "verdict",
          includeRaw: true,
        });
        const result = await judge.invoke(
          [
            new SystemMessage(JUDGE_PROMPT),
            new HumanMessage(judgeRequest(question, evidence, answer, budget)),
          ],
          internalCallConfig(config),
        );
        if (!result.parsed) throw new AgentError("AGENT_FAILED", "the judge gave no valid verdict");
        const verdict = result.parsed;
        return {
          turn: {
            ...withUsage(stats, (result.raw as AIMessage).usage_metadata),
            scores: [...stats.scores, verdict.score],
            feedback: clip(verdict.feedback, MAX_FEEDBACK_CHARS),
          },
        };
      } catch (error) {
        if (config.signal?.aborted) throw error;
        return stop(stats, "judge", error);
      }
    },

    async refine(state: AgentStateValue, config: RunnableConfig): Promise<StateUpdate> {
      const { answer: draft, stats } = turnOf(state);
      if (!draft || !isAIMessage(draft)) return {};
      try {
        const score = stats.scores.at(-1) ?? 0;
        const request = new HumanMessage(
          `A reviewer scored your last answer ${score.toFixed(2)} out of 1.\n` +
            `Feedback: ${stats.feedback || "(none given)"}\n` +
            "Write an improved answer to my previous message, taking the feedback into account. " +
            "Reply with the improved answer only.",
        );
        const response = await options
          .boundModelFor(config)
          .invoke([...options.modelMessages(state), request], internalCallConfig(config));
        if ((response.tool_calls?.length ?? 0) > 0 || !response.text.trim()) {
          throw new AgentError("AGENT_FAILED", "the refine pass gave no answer");
        }
        // Same id: the messages reducer replaces the draft, so the thread holds the answer the user got.
        const refined = stampCreatedAt(
          new AIMessage({
            id: draft.id,
            content: response.content,
            ...(response.usage_metadata ? { usage_metadata: response.usage_metadata } : {}),
          }),
        );
        return {
          messages: [refined],
          turn: { ...withUsage(stats, draft.usage_metadata), refinements: stats.refinements + 1 },
        };
      } catch (error) {
        if (config.signal?.aborted) throw error;
        return stop(stats, "refine", error);
      }
    },

    routeAfterVerify(state: AgentStateValue): "refine" | typeof END {
      const { stats } = turnOf(state);
      const score = stats.scores.at(-1);
      if (stats.verifyStopped || score === undefined || score >= threshold) return END;
      return stats.refinements < maxRefinements ? "refine" : END;
    },

    /** The last allowed rewrite is not judged again: no verdict could change it. */
    routeAfterRefine(state: AgentStateValue): "verify" | typeof END {
      const { stats } = turnOf(state);
      return stats.verifyStopped || stats.refinements >= maxRefinements ? END : "verify";
    },
  };
}

function judgeRequest(
  question: BaseMessage,
  evidence: BaseMessage[],
  answer: BaseMessage,
  budget: ContextBudget,
): string {
  // Each part gets a share of the budget, so the judge's request fits the model's context too.
  const share = budget.summaryTokens * CHARS_PER_TOKEN;
  const tools = evidence.length > 0 ? transcriptChunks(evidence, budget.summaryTokens)[0] : undefined;
  return [
    `QUESTION:\n${clip(question.text, share)}`,
    ...(tools ? [`TOOL RESULTS:\n${tools}`] : []),
    `ANSWER:\n${clip(answer.text, share)}`,
  ].join("\n\n");
}
