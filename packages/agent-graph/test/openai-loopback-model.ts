import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { closeChatModel, createChatModel } from "@mcp-langgraph/llm-factory";
import {
  type Action,
  type LoopbackServer,
  openAIWire,
  type RecordedRequest,
  type Reply,
  replyingWith,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach } from "vitest";

export interface LoopbackModel {
  llm: LoopbackServer;
  model: BaseChatModel;
}

/**
 * For a test file: a function that starts an OpenAI-wire loopback server answering with `choose`
 * and a chat model on it (no retries, so a scripted failure is seen once). Every server and model
 * it started is closed after each test.
 */
export function openAILoopbackModels(): (
  choose: (request: RecordedRequest, index: number) => Reply | Action,
) => Promise<LoopbackModel> {
  const started: { llm: LoopbackServer; model?: BaseChatModel }[] = [];
  afterEach(async () => {
    for (const { llm, model } of started.splice(0)) {
      if (model) await closeChatModel(model);
      await llm.close();
    }
  });
  return async (choose) => {
    const entry: { llm: LoopbackServer; model?: BaseChatModel } = {
      llm: await startLoopbackServer(replyingWith(openAIWire, choose)),
    };
    started.push(entry);
    const model = await createChatModel({ ...openAIWire.options(entry.llm.url), maxRetries: 0 });
    entry.model = model;
    return { llm: entry.llm, model };
  };
}
