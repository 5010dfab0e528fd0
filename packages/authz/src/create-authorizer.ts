import type { Logger } from "@mcp-langgraph/core";
import { EmbeddedAuthorizer } from "./embedded.ts";
import { AuthzError } from "./errors.ts";
import type { Authorizer } from "./types.ts";

export type AuthorizerConfig =
  | {
      backend: "embedded";
      /** OpenFGA DSL (schema 1.1), e.g. from `loadProjectModel()`. */
      model: string;
    }
  | {
      backend: "openfga";
      apiUrl: string;
      /** Created (named `storeName`) when absent. */
      storeId?: string;
      /** Written from `model` when absent; the store's latest model is used when neither is given. */
      modelId?: string;
      model?: string;
      /** API token (pre-shared key); sent as a bearer token, never logged. */
      token?: string;
    };

export interface AuthorizerOptions {
  logger?: Logger;
}

/** Builds an authorizer for the configured backend. */
export async function createAuthorizer(
  config: AuthorizerConfig,
  _options: AuthorizerOptions = {},
): Promise<Authorizer> {
  switch (config?.backend) {
    case "embedded":
      return new EmbeddedAuthorizer(config.model);
    default:
      throw new AuthzError("AUTHZ_VALIDATION", `unsupported authz backend '${String(config?.backend)}'`);
  }
}
