import { transformer, validator } from "@openfga/syntax-transformer";
import { AuthzError } from "../errors.ts";
import { type CompiledCondition, type ConditionDefinition, compileCondition } from "./conditions.ts";
import { restrictionKey } from "./store.ts";

export type Rewrite =
  | { kind: "direct" }
  | { kind: "computed"; relation: string }
  | { kind: "tupleToUserset"; tupleset: string; computedRelation: string }
  | { kind: "union" | "intersection"; children: Rewrite[] }
  | { kind: "exclusion"; base: Rewrite; subtract: Rewrite };

/** One entry of a relation's type restriction: `user`, `user:*`, `group#member`, `user with cond`. */
export interface DirectlyRelatedType {
  type: string;
  relation?: string;
  wildcard: boolean;
  condition?: string;
}

export interface RelationDefinition {
  name: string;
  rewrite: Rewrite;
  directlyRelated: DirectlyRelatedType[];
  /** `restrictionKey`s of `directlyRelated`, for O(1) "does this tuple fit" tests. */
  allowedRestrictions: ReadonlySet<string>;
}

export interface TypeDefinition {
  name: string;
  relations: Map<string, RelationDefinition>;
}

export interface AuthorizationModel {
  /** The model in OpenFGA's JSON form (what its API stores and returns). */
  json: AuthorizationModelJson;
  types: Map<string, TypeDefinition>;
  conditions: Map<string, CompiledCondition>;
}

interface JsonUserset {
  this?: object;
  computedUserset?: { relation?: string };
  tupleToUserset?: { tupleset: { relation?: string }; computedUserset: { relation?: string } };
  union?: { child: JsonUserset[] };
  intersection?: { child: JsonUserset[] };
  difference?: { base: JsonUserset; subtract: JsonUserset };
}

interface JsonRelationReference {
  type: string;
  relation?: string;
  wildcard?: object;
  condition?: string;
}

/** OpenFGA's JSON form of a model, as `WriteAuthorizationModel` takes it. */
export interface AuthorizationModelJson {
  schema_version?: string;
  type_definitions: Array<{
    type: string;
    relations?: Record<string, JsonUserset>;
    metadata?: {
      relations?: Record<string, { directly_related_user_types?: JsonRelationReference[] }>;
    } | null;
  }>;
  conditions?: Record<string, ConditionDefinition>;
}

function toRewrite(json: JsonUserset): Rewrite {
  if (json.this) return { kind: "direct" };
  if (json.computedUserset) return { kind: "computed", relation: json.computedUserset.relation ?? "" };
  if (json.tupleToUserset) {
    return {
      kind: "tupleToUserset",
      tupleset: json.tupleToUserset.tupleset.relation ?? "",
      computedRelation: json.tupleToUserset.computedUserset.relation ?? "",
    };
  }
  if (json.union) return { kind: "union", children: json.union.child.map(toRewrite) };
  if (json.intersection) return { kind: "intersection", children: json.intersection.child.map(toRewrite) };
  if (json.difference) {
    return {
      kind: "exclusion",
      base: toRewrite(json.difference.base),
      subtract: toRewrite(json.difference.subtract),
    };
  }
  throw new AuthzError("AUTHZ_INVALID_MODEL", "relation definition has no known rewrite");
}

/**
 * Runs OpenFGA's own validator. Its 0.2.2 release crashes (a TypeError, not a
 * validation error) on a tuple-to-userset whose tupleset restriction carries a
 * condition (`parent: [folder with cond]`): there it validates the model with
 * the conditions lifted off the restrictions, which leaves the rules it checks
 * intact, and checks the lifted condition names itself.
 */
function validate(dsl: string | undefined, json: AuthorizationModelJson): void {
  try {
    if (dsl !== undefined) validator.validateDSL(dsl);
    else validator.validateJSON(json as unknown as Parameters<typeof validator.validateJSON>[0]);
    return;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const referenced = new Set<string>();
  const withoutConditions = structuredClone(json);
  for (const type of withoutConditions.type_definitions) {
    for (const metadata of Object.values(type.metadata?.relations ?? {})) {
      const seen = new Set<string>();
      metadata.directly_related_user_types = (metadata.directly_related_user_types ?? []).filter(
        (reference) => {
          if (reference.condition) referenced.add(reference.condition);
          delete reference.condition;
          const key = restrictionKey(reference.type, reference.relation, reference.wildcard !== undefined);
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        },
      );
    }
  }
  for (const name of referenced) {
    if (!json.conditions?.[name]) throw new Error(`condition '${name}' is not defined`);
  }
  delete withoutConditions.conditions;
  validator.validateJSON(withoutConditions as unknown as Parameters<typeof validator.validateJSON>[0]);
}

/**
 * Parses and validates an OpenFGA DSL model (schema 1.1) with OpenFGA's own
 * syntax transformer, so a model is accepted here exactly when the OpenFGA CLI accepts it.
 */
export function compileModel(dsl: string): AuthorizationModel {
  return compile(() => {
    if (typeof dsl !== "string") throw new TypeError("the model must be OpenFGA DSL text");
    const json = transformer.transformDSLToJSONObject(dsl) as unknown as AuthorizationModelJson;
    validate(dsl, json);
    return json;
  });
}

/** Validates and compiles a model in OpenFGA's JSON form (as the HTTP API carries it). */
export function compileModelJson(json: AuthorizationModelJson): AuthorizationModel {
  return compile(() => {
    if (typeof json !== "object" || json === null || !Array.isArray(json.type_definitions)) {
      throw new TypeError("the model needs type_definitions");
    }
    validate(undefined, json);
    return json;
  });
}

function compile(parse: () => AuthorizationModelJson): AuthorizationModel {
  let json: AuthorizationModelJson;
  try {
    json = parse();
  } catch (error) {
    throw new AuthzError("AUTHZ_INVALID_MODEL", `invalid authorization model: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const conditions = new Map<string, CompiledCondition>();
  for (const [name, definition] of Object.entries(json.conditions ?? {})) {
    conditions.set(name, compileCondition({ ...definition, name }));
  }
  const types = new Map<string, TypeDefinition>();
  for (const typeJson of json.type_definitions) {
    const relations = new Map<string, RelationDefinition>();
    for (const [name, userset] of Object.entries(typeJson.relations ?? {})) {
      const references = typeJson.metadata?.relations?.[name]?.directly_related_user_types ?? [];
      const directlyRelated = references.map((reference) => ({
        type: reference.type,
        ...(reference.relation ? { relation: reference.relation } : {}),
        wildcard: reference.wildcard !== undefined,
        ...(reference.condition ? { condition: reference.condition } : {}),
      }));
      relations.set(name, {
        name,
        rewrite: toRewrite(userset),
        directlyRelated,
        allowedRestrictions: new Set(
          directlyRelated.map((entry) =>
            restrictionKey(entry.type, entry.relation, entry.wildcard, entry.condition),
          ),
        ),
      });
    }
    types.set(typeJson.type, { name: typeJson.type, relations });
  }
  return { json, types, conditions };
}
