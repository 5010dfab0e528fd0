import { AuthError } from "./errors.js";

/**
 * What an OAuth authorization server stores between requests: grants, authorization codes,
 * refresh tokens, interactions, sessions and registered clients. The shape is oidc-provider's
 * Adapter interface, so a store plugs into it as `adapter: store` without this package
 * depending on oidc-provider.
 */
export interface OAuthStatePayload {
  [claim: string]: unknown;
  grantId?: string;
  userCode?: string;
  uid?: string;
  /** Epoch seconds at which a one-time artefact (code, rotated refresh token) was used. */
  consumed?: number;
}

export interface OAuthStateAdapter {
  upsert(id: string, payload: OAuthStatePayload, expiresInSeconds?: number): Promise<void>;
  find(id: string): Promise<OAuthStatePayload | undefined>;
  findByUid(uid: string): Promise<OAuthStatePayload | undefined>;
  findByUserCode(userCode: string): Promise<OAuthStatePayload | undefined>;
  /** Marks a one-time artefact used; a second use is then detected (replayed code). */
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  /** Removes every artefact issued under the grant (oidc-provider calls it on code replay and revocation). */
  revokeByGrantId(grantId: string): Promise<void>;
}

/** One adapter per model name ("AuthorizationCode", "Grant", "Client", …), as oidc-provider asks for them. */
export type OAuthStateStore = (model: string) => OAuthStateAdapter;

export interface OAuthStateOptions {
  /**
   * Lifetime of entries stored without one (oidc-provider stores dynamically registered clients
   * so): nothing is kept forever, so open registration cannot grow the store without bound.
   * Default 30 days.
   */
  defaultTtlSeconds?: number;
}

export const DEFAULT_OAUTH_STATE_TTL_SECONDS = 30 * 86_400;

const ID = /^[\x21-\x7e]{1,512}$/;

/** Ids and model names come from requests (codes, client ids): bounded printable ASCII only. */
export function checkStateId(what: string, value: unknown): string {
  if (typeof value !== "string" || !ID.test(value)) {
    throw new AuthError("INVALID_ARGUMENT", `${what} must be 1-512 printable ASCII characters`);
  }
  return value;
}

export function stateTtlSeconds(expiresIn: number | undefined, fallback: number): number {
  if (expiresIn === undefined) return fallback;
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new AuthError("INVALID_ARGUMENT", "expiresIn must be a positive number of seconds");
  }
  return Math.ceil(expiresIn);
}

export function checkDefaultTtl(value: number | undefined): number {
  const ttl = value ?? DEFAULT_OAUTH_STATE_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new AuthError("AUTH_CONFIG", "defaultTtlSeconds must be a positive integer");
  }
  return ttl;
}
