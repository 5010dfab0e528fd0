import { type AuthzError, OpenFgaErrorCode, validationError } from "../errors.ts";
import type { Tuple } from "../types.ts";
import { type ParsedUser, parseObject, parseUser } from "./keys.ts";
import type { AuthorizationModel, RelationDefinition, TypeDefinition } from "./model.ts";
import { restrictionKey } from "./store.ts";

const invalidTuple = (tuple: Tuple, reason: string) =>
  validationError(
    OpenFgaErrorCode.invalidTuple,
    `invalid tuple '${tuple.object}#${tuple.relation}@${tuple.user}': ${reason}`,
  );

/**
 * Where a tuple comes from decides OpenFGA's error code: a written tuple with
 * an unknown object type or relation is 2021 / 2022 and a bad condition 2000,
 * while a contextual tuple reports every problem as 2027 (invalid tuple).
 */
export type TupleSource = "write" | "contextual";

/** Why a tuple does not fit `model`, or undefined when it does. */
export function tupleProblem(
  model: AuthorizationModel,
  tuple: Tuple,
  source: TupleSource,
): AuthzError | undefined {
  const asWritten = (code: number, reason: string) =>
    source === "write"
      ? validationError(code, `invalid tuple '${tuple.object}#${tuple.relation}@${tuple.user}': ${reason}`)
      : invalidTuple(tuple, reason);
  if (
    typeof tuple?.object !== "string" ||
    typeof tuple.relation !== "string" ||
    typeof tuple.user !== "string"
  ) {
    return validationError(OpenFgaErrorCode.invalidTuple, "a tuple needs string user, relation and object");
  }
  const object = parseObject(tuple.object);
  if (!object) return invalidTuple(tuple, "object must be 'type:id'");
  const type = model.types.get(object.type);
  if (!type) return asWritten(OpenFgaErrorCode.typeNotFound, `type '${object.type}' not found`);
  const relation = type.relations.get(tuple.relation);
  if (!relation) {
    return asWritten(
      OpenFgaErrorCode.relationNotFound,
      `relation '${object.type}#${tuple.relation}' not found`,
    );
  }
  const user = parseUser(tuple.user);
  if (!user) return invalidTuple(tuple, "user must be 'type:id', 'type:*' or 'type:id#relation'");
  const userType = model.types.get(user.type);
  if (!userType) return invalidTuple(tuple, `type '${user.type}' not found`);
  if (user.relation !== undefined && !userType.relations.has(user.relation)) {
    return invalidTuple(tuple, `relation '${user.type}#${user.relation}' not found`);
  }
  const condition = tuple.condition;
  if (condition !== undefined) {
    if (typeof condition?.name !== "string" || condition.name === "") {
      return asWritten(OpenFgaErrorCode.validation, "condition needs a name");
    }
    if (!model.conditions.has(condition.name)) {
      return asWritten(
        OpenFgaErrorCode.validation,
        `condition '${condition.name}' is not defined in the model`,
      );
    }
    if (
      condition.context !== undefined &&
      (typeof condition.context !== "object" || condition.context === null)
    ) {
      return asWritten(OpenFgaErrorCode.validation, "condition context must be an object");
    }
  }
  const key = restrictionKey(user.type, user.relation, user.wildcard, condition?.name);
  if (!relation.allowedRestrictions.has(key)) {
    return invalidTuple(
      tuple,
      `'${key}' is not an allowed type restriction for '${object.type}#${tuple.relation}'`,
    );
  }
  return undefined;
}

export function assertValidTuples(
  model: AuthorizationModel,
  tuples: readonly Tuple[],
  source: TupleSource,
): void {
  for (const tuple of tuples) {
    const problem = tupleProblem(model, tuple, source);
    if (problem) throw problem;
  }
}

export interface ResolvedTarget {
  type: TypeDefinition;
  relation: RelationDefinition;
}

/**
 * Validates a request's object type and relation. OpenFGA reports these as
 * 2021 / 2022 for list-objects but as plain 2000 for check; callers pass theirs.
 */
export function resolveTarget(
  model: AuthorizationModel,
  typeName: unknown,
  relationName: unknown,
  codes: { typeNotFound: number; relationNotFound: number },
): ResolvedTarget {
  const type = typeof typeName === "string" ? model.types.get(typeName) : undefined;
  if (!type) throw validationError(codes.typeNotFound, `type '${String(typeName)}' not found`);
  const relation = typeof relationName === "string" ? type.relations.get(relationName) : undefined;
  if (!relation) {
    throw validationError(
      codes.relationNotFound,
      `relation '${type.name}#${String(relationName)}' not found`,
    );
  }
  return { type, relation };
}

/** Validates a request's user: well-formed, of a known type and relation (OpenFGA 2000). */
export function assertValidRequestUser(model: AuthorizationModel, value: unknown): ParsedUser {
  const user = typeof value === "string" ? parseUser(value) : undefined;
  if (!user) throw validationError(OpenFgaErrorCode.validation, `invalid user '${String(value)}'`);
  const type = model.types.get(user.type);
  if (!type) throw validationError(OpenFgaErrorCode.validation, `type '${user.type}' not found`);
  if (user.relation !== undefined && !type.relations.has(user.relation)) {
    throw validationError(OpenFgaErrorCode.validation, `relation '${user.type}#${user.relation}' not found`);
  }
  return user;
}

export function assertValidContext(context: unknown): void {
  if (context !== undefined && (typeof context !== "object" || context === null || Array.isArray(context))) {
    throw validationError(OpenFgaErrorCode.validation, "context must be an object");
  }
}
