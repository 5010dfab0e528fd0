/**
 * Hooks an app uses to measure the MCP composition (metrics, tracing) without this package
 * knowing how. Each start hook returns the function that ends what it started; it is called
 * exactly once, with "ok" or the error code the client saw. Hooks must not throw: a failing
 * hook is ignored, never the call's failure.
 */
export interface McpObserver {
  /** A tool call began (after the SDK validated its arguments). */
  toolCall?(tool: string): (outcome: string) => void;
  /** An agent turn began (the call passed its limits and access checks). */
  agentTurn?(): (outcome: string) => void;
}

const NOTHING = () => {};

/** Starts `hook` safely: a missing or throwing hook yields a no-op end, and only the first end counts. */
export function observe<A extends unknown[]>(
  hook: ((...args: A) => (outcome: string) => void) | undefined,
  ...args: A
): (outcome: string) => void {
  if (!hook) return NOTHING;
  try {
    const end = hook(...args);
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      try {
        end(outcome);
      } catch {
        // see the interface: metrics never fail a call
      }
    };
  } catch {
    return NOTHING;
  }
}

/** The outcome label of a tool result: "ok", "input_required" (2026-07-28), or its error code. */
export function outcomeOf(result: object): string {
  const { isError, structuredContent, resultType } = result as {
    isError?: boolean;
    structuredContent?: unknown;
    resultType?: unknown;
  };
  if (resultType === "input_required") return "input_required";
  if (!isError) return "ok";
  const code = (structuredContent as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === "string" ? code : "error";
}
