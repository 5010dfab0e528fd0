import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { AuthError, isAuthError } from "./errors.js";
import type { CallOptions, Principal } from "./types.js";

/** An OpenFGA relationship tuple, as plain data (this package does not depend on authz). */
export interface RelationTuple {
  user: string;
  relation: string;
  object: string;
}

export type RoleMappingMatcher = "role" | "group" | "scope" | "clientId" | "claim";

/**
 * One rule: when the principal has a matching role / group / scope / client
 * (or claim value), grant `relation` on `object` (or to `user`, default the
 * principal). Patterns may capture path segments as `{name}` and match any
 * remainder with `*`; captures and `{username}` may appear in the templates.
 */
export interface RoleMappingRule {
  when: { role?: string; group?: string; scope?: string; clientId?: string; claim?: string; equals?: string };
  grant: { relation: string; object: string; user?: string };
}

export interface RoleMapping {
  readonly rules: readonly RoleMappingRule[];
  /** The tuples this principal's claims grant, deduplicated, in rule order. */
  tuplesFor(principal: Principal): RelationTuple[];
}

const RELATION = /^[a-z_][a-z0-9_]{0,63}$/;
const OBJECT_TYPE = /^[a-z_][a-z0-9_-]{0,63}$/;
const OBJECT_ID = /^[^\s#:]{1,256}$/;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MATCHERS: readonly RoleMappingMatcher[] = ["role", "group", "scope", "clientId", "claim"];

/** Parses a JSON or YAML rule document ({ rules: [...] }); AUTH_CONFIG with the failing path when invalid. */
export function parseRoleMapping(source: string, format: "json" | "yaml" = "yaml"): RoleMapping {
  let document: unknown;
  try {
    document = format === "json" ? JSON.parse(source) : parseYaml(source);
  } catch (cause) {
    throw new AuthError("AUTH_CONFIG", `role mapping is not valid ${format.toUpperCase()}`, { cause });
  }
  return createRoleMapping(document);
}

/** Reads a rule file; `.json` is JSON, anything else YAML. */
export async function loadRoleMappingFile(path: string, { signal }: CallOptions = {}): Promise<RoleMapping> {
  let source: string;
  try {
    source = await readFile(path, { encoding: "utf8", ...(signal ? { signal } : {}) });
  } catch (cause) {
    throw new AuthError("AUTH_CONFIG", `role mapping file ${path} cannot be read`, { cause });
  }
  try {
    return parseRoleMapping(source, path.endsWith(".json") ? "json" : "yaml");
  } catch (error) {
    if (isAuthError(error)) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

interface CompiledRule {
  rule: RoleMappingRule;
  values: (principal: Principal) => readonly unknown[];
  pattern: RegExp;
}

/** Validates an already-parsed rule document. */
export function createRoleMapping(document: unknown): RoleMapping {
  const rulesValue = (document as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rulesValue)) throw configError("rules", "must be a list of rules");
  const compiled = rulesValue.map((rule, index) => compileRule(rule, `rules[${index}]`));
  return {
    rules: Object.freeze(compiled.map(({ rule }) => rule)),
    tuplesFor(principal) {
      const seen = new Set<string>();
      const tuples: RelationTuple[] = [];
      for (const { rule, values, pattern } of compiled) {
        for (const value of values(principal)) {
          if (typeof value !== "string") continue;
          const match = pattern.exec(value);
          if (match === null) continue;
          const vars: Record<string, string> = { username: principal.username, ...match.groups };
          const tuple = {
            user: rule.grant.user === undefined ? principal.userId : fill(rule.grant.user, vars),
            relation: rule.grant.relation,
            object: fill(rule.grant.object, vars),
          };
          // A captured value that cannot form a valid id yields no tuple rather than a malformed one.
          if (!isObjectRef(tuple.object) || !isObjectRef(tuple.user.split("#")[0] as string)) continue;
          const key = `${tuple.user} ${tuple.relation} ${tuple.object}`;
          if (!seen.has(key)) {
            seen.add(key);
            tuples.push(tuple);
          }
        }
      }
      return tuples;
    },
  };
}

export interface TupleSyncPlan {
  writes: RelationTuple[];
  deletes: RelationTuple[];
}

/** What to write and delete so the relations synced at the last login become `desired`. */
export function planTupleSync(
  previous: readonly RelationTuple[],
  desired: readonly RelationTuple[],
): TupleSyncPlan {
  const key = (t: RelationTuple) => `${t.user} ${t.relation} ${t.object}`;
  const before = new Set(previous.map(key));
  const after = new Set(desired.map(key));
  return {
    writes: desired.filter((t) => !before.has(key(t))),
    deletes: previous.filter((t) => !after.has(key(t))),
  };
}

function compileRule(value: unknown, path: string): CompiledRule {
  if (!isRecord(value)) throw configError(path, "must be an object with `when` and `grant`");
  const unknownKeys = Object.keys(value).filter((key) => key !== "when" && key !== "grant");
  if (unknownKeys.length > 0) throw configError(path, `unknown field ${JSON.stringify(unknownKeys[0])}`);
  const { when, grant } = value;
  if (!isRecord(when)) throw configError(`${path}.when`, "must be an object");
  if (!isRecord(grant)) throw configError(`${path}.grant`, "must be an object");

  const matchers = MATCHERS.filter((name) => when[name] !== undefined);
  if (matchers.length !== 1) {
    throw configError(`${path}.when`, `must name exactly one of ${MATCHERS.join(", ")}`);
  }
  const matcher = matchers[0] as RoleMappingMatcher;
  for (const key of Object.keys(when)) {
    if (!(MATCHERS as readonly string[]).includes(key) && key !== "equals") {
      throw configError(`${path}.when`, `unknown field ${JSON.stringify(key)}`);
    }
  }
  let patternSource: unknown = when[matcher];
  let values: CompiledRule["values"];
  if (matcher === "claim") {
    const claim = when.claim;
    if (typeof claim !== "string" || !/^[A-Za-z0-9_.-]{1,128}$/.test(claim)) {
      throw configError(`${path}.when.claim`, "must be a claim name (dots walk into nested objects)");
    }
    patternSource = when.equals;
    values = (principal) => asList(readClaim(principal.claims, claim));
  } else {
    if (when.equals !== undefined) throw configError(`${path}.when.equals`, "is only valid with `claim`");
    values = matcherValues[matcher];
  }
  if (typeof patternSource !== "string" || patternSource.length === 0 || patternSource.length > 256) {
    throw configError(
      `${path}.when.${matcher === "claim" ? "equals" : matcher}`,
      "must be a non-empty string",
    );
  }
  const captures = new Set<string>();
  const pattern = compilePattern(patternSource, captures, `${path}.when`);

  for (const key of Object.keys(grant)) {
    if (!["relation", "object", "user"].includes(key)) {
      throw configError(`${path}.grant`, `unknown field ${JSON.stringify(key)}`);
    }
  }
  if (typeof grant.relation !== "string" || !RELATION.test(grant.relation)) {
    throw configError(`${path}.grant.relation`, `must match ${RELATION}`);
  }
  checkTemplate(grant.object, captures, `${path}.grant.object`, "type:id");
  if (grant.user !== undefined)
    checkTemplate(grant.user, captures, `${path}.grant.user`, "type:id or type:id#relation");

  const rule: RoleMappingRule = {
    when: { ...(when as RoleMappingRule["when"]) },
    grant: { relation: grant.relation, object: grant.object as string },
  };
  if (grant.user !== undefined) rule.grant.user = grant.user as string;
  return { rule: Object.freeze(rule), values, pattern };
}

const matcherValues: Record<Exclude<RoleMappingMatcher, "claim">, CompiledRule["values"]> = {
  role: (principal) => principal.roles,
  group: (principal) => principal.groups ?? [],
  scope: (principal) => principal.scopes,
  clientId: (principal) => (principal.clientId === undefined ? [] : [principal.clientId]),
};

function compilePattern(source: string, captures: Set<string>, path: string): RegExp {
  let regex = "";
  let last = 0;
  for (const match of source.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}|\*/g)) {
    regex += escapeRegex(source.slice(last, match.index));
    if (match[0] === "*") {
      regex += ".*";
    } else {
      const name = match[1] as string;
      if (name === "username" || captures.has(name)) {
        throw configError(path, `placeholder {${name}} is reserved or used twice`);
      }
      captures.add(name);
      regex += `(?<${name}>[^/]+)`;
    }
    last = (match.index as number) + match[0].length;
  }
  regex += escapeRegex(source.slice(last));
  return new RegExp(`^${regex}$`);
}

