import { handlePgPoolErrors, withDeadline } from "@mcp-langgraph/core";
import pg from "pg";
import type { ClosableCheckpointer, PostgresCheckpointerConfig } from "./checkpointer.js";
import { asCheckpointerError, withTypedFailures } from "./checkpointer-failures.js";
import { AgentError } from "./errors.js";
import type { IdleThreadQuery } from "./idle-threads.js";
import { OneStatementPostgresSaver } from "./one-statement-postgres-saver.js";
import { checkpointTypeParsers } from "./pg-bytea-array.js";

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function createPostgresCheckpointer(
  config: PostgresCheckpointerConfig,
): Promise<ClosableCheckpointer> {
  const schema = config.schema ?? "public";
  if (!SCHEMA_NAME.test(schema)) {
    throw new AgentError(
      "CHECKPOINTER_CONFIG_INVALID",
      "schema must be a plain identifier (letters, digits, underscore; at most 63 characters)",
    );
  }
  if (typeof config.connectionString !== "string" || !/^postgres(ql)?:\/\//.test(config.connectionString)) {
    throw new AgentError("CHECKPOINTER_CONFIG_INVALID", "connectionString must be a postgres:// URL");
  }
  const settings = {
    poolSize: config.poolSize ?? 10,
    connectTimeoutMs: config.connectTimeoutMs ?? 5_000,
    queryTimeoutMs: config.queryTimeoutMs ?? 10_000,
    setupTimeoutMs: config.setupTimeoutMs ?? 30_000,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new AgentError("CHECKPOINTER_CONFIG_INVALID", `${name} must be a positive integer`);
    }
  }
  const connection = {
    connectionString: config.connectionString,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    query_timeout: settings.queryTimeoutMs,
    statement_timeout: settings.queryTimeoutMs,
    application_name: "mcp-langgraph-agent",
  };
  const pool = new pg.Pool({ ...connection, max: settings.poolSize, types: checkpointTypeParsers });
  // Postgres going away emits "error" on the pool (idle clients) and on clients checked out
  // mid-query; unhandled, either kills the process. Callers see CHECKPOINTER_UNAVAILABLE instead.
  handlePgPoolErrors(pool);
  const saver = new GuardedPostgresSaver(pool, schema, settings.queryTimeoutMs);
  try {
    await withDeadline(() => setupUnderLock(connection, saver, schema), {
      timeoutMs: settings.setupTimeoutMs,
      onTimeout: (ms) =>
        new AgentError("CHECKPOINTER_UNAVAILABLE", `Postgres setup timed out after ${ms} ms`),
    });
  } catch (error) {
    // Not awaited: ending waits for in-flight queries, which their query timeout bounds anyway.
    pool.end().catch(() => {});
    throw asCheckpointerError(error, "Postgres checkpointer setup failed");
  }
  return saver;
}

/**
 * Runs the library's migrations while holding a session advisory lock on a
 * connection of its own (outside the pool, so even a pool of one can migrate),
 * so processes starting together migrate one after the other.
 */
async function setupUnderLock(connection: pg.ClientConfig, saver: OneStatementPostgresSaver, schema: string) {
  const lockKey = `mcp-langgraph-checkpoints:${schema}`;
  const lockClient = new pg.Client(connection);
  lockClient.on("error", () => {});
  await lockClient.connect();
  try {
    await lockClient.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    await saver.setup();
  } finally {
    // Closing the session releases its advisory lock, also when setup failed half-way.
    await lockClient.end();
  }
}

/**
 * PostgresSaver whose failures surface as typed CHECKPOINTER_UNAVAILABLE errors
 * (connection refused, timeouts, SQL errors) instead of raw driver errors, and
 * which closes its own pool.
 */
class GuardedPostgresSaver extends withTypedFailures(OneStatementPostgresSaver) {
  readonly #pool: pg.Pool;
  readonly #queryTimeoutMs: number;
  readonly #checkpoints: string;

  constructor(pool: pg.Pool, schema: string, queryTimeoutMs: number) {
    super(pool, schema);
    this.#pool = pool;
    this.#queryTimeoutMs = queryTimeoutMs;
    // The library's own table (its migrations create it); `schema` was checked to be an identifier.
    this.#checkpoints = `"${schema}".checkpoints`;
  }

  /**
   * One page of threads idle since `before`. `ts` is the ISO-8601 UTC time LangGraph stamps on each
   * checkpoint, so comparing the strings compares the times; ids compare bytewise ("C"), as the
   * other savers order them. Reads every checkpoint row once (no
   * index on the time): a sweep runs rarely and under a lease, on one instance at a time.
   */
  async listIdleThreads(query: IdleThreadQuery): Promise<string[]> {
    try {
      const result = await withDeadline(
        () =>
          this.#pool.query<{ thread_id: string }>(
            `SELECT thread_id FROM ${this.#checkpoints}
             WHERE ($2::text IS NULL OR thread_id COLLATE "C" > $2)
             GROUP BY thread_id HAVING max(checkpoint->>'ts') < $1
             ORDER BY thread_id COLLATE "C" LIMIT $3`,
            [query.before.toISOString(), query.after ?? null, query.limit],
          ),
        {
          timeoutMs: this.#queryTimeoutMs,
          ...(query.signal ? { signal: query.signal } : {}),
        },
      );
      return result.rows.map((row) => row.thread_id);
    } catch (error) {
      if (query.signal?.aborted && error === query.signal.reason) throw error;
      throw asCheckpointerError(error, "listing idle threads failed");
    }
  }

  /** One round trip through the pool, bounded by the caller's signal and the query timeout. */
  async ping(options?: { signal?: AbortSignal }): Promise<boolean> {
    try {
      await withDeadline(() => this.#pool.query("SELECT 1"), {
        timeoutMs: this.#queryTimeoutMs,
        ...(options?.signal ? { signal: options.signal } : {}),
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
