import { OpenFgaErrorCode, validationError } from "../errors.ts";
import type { CheckQuery, ClaimResult, ListObjectsQuery, Tuple } from "../types.ts";
import { CheckEvaluation } from "./check.ts";
import { objectTypeOf, type ParsedUser, parseObject, parseUser } from "./keys.ts";
import { candidateObjects } from "./list-objects.ts";
import { type AuthorizationModel, compileModel } from "./model.ts";
import { type StoredTuple, TupleStore, toStoredTuple, tupleKey } from "./store.ts";
import { assertValidContext, assertValidRequestUser, assertValidTuples, resolveTarget } from "./validate.ts";

const MEMO_LIMIT = 10_000;
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
  readonly #validatedUsers = new Map<string, ParsedUser>();
  readonly #validatedContextual = new Map<string, StoredTuple>();

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
    this.#validatedUsers.clear();
    this.#validatedContextual.clear();
  }

  /** Whether a tuple with this key (object, relation, user) is stored. */
  has(tuple: Tuple): boolean {
    return this.#store.has(tuple);
  }

  get size(): number {
    return this.#store.size;
  }

  /**
   * A request's user, validated against the model. Callers ask about the same
   * few users over and over, so validated users are memoised (bounded, and
   * dropped when the model changes).
   */
  #requestUser(value: unknown): ParsedUser {
    const known = typeof value === "string" ? this.#validatedUsers.get(value) : undefined;
    if (known) return known;
    const user = assertValidRequestUser(this.#model, value);
    if (this.#validatedUsers.size >= MEMO_LIMIT) this.#validatedUsers.clear();
    this.#validatedUsers.set(value as string, user);
    return user;
  }

  /**
   * A contextual tuple, validated and parsed. Role claims repeat from request
   * to request, so condition-free ones are memoised like request users.
   */
  #contextualTuple(tuple: Tuple): StoredTuple {
    const memoisable =
      typeof tuple?.object === "string" &&
      typeof tuple.relation === "string" &&
      typeof tuple.user === "string" &&
      tuple.condition === undefined;
    const key = memoisable ? tupleKey(tuple) : undefined;
    const known = key === undefined ? undefined : this.#validatedContextual.get(key);
    if (known) return known;
    assertValidTuples(this.#model, [tuple], "contextual");
    const stored = toStoredTuple(tuple);
    if (key !== undefined) {
      if (this.#validatedContextual.size >= MEMO_LIMIT) this.#validatedContextual.clear();
      this.#validatedContextual.set(key, stored);
    }
    return stored;
  }

  /** The stores a request reads: the stored tuples, plus its contextual tuples when it has some. */
  #storesFor(contextualTuples: readonly Tuple[] | undefined): readonly TupleStore[] {
    if (contextualTuples === undefined || contextualTuples.length === 0) return this.#storeOnly;
    if (!Array.isArray(contextualTuples)) {
      throw validationError(OpenFgaErrorCode.validation, "contextualTuples must be an array");
    }
    const overlay = new TupleStore();
    for (const tuple of contextualTuples) overlay.add(this.#contextualTuple(tuple));
    return [this.#store, overlay];
  }

  check(query: CheckQuery): boolean {
    const type = typeof query?.object === "string" ? objectTypeOf(query.object) : undefined;
    if (type === undefined) {
      throw validationError(OpenFgaErrorCode.validation, `invalid object '${String(query?.object)}'`);
    }
    resolveTarget(this.#model, type, query.relation, CHECK_CODES);
    const user = this.#requestUser(query.user);
    assertValidContext(query.context);
    const stores = this.#storesFor(query.contextualTuples);
    return new CheckEvaluation(this.#model, stores, query.user, query.context, user).check(
      query.object,
      query.relation,
    );
  }

  listObjects(query: ListObjectsQuery): string[] {
    resolveTarget(this.#model, query?.type, query.relation, LIST_CODES);
    const user = this.#requestUser(query.user);
    assertValidContext(query.context);
    const stores = this.#storesFor(query.contextualTuples);
    const found: string[] = [];
    const wildcard = user.relation === undefined && !user.wildcard ? `${user.type}:*` : undefined;
    const candidates = candidateObjects(
      this.#model,
      stores,
      query.user,
      wildcard,
      query.type,
      query.relation,
    );
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

  /**
   * Throws the error `write(tuples)` would, without writing. Re-writing a
   * present tuple is a no-op only when its condition is the same, as OpenFGA's
   * `on_duplicate: ignore` has it; a different condition is a conflict.
   */
  assertWritable(tuples: readonly Tuple[]): void {
    assertArray(tuples);
    assertValidTuples(this.#model, tuples, "write");
    const keys = new Set<string>();
    for (const tuple of tuples) {
      const key = tupleKey(tuple);
      if (keys.has(key))
        throw validationError(
          OpenFgaErrorCode.duplicateTupleInWrite,
          `tuple '${key}' appears twice in one write`,
        );
      keys.add(key);
      const existing = this.#store.get(tuple);
      if (existing && !sameCondition(existing.condition, tuple.condition)) {
        throw validationError(
          OpenFgaErrorCode.writeFailedDueToInvalidInput,
          `tuple '${tuple.object}#${tuple.relation}@${tuple.user}' already exists with a different condition`,
        );
      }
    }
  }

  /**
   * Writes `tuple` only when no tuple with its object and relation is stored.
   * Synchronous, so check and insert cannot interleave with another call.
   */
  claim(tuple: Tuple): ClaimResult {
    const holders = this.assertClaimable(tuple);
    if (holders.length > 0) return { claimed: false, tuples: holders };
    this.#store.add(tuple);
    return { claimed: true, tuples: [plainTuple(tuple)] };
  }

  /** Validates a claim against the model; returns the tuples already holding its object and relation. */
  assertClaimable(tuple: Tuple): Tuple[] {
    if (typeof tuple !== "object" || tuple === null || Array.isArray(tuple)) {
      throw validationError(OpenFgaErrorCode.validation, "a claim takes one tuple");
    }
    assertValidTuples(this.#model, [tuple], "write");
    return this.read({ object: tuple.object, relation: tuple.relation });
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
    return [...this.#store.read({ user, relation, object })].map(plainTuple);
  }
}

/** A tuple without a stored tuple's parsed fields (what reads return). */
export const plainTuple = ({ user, relation, object, condition }: Tuple): Tuple =>
  condition ? { user, relation, object, condition } : { user, relation, object };

/** Key-order-insensitive JSON, so `{a, b}` and `{b, a}` contexts compare equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value !== "object" || value === null) return JSON.stringify(value) ?? "null";
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
}

export function sameCondition(a: Tuple["condition"], b: Tuple["condition"]): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.name === b.name && canonicalJson(a.context ?? {}) === canonicalJson(b.context ?? {});
}

function assertArray(tuples: unknown): asserts tuples is Tuple[] {
  if (!Array.isArray(tuples)) throw validationError(OpenFgaErrorCode.validation, "tuples must be an array");
}
