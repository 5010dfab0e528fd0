import type { ApiKeyStore, StoredApiKey } from "./api-keys.js";
import { AuthError } from "./errors.js";

/** API keys in process memory: for one process, tests, and the embedded default. */
export function createMemoryApiKeyStore(): ApiKeyStore {
  const byId = new Map<string, StoredApiKey>();
  const idsByOwner = new Map<string, Set<string>>();

  const isLive = (record: StoredApiKey, now: number) => record.expiresAt === null || record.expiresAt > now;
  const copy = (record: StoredApiKey): StoredApiKey => ({
    ...record,
    roles: [...record.roles],
    scopes: [...record.scopes],
  });

  function add(record: StoredApiKey) {
    byId.set(record.id, copy(record));
    const ids = idsByOwner.get(record.owner) ?? new Set<string>();
    ids.add(record.id);
    idsByOwner.set(record.owner, ids);
  }

  function drop(record: StoredApiKey) {
    byId.delete(record.id);
    const ids = idsByOwner.get(record.owner);
    ids?.delete(record.id);
    if (ids?.size === 0) idsByOwner.delete(record.owner);
  }

  /** The owner's live keys; expired ones are dropped on the way. */
  function liveOf(owner: string, now: number): StoredApiKey[] {
    const result: StoredApiKey[] = [];
    for (const id of idsByOwner.get(owner) ?? []) {
      const record = byId.get(id) as StoredApiKey;
      if (isLive(record, now)) result.push(record);
      else drop(record);
    }
    return result;
  }

  return {
    async insert(record, { maxPerOwner, now }) {
      if (liveOf(record.owner, now).length >= maxPerOwner) {
        throw new AuthError("API_KEY_LIMIT", `a user may hold at most ${maxPerOwner} API keys`);
      }
      add(record);
    },
    async replace(oldId, record, now) {
      const old = byId.get(oldId);
      if (old === undefined || old.owner !== record.owner || !isLive(old, now)) {
        throw new AuthError("NOT_FOUND", "no such API key for this user");
      }
      drop(old);
      add(record);
    },
    async get(id, now) {
      const record = byId.get(id);
      return record !== undefined && isLive(record, now) ? copy(record) : undefined;
    },
    async list(owner, now) {
      return liveOf(owner, now)
        .map(copy)
        .sort((a, b) => a.createdAt - b.createdAt);
    },
    async remove(owner, id) {
      const record = byId.get(id);
      if (record === undefined || record.owner !== owner) return false;
      drop(record);
      return true;
    },
  };
}
