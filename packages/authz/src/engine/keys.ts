/** The parts of a tuple's user field: `type:id`, `type:*` or `type:id#relation`. */
export interface ParsedUser {
  type: string;
  id: string;
  relation?: string;
  wildcard: boolean;
}

export const objectType = (object: string) => object.slice(0, object.indexOf(":"));

// Control characters are refused along with whitespace, so check and write accept the same strings.
const OBJECT_PATTERN = /^([^\s\p{Cc}:#@*]+):([^\s\p{Cc}#@*]+|\*)$/u;

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

/**
 * The type of a well-formed `type:id` object, or undefined: `parseObject`'s
 * rule without its regex and allocations on the check hot path (printable
 * ASCII is checked inline; anything else falls back to `parseObject`).
 */
export function objectTypeOf(value: string): string | undefined {
  const colon = value.indexOf(":");
  if (colon <= 0 || colon === value.length - 1) return undefined;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 126) return parseObject(value)?.type;
    // Control characters, space, '#', '*' and '@' never appear in an object.
    if (code <= 32 || code === 35 || code === 42 || code === 64) return undefined;
  }
  return value.slice(0, colon);
}
