import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export type SecretsErrorCode =
  /** A variable is set both directly and through NAME_FILE, or the options are invalid. */
  | "CONFIG_INVALID"
  /** A NAME_FILE file cannot be read, is empty or is larger than the limit. */
  | "SECRET_FILE_INVALID"
  /** Infisical refused, failed or did not answer in time. */
  | "INFISICAL_UNAVAILABLE";

/**
 * Errors of the secrets package. Messages name variables, files and HTTP statuses, never a
 * secret's value (nor the text of a failed response, which could echo one).
 */
export class SecretsError extends CodedError<SecretsErrorCode> {
  constructor(code: SecretsErrorCode, message: string, options?: CodedErrorOptions) {
    super("secrets", code, message, options);
    this.name = "SecretsError";
  }
}

export const isSecretsError = (value: unknown): value is SecretsError => isCodedError(value, "secrets");
