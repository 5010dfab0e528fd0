import { handlePgPoolErrors, raceAbort, withDeadline } from "@mcp-langgraph/core";
import pg from "pg";
import { plainTuple, sameCondition } from "../engine/engine.ts";
import type { TupleStore } from "../engine/store.ts";
import { AuthzError, isAuthzError, OpenFgaErrorCode, validationError } from "../errors.ts";
import type { CallOptions, ClaimResult, Tuple } from "../types.ts";
import { IDENTIFIER, positiveIntegers } from "./settings.ts";
import type { TupleStorage } from "./types.ts";

export interface PostgresTupleStorageConfig {
  /** `postgres://` URL; never logged. */
  connectionString: string;
  /** Schema of the tables (created when missing). Default "public". */
  schema?: string;
  /** Tuple table; the change log and version row live in `<table>_changes` and `<table>_version`. Default "authz_tuples". */
  table?: string;
  /** Connections in the pool (writes, claims and catch-up reads; checks never query). Default 4. */
  poolSize?: number;
  /** Deadline for opening a connection. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** Deadline for one operation (a catch-up, or a write transaction), and each query's statement_timeout. Default 5,000 ms. */
  queryTimeoutMs?: number;
  /** Deadline for creating the tables and loading every tuple at start-up. Default 30,000 ms. */
  setupTimeoutMs?: number;
  /** Catch-up interval, bounding how long a lost notification can leave a revoked tuple honoured. Default 5,000 ms. */
  syncIntervalMs?: number;
  /** Changes kept in the log for catching up; a process further behind reloads every tuple. Default 10,000. */
  changeLogRetention?: number;
}

interface Row {
  object: string;
  relation: string;
  user: string;
  condition: Tuple["condition"] | null;
}

interface ChangeRow extends Row {
  seq: string;
  op: "w" | "d";
}

const toTuple = (row: Row): Tuple =>
  plainTuple({
    user: row.user,
    relation: row.relation,
    object: row.object,
    ...(row.condition ? { condition: row.condition } : {}),
  });

const unavailable = (what: string, cause: unknown) =>
  isAuthzError(cause)
    ? cause
    : new AuthzError("AUTHZ_UNAVAILABLE", `tuple storage: ${what} failed`, { cause });

/** Column arrays for `unnest`, so a whole batch is one statement. */
const columns = (tuples: readonly Tuple[]) => [
  tuples.map((tuple) => tuple.object),
  tuples.map((tuple) => tuple.relation),
  tuples.map((tuple) => tuple.user),
];

const ignore = () => {};

/**
 * Tuples in Postgres, mirrored into the engine's in-memory index so checks
 * never query (ADR 0070). Every change is written, in one transaction that
 * holds the version row's lock, to the tuple table and to a gapless change log;
 * commits are therefore totally ordered, and a process catches up by reading
 * the log after the version it has applied. LISTEN/NOTIFY tells processes
 * when to catch up; a periodic catch-up covers a notification lost with its
 * connection, and while the listener is down the authorizer reads through.
 */
export class PostgresTupleStorage implements TupleStorage {
  readonly #pool: pg.Pool;
  readonly #connection: pg.ClientConfig;
  readonly #tuples: string;
  readonly #changes: string;
  readonly #version: string;
  readonly #channel: string;
  readonly #lockKey: string;
  readonly #queryTimeoutMs: number;
  readonly #setupTimeoutMs: number;
  readonly #syncIntervalMs: number;
  readonly #retention: number;
  #mirror: TupleStore | undefined;
  #applied = 0;
  #listener: pg.Client | undefined;
  #following = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reconnect: ReturnType<typeof setTimeout> | undefined;
  /** Catch-ups run one at a time; a refresh asked for while one runs waits for the next one. */
  #tail: Promise<unknown> = Promise.resolve();
  #queued: Promise<void> | undefined;

