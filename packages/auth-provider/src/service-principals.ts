import { AuthError } from "./errors.js";
import { checkSubjectName } from "./names.js";
import type { RelationTuple } from "./role-mapping.js";
import type { CallOptions, Principal } from "./types.js";

/** Asks the authorization backend one question; the app passes its authorizer's `check`. */
export type DelegationCheck = (tuple: RelationTuple, opts: CallOptions) => Promise<boolean>;

export interface ActForOptions extends CallOptions {
  check: DelegationCheck;
  /** Relation on the user object naming who may act for them; default "delegate" (the project model). */
  relation?: string;
}

/**
 * Lets a service principal act for a user only where the authorization model
 * says so (`service_principal:<id> delegate user:<name>`). Fails closed: a
 * check that errors, times out or answers anything but `true` refuses.
 * The result is the user's identity with the service recorded in `actor` claims.
 */
export async function actForUser(
  service: Principal,
  username: string,
  { check, relation = "delegate", signal }: ActForOptions,
): Promise<Principal> {
  if (service.kind !== "service_principal" || !service.userId.startsWith("service_principal:")) {
    throw new AuthError("INVALID_ARGUMENT", "only a service principal can act for a user", {
      details: { reason: "not_service_principal" },
    });
  }
  checkSubjectName(username);
  let allowed = false;
  try {
    allowed =
      (await check(
        { user: service.userId, relation, object: `user:${username}` },
        signal ? { signal } : {},
      )) === true;
  } catch (cause) {
    if (signal?.aborted && cause === signal.reason) throw cause;
    throw new AuthError("AUTH_UNAVAILABLE", "delegation could not be checked; refusing", {
      details: { reason: "delegation_check_failed" },
      cause,
    });
  }
  if (!allowed) {
    throw new AuthError("FORBIDDEN", `${service.userId} may not act for user:${username}`, {
      details: { reason: "delegation_denied" },
    });
  }
  return Object.freeze({
    userId: `user:${username}`,
    username,
    // A delegate carries the service's own grants, never the user's roles.
    roles: Object.freeze([...service.roles]) as string[],
    scopes: Object.freeze([...service.scopes]) as string[],
    groups: Object.freeze([]) as unknown as string[],
    kind: "user" as const,
    ...(service.clientId === undefined ? {} : { clientId: service.clientId }),
    expiresAt: service.expiresAt,
    claims: Object.freeze({ ...service.claims, act: { sub: service.userId } }),
  });
}
