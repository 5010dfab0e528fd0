import { LlmError } from "./errors.js";
import { isProviderName, resolveProviderAndModel } from "./infer.js";
import type { ChatModelOptions, ProviderName } from "./options.js";

/** The variables an app's config module passes in (already read from its environment). */
export interface LlmConfigRecord {
  LLM_PROVIDER?: string | undefined;
  MODEL_NAME?: string | undefined;
  /** Comma-separated; each entry a model name, optionally `provider/`-prefixed. */
  FALLBACK_MODELS?: string | undefined;
  MODEL_TEMPERATURE?: string | undefined;
  MODEL_MAX_TOKENS?: string | undefined;
  MODEL_TIMEOUT_MS?: string | undefined;
  LLM_MAX_CONCURRENCY?: string | undefined;
  LLM_MAX_QUEUE?: string | undefined;
  LLM_MAX_RETRIES?: string | undefined;
  LLM_KEEP_ALIVE_MS?: string | undefined;
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  ANTHROPIC_API_KEY?: string | undefined;
  ANTHROPIC_BASE_URL?: string | undefined;
  GOOGLE_API_KEY?: string | undefined;
  GOOGLE_BASE_URL?: string | undefined;
  OLLAMA_BASE_URL?: string | undefined;
  AZURE_OPENAI_API_KEY?: string | undefined;
  AZURE_OPENAI_ENDPOINT?: string | undefined;
  AZURE_OPENAI_API_INSTANCE_NAME?: string | undefined;
  AZURE_OPENAI_API_DEPLOYMENT_NAME?: string | undefined;
  AZURE_OPENAI_API_VERSION?: string | undefined;
  AWS_REGION?: string | undefined;
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
  AWS_SESSION_TOKEN?: string | undefined;
  [name: string]: string | undefined;
}

const KEY_VARIABLE: Partial<Record<ProviderName, keyof LlmConfigRecord>> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  google: "GOOGLE_API_KEY",
  azure: "AZURE_OPENAI_API_KEY",
};

/**
 * Turns the app's configuration (a plain record, e.g. its validated env) into
 * factory options. Throws LLM_CONFIG naming the variable when a configured
 * provider lacks its key or URL, so start-up stops instead of the first call
 * failing. Messages name variables, never their values.
 */
export function chatModelOptionsFromConfig(config: LlmConfigRecord): ChatModelOptions {
  const value = (name: string) => {
    const raw = config[name]?.trim();
    return raw ? raw : undefined;
  };
  const explicit = value("LLM_PROVIDER");
  if (explicit !== undefined && !isProviderName(explicit)) {
    throw new LlmError("LLM_CONFIG", `LLM_PROVIDER "${explicit}" is not one of the known providers`);
  }
  const shared: ChatModelOptions = {};
  const temperature = numberFrom(config, "MODEL_TEMPERATURE", { min: 0, max: 2 });
  if (temperature !== undefined) shared.temperature = temperature;
  const maxTokens = numberFrom(config, "MODEL_MAX_TOKENS", { min: 1, integer: true });
  if (maxTokens !== undefined) shared.maxTokens = maxTokens;
  const timeoutMs = numberFrom(config, "MODEL_TIMEOUT_MS", { min: 1, integer: true });
  if (timeoutMs !== undefined) shared.timeoutMs = timeoutMs;
  const maxConcurrency = numberFrom(config, "LLM_MAX_CONCURRENCY", { min: 1, integer: true });
  if (maxConcurrency !== undefined) shared.maxConcurrency = maxConcurrency;
  const maxQueue = numberFrom(config, "LLM_MAX_QUEUE", { min: 0, integer: true });
  if (maxQueue !== undefined) shared.maxQueue = maxQueue;
  const maxRetries = numberFrom(config, "LLM_MAX_RETRIES", { min: 0, integer: true });
  if (maxRetries !== undefined) shared.maxRetries = maxRetries;
  const keepAliveMs = numberFrom(config, "LLM_KEEP_ALIVE_MS", { min: 1, integer: true });
  if (keepAliveMs !== undefined) shared.keepAliveMs = keepAliveMs;

  const primary = modelOptions(
    value,
    explicit as ProviderName | undefined,
    value("MODEL_NAME"),
    "MODEL_NAME",
  );
  const fallbacks = (value("FALLBACK_MODELS") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => modelOptions(value, undefined, entry, "FALLBACK_MODELS"));
  return { ...shared, ...primary, ...(fallbacks.length > 0 ? { fallbacks } : {}) };
}

