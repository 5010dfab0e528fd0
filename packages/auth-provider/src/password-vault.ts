import { randomBytes } from "node:crypto";
import { createBulkhead, isCoreError, raceAbort } from "@mcp-langgraph/core";
import { hash, verify } from "@node-rs/argon2";
import { AuthError } from "./errors.js";
import { MAX_PASSWORD_LENGTH } from "./local-users.js";
import type { CallOptions } from "./types.js";

/** Argon2id with OWASP's minimum profile (19 MiB, 2 passes); hashing runs on libuv's pool, off the event loop. */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordVaultOptions {
  /** Hashes allowed to run at once (each takes ~19 MiB and one pool thread). */
  concurrency?: number;
  /** Logins allowed to wait; beyond this a login fails fast with AUTH_UNAVAILABLE. */
  maxQueue?: number;
}

/**
 * Secrets by name, stored only as argon2id hashes. Unknown names are checked
 * against a decoy hash so both failure paths cost one argon2 verification.
 */
export class PasswordVault<Entry> {
  readonly #entries = new Map<string, { hash: string; entry: Entry }>();
  readonly #decoyHash: string;
  readonly #bulkhead;

  private constructor(decoyHash: string, options: PasswordVaultOptions) {
    this.#decoyHash = decoyHash;
    this.#bulkhead = createBulkhead({
      concurrency: options.concurrency ?? 2,
      maxQueue: options.maxQueue ?? 64,
    });
  }

  static async create<Entry>(
    secrets: Iterable<{ name: string; secret: string; entry: Entry }>,
    options: PasswordVaultOptions = {},
  ): Promise<PasswordVault<Entry>> {
    const vault = new PasswordVault<Entry>(await hashSecret(randomBytes(32).toString("base64url")), options);
    const hashed = await Promise.all(
      [...secrets].map(async ({ name, secret, entry }) => ({ name, hash: await hashSecret(secret), entry })),
    );
    for (const { name, hash: secretHash, entry } of hashed)
      vault.#entries.set(name, { hash: secretHash, entry });
    return vault;
  }

  /** Whether a name is configured (no hashing: for re-checking a name taken from a token or key). */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Resolves the entry when the secret matches; one INVALID_CREDENTIALS error for every failure. */
  async verify(name: string, secret: string, { signal }: CallOptions = {}): Promise<Entry> {
    if (typeof name !== "string" || typeof secret !== "string") {
      throw new AuthError("INVALID_ARGUMENT", "username and password must be strings");
    }
    signal?.throwIfAborted();
    const stored = this.#entries.get(name);
    const candidate = secret.length <= MAX_PASSWORD_LENGTH ? secret : "";
    let matches: boolean;
    try {
      const check = this.#bulkhead.run(() => verify(stored?.hash ?? this.#decoyHash, candidate), signal);
      matches = await (signal ? raceAbort(check, signal) : check);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      const reason = isCoreError(error) && error.code === "BULKHEAD_FULL" ? "overloaded" : "hashing_failed";
      throw new AuthError("AUTH_UNAVAILABLE", "password verification is unavailable; retry later", {
        details: { reason },
        cause: error,
      });
    }
    if (!matches || stored === undefined || candidate !== secret || secret.length === 0) {
      throw new AuthError("INVALID_CREDENTIALS", "invalid username or password");
    }
    return stored.entry;
  }
}

function hashSecret(secret: string): Promise<string> {
  return hash(secret, ARGON2_OPTIONS);
}