  constructor(config: PostgresTupleStorageConfig) {
    const schema = config.schema ?? "public";
    const table = config.table ?? "authz_tuples";
    if (!IDENTIFIER.test(schema) || !IDENTIFIER.test(table)) {
      throw new AuthzError(
        "AUTHZ_VALIDATION",
        "tuple storage schema and table must be plain identifiers (letters, digits, underscore; at most 55 characters)",
      );
    }
    if (typeof config.connectionString !== "string" || !/^postgres(ql)?:\/\//.test(config.connectionString)) {
      throw new AuthzError("AUTHZ_VALIDATION", "tuple storage connectionString must be a postgres:// URL");
    }
    const settings = positiveIntegers({
      poolSize: config.poolSize ?? 4,
      connectTimeoutMs: config.connectTimeoutMs ?? 5_000,
      queryTimeoutMs: config.queryTimeoutMs ?? 5_000,
      setupTimeoutMs: config.setupTimeoutMs ?? 30_000,
      syncIntervalMs: config.syncIntervalMs ?? 5_000,
      changeLogRetention: config.changeLogRetention ?? 10_000,
    });
    this.#queryTimeoutMs = settings.queryTimeoutMs;
    this.#setupTimeoutMs = settings.setupTimeoutMs;
    this.#syncIntervalMs = settings.syncIntervalMs;
    this.#retention = settings.changeLogRetention;
    this.#tuples = `"${schema}"."${table}"`;
    this.#changes = `"${schema}"."${table}_changes"`;
    this.#version = `"${schema}"."${table}_version"`;
    this.#channel = `${schema}.${table}`;
    this.#lockKey = `mcp-langgraph-authz:${schema}.${table}`;
    this.#connection = {
      connectionString: config.connectionString,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      query_timeout: settings.queryTimeoutMs,
      statement_timeout: settings.queryTimeoutMs,
      keepAlive: true,
      application_name: "mcp-langgraph-authz",
    };
    this.#pool = new pg.Pool({ ...this.#connection, max: settings.poolSize });
    // An unhandled "error" event from the pool or a client would end the process.
    handlePgPoolErrors(this.#pool);
  }

  get following(): boolean {
    return this.#following;
  }

