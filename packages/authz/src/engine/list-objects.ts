import { objectType } from "./keys.ts";
import type { AuthorizationModel, Rewrite } from "./model.ts";
import type { TupleStore } from "./store.ts";

interface TupleToUsersetParent {
  type: string;
  relation: string;
  tupleset: string;
}

/** The model's rewrite edges, reversed: which relations a relation can contribute to. */
interface ReverseEdges {
  /** `type#relation` → relations of the same type that include it (computed usersets). */
  computed: Map<string, string[]>;
  /** `type#relation` → relations of other types that reach it through `relation from tupleset`. */
  tupleToUserset: Map<string, TupleToUsersetParent[]>;
}

const edgesByModel = new WeakMap<AuthorizationModel, ReverseEdges>();

function push<V>(map: Map<string, V[]>, key: string, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function reverseEdges(model: AuthorizationModel): ReverseEdges {
  const cached = edgesByModel.get(model);
  if (cached) return cached;
  const edges: ReverseEdges = { computed: new Map(), tupleToUserset: new Map() };
  for (const type of model.types.values()) {
    for (const definition of type.relations.values()) {
      const visit = (rewrite: Rewrite): void => {
        switch (rewrite.kind) {
          case "computed":
            push(edges.computed, `${type.name}#${rewrite.relation}`, definition.name);
            return;
          case "tupleToUserset":
            for (const parent of type.relations.get(rewrite.tupleset)?.directlyRelated ?? []) {
              if (parent.relation !== undefined || parent.wildcard) continue;
              push(edges.tupleToUserset, `${parent.type}#${rewrite.computedRelation}`, {
                type: type.name,
                relation: definition.name,
                tupleset: rewrite.tupleset,
              });
            }
            return;
          case "union":
          case "intersection":
            rewrite.children.forEach(visit);
            return;
          case "exclusion":
            // Only the base can make the relation true; the subtracted side never adds objects.
            visit(rewrite.base);
            return;
          case "direct":
            return;
        }
      };
      visit(definition.rewrite);
    }
  }
  edgesByModel.set(model, edges);
  return edges;
}

/**
 * Objects of `type` that might have `relation` for `user`: a superset of the
 * answer, found by walking tuples and rewrites backwards from the user (tuples
 * naming the user or its wildcard, then usersets and parents reached from
 * there). Conditions, intersections and exclusions are not evaluated here;
 * each candidate is then confirmed by a full check, so the result is exact
 * while the work is proportional to what the user can reach, not to the
 * number of objects of the type.
 */
export function candidateObjects(
  model: AuthorizationModel,
  stores: readonly TupleStore[],
  user: string,
  wildcard: string | undefined,
  type: string,
  relation: string,
): Set<string> {
  const edges = reverseEdges(model);
  const candidates = new Set<string>();
  const reached = new Set<string>();
  const pending: Array<[object: string, relation: string]> = [];
  const reach = (object: string, reachedRelation: string) => {
    const key = `${object}#${reachedRelation}`;
    if (reached.has(key)) return;
    reached.add(key);
    pending.push([object, reachedRelation]);
  };
  const followTuplesOf = (subject: string) => {
    for (const store of stores)
      for (const tuple of store.tuplesWithUser(subject)) reach(tuple.object, tuple.relation);
  };

  followTuplesOf(user);
  if (wildcard !== undefined) followTuplesOf(wildcard);
  while (pending.length > 0) {
    const [object, reachedRelation] = pending.pop()!;
    const objectTypeName = objectType(object);
    if (objectTypeName === type && reachedRelation === relation) candidates.add(object);
    followTuplesOf(`${object}#${reachedRelation}`);
    const key = `${objectTypeName}#${reachedRelation}`;
    for (const parent of edges.computed.get(key) ?? []) reach(object, parent);
    for (const parent of edges.tupleToUserset.get(key) ?? []) {
      for (const store of stores) {
        for (const tuple of store.tuplesWithUser(object)) {
          if (tuple.relation === parent.tupleset && objectType(tuple.object) === parent.type) {
            reach(tuple.object, parent.relation);
          }
        }
      }
    }
  }
  return candidates;
}
