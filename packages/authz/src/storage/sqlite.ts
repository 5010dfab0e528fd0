import { openSqliteFile } from "@mcp-langgraph/core";
import Database from "better-sqlite3";
import { plainTuple, sameCondition } from "../engine/engine.ts";
import type { TupleStore } from "../engine/store.ts";
import { AuthzError, isAuthzError, OpenFgaErrorCode, validationError } from "../errors.ts";
import type { CallOptions, ClaimResult, Tuple } from "../types.ts";
import { IDENTIFIER, positiveIntegers } from "./settings.ts";
import type { TupleStorage } from "./types.ts";

export interface SqliteTupleStorageConfig {
  /** Database file, created with its directory when missing; may be the checkpointer's file. */
  path: string;
  /** Tuple table; the change log and version row live in `<table>_changes` and `<table>_version`. Default "authz_tuples". */
  table?: string;
  /**
   * How long a write waits for another connection's write lock (a checkpoint write, another
   * worker process) before failing with AUTHZ_UNAVAILABLE; the wait is synchronous. Default 5,000 ms.
   */
  busyTimeoutMs?: number;
  /** Changes kept in the log for catching up; a process further behind reloads every tuple. Default 10,000. */
  changeLogRetention?: number;
}

interface Row {
  object: string;
  relation: string;
  user: string;
  condition: string | null;
}

interface ChangeRow extends Row {
  seq: number;
  op: "w" | "d";
}

type Change = { op: "w" | "d"; tuple: Tuple };

const toTuple = (row: Row): Tuple =>
  plainTuple({
    user: row.user,
    relation: row.relation,
    object: row.object,
    ...(row.condition ? { condition: JSON.parse(row.condition) as Tuple["condition"] } : {}),
  });

const conditionColumn = (tuple: Tuple) => (tuple.condition ? JSON.stringify(tuple.condition) : null);

/**
 * Tuples in a SQLite file on one node, mirrored into the engine's in-memory index (ADR 0070,
 * ADR 0111). The scheme is Postgres storage's: every change is written, in one transaction that
 * holds SQLite's write lock (`BEGIN IMMEDIATE`, so writers of every connection and process on
 * the file commit one at a time), to the tuple table and to a gapless change log.
 *
 * There is no change feed, so `following` is false and the authorizer catches up before every
 * answer; a catch-up is one read of the version row from a local file (microseconds) and reads
 * the log only when the version moved. Worker processes sharing the file therefore see each
 * other's grants and revocations at once. better-sqlite3 is synchronous: each call runs on the
 * caller's turn of the event loop, which is cheaper than a hop to a worker for statements this small.
 */
export class SqliteTupleStorage implements TupleStorage {
  readonly following = false;
  readonly #path: string;
  readonly #tuples: string;
  readonly #changes: string;
  readonly #version: string;
  readonly #busyTimeoutMs: number;
  readonly #retention: number;
  #database: Database.Database | undefined;
  /** Prepared once: a check reads the version row, and preparing costs more than running it. */
  #readVersion: Database.Statement<[], { seq: number }> | undefined;
  #readChanges: Database.Statement<[number], ChangeRow> | undefined;
  #mirror: TupleStore | undefined;
  #applied = 0;
  #closed = false;

  constructor(config: SqliteTupleStorageConfig) {
    const table = config.table ?? "authz_tuples";
    if (!IDENTIFIER.test(table)) {
      throw new AuthzError(
        "AUTHZ_VALIDATION",
        "tuple storage table must be a plain identifier (letters, digits, underscore; at most 55 characters)",
      );
    }
    if (typeof config.path !== "string" || config.path.trim() === "") {
      throw new AuthzError("AUTHZ_VALIDATION", "tuple storage path must be a non-empty file path");
    }
    const settings = positiveIntegers({
      busyTimeoutMs: config.busyTimeoutMs ?? 5_000,
      changeLogRetention: config.changeLogRetention ?? 10_000,
    });
    this.#path = config.path;
    this.#busyTimeoutMs = settings.busyTimeoutMs;
    this.#retention = settings.changeLogRetention;
    this.#tuples = `"${table}"`;
    this.#changes = `"${table}_changes"`;
    this.#version = `"${table}_version"`;
  }

