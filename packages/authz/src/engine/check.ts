import { AuthzError, OpenFgaErrorCode } from "../errors.ts";
import { objectType, type ParsedUser, parseUser } from "./keys.ts";
import type { AuthorizationModel, RelationDefinition, Rewrite, TypeDefinition } from "./model.ts";
import type { StoredTuple, TupleReader } from "./store.ts";

/** OpenFGA's default resolution depth limit. */
export const MAX_RESOLUTION_DEPTH = 25;

type Branch = () => boolean;

/** OpenFGA union semantics: any true wins; otherwise an error beats false. */
function anyOf(branches: Iterable<Branch>): boolean {
  let failure: unknown;
  for (const branch of branches) {
    try {
      if (branch()) return true;
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return false;
}

/** OpenFGA intersection semantics: any false wins; otherwise an error beats true. */
function allOf(branches: Iterable<Branch>): boolean {
  let failure: unknown;
  for (const branch of branches) {
    try {
      if (!branch()) return false;
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return true;
}

/**
 * One check's evaluation for a fixed user: walks the model's rewrites over the
 * tuple indexes. A relation met again on the current path is a cycle and
 * counts as false; going deeper than MAX_RESOLUTION_DEPTH is OpenFGA error 2002.
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
  resolve(object: string, relation: string, depth = 0): boolean {
    if (depth >= MAX_RESOLUTION_DEPTH) {
      throw new AuthzError("AUTHZ_RESOLUTION_TOO_COMPLEX", "resolution depth limit exceeded", {
        openfgaCode: OpenFgaErrorCode.resolutionTooComplex,
      });
    }
    const type = this.#model.types.get(objectType(object));
    const definition = type?.relations.get(relation);
    if (!type || !definition) return false;
    const key = `${object}#${relation}`;
    if (this.#visiting.has(key)) return false;
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
  ): boolean {
    switch (rewrite.kind) {
      case "direct":
        return this.#direct(object, definition, depth);
      case "computed":
        return this.resolve(object, rewrite.relation, depth + 1);
      case "tupleToUserset":
        return this.#tupleToUserset(object, type, rewrite.tupleset, rewrite.computedRelation, depth);
      case "union":
        return anyOf(
          rewrite.children.map((child) => () => this.#evaluate(object, type, definition, child, depth)),
        );
      case "intersection":
        return allOf(
          rewrite.children.map((child) => () => this.#evaluate(object, type, definition, child, depth)),
        );
      case "exclusion":
        return allOf([
          () => this.#evaluate(object, type, definition, rewrite.base, depth),
          () => !this.#evaluate(object, type, definition, rewrite.subtract, depth),
        ]);
    }
  }

  #conditionHolds(tuple: StoredTuple): boolean {
    if (!tuple.condition) return true;
    const condition = this.#model.conditions.get(tuple.condition.name);
    if (!condition) return false;
    return condition.evaluate({ ...this.#context, ...tuple.condition.context });
  }

  #direct(object: string, definition: RelationDefinition, depth: number): boolean {
    const user = this.#parsedUser;
    const usersets: StoredTuple[] = [];
    const matches: Branch[] = [];
    for (const tuple of this.#reader.withObjectRelation(object, definition.name)) {
      // A stored tuple the current model no longer allows is ignored, as OpenFGA does.
      if (!definition.allowedRestrictions.has(tuple.restriction)) continue;
      const exact = tuple.user === this.#user;
      const wildcardMatch = tuple.wildcard && user.relation === undefined && user.type === tuple.userType;
      if (exact || wildcardMatch) matches.push(() => this.#conditionHolds(tuple));
      else if (tuple.userRelation !== undefined) usersets.push(tuple);
    }
    return anyOf([
      ...matches,
      ...usersets.map(
        (tuple) => () =>
          this.#conditionHolds(tuple) && this.resolve(tuple.userObject, tuple.userRelation!, depth + 1),
      ),
    ]);
  }

  #tupleToUserset(
    object: string,
    type: TypeDefinition,
    tupleset: string,
    computedRelation: string,
    depth: number,
  ): boolean {
    const tuplesetDefinition = type.relations.get(tupleset);
    if (!tuplesetDefinition) return false;
    const branches: Branch[] = [];
    for (const tuple of this.#reader.withObjectRelation(object, tupleset)) {
      if (!tuplesetDefinition.allowedRestrictions.has(tuple.restriction)) continue;
      if (tuple.userRelation !== undefined || tuple.wildcard) continue;
      if (!this.#model.types.get(tuple.userType)?.relations.has(computedRelation)) continue;
      branches.push(
        () => this.#conditionHolds(tuple) && this.resolve(tuple.user, computedRelation, depth + 1),
      );
    }
    return anyOf(branches);
  }
}
