import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { openSqliteFile } from "@mcp-langgraph/core";
import Database from "better-sqlite3";
import type { ClosableCheckpointer, SqliteCheckpointerConfig } from "./checkpointer.js";
import { asCheckpointerError, withTypedFailures } from "./checkpointer-failures.js";
import { AgentError } from "./errors.js";
import type { IdleThreadQuery } from "./idle-threads.js";

export async function createSqliteCheckpointer(
  config: SqliteCheckpointerConfig,
): Promise<ClosableCheckpointer> {
  if (typeof config.path !== "string" || config.path.trim() === "") {
    throw new AgentError("CHECKPOINTER_CONFIG_INVALID", "path must be a non-empty file path");
  }
  const busyTimeoutMs = config.busyTimeoutMs ?? 5_000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 1) {
    throw new AgentError("CHECKPOINTER_CONFIG_INVALID", "busyTimeoutMs must be a positive integer");
  }
  let database: Database.Database;
  try {
    database = openSqliteFile((path) => new Database(path), config.path, { busyTimeoutMs });
  } catch (error) {
    // The message names the path (the operator's own setting, and the fix) and the reason.
    throw new AgentError("CHECKPOINTER_UNAVAILABLE", (error as Error).message, { cause: error });
  }
  const saver = new GuardedSqliteSaver(database);
  try {
    saver.createTables();
  } catch (error) {
    database.close();
    throw asCheckpointerError(error, "SQLite checkpointer setup failed");
  }
  return saver;
}

/**
 * SqliteSaver whose failures surface as typed CHECKPOINTER_UNAVAILABLE errors and which closes
 * its own connection. better-sqlite3 is synchronous: each call runs on the event loop, which is
 * the library's design (a statement on a local file costs microseconds, less than a hop to a
 * worker thread would); ADR 0110 has the figures.
 */
class GuardedSqliteSaver extends withTypedFailures(SqliteSaver) {
  readonly #database: Database.Database;

  constructor(database: Database.Database) {
    super(database);
    this.#database = database;
  }

  /** The library creates its tables lazily, on first use; at start-up a failure is clearer. */
  createTables(): void {
    this.setup();
  }

  async ping(options?: { signal?: AbortSignal }): Promise<boolean> {
    if (options?.signal?.aborted || !this.#database.open) return false;
    try {
      this.#database.prepare("SELECT 1").get();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * One page of threads idle since `before`. The library stores each checkpoint as JSON bytes
   * (serde type "json") whose `ts` is an ISO-8601 UTC time, so comparing the strings compares the times.
   */
  async listIdleThreads(query: IdleThreadQuery): Promise<string[]> {
    if (query.signal?.aborted) throw query.signal.reason;
    try {
      const rows = this.#database
        .prepare(
          `SELECT thread_id FROM checkpoints
           WHERE (? IS NULL OR thread_id > ?)
           GROUP BY thread_id HAVING max(json_extract(CAST(checkpoint AS TEXT), '$.ts')) < ?
           ORDER BY thread_id LIMIT ?`,
        )
        .all(query.after ?? null, query.after ?? null, query.before.toISOString(), query.limit) as {
        thread_id: string;
      }[];
      return rows.map((row) => row.thread_id);
    } catch (error) {
      throw asCheckpointerError(error, "listing idle threads failed");
    }
  }

  async close(): Promise<void> {
    if (this.#database.open) this.#database.close();
  }
}
