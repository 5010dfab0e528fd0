import { bedrockWire } from "./bedrock-wire.ts";
import {
  anthropicWire,
  azureWire,
  geminiWire,
  ollamaWire,
  openAICompatibleWire,
  openAIWire,
  type WireFormat,
} from "./wire-formats.ts";

export const ALL_WIRES: readonly WireFormat[] = [
  openAIWire,
  openAICompatibleWire,
  azureWire,
  anthropicWire,
  geminiWire,
  ollamaWire,
  bedrockWire,
];