function checkTemplate(value: unknown, captures: Set<string>, path: string, shape: string): void {
  if (typeof value !== "string") throw configError(path, `must be a string like ${shape}`);
  for (const [, name] of value.matchAll(PLACEHOLDER)) {
    if (name !== "username" && !captures.has(name as string)) {
      throw configError(path, `uses {${name}}, which the rule's pattern does not capture`);
    }
  }
  const sample = value.replace(PLACEHOLDER, "x");
  const [ref, relation, extra] = sample.split("#");
  const userset =
    relation === undefined || (RELATION.test(relation) && extra === undefined && shape.includes("#"));
  if (!isObjectRef(ref as string) || !userset) throw configError(path, `must look like ${shape}`);
}

function isObjectRef(value: string): boolean {
  const colon = value.indexOf(":");
  return colon > 0 && OBJECT_TYPE.test(value.slice(0, colon)) && OBJECT_ID.test(value.slice(colon + 1));
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => vars[name] ?? "");
}

function readClaim(claims: Record<string, unknown>, path: string): unknown {
  let current: unknown = claims;
  for (const part of path.split(".")) {
    if (!isRecord(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function configError(path: string, problem: string): AuthError {
  return new AuthError("AUTH_CONFIG", `invalid role mapping: ${path} ${problem}`, { details: { path } });
}
