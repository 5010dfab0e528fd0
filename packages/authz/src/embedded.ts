import { Engine } from "./engine/engine.ts";
import { TupleStore } from "./engine/store.ts";
import { AuthzError } from "./errors.ts";
import type { TupleStorage } from "./storage/types.ts";
import type { Authorizer, CallOptions, CheckQuery, ClaimResult, ListObjectsQuery, Tuple } from "./types.ts";

/**
 * The in-process backend. Engine calls are synchronous and short (a check
 * walks only its own path), so they run on the caller's turn of the event loop.
 *
 * With a durable `TupleStorage` (ADR 0070) the engine's tuples mirror the
 * storage: changes go to the storage first, and checks still answer from
 * memory. Only an answer a tuple written elsewhere could change (a deny, a
 * list, a read) first confirms the mirror is current, so a grant made by
 * another process is honoured here as soon as it has committed.
 */
export class EmbeddedAuthorizer implements Authorizer {
  readonly engine: Engine;
  readonly #storage: TupleStorage | undefined;
  #closed = false;

  /** `durable` is for `open`, which attaches the storage to the engine's store. */
  constructor(model: string | Engine, durable?: { storage: TupleStorage; store: TupleStore }) {
    this.engine = typeof model === "string" ? new Engine(model, durable?.store) : model;
    this.#storage = durable?.storage;
  }

  /** An authorizer over durable storage, loaded with every stored tuple. */
  static async open(
    model: string,
    storage: TupleStorage,
    options?: CallOptions,
  ): Promise<EmbeddedAuthorizer> {
    const store = new TupleStore();
    const authorizer = new EmbeddedAuthorizer(model, { storage, store });
    await storage.attach(store, options);
    return authorizer;
  }

  /** Not `async`: the engine answers synchronously, so one settled promise per call is enough. */
  #run<T>(options: CallOptions | undefined, operation: () => T): Promise<T> {
    try {
      this.#assertOpen(options);
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #assertOpen(options: CallOptions | undefined) {
    if (this.#closed) throw new AuthzError("AUTHZ_CLOSED", "authorizer is closed");
    options?.signal?.throwIfAborted();
  }

  /**
   * Answers from memory; when that answer could be stale (see the class
   * comment), catches up with the storage and answers again.
   */
  async #fresh<T>(
    options: CallOptions | undefined,
    answer: () => T,
    trust: (value: T) => boolean,
  ): Promise<T> {
    const storage = this.#storage as TupleStorage;
    this.#assertOpen(options);
    if (!storage.following) await storage.refresh(options);
    const first = answer();
    if (trust(first)) return first;
    // Answer again even when this refresh found nothing new: a notified catch-up may have run since `first`.
    await storage.refresh(options);
    return answer();
  }

  /** For answers that list what is stored: every one could miss a tuple written elsewhere. */
  async #afterRefresh<T>(options: CallOptions | undefined, answer: () => T): Promise<T> {
    this.#assertOpen(options);
    await (this.#storage as TupleStorage).refresh(options);
    return answer();
  }

  check(query: CheckQuery, options?: CallOptions): Promise<boolean> {
    if (!this.#storage) return this.#run(options, () => this.engine.check(query));
    return this.#fresh(options, () => this.engine.check(query), Boolean);
  }

  batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]> {
    const answer = () => queries.map((query) => this.engine.check(query));
    if (!this.#storage) return this.#run(options, answer);
    return this.#fresh(options, answer, (answers) => answers.every(Boolean));
  }

  listObjects(query: ListObjectsQuery, options?: CallOptions): Promise<string[]> {
    if (!this.#storage) return this.#run(options, () => this.engine.listObjects(query));
    return this.#afterRefresh(options, () => this.engine.listObjects(query));
  }

  writeTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    const storage = this.#storage;
    if (!storage) return this.#run(options, () => this.engine.write(tuples));
    return this.#durably(options, async () => {
      // Model checks here; conflicts with what other processes stored are checked in the transaction.
      this.engine.assertWritable(tuples);
      await storage.write(tuples, options);
    });
  }

  deleteTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    const storage = this.#storage;
    if (!storage) return this.#run(options, () => this.engine.delete(tuples));
    return this.#durably(options, async () => {
      this.engine.assertDeletable(tuples);
      await storage.delete(tuples, options);
    });
  }

  claimTuple(tuple: Tuple, options?: CallOptions): Promise<ClaimResult> {
    const storage = this.#storage;
    if (!storage) return this.#run(options, () => this.engine.claim(tuple));
    return this.#durably(options, async () => {
      this.engine.assertClaimable(tuple);
      return storage.claim(tuple, options);
    });
  }

  readTuples(filter: Partial<Tuple>, options?: CallOptions): Promise<Tuple[]> {
    if (!this.#storage) return this.#run(options, () => this.engine.read(filter));
    return this.#afterRefresh(options, () => this.engine.read(filter));
  }

  async #durably<T>(options: CallOptions | undefined, change: () => Promise<T>): Promise<T> {
    this.#assertOpen(options);
    return change();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#storage?.close();
  }
}