  async attach(mirror: TupleStore, options?: CallOptions): Promise<void> {
    if (this.#mirror) throw new AuthzError("AUTHZ_VALIDATION", "tuple storage is already attached");
    this.#mirror = mirror;
    await this.#deadline(this.#setupTimeoutMs, options, "setting up", async (signal) => {
      await this.#setup(signal);
      // Listen before loading, so no change committed after the snapshot goes unnoticed.
      await this.#listen();
      await this.#reload(signal);
    });
    this.#following = this.#listener !== undefined;
    this.#timer = setInterval(() => this.refresh().catch(ignore), this.#syncIntervalMs);
    this.#timer.unref();
  }

  refresh(options?: CallOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new AuthzError("AUTHZ_CLOSED", "authorizer is closed"));
    let run = this.#queued;
    if (!run) {
      run = this.#tail.catch(ignore).then(() => {
        this.#queued = undefined;
        return this.#deadline(this.#queryTimeoutMs, undefined, "catching up", (signal) =>
          this.#catchUp(signal),
        );
      });
      this.#queued = run;
      this.#tail = run;
    }
    // The catch-up has its own deadline; the caller's signal only stops the wait.
    return options?.signal ? raceAbort(run, options.signal) : run;
  }

  async write(tuples: readonly Tuple[], options?: CallOptions): Promise<void> {
    if (tuples.length === 0) return;
    await this.#transaction("writing tuples", options, async (client) => {
      const present = await client.query<Row>(
        `SELECT object, relation, "user", condition FROM ${this.#tuples}
         WHERE (object, relation, "user") IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
        columns(tuples),
      );
      const stored = new Map(present.rows.map((row) => [`${row.object}#${row.relation}@${row.user}`, row]));
      const added: Tuple[] = [];
      for (const tuple of tuples) {
        const existing = stored.get(`${tuple.object}#${tuple.relation}@${tuple.user}`);
        if (!existing) added.push(tuple);
        else if (!sameCondition(existing.condition ?? undefined, tuple.condition)) {
          throw validationError(
            OpenFgaErrorCode.writeFailedDueToInvalidInput,
            `tuple '${tuple.object}#${tuple.relation}@${tuple.user}' already exists with a different condition`,
          );
        }
      }
      await this.#insert(client, added);
      return { result: undefined, changes: added.map((tuple) => ({ op: "w" as const, tuple })) };
    });
  }

  async delete(tuples: readonly Tuple[], options?: CallOptions): Promise<void> {
    if (tuples.length === 0) return;
    await this.#transaction("deleting tuples", options, async (client) => {
      const removed = await client.query<Row>(
        `DELETE FROM ${this.#tuples}
         WHERE (object, relation, "user") IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
         RETURNING object, relation, "user", NULL AS condition`,
        columns(tuples),
      );
      return {
        result: undefined,
        changes: removed.rows.map((row) => ({ op: "d" as const, tuple: toTuple(row) })),
      };
    });
  }

  claim(tuple: Tuple, options?: CallOptions): Promise<ClaimResult> {
    return this.#transaction<ClaimResult>("claiming a tuple", options, async (client) => {
      // The version row's lock (taken first) serialises this check-and-insert against every other writer.
      const holders = await client.query<Row>(
        `SELECT object, relation, "user", condition FROM ${this.#tuples} WHERE object = $1 AND relation = $2 ORDER BY "user"`,
        [tuple.object, tuple.relation],
      );
      if (holders.rows.length > 0) {
        return { result: { claimed: false, tuples: holders.rows.map(toTuple) }, changes: [] };
      }
      await this.#insert(client, [tuple]);
      return {
        result: { claimed: true, tuples: [plainTuple(tuple)] },
        changes: [{ op: "w" as const, tuple }],
      };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#following = false;
    clearInterval(this.#timer);
    clearTimeout(this.#reconnect);
    const listener = this.#listener;
    this.#listener = undefined;
    await Promise.allSettled([listener?.end(), this.#pool.end()]);
  }

  /** Runs `work` with a deadline; failures that are not the caller's own become AUTHZ_UNAVAILABLE. */
  async #deadline<T>(
    timeoutMs: number,
    options: CallOptions | undefined,
    what: string,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new AuthzError("AUTHZ_CLOSED", "authorizer is closed");
    try {
      return await withDeadline(work, {
        timeoutMs,
        ...(options?.signal ? { signal: options.signal } : {}),
        onTimeout: (ms) => new AuthzError("AUTHZ_UNAVAILABLE", `tuple storage: ${what} took over ${ms} ms`),
      });
    } catch (error) {
      if (options?.signal?.aborted && error === options.signal.reason) throw error;
      throw unavailable(what, error);
    }
  }

  async #setup(signal: AbortSignal): Promise<void> {
    await this.#withClient(signal, async (client) => {
      await client.query("BEGIN");
      try {
        // Processes starting together would race on CREATE ... IF NOT EXISTS; one at a time.
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [this.#lockKey]);
        const schema = this.#tuples.slice(0, this.#tuples.indexOf("."));
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#tuples} (
             object text NOT NULL, relation text NOT NULL, "user" text NOT NULL, condition jsonb,
             PRIMARY KEY (object, relation, "user"))`,
        );
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#changes} (
             seq bigint PRIMARY KEY, op char(1) NOT NULL,
             object text NOT NULL, relation text NOT NULL, "user" text NOT NULL, condition jsonb)`,
        );
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.#version} (
             id boolean PRIMARY KEY DEFAULT true CHECK (id), seq bigint NOT NULL)`,
        );
        await client.query(`INSERT INTO ${this.#version} (seq) VALUES (0) ON CONFLICT DO NOTHING`);
        signal.throwIfAborted();
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(ignore);
        throw error;
      }
    });
  }

  /** A pooled client for `work`; one whose work failed is discarded rather than reused. */
  async #withClient<T>(signal: AbortSignal, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = await this.#pool.connect();
    let failed = false;
    try {
      signal.throwIfAborted();
      return await work(client);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      client.release(failed);
    }
  }

  /**
   * One write transaction: takes the version row's lock (so writers commit one
   * at a time and log sequence numbers follow commit order), runs `work`, logs
   * its changes, notifies, commits; then catches the mirror up, so the caller
   * reads its own write. An abort before COMMIT rolls back.
   */
  async #transaction<T>(
    what: string,
    options: CallOptions | undefined,
    work: (client: pg.PoolClient) => Promise<{ result: T; changes: Array<{ op: "w" | "d"; tuple: Tuple }> }>,
  ): Promise<T> {
    const result = await this.#deadline(this.#queryTimeoutMs, options, what, (signal) =>
      this.#withClient(signal, async (client) => {
        await client.query("BEGIN");
        try {
          const version = await client.query<{ seq: string }>(`SELECT seq FROM ${this.#version} FOR UPDATE`);
          const { result, changes } = await work(client);
          if (changes.length > 0) {
            const first = Number(version.rows[0]?.seq ?? 0) + 1;
            const last = first + changes.length - 1;
            await client.query(
              `INSERT INTO ${this.#changes} (seq, op, object, relation, "user", condition)
               SELECT * FROM unnest($1::bigint[], $2::char(1)[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
              [
                changes.map((_, index) => first + index),
                changes.map((change) => change.op),
                ...columns(changes.map((change) => change.tuple)),
                changes.map((change) =>
                  change.tuple.condition ? JSON.stringify(change.tuple.condition) : null,
                ),
              ],
            );
            await client.query(`UPDATE ${this.#version} SET seq = $1`, [last]);
            await client.query(`DELETE FROM ${this.#changes} WHERE seq <= $1`, [last - this.#retention]);
            await client.query("SELECT pg_notify($1, $2)", [this.#channel, String(last)]);
          }
          signal.throwIfAborted();
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(ignore);
          throw error;
        }
      }),
    );
    await this.refresh(options);
    return result;
  }

  async #insert(client: pg.PoolClient, tuples: readonly Tuple[]): Promise<void> {
    if (tuples.length === 0) return;
    await client.query(
      `INSERT INTO ${this.#tuples} (object, relation, "user", condition)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
      [...columns(tuples), tuples.map((tuple) => (tuple.condition ? JSON.stringify(tuple.condition) : null))],
    );
  }

  /** Applies the logged changes after the applied version, in order; reloads when the log was pruned past it. */
  async #catchUp(signal: AbortSignal): Promise<void> {
    const changes = await this.#withClient(signal, (client) =>
      client.query<ChangeRow>(
        `SELECT seq, op, object, relation, "user", condition FROM ${this.#changes} WHERE seq > $1 ORDER BY seq`,
        [this.#applied],
      ),
    );
    const mirror = this.#mirror;
    if (changes.rows.length === 0 || !mirror) return;
    if (Number(changes.rows[0]?.seq) !== this.#applied + 1) {
      await this.#reload(signal);
      return;
    }
    for (const row of changes.rows) {
      if (row.op === "w") mirror.put(toTuple(row));
      else mirror.remove(toTuple(row));
    }
    this.#applied = Number(changes.rows.at(-1)?.seq);
  }

  /** Replaces the mirror's contents with a consistent snapshot of the table and its version. */
  async #reload(signal: AbortSignal): Promise<void> {
    const { version, rows } = await this.#withClient(signal, async (client) => {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        const version = await client.query<{ seq: string }>(`SELECT seq FROM ${this.#version}`);
        const tuples = await client.query<Row>(
          `SELECT object, relation, "user", condition FROM ${this.#tuples}`,
        );
        await client.query("COMMIT");
        return { version: Number(version.rows[0]?.seq ?? 0), rows: tuples.rows };
      } catch (error) {
        await client.query("ROLLBACK").catch(ignore);
        throw error;
      }
    });
    const mirror = this.#mirror;
    if (!mirror) return;
    // Synchronous from here: no check can see a half-loaded mirror.
    mirror.clear();
    for (const row of rows) mirror.put(toTuple(row));
    this.#applied = version;
  }

  /** Opens the notification connection; when it drops, read-through until it is back. */
  async #listen(): Promise<void> {
    const listener = new pg.Client(this.#connection);
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.#listener === listener) this.#listener = undefined;
      this.#following = false;
      listener.end().catch(ignore);
      this.#scheduleReconnect();
    };
    listener.on("error", onLost);
    listener.on("end", onLost);
    listener.on("notification", (message) => {
      if (Number(message.payload) > this.#applied) this.refresh().catch(ignore);
    });
    try {
      await listener.connect();
      await listener.query(`LISTEN "${this.#channel}"`);
    } catch (error) {
      onLost();
      throw error;
    }
    if (this.#closed) {
      await listener.end().catch(ignore);
      return;
    }
    this.#listener = listener;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnect) return;
    this.#reconnect = setTimeout(
      () => {
        this.#reconnect = undefined;
        // Whatever was committed while nobody listened is picked up by the catch-up after LISTEN.
        this.#listen()
          .then(() => this.refresh())
          .then(() => {
            this.#following = this.#listener !== undefined;
          })
          .catch(ignore);
      },
      Math.min(1_000, this.#syncIntervalMs),
    );
    this.#reconnect.unref();
  }
}
