import { AuthzError } from "../errors.ts";

/**
 * A table (or schema) name that is safe to quote into SQL. At most 55 characters, so the
 * `<table>_changes` and `<table>_version` names stay under Postgres's 63-byte limit.
 */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,54}$/;

/** Returns `settings` when every value is a positive integer; else AUTHZ_VALIDATION naming the first that is not. */
export function positiveIntegers<T extends Record<string, number>>(settings: T): T {
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new AuthzError("AUTHZ_VALIDATION", `tuple storage ${name} must be a positive integer`);
    }
  }
  return settings;
}
