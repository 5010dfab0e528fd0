import type { TupleStore } from "../engine/store.ts";
import type { CallOptions, ClaimResult, Tuple } from "../types.ts";

/**
 * Durable storage behind the embedded engine (ADR 0070). The engine keeps
 * answering checks from its in-memory index (`mirror`); the storage is the
 * source of truth, applies every change to the mirror in commit order, and
 * is what makes claims atomic across the processes that share it. Postgres
 * and SQLite (one machine, ADR 0111) implement it.
 */
export interface TupleStorage {
  /** Creates what the storage needs, loads every stored tuple into `mirror` and keeps it current. */
  attach(mirror: TupleStore, options?: CallOptions): Promise<void>;
  /**
   * False while changes by other processes may be missed (no change feed):
   * the authorizer then calls `refresh` before every answer (read-through).
   */
  readonly following: boolean;
  /** Brings the mirror up to date with everything committed before the call. */
  refresh(options?: CallOptions): Promise<void>;
  /**
   * Stores model-validated tuples in one transaction; present ones are kept,
   * one present with another condition rejects the whole write (OpenFGA 2017).
   * The mirror holds the write when this resolves.
   */
  write(tuples: readonly Tuple[], options?: CallOptions): Promise<void>;
  /** Removes tuples by key in one transaction; absent ones are ignored. */
  delete(tuples: readonly Tuple[], options?: CallOptions): Promise<void>;
  /** Stores `tuple` only when no tuple has its object and relation, atomically for all sharers. */
  claim(tuple: Tuple, options?: CallOptions): Promise<ClaimResult>;
  close(): Promise<void>;
}
