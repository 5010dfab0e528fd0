interface Entry {
  object: string;
  relation: string;
  user: string;
  allowed: boolean;
  expiresAt: number;
  newer: Entry | undefined;
  older: Entry | undefined;
}

/**
 * A bounded LRU of check decisions with a TTL, keyed by (object, relation,
 * user) through nested maps: a lookup hashes the query's own strings instead
 * of building and hashing a joined key on every call (the hot path of a cached check).
 */
export class DecisionCache {
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #byObject = new Map<string, Map<string, Map<string, Entry>>>();
  #size = 0;
  /** Least recently used end of the recency list. */
  #oldest: Entry | undefined;
  #newest: Entry | undefined;

  constructor({
    maxEntries,
    ttlMs,
    now = performance.now.bind(performance),
  }: {
    maxEntries: number;
    ttlMs: number;
    now?: () => number;
  }) {
    this.#maxEntries = Math.max(1, maxEntries);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#size;
  }

  get(object: string, relation: string, user: string): boolean | undefined {
    const entry = this.#byObject.get(object)?.get(relation)?.get(user);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#remove(entry);
      return undefined;
    }
    this.#touch(entry);
    return entry.allowed;
  }

  set(object: string, relation: string, user: string, allowed: boolean): void {
    let relations = this.#byObject.get(object);
    if (!relations) {
      relations = new Map();
      this.#byObject.set(object, relations);
    }
    let users = relations.get(relation);
    if (!users) {
      users = new Map();
      relations.set(relation, users);
    }
    const expiresAt = this.#now() + this.#ttlMs;
    const existing = users.get(user);
    if (existing) {
      existing.allowed = allowed;
      existing.expiresAt = expiresAt;
      this.#touch(existing);
      return;
    }
    const entry: Entry = {
      object,
      relation,
      user,
      allowed,
      expiresAt,
      newer: undefined,
      older: this.#newest,
    };
    users.set(user, entry);
    if (this.#newest) this.#newest.newer = entry;
    this.#newest = entry;
    this.#oldest ??= entry;
    this.#size++;
    if (this.#size > this.#maxEntries && this.#oldest) this.#remove(this.#oldest);
  }

  clear(): void {
    this.#byObject.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
    this.#size = 0;
  }

  #unlink(entry: Entry): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  }

  #touch(entry: Entry): void {
    if (this.#newest === entry) return;
    this.#unlink(entry);
    entry.older = this.#newest;
    if (this.#newest) this.#newest.newer = entry;
    this.#newest = entry;
    this.#oldest ??= entry;
  }

  #remove(entry: Entry): void {
    this.#unlink(entry);
    const relations = this.#byObject.get(entry.object);
    const users = relations?.get(entry.relation);
    users?.delete(entry.user);
    if (users?.size === 0) relations?.delete(entry.relation);
    if (relations?.size === 0) this.#byObject.delete(entry.object);
    this.#size--;
  }
}
