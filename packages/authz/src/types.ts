/** A relationship tuple: `user` has `relation` on `object`, optionally only while `condition` holds. */
export interface Tuple {
  /** `type:id`, `type:*` (every object of that type) or `type:id#relation` (a userset). */
  user: string;
  relation: string;
  /** `type:id`. */
  object: string;
  condition?: { name: string; context?: Record<string, unknown> };
}

export interface CheckQuery {
  user: string;
  relation: string;
  object: string;
  /** Tuples that count for this one query only (e.g. roles from verified token claims). */
  contextualTuples?: Tuple[];
  /** Values for condition parameters; a stored tuple's own context wins on a clash. */
  context?: Record<string, unknown>;
}

export interface ListObjectsQuery {
  user: string;
  relation: string;
  /** Object type to list, e.g. `conversation`. */
  type: string;
  contextualTuples?: Tuple[];
  context?: Record<string, unknown>;
}

/** What `claimTuple` did: whether the tuple was written, and the tuples now holding that object and relation. */
export interface ClaimResult {
  claimed: boolean;
  /** The stored tuples with the claimed tuple's object and relation (the claimed one alone when `claimed`). */
  tuples: Tuple[];
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Fine-grained authorization with OpenFGA semantics. Every method fails closed:
 * a backend failure rejects with an `AuthzError` (never resolves to "allowed").
 */
export interface Authorizer {
  check(query: CheckQuery, options?: CallOptions): Promise<boolean>;
  /** One answer per query, in order. */
  batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]>;
  /** Objects (`type:id`) of `query.type` on which `query.user` has `query.relation`. */
  listObjects(query: ListObjectsQuery, options?: CallOptions): Promise<string[]>;
  /** Validates every tuple against the model first; tuples already present are left as they are. */
  writeTuples(tuples: Tuple[], options?: CallOptions): Promise<void>;
  /**
   * Writes `tuple` only when no stored tuple has the same object and relation
   * (e.g. the first owner of a conversation), atomically across every process
   * sharing the backend's storage; see ADR 0070 for the OpenFGA server's residual race.
   */
  claimTuple(tuple: Tuple, options?: CallOptions): Promise<ClaimResult>;
  /** Tuples that are not present are ignored. */
  deleteTuples(tuples: Tuple[], options?: CallOptions): Promise<void>;
  /** Stored tuples matching every given field (`object` may be a bare `type:` prefix). */
  readTuples(filter: Partial<Tuple>, options?: CallOptions): Promise<Tuple[]>;
  close(): Promise<void>;
}
