import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";

/**
 * A chat model that answers no call until `expected` calls are in flight at once (or its
 * patience runs out), then answers them all. It counts overlap at the model, so a test can
 * assert that calls really ran concurrently without measuring any time.
 */
export class GatedModel extends BaseChatModel {
  peakInFlight = 0;
  #inFlight = 0;
  #release!: () => void;
  readonly #released: Promise<void>;

  constructor(
    readonly expected: number,
    patienceMs = 10_000,
  ) {
    super({});
    this.#released = new Promise((resolve) => {
      this.#release = resolve;
    });
    setTimeout(() => this.#release(), patienceMs).unref();
  }

  _llmType() {
    return "gated";
  }

  override bindTools(): Runnable<BaseLanguageModelInput, AIMessageChunk> {
    return this as unknown as Runnable<BaseLanguageModelInput, AIMessageChunk>;
  }

  async _generate(_messages: BaseMessage[]): Promise<ChatResult> {
    this.#inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.#inFlight);
    if (this.#inFlight >= this.expected) this.#release();
    await this.#released;
    this.#inFlight--;
    const message = new AIMessage({ content: "done" });
    return { generations: [{ text: "done", message }] };
  }
}
