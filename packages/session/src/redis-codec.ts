import { SessionError } from "./errors.js";
import type { SessionData } from "./types.js";
import { decodeMetadata, type EncodedMetadata } from "./validation.js";

/**
 * Stored form of a session in its Redis hash:
 *   d      JSON {v, userId, username, roles, createdAt}: the immutable identity, versioned
 *   a      last access, epoch ms
 *   e      expiry, epoch ms (the key's own TTL is what actually expires it)
 *   t      TTL in ms (what a slide or refresh applies)
 *   m:<k>  JSON of metadata value k, one field per key so merges are plain HSETs
 */
export const CODEC_VERSION = 1;
export const METADATA_FIELD_PREFIX = "m:";

export interface SessionIdentity {
  userId: string;
  username: string;
  roles: string[];
  createdAt: number;
}

export function encodeIdentity(identity: SessionIdentity): string {
  return JSON.stringify({ v: CODEC_VERSION, ...identity });
}

export function metadataFields(metadata: EncodedMetadata): string[] {
  const fields: string[] = [];
  for (const [key, json] of metadata) fields.push(`${METADATA_FIELD_PREFIX}${key}`, json);
  return fields;
}

function corrupt(reason: string, cause?: unknown): SessionError {
  return new SessionError("SESSION_CORRUPT", `stored session is unreadable: ${reason}`, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/**
 * Decodes a session hash (HGETALL's flat field/value list).
 * Anything that is not a session this codec wrote — garbage, another program's
 * data, an unknown version, a value claiming another user's id — is SESSION_CORRUPT.
 */
export function decodeSession(
  sessionId: string,
  flatFields: unknown,
  belongsToUser: (userId: string) => boolean,
): SessionData {
  if (!Array.isArray(flatFields) || flatFields.length % 2 !== 0) throw corrupt("not a field list");
  let identityJson: unknown;
  let accessed: unknown;
  let expires: unknown;
  let ttl: unknown;
  const metadata: Array<[string, string]> = [];
  for (let i = 0; i < flatFields.length; i += 2) {
    const field: unknown = flatFields[i];
    const value: unknown = flatFields[i + 1];
    if (typeof field !== "string" || typeof value !== "string") throw corrupt("non-string field");
    if (field === "d") identityJson = value;
    else if (field === "a") accessed = value;
    else if (field === "e") expires = value;
    else if (field === "t") ttl = value;
    else if (field.startsWith(METADATA_FIELD_PREFIX)) {
      metadata.push([field.slice(METADATA_FIELD_PREFIX.length), value]);
    }
  }
  if (typeof identityJson !== "string") throw corrupt("missing identity");
  let identity: Record<string, unknown>;
  try {
    identity = JSON.parse(identityJson) as Record<string, unknown>;
  } catch (cause) {
    throw corrupt("identity is not JSON", cause);
  }
  if (typeof identity !== "object" || identity === null) throw corrupt("identity is not an object");
  if (identity.v !== CODEC_VERSION) throw corrupt(`unsupported version ${String(identity.v)}`);
  const { userId, username, roles, createdAt } = identity;
  if (typeof userId !== "string" || typeof username !== "string" || !isStringArray(roles)) {
    throw corrupt("identity fields have the wrong types");
  }
  if (typeof createdAt !== "number" || !Number.isFinite(createdAt)) throw corrupt("bad createdAt");
  if (!belongsToUser(userId)) throw corrupt("value belongs to another user's key");
  const lastAccessedAt = Number(accessed);
  if (!Number.isFinite(lastAccessedAt)) throw corrupt("bad last access time");
  const expiresAt = Number(expires);
  if (!Number.isFinite(expiresAt)) throw corrupt("bad expiry time");
  if (!(Number(ttl) > 0)) throw corrupt("bad ttl");
  let decodedMetadata: Record<string, unknown>;
  try {
    decodedMetadata = decodeMetadata(metadata);
  } catch (cause) {
    throw corrupt("metadata is not JSON", cause);
  }
  return {
    sessionId,
    userId,
    username,
    roles,
    metadata: decodedMetadata,
    createdAt: new Date(createdAt),
    lastAccessedAt: new Date(lastAccessedAt),
    expiresAt: new Date(expiresAt),
  };
}
