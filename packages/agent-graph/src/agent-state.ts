import { Annotation, MessagesAnnotation } from "@langchain/langgraph";

/** Older turns folded into one note by the model (ADR 0130); checkpointed with the thread. */
export interface ConversationSummary {
  text: string;
  /** The summary stands for `messages[0 .. messageCount)`; it always ends where a user turn starts. */
  messageCount: number;
}

/**
 * What the compaction and verification steps did in one turn. Keyed by the turn's user message,
 * so a value left from an earlier turn reads as empty and nothing needs resetting.
 */
export interface TurnStats {
  turnId: string;
  /** Judge scores of the answers judged this turn, in order. */
  scores: number[];
  /** The last verdict's feedback, for the refine pass. */
  feedback?: string;
  /** Answers rewritten after a low score. */
  refinements: number;
  /** The summariser failed this turn: the model sees the newest turns that fit, not retried this turn. */
  summaryFailed: boolean;
  /** Verification ended early (judge or refine pass failed): the current answer stands. */
  verifyStopped: boolean;
  /** Tokens of model calls whose output is not a message of the thread (summaries, verdicts, replaced drafts). */
  extraInputTokens: number;
  extraOutputTokens: number;
}

export const AgentState = Annotation.Root({
  ...MessagesAnnotation.spec,
  summary: Annotation<ConversationSummary | undefined>(),
  turn: Annotation<TurnStats | undefined>(),
});

export type AgentStateValue = typeof AgentState.State;

export function turnStatsOf(state: AgentStateValue, turnId: string): TurnStats {
  if (state.turn?.turnId === turnId) return state.turn;
  return {
    turnId,
    scores: [],
    refinements: 0,
    summaryFailed: false,
    verifyStopped: false,
    extraInputTokens: 0,
    extraOutputTokens: 0,
  };
}

/** Adds a model call's reported usage to the turn's extra tokens. */
export function withUsage(
  stats: TurnStats,
  usage: { input_tokens: number; output_tokens: number } | undefined,
): TurnStats {
  if (!usage) return stats;
  return {
    ...stats,
    extraInputTokens: stats.extraInputTokens + usage.input_tokens,
    extraOutputTokens: stats.extraOutputTokens + usage.output_tokens,
  };
}
