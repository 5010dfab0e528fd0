export { createMemoryApiKeyStore } from "./api-key-memory-store.js";
export {
  createRedisApiKeyStore,
  type RedisApiKeyStoreOptions,
  type RedisCommandClient,
} from "./api-key-redis-store.js";
export {
  type ApiKeyInfo,
  type ApiKeyManager,
  type ApiKeyManagerOptions,
  type ApiKeyOwner,
  type ApiKeyStore,
  type CreateApiKeyOptions,
  type CreatedApiKey,
  createApiKeyManager,
  type StoredApiKey,
} from "./api-keys.js";
export { type BearerVerifierOptions, createBearerVerifier } from "./bearer-verifier.js";
export { type ClaimMappingOptions, principalFromClaims } from "./claims.js";
export { AUTH_ERROR_FAMILY, AuthError, type AuthErrorCode, isAuthError } from "./errors.js";
export { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from "./jwt-verify.js";
export { generateSigningJwk, type LocalAlgorithm } from "./keys.js";
export {
  createLocalProvider,
  type IssueTokenOptions,
  type LocalIdentity,
  type LocalProvider,
  type LocalProviderOptions,
} from "./local-provider.js";
export {
  type LocalServiceClientInput,
  type LocalUserInput,
  parseLocalUsers,
  parseServiceClients,
} from "./local-users.js";
export {
  createLoginThrottle,
  DEFAULT_LOGIN_MAX_FAILURES,
  DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS,
  DEFAULT_LOGIN_WINDOW_SECONDS,
  type LoginThrottle,
  type LoginThrottleOptions,
} from "./login-throttle.js";
export {
  DEFAULT_OAUTH_STATE_TTL_SECONDS,
  type OAuthStateAdapter,
  type OAuthStateOptions,
  type OAuthStatePayload,
  type OAuthStateStore,
} from "./oauth-state.js";
export { createMemoryOAuthState, type MemoryOAuthStateOptions } from "./oauth-state-memory.js";
export { createRedisOAuthState, type RedisOAuthStateOptions } from "./oauth-state-redis.js";
export {
  type ClientCredentialsOptions,
  createOidcProvider,
  type OidcProvider,
  type PasswordLoginOptions,
} from "./oidc-provider.js";
export type { OidcMetadata, OidcProviderOptions } from "./oidc-settings.js";
export type { PasswordVaultOptions } from "./password-vault.js";
export {
  createRoleMapping,
  loadRoleMappingFile,
  parseRoleMapping,
  planTupleSync,
  type RelationTuple,
  type RoleMapping,
  type RoleMappingMatcher,
  type RoleMappingRule,
  type TupleSyncPlan,
} from "./role-mapping.js";
export { type ActForOptions, actForUser, type DelegationCheck } from "./service-principals.js";
export {
  createMemoryTokenDenylist,
  createRedisTokenDenylist,
  createRevocableTokens,
  DEFAULT_DENYLIST_MAX_ENTRIES,
  denylistKey,
  type MemoryTokenDenylistOptions,
  type RedisTokenDenylistOptions,
  type RevocableTokens,
  type RevocableTokensOptions,
  type TokenDenylist,
} from "./token-denylist.js";
export type { AuthProvider, CallOptions, JsonWebKey, Principal, TokenSet } from "./types.js";
export { VerificationCache, type VerificationCacheOptions } from "./verification-cache.js";
