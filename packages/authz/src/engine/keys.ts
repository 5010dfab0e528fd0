/** The parts of a tuple's user field: `type:id`, `type:*` or `type:id#relation`. */
export interface ParsedUser {
  type: string;
  id: string;
  relation?: string;
  wildcard: boolean;
}

export const objectType = (object: string) => object.slice(0, object.indexOf(":"));

const OBJECT_PATTERN = /^([^\s:#@*]+):([^\s#@*]+|\*)$/;

/** Parses `type:id`; returns undefined for anything else (no relation, no whitespace). */
export function parseObject(value: string): { type: string; id: string } | undefined {
  const match = OBJECT_PATTERN.exec(value);
  if (!match || match[2] === "*") return undefined;
  return { type: match[1]!, id: match[2]! };
}

export function parseUser(value: string): ParsedUser | undefined {
  const hash = value.indexOf("#");
  const objectPart = hash === -1 ? value : value.slice(0, hash);
  const relation = hash === -1 ? undefined : value.slice(hash + 1);
  const match = OBJECT_PATTERN.exec(objectPart);
  if (!match) return undefined;
  if (relation !== undefined && !/^[^\s:#@*]+$/.test(relation)) return undefined;
  const wildcard = match[2] === "*";
  if (wildcard && relation !== undefined) return undefined;
  return { type: match[1]!, id: match[2]!, ...(relation === undefined ? {} : { relation }), wildcard };
}