  async attach(mirror: TupleStore, options?: CallOptions): Promise<void> {
    if (this.#mirror) throw new AuthzError("AUTHZ_VALIDATION", "tuple storage is already attached");
    options?.signal?.throwIfAborted();
    let database: Database.Database;
    try {
      database = openSqliteFile((path) => new Database(path), this.#path, {
        busyTimeoutMs: this.#busyTimeoutMs,
      });
    } catch (error) {
      // The message names the path (the operator's own setting, and the fix) and the reason.
      throw new AuthzError("AUTHZ_UNAVAILABLE", `tuple storage: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.#database = database;
    this.#mirror = mirror;
    this.#run("setting up", undefined, (db) => {
      db.transaction(() => {
        db.exec(
          `CREATE TABLE IF NOT EXISTS ${this.#tuples} (
             object TEXT NOT NULL, relation TEXT NOT NULL, user TEXT NOT NULL, condition TEXT,
             PRIMARY KEY (object, relation, user)) WITHOUT ROWID`,
        );
        db.exec(
          `CREATE TABLE IF NOT EXISTS ${this.#changes} (
             seq INTEGER PRIMARY KEY, op TEXT NOT NULL,
             object TEXT NOT NULL, relation TEXT NOT NULL, user TEXT NOT NULL, condition TEXT)`,
        );
        db.exec(
          `CREATE TABLE IF NOT EXISTS ${this.#version} (
             id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)`,
        );
        db.exec(`INSERT OR IGNORE INTO ${this.#version} (id, seq) VALUES (1, 0)`);
      }).immediate();
      this.#readVersion = db.prepare(`SELECT seq FROM ${this.#version}`);
      this.#readChanges = db.prepare(
        `SELECT seq, op, object, relation, user, condition FROM ${this.#changes} WHERE seq > ? ORDER BY seq`,
      );
      this.#reload(db);
    });
  }

  async refresh(options?: CallOptions): Promise<void> {
    this.#run("catching up", options, (db) => this.#catchUp(db));
  }

  async write(tuples: readonly Tuple[], options?: CallOptions): Promise<void> {
    if (tuples.length === 0) return;
    this.#change("writing tuples", options, (db) => {
      const read = db.prepare<[string, string, string], Row>(
        `SELECT object, relation, user, condition FROM ${this.#tuples} WHERE object = ? AND relation = ? AND user = ?`,
      );
      const added: Tuple[] = [];
      const seen = new Set<string>();
      for (const tuple of tuples) {
        const key = `${tuple.object}#${tuple.relation}@${tuple.user}`;
        const existing = read.get(tuple.object, tuple.relation, tuple.user);
        if (!existing) {
          if (!seen.has(key)) added.push(tuple);
          seen.add(key);
        } else if (
          !sameCondition(existing.condition ? JSON.parse(existing.condition) : undefined, tuple.condition)
        ) {
          throw validationError(
            OpenFgaErrorCode.writeFailedDueToInvalidInput,
            `tuple '${key}' already exists with a different condition`,
          );
        }
      }
      this.#insert(db, added);
      return { result: undefined, changes: added.map((tuple) => ({ op: "w" as const, tuple })) };
    });
  }

  async delete(tuples: readonly Tuple[], options?: CallOptions): Promise<void> {
    if (tuples.length === 0) return;
    this.#change("deleting tuples", options, (db) => {
      const remove = db.prepare<[string, string, string], Row>(
        `DELETE FROM ${this.#tuples} WHERE object = ? AND relation = ? AND user = ?
         RETURNING object, relation, user, NULL AS condition`,
      );
      const changes: Change[] = [];
      for (const tuple of tuples) {
        const removed = remove.get(tuple.object, tuple.relation, tuple.user);
        if (removed) changes.push({ op: "d", tuple: toTuple(removed) });
      }
      return { result: undefined, changes };
    });
  }

  async claim(tuple: Tuple, options?: CallOptions): Promise<ClaimResult> {
    return this.#change<ClaimResult>("claiming a tuple", options, (db) => {
      // Inside the write lock: no other connection can insert between this read and the insert.
      const holders = db
        .prepare<[string, string], Row>(
          `SELECT object, relation, user, condition FROM ${this.#tuples} WHERE object = ? AND relation = ? ORDER BY user`,
        )
        .all(tuple.object, tuple.relation);
      if (holders.length > 0)
        return { result: { claimed: false, tuples: holders.map(toTuple) }, changes: [] };
      this.#insert(db, [tuple]);
      return { result: { claimed: true, tuples: [plainTuple(tuple)] }, changes: [{ op: "w", tuple }] };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#database?.open) this.#database.close();
  }

  /** Runs synchronous work on the open database; failures that are not typed become AUTHZ_UNAVAILABLE. */
  #run<T>(what: string, options: CallOptions | undefined, work: (db: Database.Database) => T): T {
    if (this.#closed) throw new AuthzError("AUTHZ_CLOSED", "authorizer is closed");
    options?.signal?.throwIfAborted();
    const db = this.#database;
    if (!db) throw new AuthzError("AUTHZ_UNAVAILABLE", "tuple storage is not attached");
    try {
      return work(db);
    } catch (error) {
      if (isAuthzError(error)) throw error;
      throw new AuthzError("AUTHZ_UNAVAILABLE", `tuple storage: ${what} failed`, { cause: error });
    }
  }

  /**
   * One write transaction under SQLite's write lock: runs `work`, logs its changes with the next
   * sequence numbers, bumps the version and prunes the log; then applies the log to the mirror, so
   * the caller reads its own write. A throw anywhere rolls the whole transaction back.
   */
  #change<T>(
    what: string,
    options: CallOptions | undefined,
    work: (db: Database.Database) => { result: T; changes: Change[] },
  ): T {
    return this.#run(what, options, (db) => {
      const result = db
        .transaction(() => {
          const version = db.prepare<[], { seq: number }>(`SELECT seq FROM ${this.#version}`).get()?.seq ?? 0;
          const { result, changes } = work(db);
          if (changes.length > 0) {
            const log = db.prepare(
              `INSERT INTO ${this.#changes} (seq, op, object, relation, user, condition) VALUES (?, ?, ?, ?, ?, ?)`,
            );
            changes.forEach(({ op, tuple }, index) => {
              log.run(
                version + 1 + index,
                op,
                tuple.object,
                tuple.relation,
                tuple.user,
                conditionColumn(tuple),
              );
            });
            const last = version + changes.length;
            db.prepare(`UPDATE ${this.#version} SET seq = ?`).run(last);
            db.prepare(`DELETE FROM ${this.#changes} WHERE seq <= ?`).run(last - this.#retention);
          }
          return result;
        })
        .immediate();
      this.#catchUp(db);
      return result;
    });
  }

  #insert(db: Database.Database, tuples: readonly Tuple[]): void {
    const insert = db.prepare(
      `INSERT INTO ${this.#tuples} (object, relation, user, condition) VALUES (?, ?, ?, ?)`,
    );
    for (const tuple of tuples) insert.run(tuple.object, tuple.relation, tuple.user, conditionColumn(tuple));
  }

  /** Applies the logged changes after the applied version, in order; reloads when the log was pruned past it. */
  #catchUp(db: Database.Database): void {
    const mirror = this.#mirror;
    if (!mirror) return;
    const [readVersion, readChanges] = [this.#readVersion, this.#readChanges];
    if (!readVersion || !readChanges) return;
    // Outside a transaction first: one indexed read answers the common case (nothing new).
    if ((readVersion.get()?.seq ?? 0) === this.#applied) return;
    // Then one read transaction: the version and the log rows come from the same snapshot.
    db.transaction(() => {
      const version = readVersion.get()?.seq ?? 0;
      if (version === this.#applied) return;
      const changes = readChanges.all(this.#applied);
      if (changes[0]?.seq !== this.#applied + 1) {
        this.#reload(db);
        return;
      }
      for (const row of changes) {
        if (row.op === "w") mirror.put(toTuple(row));
        else mirror.remove(toTuple(row));
      }
      this.#applied = changes.at(-1)?.seq ?? this.#applied;
    }).deferred();
  }

  /** Replaces the mirror's contents with a consistent snapshot of the table and its version. */
  #reload(db: Database.Database): void {
    const mirror = this.#mirror;
    if (!mirror) return;
    db.transaction(() => {
      const version = db.prepare<[], { seq: number }>(`SELECT seq FROM ${this.#version}`).get()?.seq ?? 0;
      const rows = db.prepare<[], Row>(`SELECT object, relation, user, condition FROM ${this.#tuples}`).all();
      mirror.clear();
      for (const row of rows) mirror.put(toTuple(row));
      this.#applied = version;
    }).deferred();
  }
}
