/**
 * OpenFGA's error codes: the numeric value (gRPC / its test vectors) and the
 * name its HTTP API puts in `code`. Only the codes this package produces or
 * maps are listed.
 */
const CODES = [
  [2000, "validation_error"],
  [2001, "authorization_model_not_found"],
  [2002, "authorization_model_resolution_too_complex"],
  [2004, "cannot_allow_duplicate_tuples_in_one_request"],
  [2017, "write_failed_due_to_invalid_input"],
  [2020, "latest_authorization_model_not_found"],
  [2021, "type_not_found"],
  [2022, "relation_not_found"],
  [2027, "invalid_tuple"],
] as const;

const nameByNumber = new Map<number, string>(CODES);
const numberByName = new Map<string, number>(CODES.map(([number, name]) => [name, number]));

export const openFgaErrorName = (code: number): string => nameByNumber.get(code) ?? "validation_error";

/** The numeric code for an HTTP error name; unknown input errors count as 2000 (validation). */
export const openFgaErrorNumber = (name: string | undefined): number =>
  (name === undefined ? undefined : numberByName.get(name)) ?? 2000;
