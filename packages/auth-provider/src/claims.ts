import { tokenInvalid } from "./errors.js";
import { isSubjectName } from "./names.js";
import type { Principal } from "./types.js";

export interface ClaimMappingOptions {
  /**
   * Clients whose `resource_access.<client>.roles` count as roles here
   * (Keycloak client roles). Roles granted for other clients are ignored.
   */
  roleClients?: readonly string[];
}

/**
 * Turns verified claims into a Principal, reading both the local issuer's
 * shape (`roles`, `scope`) and Keycloak's (`preferred_username`,
 * `realm_access`, `resource_access`, `groups`, `azp`).
 */
export function principalFromClaims(
  claims: Record<string, unknown> & { exp: number },
  { roleClients = [] }: ClaimMappingOptions = {},
): Principal {
  const clientId = stringClaim(claims.azp) ?? stringClaim(claims.client_id);
  const preferredUsername = stringClaim(claims.preferred_username);
  const subject = stringClaim(claims.sub);
  const isService =
    clientId !== undefined &&
    (preferredUsername === `service-account-${clientId}` ||
      (preferredUsername === undefined && (subject === undefined || subject === clientId)));
  const username = isService ? clientId : (preferredUsername ?? subject);
  if (!isSubjectName(username)) {
    throw tokenInvalid("claims", "token names no usable subject (preferred_username or sub)");
  }
  const principal: Principal = {
    userId: isService ? `service_principal:${username}` : `user:${username}`,
    username,
    roles: collectRoles(claims, roleClients),
    scopes: collectScopes(claims),
    groups: stringArray(claims.groups),
    kind: isService ? "service_principal" : "user",
    expiresAt: new Date(claims.exp * 1000),
    claims: Object.freeze({ ...claims }),
  };
  if (clientId !== undefined) principal.clientId = clientId;
  const sessionId = stringClaim(claims.sid);
  if (sessionId !== undefined) principal.sessionId = sessionId;
  Object.freeze(principal.roles);
  Object.freeze(principal.scopes);
  Object.freeze(principal.groups);
  return Object.freeze(principal);
}

function collectRoles(claims: Record<string, unknown>, roleClients: readonly string[]): string[] {
  const roles = new Set(stringArray(claims.roles));
  for (const role of stringArray(objectClaim(claims.realm_access)?.roles)) roles.add(role);
  const resourceAccess = objectClaim(claims.resource_access);
  if (resourceAccess) {
    for (const client of roleClients) {
      if (!Object.hasOwn(resourceAccess, client)) continue;
      for (const role of stringArray(objectClaim(resourceAccess[client])?.roles)) roles.add(role);
    }
  }
  return [...roles];
}

function collectScopes(claims: Record<string, unknown>): string[] {
  const scope = stringClaim(claims.scope);
  if (scope !== undefined) return [...new Set(scope.split(" ").filter(Boolean))];
  return stringArray(claims.scp);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function objectClaim(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
