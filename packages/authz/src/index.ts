export { type AuthorizerConfig, type AuthorizerOptions, createAuthorizer } from "./create-authorizer.ts";
export { EmbeddedAuthorizer } from "./embedded.ts";
export {
  AuthzError,
  type AuthzErrorCode,
  type AuthzErrorOptions,
  isAuthzError,
  OpenFgaErrorCode,
} from "./errors.ts";
export type { OpenFgaConnection } from "./openfga.ts";
export { loadProjectModel } from "./project-model.ts";
export type { AuthzDecision, DecisionCacheOptions, ResilienceOptions } from "./resilient.ts";
export type { PostgresTupleStorageConfig } from "./storage/postgres.ts";
export type { SqliteTupleStorageConfig } from "./storage/sqlite.ts";
export type { TupleStorage } from "./storage/types.ts";
export type { Authorizer, CallOptions, CheckQuery, ClaimResult, ListObjectsQuery, Tuple } from "./types.ts";