function modelOptions(
  value: (name: string) => string | undefined,
  explicit: ProviderName | undefined,
  modelName: string | undefined,
  source: string,
): ChatModelOptions {
  let resolved: { provider: ProviderName; model: string };
  try {
    resolved = resolveProviderAndModel(explicit, modelName);
  } catch (error) {
    throw new LlmError("LLM_CONFIG", `${source}: ${(error as Error).message}`, { cause: error });
  }
  const { provider, model } = resolved;
  const options: ChatModelOptions = { provider, model };
  const keyVariable = KEY_VARIABLE[provider];
  if (keyVariable) {
    const apiKey = value(keyVariable as string);
    if (!apiKey) {
      throw new LlmError(
        "LLM_CONFIG",
        `${source} uses provider ${provider} (model "${model}") but ${String(keyVariable)} is not set`,
      );
    }
    options.apiKey = apiKey;
  }
  switch (provider) {
    case "openai":
      assign(options, "baseUrl", value("OPENAI_BASE_URL"));
      break;
    case "openai-compatible":
      assign(options, "apiKey", value("OPENAI_API_KEY"));
      options.baseUrl = requireValue(value, "OPENAI_BASE_URL", source, provider);
      break;
    case "anthropic":
      assign(options, "baseUrl", value("ANTHROPIC_BASE_URL"));
      break;
    case "google":
      assign(options, "baseUrl", value("GOOGLE_BASE_URL"));
      break;
    case "ollama":
      assign(options, "baseUrl", value("OLLAMA_BASE_URL"));
      break;
    case "azure": {
      const endpoint = value("AZURE_OPENAI_ENDPOINT");
      const instanceName = value("AZURE_OPENAI_API_INSTANCE_NAME");
      if (!endpoint && !instanceName) {
        throw new LlmError(
          "LLM_CONFIG",
          `${source} uses provider azure but neither AZURE_OPENAI_ENDPOINT nor AZURE_OPENAI_API_INSTANCE_NAME is set`,
        );
      }
      options.azure = {};
      assign(options.azure, "endpoint", endpoint);
      assign(options.azure, "instanceName", instanceName);
      assign(options.azure, "deploymentName", value("AZURE_OPENAI_API_DEPLOYMENT_NAME"));
      assign(options.azure, "apiVersion", value("AZURE_OPENAI_API_VERSION"));
      break;
    }
    case "bedrock": {
      const region = requireValue(value, "AWS_REGION", source, provider);
      const accessKeyId = value("AWS_ACCESS_KEY_ID");
      const secretAccessKey = value("AWS_SECRET_ACCESS_KEY");
      if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
        throw new LlmError(
          "LLM_CONFIG",
          `${source} uses provider bedrock: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither to use the AWS default credential chain`,
        );
      }
      options.bedrock = { region };
      assign(options.bedrock, "accessKeyId", accessKeyId);
      assign(options.bedrock, "secretAccessKey", secretAccessKey);
      assign(options.bedrock, "sessionToken", value("AWS_SESSION_TOKEN"));
      break;
    }
    case "offline":
      break;
  }
  return options;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined) {
  if (value !== undefined) target[key] = value;
}

function requireValue(
  value: (name: string) => string | undefined,
  name: string,
  source: string,
  provider: ProviderName,
): string {
  const found = value(name);
  if (!found) throw new LlmError("LLM_CONFIG", `${source} uses provider ${provider} but ${name} is not set`);
  return found;
}

function numberFrom(
  config: LlmConfigRecord,
  name: string,
  { min, max, integer = false }: { min: number; max?: number; integer?: boolean },
): number | undefined {
  const raw = config[name]?.trim();
  if (!raw) return undefined;
  const parsed = Number(raw);
  const valid =
    Number.isFinite(parsed) &&
    parsed >= min &&
    (max === undefined || parsed <= max) &&
    (!integer || Number.isInteger(parsed));
  if (!valid) {
    const range = max === undefined ? `≥ ${min}` : `between ${min} and ${max}`;
    throw new LlmError(
      "LLM_CONFIG",
      `${name} must be ${integer ? "a whole number" : "a number"} ${range} (got "${raw}")`,
    );
  }
  return parsed;
}
