import {
  checkDefaultTtl,
  checkStateId,
  type OAuthStateOptions,
  type OAuthStatePayload,
  type OAuthStateStore,
  stateTtlSeconds,
} from "./oauth-state.js";

export interface MemoryOAuthStateOptions extends OAuthStateOptions {
  now?: () => number;
}

interface Entry {
  payload: OAuthStatePayload;
  expiresAt: number;
}

/** Expired entries are swept at most this often, on writes: reads already ignore them. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * OAuth state in this process's memory (SESSION_BACKEND=memory): one instance only, lost at
 * exit. Every entry has a lifetime and is dropped once it passes.
 */
export function createMemoryOAuthState(options: MemoryOAuthStateOptions = {}): OAuthStateStore {
  const now = options.now ?? Date.now;
  const defaultTtl = checkDefaultTtl(options.defaultTtlSeconds);
  const entries = new Map<string, Entry>();
  // Secondary keys point at primary keys; they expire with the entry they index.
  const index = new Map<string, { key: string; expiresAt: number }>();
  const grants = new Map<string, Set<string>>();
  let lastSweep = now();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now()) return entry;
    remove(key);
    return undefined;
  };
  const remove = (key: string) => {
    const entry = entries.get(key);
    entries.delete(key);
    const grantId = entry?.payload.grantId;
    if (typeof grantId === "string") {
      const keys = grants.get(grantId);
      keys?.delete(key);
      if (keys?.size === 0) grants.delete(grantId);
    }
  };
  const sweep = () => {
    const at = now();
    if (at - lastSweep < SWEEP_INTERVAL_MS) return;
    lastSweep = at;
    for (const [key, entry] of entries) if (entry.expiresAt <= at) remove(key);
    for (const [key, pointer] of index) if (pointer.expiresAt <= at) index.delete(key);
  };
  const byIndex = (name: string) => {
    const pointer = index.get(name);
    if (pointer === undefined || pointer.expiresAt <= now()) return undefined;
    return live(pointer.key)?.payload;
  };
  // Callers get copies: oidc-provider mutates what it finds before saving it again.
  const copy = (payload: OAuthStatePayload | undefined) =>
    payload === undefined ? undefined : structuredClone(payload);

  return (model) => {
    checkStateId("model", model);
    const keyOf = (id: string) => `${model}:${checkStateId("id", id)}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        const expiresAt = now() + stateTtlSeconds(expiresIn, defaultTtl) * 1000;
        sweep();
        remove(key);
        entries.set(key, { payload: structuredClone(payload), expiresAt });
        if (typeof payload.grantId === "string") {
          const keys = grants.get(payload.grantId) ?? new Set<string>();
          keys.add(key);
          grants.set(payload.grantId, keys);
        }
        if (typeof payload.uid === "string") index.set(`uid:${payload.uid}`, { key, expiresAt });
        if (typeof payload.userCode === "string")
          index.set(`userCode:${payload.userCode}`, { key, expiresAt });
      },
      find: async (id) => copy(live(keyOf(id))?.payload),
      findByUid: async (uid) => copy(byIndex(`uid:${checkStateId("uid", uid)}`)),
      findByUserCode: async (userCode) => copy(byIndex(`userCode:${checkStateId("userCode", userCode)}`)),
      async consume(id) {
        const entry = live(keyOf(id));
        if (entry) entry.payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id) {
        remove(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of [...(grants.get(checkStateId("grantId", grantId)) ?? [])]) remove(key);
        grants.delete(grantId);
      },
    };
  };
}
