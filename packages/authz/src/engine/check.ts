import { AuthzError, OpenFgaErrorCode } from "../errors.ts";
import { objectType, type ParsedUser, parseUser } from "./keys.ts";
import type { AuthorizationModel, RelationDefinition, Rewrite, TypeDefinition } from "./model.ts";
import type { RelationTuples, StoredTuple, TupleStore } from "./store.ts";

/** OpenFGA's default resolution depth limit. */
export const MAX_RESOLUTION_DEPTH = 25;

/**
 * A sub-result. CYCLE means "this path led back onto itself": false at the top,
 * but, as in OpenFGA, it makes an exclusion or intersection false instead of
 * being read as a plain false that an exclusion would turn into true.
 */
const Result = { False: 0, True: 1, Cycle: 2 } as const;
type Result = (typeof Result)[keyof typeof Result];

/**
 * One check's evaluation for a fixed user: walks the model's rewrites over the
 * tuple indexes. Errors (a condition missing a parameter, the depth limit)
 * lose to a decisive answer from another branch, as in OpenFGA.
 */
export class CheckEvaluation {
  readonly #model: AuthorizationModel;
  /** The stored tuples, plus a second store holding the request's contextual tuples when it has any. */
  readonly #stores: readonly TupleStore[];
  readonly #context: Record<string, unknown>;
  readonly #user: string;
  /** `type:*` for a plain `type:id` user (wildcard tuples match it); undefined for usersets and wildcards. */
  readonly #wildcardKey: string | undefined;
  /**
   * The (object, relation) pairs on the current resolution path. The path is
   * short (at most MAX_RESOLUTION_DEPTH), so a linear scan beats hashing a key per step.
   */
  readonly #pathObjects: string[] = [];
  readonly #pathRelations: RelationDefinition[] = [];
  /**
   * The last object looked up in each store and its relations: one check asks
   * about the same object several times in a row (direct, computed, parents),
   * and the big per-object index is the costly lookup.
   */
  readonly #lastObjects: Array<string | undefined>;
  readonly #lastRelations: Array<ReadonlyMap<string, RelationTuples> | undefined>;

  constructor(
    model: AuthorizationModel,
    stores: readonly TupleStore[],
    user: string,
    context: Record<string, unknown> = {},
    parsed: ParsedUser | undefined = parseUser(user),
  ) {
    if (!parsed) throw new TypeError(`malformed user '${user}'`);
    this.#model = model;
    this.#stores = stores;
    this.#lastObjects = stores.map(() => undefined);
    this.#lastRelations = stores.map(() => undefined);
    this.#context = context;
    this.#user = user;
    this.#wildcardKey = parsed.relation === undefined && !parsed.wildcard ? `${parsed.type}:*` : undefined;
  }

  /** Does the user have `relation` on `object`? */
  check(object: string, relation: string): boolean {
    return this.#resolve(object, objectType(object), relation, 0) === Result.True;
  }

