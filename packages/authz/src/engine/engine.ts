import { OpenFgaErrorCode, validationError } from "../errors.ts";
import type { CheckQuery, ListObjectsQuery, Tuple } from "../types.ts";
import { CheckEvaluation } from "./check.ts";
import { parseObject, parseUser } from "./keys.ts";
import { type AuthorizationModel, compileModel } from "./model.ts";
import { TupleStore } from "./store.ts";
import { assertValidContext, assertValidRequestUser, assertValidTuples, resolveTarget } from "./validate.ts";

const CHECK_CODES = {
  typeNotFound: OpenFgaErrorCode.validation,
  relationNotFound: OpenFgaErrorCode.validation,
};
const LIST_CODES = {
  typeNotFound: OpenFgaErrorCode.typeNotFound,
  relationNotFound: OpenFgaErrorCode.relationNotFound,
};

/**
 * The embedded OpenFGA-semantics engine: a compiled model over indexed
 * in-memory tuples. Pure and synchronous; the authorizer wraps it in the async interface.
 */
export class Engine {
  #model: AuthorizationModel;
  readonly #store: TupleStore;
  readonly #storeOnly: readonly TupleStore[];

  /** `store` lets several engines (one per model version) share one set of tuples. */
  constructor(model: string | AuthorizationModel, store = new TupleStore()) {
    this.#model = typeof model === "string" ? compileModel(model) : model;
    this.#store = store;
    this.#storeOnly = [store];
  }

  get model(): AuthorizationModel {
    return this.#model;
  }

  /**
   * Switches to another model and keeps the stored tuples; those the new model
   * does not allow are ignored by checks (and stay readable), as in OpenFGA.
   */
  setModel(model: string | AuthorizationModel): void {
    this.#model = typeof model === "string" ? compileModel(model) : model;
  }

  /** Whether a tuple with this key (object, relation, user) is stored. */
  has(tuple: Tuple): boolean {
    return this.#store.has(tuple);
  }

  get size(): number {
    return this.#store.size;
  }

  /** The stores a request reads: the stored tuples, plus its contextual tuples when it has some. */
  #storesFor(contextualTuples: readonly Tuple[] | undefined): readonly TupleStore[] {
    if (contextualTuples === undefined || contextualTuples.length === 0) return this.#storeOnly;
    if (!Array.isArray(contextualTuples)) {
      throw validationError(OpenFgaErrorCode.validation, "contextualTuples must be an array");
    }
    assertValidTuples(this.#model, contextualTuples, "contextual");
    const overlay = new TupleStore();
    for (const tuple of contextualTuples) overlay.add(tuple);
    return [this.#store, overlay];
  }

  check(query: CheckQuery): boolean {
    const object = typeof query?.object === "string" ? parseObject(query.object) : undefined;
    if (!object)
      throw validationError(OpenFgaErrorCode.validation, `invalid object '${String(query?.object)}'`);
    resolveTarget(this.#model, object.type, query.relation, CHECK_CODES);
    const user = assertValidRequestUser(this.#model, query.user);
    assertValidContext(query.context);
    const stores = this.#storesFor(query.contextualTuples);
    return new CheckEvaluation(this.#model, stores, query.user, query.context, user).check(
      query.object,
      query.relation,
    );
  }

  listObjects(query: ListObjectsQuery): string[] {
    resolveTarget(this.#model, query?.type, query.relation, LIST_CODES);
    const user = assertValidRequestUser(this.#model, query.user);
    assertValidContext(query.context);
    const stores = this.#storesFor(query.contextualTuples);
    const found: string[] = [];
    const candidates = new Set(stores.flatMap((store) => [...store.objectsOfType(query.type)]));
    for (const object of candidates) {
      const evaluation = new CheckEvaluation(this.#model, stores, query.user, query.context, user);
      if (evaluation.check(object, query.relation)) found.push(object);
    }
    return found;
  }

  /** Validates all tuples first, so a bad one writes nothing; already-present tuples are kept as they are. */
  write(tuples: readonly Tuple[]): void {
    this.assertWritable(tuples);
    for (const tuple of tuples) this.#store.add(tuple);
  }

  /** Throws the error `write(tuples)` would, without writing. */
  assertWritable(tuples: readonly Tuple[]): void {
    assertArray(tuples);
    assertValidTuples(this.#model, tuples, "write");
  }

  /** Deletes by tuple key (object, relation, user); absent tuples are ignored. */
  delete(tuples: readonly Tuple[]): void {
    this.assertDeletable(tuples);
    for (const tuple of tuples) this.#store.remove(tuple);
  }

  /** Deletes are checked for form only, so tuples a newer model no longer allows can still be removed. */
  assertDeletable(tuples: readonly Tuple[]): void {
    assertArray(tuples);
    for (const tuple of tuples) {
      if (
        typeof tuple?.relation !== "string" ||
        typeof tuple.object !== "string" ||
        typeof tuple.user !== "string" ||
        !parseObject(tuple.object) ||
        !parseUser(tuple.user)
      ) {
        throw validationError(
          OpenFgaErrorCode.invalidTuple,
          "a tuple to delete needs a valid user, relation and object",
        );
      }
    }
  }

  /**
   * Stored tuples matching the filter, with OpenFGA's Read rules: an empty
   * filter reads everything; otherwise `object` is required, either `type:id`
   * or a bare `type:` together with a `user`.
   */
  read(filter: Partial<Tuple>): Tuple[] {
    const { user, relation, object } = filter ?? {};
    const given = user !== undefined || relation !== undefined || object !== undefined;
    if (given) {
      const typeOnly = typeof object === "string" && /^[^\s:#@*]+:$/.test(object);
      if (typeof object !== "string" || (!typeOnly && !parseObject(object))) {
        throw validationError(
          OpenFgaErrorCode.validation,
          "a read filter needs an object ('type:id' or 'type:')",
        );
      }
      if (typeOnly && typeof user !== "string") {
        throw validationError(
          OpenFgaErrorCode.validation,
          "a read filter with a bare 'type:' object needs a user",
        );
      }
    }
    return [...this.#store.read({ user, relation, object })].map(({ user, relation, object, condition }) =>
      condition ? { user, relation, object, condition } : { user, relation, object },
    );
  }
}

function assertArray(tuples: unknown): asserts tuples is Tuple[] {
  if (!Array.isArray(tuples)) throw validationError(OpenFgaErrorCode.validation, "tuples must be an array");
}
