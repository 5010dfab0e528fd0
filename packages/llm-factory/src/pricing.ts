import type { UsageMetadata } from "@langchain/core/messages";

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Keys are model names or name prefixes; the longest matching key wins. */
export type PricingTable = Record<string, ModelPrice>;

/**
 * List prices at the time of writing, for estimates only: providers change them and
 * contracts differ, so apps override entries through `ChatModelOptions.pricing`.
 */
export const DEFAULT_PRICING: Readonly<PricingTable> = Object.freeze({
  offline: { inputPerMillion: 0, outputPerMillion: 0 },
  "gpt-4o": { inputPerMillion: 2.5, outputPerMillion: 10 },
  "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  "gpt-4.1": { inputPerMillion: 2, outputPerMillion: 8 },
  "gpt-4.1-mini": { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  "gpt-4.1-nano": { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  "o3-mini": { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  "o4-mini": { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  "claude-3-5-haiku": { inputPerMillion: 0.8, outputPerMillion: 4 },
  "claude-3-5-sonnet": { inputPerMillion: 3, outputPerMillion: 15 },
  "claude-3-7-sonnet": { inputPerMillion: 3, outputPerMillion: 15 },
  "claude-sonnet-4": { inputPerMillion: 3, outputPerMillion: 15 },
  "claude-opus-4": { inputPerMillion: 15, outputPerMillion: 75 },
  "gemini-2.0-flash": { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  "gemini-2.5-flash": { inputPerMillion: 0.3, outputPerMillion: 2.5 },
  "gemini-2.5-pro": { inputPerMillion: 1.25, outputPerMillion: 10 },
});

export interface UsageReport {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Undefined when no price is known for the model. */
  estimatedCostUsd: number | undefined;
  latencyMs: number;
}

export function findPrice(model: string, table: PricingTable): ModelPrice | undefined {
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (model.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

export function estimateCostUsd(
  model: string,
  usage: UsageMetadata,
  table: PricingTable,
): number | undefined {
  const price = findPrice(model, table);
  if (!price) return undefined;
  return (
    (usage.input_tokens * price.inputPerMillion + usage.output_tokens * price.outputPerMillion) / 1_000_000
  );
}
