import { Engine } from "./engine/engine.ts";
import { AuthzError } from "./errors.ts";
import type { Authorizer, CallOptions, CheckQuery, ListObjectsQuery, Tuple } from "./types.ts";

/**
 * The in-process backend. Engine calls are synchronous and short (a check
 * walks only its own path), so they run on the caller's turn of the event loop.
 */
export class EmbeddedAuthorizer implements Authorizer {
  readonly engine: Engine;
  #closed = false;

  constructor(model: string | Engine) {
    this.engine = typeof model === "string" ? new Engine(model) : model;
  }

  /** Not `async`: the engine answers synchronously, so one settled promise per call is enough. */
  #run<T>(options: CallOptions | undefined, operation: () => T): Promise<T> {
    try {
      if (this.#closed) throw new AuthzError("AUTHZ_CLOSED", "authorizer is closed");
      options?.signal?.throwIfAborted();
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  check(query: CheckQuery, options?: CallOptions): Promise<boolean> {
    return this.#run(options, () => this.engine.check(query));
  }

  batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]> {
    return this.#run(options, () => queries.map((query) => this.engine.check(query)));
  }

  listObjects(query: ListObjectsQuery, options?: CallOptions): Promise<string[]> {
    return this.#run(options, () => this.engine.listObjects(query));
  }

  writeTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    return this.#run(options, () => this.engine.write(tuples));
  }

  deleteTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    return this.#run(options, () => this.engine.delete(tuples));
  }

  readTuples(filter: Partial<Tuple>, options?: CallOptions): Promise<Tuple[]> {
    return this.#run(options, () => this.engine.read(filter));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
