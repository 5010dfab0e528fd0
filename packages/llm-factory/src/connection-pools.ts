import type { Agent } from "undici";

/**
 * How long an idle connection toward a provider stays open for the next call. Node's fetch keeps
 * one 4 s, so a burst after a quiet moment reconnects every socket (a TLS handshake each); a
 * minute covers the gaps of bursty traffic. A shorter timeout the server announces still wins.
 */
export const DEFAULT_KEEP_ALIVE_MS = 60_000;

/** One model's share of a pool: the fetch to hand its SDK, and the hand-back when the model is closed. */
export interface PooledFetch {
  fetch: typeof fetch;
  release(): Promise<void>;
}

interface Pool {
  users: number;
  opened: Promise<{ agent: Agent; fetch: typeof fetch }>;
}

// Process-wide, like the global dispatcher it replaces for provider calls: models built separately
// (one per request, say) still share their endpoint's connections instead of each opening its own.
const pools = new Map<string, Pool>();

/**
 * Takes a share of the keep-alive pool for `endpoint` (the same key the bulkhead and breaker use)
 * and `keepAliveMs`, opening it on first use. The pool closes when its last user releases it.
 */
export async function acquireConnectionPool(endpoint: string, keepAliveMs: number): Promise<PooledFetch> {
  const key = `${keepAliveMs} ${endpoint}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = { users: 0, opened: openPool(keepAliveMs) };
    pools.set(key, pool);
  }
  const shared = pool;
  shared.users++;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    if (--shared.users > 0) return;
    if (pools.get(key) === shared) pools.delete(key);
    // Aborts what is still in flight: a model is closed at shutdown, after the app has drained.
    await (await shared.opened).agent.destroy();
  };
  try {
    return { fetch: (await shared.opened).fetch, release };
  } catch (error) {
    // The import failed: forget the broken pool so that the next model tries again.
    released = true;
    if (--shared.users === 0 && pools.get(key) === shared) pools.delete(key);
    throw error;
  }
}

async function openPool(keepAliveMs: number) {
  // Loaded on first use, like the provider SDKs: an offline-only app never needs it.
  const { Agent, fetch: undiciFetch } = await import("undici");
  const agent = new Agent({
    keepAliveTimeout: keepAliveMs,
    // A server announcing `Keep-Alive: timeout=N` is believed when N is shorter (minus undici's
    // 2 s margin, so no request is sent on a connection it is about to close) and capped when longer.
    keepAliveMaxTimeout: keepAliveMs,
    // No cap on connections (undici's default): the provider bulkhead bounds calls in flight.
  });
  // undici's own fetch with its own Agent, never Node's bundled fetch with this Agent as `dispatcher`:
  // the two are different undici versions, and their dispatcher interfaces differ.
  const pooled = (input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: agent });
  // The SDKs type their fetch option after the global fetch; undici's types name the same shapes.
  return { agent, fetch: pooled as unknown as typeof fetch };
}
