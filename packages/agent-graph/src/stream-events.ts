import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { type BaseMessage, isAIMessage, isToolMessage } from "@langchain/core/messages";
import { INTERNAL_CALL_TAG } from "./internal-calls.js";
import type { EmitEvent } from "./types.js";

/** Receives the model's streamed tokens; awaited inline so tokens keep their order relative to graph updates. */
class TokenStreamHandler extends BaseCallbackHandler {
  name = "agent-token-stream";
  // Makes chat models stream (call _streamResponseChunks) even when invoked.
  readonly lc_prefer_streaming = true;
  readonly #onToken: (token: string) => void;

  constructor(onToken: (token: string) => void) {
    super();
    this.awaitHandlers = true;
    this.#onToken = onToken;
  }

  override handleLLMNewToken(
    token: string,
    _index: unknown,
    _runId: string,
    _parentRunId?: string,
    tags?: string[],
  ) {
    // Summaries, verdicts and rewrites are not the reply being written.
    if (token && !tags?.includes(INTERNAL_CALL_TAG)) this.#onToken(token);
  }
}

/**
 * Turns a turn's progress into agent events. Tokens come from the model's
 * stream; a model that does not stream yields its whole answer as one token
 * when its step completes, so consumers always see the text.
 */
export function createStreamTranslator(emit: EmitEvent) {
  let streamedThisStep = false;
  const tokens = new TokenStreamHandler((text) => {
    streamedThisStep = true;
    emit({ type: "token", text });
  });
  const onUpdate = (updates: Record<string, { messages?: BaseMessage[] } | undefined>) => {
    for (const message of updates.agent?.messages ?? []) {
      if (!isAIMessage(message)) continue;
      if (!streamedThisStep && message.text) emit({ type: "token", text: message.text });
      for (const call of message.tool_calls ?? [])
        emit({ type: "tool_call", name: call.name, args: call.args });
    }
    if (updates.agent) streamedThisStep = false;
    for (const message of updates.tools?.messages ?? []) {
      if (isToolMessage(message))
        emit({ type: "tool_result", name: message.name ?? "", content: message.text });
    }
  };
  return { tokens, onUpdate };
}
