import type { ApiKeyManager } from "./api-keys.js";
import type { AuthProvider, CallOptions, Principal } from "./types.js";

export interface BearerVerifierOptions {
  /** Verifies JWTs (local issuer or OIDC provider). */
  tokens: AuthProvider;
  /** When given, bearer values with the API-key prefix resolve through it instead. */
  apiKeys?: ApiKeyManager;
}

/**
 * One `verifyToken` for everything an `Authorization: Bearer` header may carry:
 * API keys are recognised by their prefix (no store lookup for JWTs), the rest
 * goes to the token provider.
 */
export function createBearerVerifier({ tokens, apiKeys }: BearerVerifierOptions): AuthProvider {
  return {
    verifyToken(credential: string, opts?: CallOptions): Promise<Principal> {
      if (apiKeys?.looksLikeKey(credential)) return apiKeys.resolve(credential, opts);
      return tokens.verifyToken(credential, opts);
    },
  };
}
