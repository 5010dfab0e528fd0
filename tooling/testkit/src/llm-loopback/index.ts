export { agentLoop } from "./agent-loop.ts";
export { ALL_WIRES } from "./all-wires.ts";
export { bedrockWire } from "./bedrock-wire.ts";
export { type HeldModel, startHeldModel } from "./held-model.ts";
export { holdResponseAfter } from "./held-response.ts";
export { instructed } from "./instructed.ts";
export {
  type LoopbackHandler,
  type LoopbackOptions,
  type LoopbackServer,
  type RecordedRequest,
  sendJson,
  startEventStream,
  startLoopbackServer,
} from "./loopback-server.ts";
export { type OpenAIRequestMessage, openAIChatRequest, sentChars, textOf } from "./openai-requests.ts";
export { type Action, replyingWith, scripted, TEXT_REPLY, TOOL_REPLY } from "./scripted.ts";
export {
  anthropicWire,
  azureWire,
  geminiWire,
  type LoopbackModelOptions,
  type LoopbackProvider,
  nextResponse,
  ollamaWire,
  openAICompatibleWire,
  openAIWire,
  type Reply,
  type WireFormat,
} from "./wire-formats.ts";
