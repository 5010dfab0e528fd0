import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export type AuthzErrorCode =
  /** The backend failed, timed out or its circuit is open: callers must deny. */
  | "AUTHZ_UNAVAILABLE"
  /** A request or tuple does not fit the model (OpenFGA 2000, 2021, 2022, 2027). */
  | "AUTHZ_VALIDATION"
  /** The model text does not parse or validate. */
  | "AUTHZ_INVALID_MODEL"
  /** Resolution went deeper than the depth limit (OpenFGA 2002). */
  | "AUTHZ_RESOLUTION_TOO_COMPLEX"
  /** The authorizer was closed. */
  | "AUTHZ_CLOSED";

/** OpenFGA's numeric error codes this package reports in `openfgaCode`. */
export const OpenFgaErrorCode = {
  validation: 2000,
  authorizationModelNotFound: 2001,
  resolutionTooComplex: 2002,
  duplicateTupleInWrite: 2004,
  writeFailedDueToInvalidInput: 2017,
  latestAuthorizationModelNotFound: 2020,
  typeNotFound: 2021,
  relationNotFound: 2022,
  invalidTuple: 2027,
  storeNotFound: 5002,
} as const;

export interface AuthzErrorOptions extends CodedErrorOptions {
  /** OpenFGA's numeric error code, where one applies. */
  openfgaCode?: number;
}

export class AuthzError extends CodedError<AuthzErrorCode> {
  readonly openfgaCode: number | undefined;

  constructor(code: AuthzErrorCode, message: string, options: AuthzErrorOptions = {}) {
    super("authz", code, message, options);
    this.name = "AuthzError";
    this.openfgaCode = options.openfgaCode;
  }
}

export const isAuthzError = (value: unknown): value is AuthzError => isCodedError(value, "authz");

export function validationError(openfgaCode: number, message: string, cause?: unknown): AuthzError {
  return new AuthzError("AUTHZ_VALIDATION", message, { openfgaCode, cause });
}
