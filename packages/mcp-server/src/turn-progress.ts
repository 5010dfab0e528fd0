import type { ProgressToken, ServerContext } from "@modelcontextprotocol/server";

/** At most one text notification per this many ms per call: a fast token stream is sent in pieces, not per token. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/** The `_meta` key of each progress notification, saying what its `message` is. */
export const PROGRESS_META_KEY = "mcp-langgraph/progress";

/**
 * What one progress notification carries besides its `message`: `text` (the message is the next
 * piece of the answer; the pieces in order are the text so far), or a tool starting or ending (the
 * message names it; arguments and results are never sent, they may hold what the user typed).
 */
export type ProgressEvent =
  | { kind: "text" }
  | { kind: "tool_start"; tool: string }
  | { kind: "tool_end"; tool: string };

export interface TurnProgress {
  /** A new piece of the answer; sent with what came before it once the interval allows. */
  text(piece: string): void;
  /** A tool starts or ends: sent at once, after any text still held (order is kept). */
  tool(name: string, phase: "start" | "end"): void;
  /** Sends the text still held and waits until every notification has been handed to the transport. */
  flush(): Promise<void>;
  /** Drops the text still held and sends nothing more (the call failed or was cancelled). */
  stop(): void;
}

/**
 * `notifications/progress` for one `agent_chat` call whose request carried a progress token; none
 * without one. Text is coalesced: a piece is sent at once if the last text notification is at least
 * `intervalMs` old, otherwise it waits (with whatever follows) for the interval to end, so a call
 * sends at most one text notification per interval however fast the model streams. `progress`
 * counts the notifications (the spec wants it to increase; the total is unknown).
 */
export function turnProgress(
  ctx: Pick<ServerContext, "mcpReq">,
  intervalMs: number,
  now: () => number = () => performance.now(),
): TurnProgress | undefined {
  const token = ctx.mcpReq._meta?.progressToken as ProgressToken | undefined;
  if (token === undefined) return undefined;
  let sent = 0;
  let held = "";
  let lastTextAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // One notification after the other, so they leave in the order they were made.
  let tail: Promise<void> = Promise.resolve();

  const send = (message: string, event: ProgressEvent) => {
    const params = { progressToken: token, progress: ++sent, message, _meta: { [PROGRESS_META_KEY]: event } };
    tail = tail.then(() =>
      ctx.mcpReq.notify({ method: "notifications/progress", params }).catch(() => {
        // A client that can no longer hear progress still gets its answer.
      }),
    );
  };
  const sendHeld = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!held || stopped) return;
    const piece = held;
    held = "";
    lastTextAt = now();
    send(piece, { kind: "text" });
  };

  return {
    text(piece) {
      if (stopped || !piece) return;
      held += piece;
      if (timer) return;
      const wait = lastTextAt + intervalMs - now();
      if (wait <= 0) sendHeld();
      else {
        timer = setTimeout(sendHeld, wait);
        timer.unref();
      }
    },
    tool(name, phase) {
      if (stopped) return;
      sendHeld();
      send(phase === "start" ? `Running tool ${name}` : `Tool ${name} finished`, {
        kind: phase === "start" ? "tool_start" : "tool_end",
        tool: name,
      });
    },
    async flush() {
      sendHeld();
      await tail;
    },
    stop() {
      stopped = true;
      held = "";
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
