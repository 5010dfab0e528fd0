import { type BaseMessage, isHumanMessage, SystemMessage } from "@langchain/core/messages";
import type { ConversationSummary } from "./agent-state.js";
import { estimateMessageTokens, estimateTextTokens } from "./token-estimate.js";

/**
 * How the model's context is shared (ADR 0130), in estimated tokens. `available` is what is left of
 * the context once the system prompt and tool definitions are counted.
 */
export interface ContextBudget {
  available: number;
  /** A summary is kept to this size (a quarter of `available`). */
  summaryTokens: number;
  /** After a compaction the recent turns take at most this (half of `available`), when they can. */
  recentTokens: number;
}

export function contextBudget(contextTokens: number, fixedTokens: number): ContextBudget {
  const available = contextTokens - fixedTokens;
  return {
    available,
    summaryTokens: Math.floor(available / 4),
    recentTokens: Math.floor(available / 2),
  };
}

export const SUMMARY_HEADING =
  "Summary of the earlier part of this conversation (older messages are not shown):";

/** The system prompt, with the summary (when there is one) in the same message: some providers take one system message. */
export function systemMessageWith(
  systemPrompt: string,
  summary: ConversationSummary | undefined,
): SystemMessage {
  return new SystemMessage(summary ? `${systemPrompt}\n\n${SUMMARY_HEADING}\n${summary.text}` : systemPrompt);
}

/** Index of the current turn's user message (-1 when there is none). */
export function currentTurnStart(messages: readonly BaseMessage[]): number {
  return messages.findLastIndex((message) => isHumanMessage(message));
}

/** Where the messages the summary does not cover begin; a summary that does not fit the thread is ignored. */
export function summarisedCount(messages: readonly BaseMessage[], summary: ConversationSummary | undefined) {
  if (!summary || summary.messageCount > messages.length) return 0;
  return summary.messageCount;
}

/**
 * The cut points from `from` on: indices of user messages, where a turn begins. Cutting only there
 * keeps every tool call with its result and starts the recent part with a user message, which
 * every provider accepts.
 */
function turnStarts(messages: readonly BaseMessage[], from: number): number[] {
  const starts: number[] = [];
  for (let index = from; index < messages.length; index++) {
    if (isHumanMessage(messages[index] as BaseMessage)) starts.push(index);
  }
  return starts;
}

/** Estimated tokens of `messages[index ..]` for every index (one pass from the end). */
function suffixTokens(messages: readonly BaseMessage[], from: number): number[] {
  const sums = new Array<number>(messages.length + 1).fill(0);
  for (let index = messages.length - 1; index >= from; index--) {
    sums[index] = (sums[index + 1] as number) + estimateMessageTokens(messages[index] as BaseMessage);
  }
  return sums;
}

/**
 * Which messages to fold into the summary now, or undefined when the model's view fits: the
 * summary plus everything after it exceeds the budget and there is a whole turn before the
 * current one to summarise. The cut is the earliest turn start after which the recent turns fit
 * `recentTokens`, or the current turn when none does (a turn is never split).
 */
export function planCompaction(
  messages: readonly BaseMessage[],
  summary: ConversationSummary | undefined,
  budget: ContextBudget,
): { from: number; to: number } | undefined {
  const from = summarisedCount(messages, summary);
  const sums = suffixTokens(messages, from);
  const summaryTokens = summary ? estimateTextTokens(summary.text) : 0;
  if (summaryTokens + (sums[from] as number) <= budget.available) return undefined;
  const starts = turnStarts(messages, from).filter((start) => start > from);
  if (starts.length === 0) return undefined;
  const to =
    starts.find((start) => (sums[start] as number) <= budget.recentTokens) ?? (starts.at(-1) as number);
  return { from, to };
}

/**
 * The messages the model is sent after the system message: those the summary does not cover and,
 * when they still exceed the budget (the summariser failed, or has not caught up), only the newest
 * whole turns that fit. The current turn is always sent, whatever its size.
 */
export function recentMessages(
  messages: readonly BaseMessage[],
  summary: ConversationSummary | undefined,
  budget: ContextBudget,
): { messages: BaseMessage[]; truncated: number } {
  const from = summarisedCount(messages, summary);
  const sums = suffixTokens(messages, from);
  const room = budget.available - (summary ? estimateTextTokens(summary.text) : 0);
  if ((sums[from] as number) <= room) return { messages: messages.slice(from), truncated: 0 };
  const starts = turnStarts(messages, from);
  const cut = starts.find((start) => (sums[start] as number) <= room) ?? starts.at(-1) ?? from;
  return { messages: messages.slice(cut), truncated: cut - from };
}
