import { type BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { AgentError } from "./errors.js";

export interface MemoryCheckpointerConfig {
  backend: "memory";
}

export interface PostgresCheckpointerConfig {
  backend: "postgres";
  connectionString: string;
  /** Postgres schema holding the checkpoint tables (created when missing). Default "public". */
  schema?: string;
  /** Connections in the pool: the bound on concurrent checkpoint queries from this process. Default 10. */
  poolSize?: number;
  /** Deadline for opening a connection. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Deadline for one query, enforced client-side and as the server's statement_timeout. Default 10000 ms. */
  queryTimeoutMs?: number;
  /** Deadline for creating the schema and running migrations at start-up. Default 30000 ms. */
  setupTimeoutMs?: number;
}

export interface SqliteCheckpointerConfig {
  backend: "sqlite";
  /** Database file (its directory and the file are created when missing); must be writable. */
  path: string;
  /**
   * How long a write waits for another connection's write lock (another worker process on the
   * same file) before failing; the wait is synchronous. Default 5000 ms.
   */
  busyTimeoutMs?: number;
}

export type CheckpointerConfig =
  | MemoryCheckpointerConfig
  | PostgresCheckpointerConfig
  | SqliteCheckpointerConfig;

/**
 * A checkpointer that owns resources (a connection pool) and must be closed on shutdown. `ping`
 * answers whether its storage is reachable now (readiness probes); it never throws.
 */
export type ClosableCheckpointer = BaseCheckpointSaver & {
  close(): Promise<void>;
  ping(options?: { signal?: AbortSignal }): Promise<boolean>;
};

/**
 * Builds the checkpoint store for agent threads: in-memory (lost on restart,
 * one process), SQLite (one file on one node, kept across restarts) or
 * Postgres (shared by every process and machine). The Postgres
 * store creates its schema and tables on first use, under an advisory lock so
 * several processes starting together do not race the migrations.
 */
export async function createCheckpointer(config: CheckpointerConfig): Promise<ClosableCheckpointer> {
  if (config?.backend === "memory") {
    return Object.assign(new MemorySaver(), { close: async () => {}, ping: async () => true });
  }
  if (config?.backend === "sqlite") {
    // Loaded on demand so other users never load the native SQLite driver.
    const { createSqliteCheckpointer } = await import("./sqlite-checkpointer.js");
    return createSqliteCheckpointer(config);
  }
  if (config?.backend !== "postgres") {
    throw new AgentError("CHECKPOINTER_CONFIG_INVALID", 'backend must be "memory", "sqlite" or "postgres"');
  }
  // Loaded on demand so memory-only users never load the Postgres driver.
  const { createPostgresCheckpointer } = await import("./postgres-checkpointer.js");
  return createPostgresCheckpointer(config);
}
