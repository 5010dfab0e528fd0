import { type Logger, noopLogger } from "@mcp-langgraph/core";
import { invalidInput } from "./errors.js";
import type { CreateSessionInput, RedisSessionStoreConfig, SessionStoreOptions } from "./types.js";

export const DEFAULT_TTL_SECONDS = 86_400;
export const DEFAULT_MAX_CONCURRENT_SESSIONS = 5;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const MAX_COMMAND_TIMEOUT_MS = 60_000;

const MAX_TTL_SECONDS = 10 * 365 * 86_400;
const MAX_ID_LENGTH = 256;
const MAX_ROLES = 64;
const MAX_ROLE_LENGTH = 128;
const MAX_METADATA_KEY_LENGTH = 128;
const MAX_METADATA_KEYS = 256;
/** Per call; keeps one request from parking megabytes in the session backend. */
const MAX_METADATA_BYTES = 64 * 1024;

export interface ResolvedStoreOptions {
  ttlMs: number;
  slidingWindow: boolean;
  maxConcurrentSessions: number;
  logger: Logger;
}

export function resolveStoreOptions(options: SessionStoreOptions = {}): ResolvedStoreOptions {
  const maxConcurrentSessions = options.maxConcurrentSessions ?? DEFAULT_MAX_CONCURRENT_SESSIONS;
  if (!Number.isSafeInteger(maxConcurrentSessions) || maxConcurrentSessions < 1) {
    throw invalidInput("maxConcurrentSessions must be a positive integer");
  }
  return {
    ttlMs: ttlToMs(options.ttlSeconds ?? DEFAULT_TTL_SECONDS, "ttlSeconds"),
    slidingWindow: options.slidingWindow ?? true,
    maxConcurrentSessions,
    logger: options.logger ?? noopLogger,
  };
}

export function ttlToMs(ttlSeconds: unknown, field = "ttlSeconds"): number {
  if (typeof ttlSeconds !== "number" || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw invalidInput(`${field} must be a positive number of seconds`);
  }
  if (ttlSeconds > MAX_TTL_SECONDS) throw invalidInput(`${field} must be at most ${MAX_TTL_SECONDS}`);
  return Math.ceil(ttlSeconds * 1000);
}

/** Metadata as (key, JSON-encoded value) pairs: the form both stores persist and merge. */
export type EncodedMetadata = Array<[key: string, json: string]>;

export interface ValidatedCreateInput {
  userId: string;
  username: string;
  roles: string[];
  metadata: EncodedMetadata;
  ttlMs: number;
}

export function validateCreateInput(input: CreateSessionInput, defaultTtlMs: number): ValidatedCreateInput {
  if (typeof input !== "object" || input === null) throw invalidInput("create input must be an object");
  const { userId, username, roles, metadata, ttlSeconds } = input;
  return {
    userId: validateUserId(userId),
    username: validateName(username, "username"),
    roles: validateRoles(roles),
    metadata: metadata === undefined ? [] : encodeMetadata(metadata),
    ttlMs: ttlSeconds === undefined ? defaultTtlMs : ttlToMs(ttlSeconds),
  };
}

export function validateUserId(userId: unknown): string {
  return validateName(userId, "userId");
}

function validateName(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw invalidInput(`${field} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

function validateRoles(roles: unknown): string[] {
  if (!Array.isArray(roles) || roles.length > MAX_ROLES) {
    throw invalidInput(`roles must be an array of at most ${MAX_ROLES} strings`);
  }
  for (const role of roles) {
    if (typeof role !== "string" || role.length === 0 || role.length > MAX_ROLE_LENGTH) {
      throw invalidInput(`each role must be a non-empty string of at most ${MAX_ROLE_LENGTH} characters`);
    }
  }
  return [...roles];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Validates and encodes metadata; rejects anything JSON cannot carry faithfully at the top level. */
export function encodeMetadata(metadata: unknown): EncodedMetadata {
  if (!isPlainObject(metadata)) throw invalidInput("metadata must be a plain object");
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_KEYS)
    throw invalidInput(`metadata has more than ${MAX_METADATA_KEYS} keys`);
  const encoded: EncodedMetadata = [];
  let bytes = 0;
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) {
      throw invalidInput(`metadata keys must be 1..${MAX_METADATA_KEY_LENGTH} characters`);
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (cause) {
      throw invalidInput(`metadata.${key} is not JSON-serializable`, { reason: String(cause) });
    }
    if (json === undefined) throw invalidInput(`metadata.${key} is not JSON-serializable`);
    bytes += Buffer.byteLength(key) + Buffer.byteLength(json);
    if (bytes > MAX_METADATA_BYTES) throw invalidInput(`metadata exceeds ${MAX_METADATA_BYTES} bytes`);
    encoded.push([key, json]);
  }
  return encoded;
}

/** Inverse of encodeMetadata; fromEntries defines own properties, so a "__proto__" key stays plain data. */
export function decodeMetadata(entries: Iterable<readonly [string, string]>): Record<string, unknown> {
  const decoded: Array<[string, unknown]> = [];
  for (const [key, json] of entries) decoded.push([key, JSON.parse(json)]);
  return Object.fromEntries(decoded);
}

export function validateIdleSince(idleSince: unknown): number {
  if (!(idleSince instanceof Date) || Number.isNaN(idleSince.getTime())) {
    throw invalidInput("idleSince must be a valid Date");
  }
  return idleSince.getTime();
}

export function validateRedisConfig(config: RedisSessionStoreConfig): { url: string; timeoutMs: number } {
  const { url, commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS } = config;
  let protocol: string | undefined;
  try {
    protocol = typeof url === "string" ? new URL(url).protocol : undefined;
  } catch {
    protocol = undefined;
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw invalidInput("url must be a redis:// or rediss:// URL");
  }
  if (
    !Number.isFinite(commandTimeoutMs) ||
    commandTimeoutMs <= 0 ||
    commandTimeoutMs > MAX_COMMAND_TIMEOUT_MS
  ) {
    throw invalidInput(`commandTimeoutMs must be in (0, ${MAX_COMMAND_TIMEOUT_MS}]`);
  }
  return { url, timeoutMs: commandTimeoutMs };
}
