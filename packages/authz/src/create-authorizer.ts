import { withDeadline } from "@mcp-langgraph/core";
import { EmbeddedAuthorizer } from "./embedded.ts";
import { AuthzError, isAuthzError } from "./errors.ts";
import { OpenFgaAuthorizer, type OpenFgaConnection } from "./openfga.ts";
import { type ResilienceOptions, ResilientAuthorizer } from "./resilient.ts";
import type { PostgresTupleStorageConfig } from "./storage/postgres.ts";
import type { SqliteTupleStorageConfig } from "./storage/sqlite.ts";
import type { TupleStorage } from "./storage/types.ts";
import type { Authorizer } from "./types.ts";

export type AuthorizerConfig =
  | {
      backend: "embedded";
      /** OpenFGA DSL (schema 1.1), e.g. from `loadProjectModel()`. */
      model: string;
      /**
       * Where the tuples live: process memory (default), a Postgres table (shared by every
       * process using it and kept across restarts, ADR 0070) or a SQLite file (kept across
       * restarts, shared by the processes of one node, ADR 0111).
       */
      storage?:
        | { backend: "memory" }
        | ({ backend: "postgres" } & PostgresTupleStorageConfig)
        | ({ backend: "sqlite" } & SqliteTupleStorageConfig);
    }
  | ({ backend: "openfga" } & OpenFgaConnection);

export interface AuthorizerOptions extends ResilienceOptions {
  /** Deadline for reaching the OpenFGA server at start-up (store and model set-up). Default 10,000 ms. */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Builds an authorizer for the configured backend, wrapped so that it fails
 * closed (deadline, bounded concurrency, circuit breaker) and caches decisions.
 */
export async function createAuthorizer(
  config: AuthorizerConfig,
  options: AuthorizerOptions = {},
): Promise<ResilientAuthorizer> {
  const { connectTimeoutMs = 10_000, signal, ...resilience } = options;
  let backend: Authorizer;
  switch (config?.backend) {
    case "embedded":
      backend = await createEmbedded(config, signal);
      break;
    case "openfga":
      if (typeof config.apiUrl !== "string" || !URL.canParse(config.apiUrl)) {
        throw new AuthzError("AUTHZ_VALIDATION", "openfga backend needs a valid apiUrl");
      }
      try {
        backend = await withDeadline(() => OpenFgaAuthorizer.connect(config), {
          timeoutMs: connectTimeoutMs,
          ...(signal ? { signal } : {}),
          onTimeout: (ms) => new AuthzError("AUTHZ_UNAVAILABLE", `openfga did not answer within ${ms} ms`),
        });
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        throw isAuthzError(error)
          ? error
          : new AuthzError("AUTHZ_UNAVAILABLE", "could not reach openfga", { cause: error });
      }
      break;
    default:
      throw new AuthzError(
        "AUTHZ_VALIDATION",
        `unsupported authz backend '${String((config as { backend?: unknown })?.backend)}'`,
      );
  }
  // Over durable storage the engine's mirror is the cache, kept current by change notifications
  // and confirmed on every deny; a TTL decision cache would only serve stale answers (ADR 0070).
  const durable =
    config.backend === "embedded" && config.storage !== undefined && config.storage.backend !== "memory";
  return new ResilientAuthorizer(backend, {
    ...resilience,
    remote: config.backend === "openfga",
    ...(durable ? { cache: false } : {}),
  });
}

async function createEmbedded(
  config: Extract<AuthorizerConfig, { backend: "embedded" }>,
  signal: AbortSignal | undefined,
): Promise<Authorizer> {
  const storage = config.storage ?? { backend: "memory" };
  switch (storage.backend) {
    case "memory":
      return new EmbeddedAuthorizer(config.model);
    case "postgres": {
      // Loaded on demand so memory-only users never load the Postgres driver.
      const { PostgresTupleStorage } = await import("./storage/postgres.ts");
      const { backend: _backend, ...storageConfig } = storage;
      return openDurable(config.model, new PostgresTupleStorage(storageConfig), signal);
    }
    case "sqlite": {
      // Loaded on demand so other users never load the native SQLite driver.
      const { SqliteTupleStorage } = await import("./storage/sqlite.ts");
      const { backend: _backend, ...storageConfig } = storage;
      return openDurable(config.model, new SqliteTupleStorage(storageConfig), signal);
    }
    default:
      throw new AuthzError(
        "AUTHZ_VALIDATION",
        `unsupported tuple storage '${String((storage as { backend?: unknown }).backend)}'`,
      );
  }
}

async function openDurable(model: string, storage: TupleStorage, signal: AbortSignal | undefined) {
  try {
    return await EmbeddedAuthorizer.open(model, storage, signal ? { signal } : {});
  } catch (error) {
    await storage.close();
    throw error;
  }
}
