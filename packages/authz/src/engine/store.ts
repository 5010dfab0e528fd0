import type { Tuple } from "../types.ts";
import { parseUser } from "./keys.ts";

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

/** The tuples of one object and relation, indexed for a check's lookups. */
export interface RelationTuples {
  /** By user string: answers "is this exact user (or `type:*`) related?" in O(1). */
  readonly byUser: ReadonlyMap<string, StoredTuple>;
  /** Only the userset users (`group:x#member`), the ones a check must expand. */
  readonly usersets: ReadonlyMap<string, StoredTuple>;
}

interface MutableRelationTuples extends RelationTuples {
  readonly byUser: Map<string, StoredTuple>;
  readonly usersets: Map<string, StoredTuple>;
}

/**
 * In-memory tuple storage indexed for the lookups checks make, so a check
 * costs O(tuples on its path) rather than O(all tuples). A tuple's identity is
 * (object, relation, user), as in OpenFGA; the condition is an attribute.
 */
export class TupleStore {
  readonly #byObject = new Map<string, Map<string, MutableRelationTuples>>();
  readonly #byUser = new Map<string, Map<string, StoredTuple>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The stored tuple with this key (object, relation, user), if any. */
  get(tuple: Tuple): StoredTuple | undefined {
    return this.#byObject.get(tuple.object)?.get(tuple.relation)?.byUser.get(tuple.user);
  }

  has(tuple: Tuple): boolean {
    return this.#byObject.get(tuple.object)?.get(tuple.relation)?.byUser.has(tuple.user) ?? false;
  }

  /** Adds the tuple; returns false (and changes nothing) when its key is already present. */
  add(tuple: Tuple | StoredTuple): boolean {
    const entry = getOrCreate(
      getOrCreate(this.#byObject, tuple.object, () => new Map()),
      tuple.relation,
      () => ({ byUser: new Map(), usersets: new Map() }),
    );
    if (entry.byUser.has(tuple.user)) return false;
    const stored = "restriction" in tuple ? tuple : toStoredTuple(tuple);
    entry.byUser.set(tuple.user, stored);
    if (stored.userRelation !== undefined) entry.usersets.set(tuple.user, stored);
    getOrCreate(this.#byUser, tuple.user, () => new Map()).set(tupleKey(tuple), stored);
    this.#size++;
    return true;
  }

  /** Removes the tuple with that key; returns false when none is present. */
  remove(tuple: Tuple): boolean {
    const relations = this.#byObject.get(tuple.object);
    const entry = relations?.get(tuple.relation);
    if (!relations || !entry?.byUser.delete(tuple.user)) return false;
    entry.usersets.delete(tuple.user);
    if (entry.byUser.size === 0) relations.delete(tuple.relation);
    if (relations.size === 0) this.#byObject.delete(tuple.object);
    const byUser = this.#byUser.get(tuple.user);
    byUser?.delete(tupleKey(tuple));
    if (byUser?.size === 0) this.#byUser.delete(tuple.user);
    this.#size--;
    return true;
  }

  /** Removes every tuple (a durable storage reloading its mirror). */
  clear(): void {
    this.#byObject.clear();
    this.#byUser.clear();
    this.#size = 0;
  }

  /** Stores the tuple, replacing one with the same key (a durable storage replaying its change log). */
  put(tuple: Tuple): void {
    this.remove(tuple);
    this.add(tuple);
  }

  /** An object's tuples by relation. */
  relationsOf(object: string): ReadonlyMap<string, RelationTuples> | undefined {
    return this.#byObject.get(object);
  }

  /** Tuples whose user is exactly `user` (an object, a wildcard or a userset). */
  tuplesWithUser(user: string): Iterable<StoredTuple> {
    return this.#byUser.get(user)?.values() ?? EMPTY;
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
      for (const entry of this.#byObject.get(object)?.values() ?? EMPTY) {
        for (const tuple of entry.byUser.values()) if (matches(tuple)) yield tuple;
      }
      return;
    }
    if (user !== undefined) {
      for (const tuple of this.#byUser.get(user)?.values() ?? EMPTY) if (matches(tuple)) yield tuple;
      return;
    }
    for (const relations of this.#byObject.values()) {
      for (const entry of relations.values()) {
        for (const tuple of entry.byUser.values()) if (matches(tuple)) yield tuple;
      }
    }
  }
}
