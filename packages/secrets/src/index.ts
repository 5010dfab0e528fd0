export { secretsOptionsFromConfig } from "./config.js";
export { isSecretsError, SecretsError, type SecretsErrorCode } from "./errors.js";
export { type EnvRecord, fileVariableOf } from "./file-source.js";
export type { InfisicalOptions } from "./infisical-source.js";
export {
  type BackgroundRefreshOptions,
  createSecretsProvider,
  INFISICAL_CLIENT_SECRET,
  resolveSecrets,
  type SecretSourceKind,
  type SecretsProvider,
  type SecretsProviderOptions,
} from "./provider.js";
