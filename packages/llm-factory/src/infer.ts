import { LlmError } from "./errors.js";
import { PROVIDER_NAMES, type ProviderName } from "./options.js";

export interface ProviderAndModel {
  provider: ProviderName;
  model: string;
}

const NAME_PATTERNS: ReadonlyArray<[RegExp, ProviderName]> = [
  [/^claude-/, "anthropic"],
  [/^(gpt-|chatgpt-|o\d+(-|$))/, "openai"],
  [/^gemini-/, "google"],
];

/** Used when a provider is named without a model; azure and bedrock need an explicit deployment/model id. */
export const DEFAULT_MODELS: Readonly<Partial<Record<ProviderName, string>>> = Object.freeze({
  openai: "gpt-4o-mini",
  anthropic: "claude-3-5-haiku-latest",
  google: "gemini-2.0-flash",
  ollama: "llama3.2",
});

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}

/**
 * Infers the provider from a model name when that is unambiguous: a provider prefix
 * (`ollama/llama3.2`, `azure/my-deployment`, `bedrock/anthropic.claude-3-haiku…`) or a
 * well-known family (`claude-*`, `gpt-*`, `o3-mini`, `gemini-*`). Returns undefined otherwise.
 */
export function inferProvider(model: string): ProviderAndModel | undefined {
  const slash = model.indexOf("/");
  if (slash > 0) {
    const prefix = model.slice(0, slash);
    if (isProviderName(prefix)) return { provider: prefix, model: model.slice(slash + 1) };
  }
  if (model === "offline") return { provider: "offline", model };
  for (const [pattern, provider] of NAME_PATTERNS) if (pattern.test(model)) return { provider, model };
  return undefined;
}

/** An explicit provider always wins; a matching `provider/` prefix on the model is then dropped. */
export function resolveProviderAndModel(provider: ProviderName | undefined, model: string | undefined) {
  if (provider !== undefined && !isProviderName(provider)) {
    throw new LlmError(
      "LLM_CONFIG",
      `unknown LLM provider "${provider}" (known: ${PROVIDER_NAMES.join(", ")})`,
    );
  }
  if (provider === "offline" || (provider === undefined && (model === undefined || model === ""))) {
    return { provider: "offline", model: "offline" } satisfies ProviderAndModel;
  }
  if (model === undefined || model === "") {
    const fallback = provider === undefined ? undefined : DEFAULT_MODELS[provider];
    if (provider !== undefined && fallback !== undefined)
      return { provider, model: fallback } satisfies ProviderAndModel;
    throw new LlmError("LLM_CONFIG", `provider "${provider}" needs a model name (MODEL_NAME)`);
  }
  if (provider !== undefined) {
    const prefix = `${provider}/`;
    return { provider, model: model.startsWith(prefix) ? model.slice(prefix.length) : model };
  }
  const inferred = inferProvider(model);
  if (!inferred) {
    throw new LlmError(
      "LLM_CONFIG",
      `cannot infer the provider of model "${model}"; set the provider (LLM_PROVIDER) or prefix the model, e.g. "ollama/${model}"`,
    );
  }
  return inferred;
}
