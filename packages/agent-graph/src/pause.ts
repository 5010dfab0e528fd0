import { interrupt } from "@langchain/langgraph";

/**
 * Where a turn stopped for its caller's input (ADR 0185): the value it interrupted with (an
 * approval request, or the caller's own, e.g. a sampling request) and the checkpoint holding the
 * paused run. The run continues only from that checkpoint: a later `resume` must name it.
 */
export interface TurnPause {
  value: unknown;
  checkpointId: string;
}

/** Continues a paused turn with the caller's answer to its interrupt, instead of a new message. */
export interface TurnResume {
  value: unknown;
  /** The checkpoint the pause reported; any other (the thread moved on) refuses the resume. */
  checkpointId: string;
}

/**
 * Asks the turn's caller for a value from inside a node (e.g. a chat model whose completions the
 * caller supplies): the run pauses here and the turn ends with `pause`; resumed, the same call
 * returns the caller's answer. Only inside a running turn (it is LangGraph's `interrupt`).
 */
export function askCaller<T>(value: unknown): T {
  return interrupt<unknown, T>(value);
}

/** The interrupt a stream chunk carries when the run paused, if it did. */
export function interruptOf(chunk: unknown): { value: unknown } | undefined {
  const interrupts = (chunk as { __interrupt__?: { value?: unknown }[] } | undefined)?.__interrupt__;
  return Array.isArray(interrupts) && interrupts.length > 0 ? { value: interrupts[0]?.value } : undefined;
}
