import type { Principal, RelationTuple, RoleMapping } from "@mcp-langgraph/auth-provider";
import { planTupleSync } from "@mcp-langgraph/auth-provider";
import type { Authorizer } from "@mcp-langgraph/authz";

/**
 * Keeps the relations that role-mapping rules derive from a principal's claims
 * (roles, groups, scopes) in the authorizer. Only grants to the principal itself
 * are managed: a rule with a fixed object manages exactly that (relation, object);
 * a templated one (`organization:{org}`) manages its relation on the whole type.
 * Tuples outside those, such as shared conversations, are never touched. Runs when
 * a user is first seen by this process and whenever their claims map differently.
 */
export function createRoleSync(mapping: RoleMapping, authorizer: Authorizer) {
  const typeOf = (object: string) => object.split(":")[0];
  const ownGrants = mapping.rules.map((rule) => rule.grant).filter((grant) => grant.user === undefined);
  const managed = new Set(
    ownGrants.map((grant) =>
      /[{*]/.test(grant.object)
        ? `${grant.relation} ${typeOf(grant.object)}:*`
        : `${grant.relation} ${grant.object}`,
    ),
  );
  const objectTypes = [...new Set(ownGrants.map((grant) => typeOf(grant.object)))];
  const isManaged = (tuple: RelationTuple) =>
    managed.has(`${tuple.relation} ${tuple.object}`) ||
    managed.has(`${tuple.relation} ${typeOf(tuple.object)}:*`);
  const lastSynced = new Map<string, string>();

  return async function syncRoles(principal: Principal, signal: AbortSignal): Promise<void> {
    const desired = mapping
      .tuplesFor(principal)
      .filter((tuple) => tuple.user === principal.userId && isManaged(tuple));
    const fingerprint = desired
      .map((t) => `${t.relation} ${t.object}`)
      .sort()
      .join("\n");
    if (lastSynced.get(principal.userId) === fingerprint) return;
    // OpenFGA reads by user need the object type, so one read per type the rules grant on.
    const stored = await Promise.all(
      objectTypes.map((type) =>
        authorizer.readTuples({ user: principal.userId, object: `${type}:` }, { signal }),
      ),
    );
    const previous = stored
      .flat()
      .filter(isManaged)
      .map(({ user, relation, object }) => ({ user, relation, object }));
    const { writes, deletes } = planTupleSync(previous, desired);
    await Promise.all([
      writes.length > 0 ? authorizer.writeTuples(writes, { signal }) : undefined,
      deletes.length > 0 ? authorizer.deleteTuples(deletes, { signal }) : undefined,
    ]);
    lastSynced.set(principal.userId, fingerprint);
  };
}

export type RoleSync = ReturnType<typeof createRoleSync>;
