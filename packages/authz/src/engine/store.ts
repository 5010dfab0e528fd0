import type { Tuple } from "../types.ts";
import { objectType, parseUser } from "./keys.ts";

/**
 * A tuple as stored: its user parsed once at write time, so checks never
 * re-parse strings. `restriction` is the type-restriction entry the tuple
 * needs in the model (`user`, `user:*`, `group#member`, `user with cond`).
 */
export interface StoredTuple extends Tuple {
  readonly userType: string;
  /** The userset's object (`group:eng` of `group:eng#member`), or the user itself. */
  readonly userObject: string;
  readonly userRelation: string | undefined;
  readonly wildcard: boolean;
  readonly restriction: string;
}

export function restrictionKey(
  type: string,
  relation: string | undefined,
  wildcard: boolean,
  condition?: string,
) {
  const base = wildcard ? `${type}:*` : relation === undefined ? type : `${type}#${relation}`;
  return condition ? `${base} with ${condition}` : base;
}

/** Parses a (syntactically valid) tuple into its stored form. */
export function toStoredTuple(tuple: Tuple): StoredTuple {
  const user = parseUser(tuple.user);
  if (!user) throw new TypeError(`malformed user '${tuple.user}'`);
  const userObject = `${user.type}:${user.id}`;
  return Object.freeze({
    user: tuple.user,
    relation: tuple.relation,
    object: tuple.object,
    ...(tuple.condition ? { condition: tuple.condition } : {}),
    userType: user.type,
    userObject,
    userRelation: user.relation,
    wildcard: user.wildcard,
    restriction: restrictionKey(user.type, user.relation, user.wildcard, tuple.condition?.name),
  });
}

/** The lookups a check and a list-objects make, each answered from an index. */
export interface TupleReader {
  /** Tuples on `object` for `relation`. */
  withObjectRelation(object: string, relation: string): Iterable<StoredTuple>;
  /** Objects of `type` having a `relation` tuple whose user is exactly `user`. */
  objectsRelatedTo(type: string, relation: string, user: string): Iterable<string>;
  /** Every object of `type` that appears in some tuple. */
  objectsOfType(type: string): Iterable<string>;
}

export const tupleKey = (tuple: Tuple) => `${tuple.object}#${tuple.relation}@${tuple.user}`;

const EMPTY: readonly never[] = [];

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/**
 * In-memory tuple storage with the three indexes checks need, so a check costs
 * O(tuples on its path) rather than O(all tuples). A tuple's identity is
 * (object, relation, user), as in OpenFGA; the condition is an attribute.
 */
export class TupleStore implements TupleReader {
  readonly #byObject = new Map<string, Map<string, Map<string, StoredTuple>>>();
  readonly #byUser = new Map<string, Map<string, StoredTuple>>();
  /** `objectType#relation` → user → objects. */
  readonly #reverse = new Map<string, Map<string, Set<string>>>();
  /** type → object → number of tuples on it. */
  readonly #objectsByType = new Map<string, Map<string, number>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(tuple: Tuple): boolean {
    return this.#byObject.get(tuple.object)?.get(tuple.relation)?.has(tuple.user) ?? false;
  }

  /** Adds the tuple; returns false (and changes nothing) when its key is already present. */
  add(tuple: Tuple): boolean {
    const users = getOrCreate(
      getOrCreate(this.#byObject, tuple.object, () => new Map()),
      tuple.relation,
      () => new Map(),
    );
    if (users.has(tuple.user)) return false;
    const stored = toStoredTuple(tuple);
    users.set(tuple.user, stored);
    getOrCreate(this.#byUser, tuple.user, () => new Map()).set(tupleKey(tuple), stored);
    const type = objectType(tuple.object);
    getOrCreate(
      getOrCreate(this.#reverse, `${type}#${tuple.relation}`, () => new Map()),
      tuple.user,
      () => new Set(),
    ).add(tuple.object);
    const objects = getOrCreate(this.#objectsByType, type, () => new Map());
    objects.set(tuple.object, (objects.get(tuple.object) ?? 0) + 1);
    this.#size++;
    return true;
  }

  /** Removes the tuple with that key; returns false when none is present. */
  remove(tuple: Tuple): boolean {
    const relations = this.#byObject.get(tuple.object);
    const users = relations?.get(tuple.relation);
    if (!relations || !users?.delete(tuple.user)) return false;
    if (users.size === 0) relations.delete(tuple.relation);
    if (relations.size === 0) this.#byObject.delete(tuple.object);
    const byUser = this.#byUser.get(tuple.user);
    byUser?.delete(tupleKey(tuple));
    if (byUser?.size === 0) this.#byUser.delete(tuple.user);
    const type = objectType(tuple.object);
    const reverse = this.#reverse.get(`${type}#${tuple.relation}`);
    const objects = reverse?.get(tuple.user);
    objects?.delete(tuple.object);
    if (objects?.size === 0) reverse?.delete(tuple.user);
    const counts = this.#objectsByType.get(type);
    const count = (counts?.get(tuple.object) ?? 1) - 1;
    if (count === 0) counts?.delete(tuple.object);
    else counts?.set(tuple.object, count);
    this.#size--;
    return true;
  }

  withObjectRelation(object: string, relation: string): Iterable<StoredTuple> {
    return this.#byObject.get(object)?.get(relation)?.values() ?? EMPTY;
  }

  objectsRelatedTo(type: string, relation: string, user: string): Iterable<string> {
    return this.#reverse.get(`${type}#${relation}`)?.get(user) ?? EMPTY;
  }

  objectsOfType(type: string): Iterable<string> {
    return this.#objectsByType.get(type)?.keys() ?? EMPTY;
  }

  /** Tuples matching every given field; `object` may be a bare `type:` to match a whole type. */
  *read(filter: Partial<Pick<Tuple, "user" | "relation" | "object">>): Iterable<StoredTuple> {
    const { user, relation, object } = filter;
    const matches = (tuple: StoredTuple) =>
      (user === undefined || tuple.user === user) &&
      (relation === undefined || tuple.relation === relation) &&
      (object === undefined ||
        tuple.object === object ||
        (object.endsWith(":") && tuple.object.startsWith(object)));
    if (object !== undefined && !object.endsWith(":")) {
      for (const users of this.#byObject.get(object)?.values() ?? EMPTY) {
        for (const tuple of users.values()) if (matches(tuple)) yield tuple;
      }
      return;
    }
    if (user !== undefined) {
      for (const tuple of this.#byUser.get(user)?.values() ?? EMPTY) if (matches(tuple)) yield tuple;
      return;
    }
    for (const relations of this.#byObject.values()) {
      for (const users of relations.values()) {
        for (const tuple of users.values()) if (matches(tuple)) yield tuple;
      }
    }
  }
}

/** Stored tuples plus one request's contextual tuples, read as one store. */
export class OverlayReader implements TupleReader {
  constructor(
    private readonly base: TupleReader,
    private readonly overlay: TupleReader,
  ) {}

  *withObjectRelation(object: string, relation: string): Iterable<StoredTuple> {
    yield* this.overlay.withObjectRelation(object, relation);
    yield* this.base.withObjectRelation(object, relation);
  }

  *objectsRelatedTo(type: string, relation: string, user: string): Iterable<string> {
    yield* this.overlay.objectsRelatedTo(type, relation, user);
    yield* this.base.objectsRelatedTo(type, relation, user);
  }

  *objectsOfType(type: string): Iterable<string> {
    yield* this.overlay.objectsOfType(type);
    yield* this.base.objectsOfType(type);
  }
}
