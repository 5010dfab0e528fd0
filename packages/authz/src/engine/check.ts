import { AuthzError, OpenFgaErrorCode } from "../errors.ts";
import { objectType, type ParsedUser, parseUser } from "./keys.ts";
import type { AuthorizationModel, RelationDefinition, Rewrite, TypeDefinition } from "./model.ts";
import type { StoredTuple, TupleReader } from "./store.ts";

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
  readonly #reader: TupleReader;
  readonly #context: Record<string, unknown>;
  readonly #user: string;
  readonly #parsedUser: ParsedUser;
  readonly #visiting = new Set<string>();

  constructor(
    model: AuthorizationModel,
    reader: TupleReader,
    user: string,
    context: Record<string, unknown> = {},
  ) {
    const parsed = parseUser(user);
    if (!parsed) throw new TypeError(`malformed user '${user}'`);
    this.#model = model;
    this.#reader = reader;
    this.#context = context;
    this.#user = user;
    this.#parsedUser = parsed;
  }

  /** Does the user have `relation` on `object`? */
  check(object: string, relation: string): boolean {
    return this.#resolve(object, relation, 0) === Result.True;
  }

  #resolve(object: string, relation: string, depth: number): Result {
    if (depth >= MAX_RESOLUTION_DEPTH) {
      throw new AuthzError("AUTHZ_RESOLUTION_TOO_COMPLEX", "resolution depth limit exceeded", {
        openfgaCode: OpenFgaErrorCode.resolutionTooComplex,
      });
    }
    const type = this.#model.types.get(objectType(object));
    const definition = type?.relations.get(relation);
    if (!type || !definition) return Result.False;
    const key = `${object}#${relation}`;
    if (this.#visiting.has(key)) return Result.Cycle;
    this.#visiting.add(key);
    try {
      return this.#evaluate(object, type, definition, definition.rewrite, depth);
    } finally {
      this.#visiting.delete(key);
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
      case "computed":
        return this.#resolve(object, rewrite.relation, depth + 1);
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

  #direct(object: string, definition: RelationDefinition, depth: number): Result {
    const user = this.#parsedUser;
    let failure: unknown;
    let usersets: StoredTuple[] | undefined;
    for (const tuple of this.#reader.withObjectRelation(object, definition.name)) {
      // A stored tuple the current model no longer allows is ignored, as OpenFGA does.
      if (!definition.allowedRestrictions.has(tuple.restriction)) continue;
      const matches =
        tuple.user === this.#user ||
        (tuple.wildcard && user.relation === undefined && user.type === tuple.userType);
      if (matches) {
        try {
          if (this.#conditionHolds(tuple)) return Result.True;
        } catch (error) {
          failure ??= error;
        }
      } else if (tuple.userRelation !== undefined) {
        usersets ??= [];
        usersets.push(tuple);
      }
    }
    let cycle = false;
    for (const tuple of usersets ?? []) {
      try {
        if (!this.#conditionHolds(tuple)) continue;
        const result = this.#resolve(tuple.userObject, tuple.userRelation!, depth + 1);
        if (result === Result.True) return Result.True;
        if (result === Result.Cycle) cycle = true;
      } catch (error) {
        failure ??= error;
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
    for (const tuple of this.#reader.withObjectRelation(object, tupleset)) {
      if (!tuplesetDefinition.allowedRestrictions.has(tuple.restriction)) continue;
      if (tuple.userRelation !== undefined || tuple.wildcard) continue;
      if (!this.#model.types.get(tuple.userType)?.relations.has(computedRelation)) continue;
      try {
        if (!this.#conditionHolds(tuple)) continue;
        const result = this.#resolve(tuple.user, computedRelation, depth + 1);
        if (result === Result.True) return Result.True;
        if (result === Result.Cycle) cycle = true;
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return cycle ? Result.Cycle : Result.False;
  }
}