  /** `typeName` is `object`'s type, which every caller already has (no re-parsing on the hot path). */
  #resolve(object: string, typeName: string, relation: string, depth: number): Result {
    const type = this.#model.types.get(typeName);
    const definition = type?.relations.get(relation);
    if (!type || !definition) {
      this.#assertDepth(depth);
      return Result.False;
    }
    return this.#enter(object, type, definition, depth);
  }

  #assertDepth(depth: number): void {
    if (depth >= MAX_RESOLUTION_DEPTH) {
      throw new AuthzError("AUTHZ_RESOLUTION_TOO_COMPLEX", "resolution depth limit exceeded", {
        openfgaCode: OpenFgaErrorCode.resolutionTooComplex,
      });
    }
  }

  /** Evaluates `definition` on `object`, one level deeper, unless that pair is already on the path (a cycle). */
  #enter(object: string, type: TypeDefinition, definition: RelationDefinition, depth: number): Result {
    this.#assertDepth(depth);
    const objects = this.#pathObjects;
    for (let i = 0; i < objects.length; i++) {
      if (objects[i] === object && this.#pathRelations[i] === definition) return Result.Cycle;
    }
    objects.push(object);
    this.#pathRelations.push(definition);
    try {
      return this.#evaluate(object, type, definition, definition.rewrite, depth);
    } finally {
      objects.pop();
      this.#pathRelations.pop();
    }
  }

  #evaluate(
    object: string,
    type: TypeDefinition,
    definition: RelationDefinition,
    rewrite: Rewrite,
    depth: number,
  ): Result {
    switch (rewrite.kind) {
      case "direct":
        return this.#direct(object, definition, depth);
      case "computed": {
        const target = type.relations.get(rewrite.relation);
        if (!target) {
          this.#assertDepth(depth + 1);
          return Result.False;
        }
        return this.#enter(object, type, target, depth + 1);
      }
      case "tupleToUserset":
        return this.#tupleToUserset(object, type, rewrite.tupleset, rewrite.computedRelation, depth);
      case "union":
        return this.#union(object, type, definition, rewrite.children, depth);
      case "intersection":
        return this.#intersection(object, type, definition, rewrite.children, depth);
      case "exclusion":
        return this.#exclusion(object, type, definition, rewrite.base, rewrite.subtract, depth);
    }
  }

  #union(
    object: string,
    type: TypeDefinition,
    definition: RelationDefinition,
    children: Rewrite[],
    depth: number,
  ): Result {
    let failure: unknown;
    let cycle = false;
    for (const child of children) {
      try {
        const result = this.#evaluate(object, type, definition, child, depth);
        if (result === Result.True) return Result.True;
        if (result === Result.Cycle) cycle = true;
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return cycle ? Result.Cycle : Result.False;
  }

  #intersection(
    object: string,
    type: TypeDefinition,
    definition: RelationDefinition,
    children: Rewrite[],
    depth: number,
  ): Result {
    let failure: unknown;
    for (const child of children) {
      try {
        const result = this.#evaluate(object, type, definition, child, depth);
        if (result !== Result.True) return result;
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return Result.True;
  }

  #exclusion(
    object: string,
    type: TypeDefinition,
    definition: RelationDefinition,
    base: Rewrite,
    subtract: Rewrite,
    depth: number,
  ): Result {
    let failure: unknown;
    try {
      const result = this.#evaluate(object, type, definition, base, depth);
      if (result !== Result.True) return result;
    } catch (error) {
      failure = error;
    }
    try {
      const result = this.#evaluate(object, type, definition, subtract, depth);
      if (result === Result.True) return Result.False;
      if (result === Result.Cycle) return Result.Cycle;
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw failure;
    return Result.True;
  }

  #conditionHolds(tuple: StoredTuple): boolean {
    if (!tuple.condition) return true;
    const condition = this.#model.conditions.get(tuple.condition.name);
    if (!condition) return false;
    return condition.evaluate({ ...this.#context, ...tuple.condition.context });
  }

  #tuplesOf(storeIndex: number, object: string, relation: string): RelationTuples | undefined {
    let relations: ReadonlyMap<string, RelationTuples> | undefined;
    if (this.#lastObjects[storeIndex] === object) {
      relations = this.#lastRelations[storeIndex];
    } else {
      relations = this.#stores[storeIndex]!.relationsOf(object);
      this.#lastObjects[storeIndex] = object;
      this.#lastRelations[storeIndex] = relations;
    }
    return relations?.get(relation);
  }

  /** An exact (or wildcard) tuple for the user: true if it fits the model and its condition holds. */
  #matchesTuple(tuple: StoredTuple | undefined, allowed: ReadonlySet<string>): boolean {
    return tuple !== undefined && allowed.has(tuple.restriction) && this.#conditionHolds(tuple);
  }

  #direct(object: string, definition: RelationDefinition, depth: number): Result {
    const allowed = definition.allowedRestrictions;
    const stores = this.#stores;
    let failure: unknown;
    let withUsersets = 0;
    for (let i = 0; i < stores.length; i++) {
      const entry = this.#tuplesOf(i, object, definition.name);
      if (!entry) continue;
      if (entry.usersets.size > 0) withUsersets++;
      // A stored tuple the current model no longer allows is ignored, as OpenFGA does.
      try {
        if (this.#matchesTuple(entry.byUser.get(this.#user), allowed)) return Result.True;
      } catch (error) {
        failure ??= error;
      }
      if (this.#wildcardKey === undefined) continue;
      try {
        if (this.#matchesTuple(entry.byUser.get(this.#wildcardKey), allowed)) return Result.True;
      } catch (error) {
        failure ??= error;
      }
    }
    let cycle = false;
    for (let i = 0; withUsersets > 0 && i < stores.length; i++) {
      const entry = this.#tuplesOf(i, object, definition.name);
      if (!entry) continue;
      for (const tuple of entry.usersets.values()) {
        if (tuple.user === this.#user || !allowed.has(tuple.restriction)) continue;
        try {
          if (!this.#conditionHolds(tuple)) continue;
          const result = this.#resolve(tuple.userObject, tuple.userType, tuple.userRelation!, depth + 1);
          if (result === Result.True) return Result.True;
          if (result === Result.Cycle) cycle = true;
        } catch (error) {
          failure ??= error;
        }
      }
    }
    if (failure !== undefined) throw failure;
    return cycle ? Result.Cycle : Result.False;
  }

  #tupleToUserset(
    object: string,
    type: TypeDefinition,
    tupleset: string,
    computedRelation: string,
    depth: number,
  ): Result {
    const tuplesetDefinition = type.relations.get(tupleset);
    if (!tuplesetDefinition) return Result.False;
    let failure: unknown;
    let cycle = false;
    for (let i = 0; i < this.#stores.length; i++) {
      const entry = this.#tuplesOf(i, object, tupleset);
      if (!entry) continue;
      for (const tuple of entry.byUser.values()) {
        if (!tuplesetDefinition.allowedRestrictions.has(tuple.restriction)) continue;
        if (tuple.userRelation !== undefined || tuple.wildcard) continue;
        const targetType = this.#model.types.get(tuple.userType);
        const target = targetType?.relations.get(computedRelation);
        if (!targetType || !target) continue;
        try {
          if (!this.#conditionHolds(tuple)) continue;
          const result = this.#enter(tuple.user, targetType, target, depth + 1);
          if (result === Result.True) return Result.True;
          if (result === Result.Cycle) cycle = true;
        } catch (error) {
          failure ??= error;
        }
      }
    }
    if (failure !== undefined) throw failure;
    return cycle ? Result.Cycle : Result.False;
  }
}
