import { type Logger, noopLogger } from "@mcp-langgraph/core";
import { secretsOptionsFromConfig } from "./config.js";
import { isSecretsError, SecretsError } from "./errors.js";
import { type EnvRecord, fileVariableOf, readEnvAndFiles } from "./file-source.js";
import { createInfisicalSource, type InfisicalOptions, type InfisicalSource } from "./infisical-source.js";

export type SecretSourceKind = "env" | "file" | "infisical";

/** The variable holding the Infisical identity's secret: from the environment or its _FILE only. */
export const INFISICAL_CLIENT_SECRET = "INFISICAL_CLIENT_SECRET";

export interface SecretsProviderOptions {
  /** The process environment (or any record standing in for it). */
  env: EnvRecord;
  /** The variables that may hold secrets: only these are read from files and Infisical. */
  names: readonly string[];
  /** `NAME_FILE` reads: largest file in bytes and the deadline of each read. */
  files: { maxBytes: number; timeoutMs: number };
  /** Infisical, when configured; the client secret comes from INFISICAL_CLIENT_SECRET(_FILE). */
  infisical?: Omit<InfisicalOptions, "clientSecret"> & {
    /** How long fetched values are used before a background refresh replaces them. */
    refreshIntervalMs: number;
  };
  /** Aborts the start-up reads. */
  signal?: AbortSignal;
}

export interface BackgroundRefreshOptions {
  logger?: Logger;
  /** Called with the names whose value changed in a refresh (never the values). */
  onChange?: (names: string[]) => void;
}

export interface SecretsProvider {
  /** The current value of a managed name, or undefined when no source has it. */
  get(name: string): string | undefined;
  /** Where a name's current value came from. */
  sourceOf(name: string): SecretSourceKind | undefined;
  /** Each resolved name and its source, never a value: for a start-up log line. */
  sources(): Record<string, SecretSourceKind>;
  /**
   * `env` with every managed name set to its current value and the `NAME_FILE` variables and the
   * Infisical client secret left out: the record the apps' `loadConfig` reads.
   */
  resolvedEnv(): EnvRecord;
  /** Fetches from Infisical now; resolves with the names that changed. Keeps the old values on failure. */
  refresh(signal?: AbortSignal): Promise<string[]>;
  /** Refreshes from Infisical every refresh interval until close (no-op without Infisical). */
  startBackgroundRefresh(options?: BackgroundRefreshOptions): void;
  close(): void;
}

/**
 * Resolves `names` once at start-up, in this order: the variable itself, then `NAME_FILE`, then
 * Infisical. A value set locally wins over Infisical's, so an operator can override one secret
 * without touching the vault. Start-up fails (fail closed) when a file is bad or Infisical cannot
 * be read; later refresh failures keep the last good values.
 */
export async function createSecretsProvider(options: SecretsProviderOptions): Promise<SecretsProvider> {
  const bootstrapNames = options.infisical ? [INFISICAL_CLIENT_SECRET] : [];
  const local = await readEnvAndFiles(options.env, [...options.names, ...bootstrapNames], {
    ...options.files,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const values = new Map<string, { value: string; source: SecretSourceKind }>();
  for (const name of options.names) {
    const found = local.get(name);
    if (found) values.set(name, found);
  }
  const fromVault = options.names.filter((name) => !values.has(name));

  let infisical: InfisicalSource | undefined;
  if (options.infisical) {
    const clientSecret = local.get(INFISICAL_CLIENT_SECRET)?.value;
    if (clientSecret === undefined) {
      throw new SecretsError(
        "CONFIG_INVALID",
        `Invalid configuration:\n  ${INFISICAL_CLIENT_SECRET}: required (or ${fileVariableOf(INFISICAL_CLIENT_SECRET)}) when INFISICAL_CLIENT_ID is set`,
      );
    }
    infisical = createInfisicalSource({ ...options.infisical, clientSecret });
  }

  const refresh = async (signal?: AbortSignal): Promise<string[]> => {
    if (!infisical || fromVault.length === 0) return [];
    const fetched = await infisical.fetch(fromVault, signal);
    const changed: string[] = [];
    for (const [name, value] of fetched) {
      if (values.get(name)?.value !== value) changed.push(name);
      values.set(name, { value, source: "infisical" });
    }
    return changed;
  };
  await refresh(options.signal);

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  return {
    get: (name) => values.get(name)?.value,
    sourceOf: (name) => values.get(name)?.source,
    sources: () => Object.fromEntries([...values].map(([name, { source }]) => [name, source])),
    resolvedEnv() {
      const env: EnvRecord = { ...options.env };
      for (const name of [...options.names, ...bootstrapNames]) delete env[fileVariableOf(name)];
      delete env[INFISICAL_CLIENT_SECRET];
      for (const [name, { value }] of values) env[name] = value;
      return env;
    },
    refresh,
    startBackgroundRefresh({ logger = noopLogger, onChange } = {}) {
      if (!infisical || !options.infisical || timer || closed || fromVault.length === 0) return;
      const interval = options.infisical.refreshIntervalMs;
      const tick = async () => {
        try {
          const changed = await refresh();
          if (changed.length > 0) onChange?.(changed);
        } catch (error) {
          // Only the code and our own message: they name the call and the status, never a value.
          logger.warn(
            { code: isSecretsError(error) ? error.code : "UNKNOWN", err: errorMessage(error) },
            "secrets refresh from Infisical failed: keeping the last values",
          );
        }
        if (!closed) schedule();
      };
      const schedule = () => {
        timer = setTimeout(() => void tick(), interval);
        // A pending refresh must not keep a process alive that is otherwise done.
        timer.unref();
      };
      schedule();
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}

const errorMessage = (error: unknown) =>
  isSecretsError(error) ? error.message : error instanceof Error ? error.name : "error";

/**
 * An app's start-up step: the provider for `names`, configured from the same environment record
 * (`INFISICAL_*`, `SECRET_FILE_*`) the app's config module reads.
 */
export function resolveSecrets(env: EnvRecord, names: readonly string[]): Promise<SecretsProvider> {
  return createSecretsProvider({ ...secretsOptionsFromConfig(env), names });
}
