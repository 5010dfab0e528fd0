import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { AIMessageChunk } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";

/** The text tokens of a chat model's stream, for callers that want strings rather than message chunks. */
export async function* streamText(
  model: Pick<Runnable<BaseLanguageModelInput, AIMessageChunk>, "stream">,
  input: BaseLanguageModelInput,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<string> {
  for await (const chunk of await model.stream(input, options)) {
    if (chunk.text) yield chunk.text;
  }
}
