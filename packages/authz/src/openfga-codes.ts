import { OpenFgaErrorCode } from "./errors.ts";

/**
 * OpenFGA's error codes: the numeric value (gRPC / its test vectors) and the
 * name its HTTP API puts in `code`. Only the codes this package produces or
 * maps are listed.
 */
const CODES = [
  [OpenFgaErrorCode.validation, "validation_error"],
  [OpenFgaErrorCode.authorizationModelNotFound, "authorization_model_not_found"],
  [OpenFgaErrorCode.resolutionTooComplex, "authorization_model_resolution_too_complex"],
  [OpenFgaErrorCode.duplicateTupleInWrite, "cannot_allow_duplicate_tuples_in_one_request"],
  [OpenFgaErrorCode.writeFailedDueToInvalidInput, "write_failed_due_to_invalid_input"],
  [OpenFgaErrorCode.latestAuthorizationModelNotFound, "latest_authorization_model_not_found"],
  [OpenFgaErrorCode.typeNotFound, "type_not_found"],
  [OpenFgaErrorCode.relationNotFound, "relation_not_found"],
  [OpenFgaErrorCode.invalidTuple, "invalid_tuple"],
  [OpenFgaErrorCode.storeNotFound, "store_id_not_found"],
] as const;

const nameByNumber = new Map<number, string>(CODES);
const numberByName = new Map<string, number>(CODES.map(([number, name]) => [name, number]));

export const openFgaErrorName = (code: number): string => nameByNumber.get(code) ?? "validation_error";

/** The numeric code for an HTTP error name; unknown input errors count as 2000 (validation). */
export const openFgaErrorNumber = (name: string | undefined): number =>
  (name === undefined ? undefined : numberByName.get(name)) ?? OpenFgaErrorCode.validation;
