import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { LlmError } from "./errors.js";
import { createOfflineChatModel } from "./offline-model.js";
import type { ChatModelOptions } from "./options.js";

/**
 * Builds the chat model the options describe. No provider and no model means the
 * offline deterministic model, so a fresh install works without keys.
 */
export async function createChatModel(options: ChatModelOptions = {}): Promise<BaseChatModel> {
  const provider = options.provider ?? "offline";
  if (provider === "offline") return createOfflineChatModel();
  throw new LlmError("LLM_CONFIG", `provider "${provider}" is not supported yet`);
}
