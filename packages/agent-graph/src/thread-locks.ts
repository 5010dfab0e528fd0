import { raceAbort } from "@mcp-langgraph/core";

/**
 * Serialises the turns (and deletes) of one thread. The default holds in one process; a shared
 * implementation (session's `RedisLocks`) holds across every instance sharing a checkpointer.
 */
export interface ThreadLockProvider {
  /**
   * Runs `operation` once no other holder has `threadId`'s lock, until it settles. `held` aborts
   * when the lock is lost mid-way (a shared lock that could not be renewed): the agent then stops
   * the turn and refuses its further checkpoint writes. Waiting ends when `signal` aborts.
   */
  run<T>(
    threadId: string,
    operation: (held: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T>;
}

/** A signal that never aborts: a process-local lock cannot be lost. */
const NEVER_LOST = new AbortController().signal;

/** Runs one turn per thread at a time in this process, so concurrent turns cannot fork a thread. */
export class ThreadLocks implements ThreadLockProvider {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(
    threadId: string,
    operation: (held: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const previous = this.#tails.get(threadId) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(threadId, tail);
    void tail.then(() => {
      if (this.#tails.get(threadId) === tail) this.#tails.delete(threadId);
    });
    try {
      await (signal ? raceAbort(previous, signal) : previous);
      return await operation(NEVER_LOST);
    } finally {
      release();
    }
  }
}

/**
 * A shared lock behind this process's own: turns of one thread in one process queue here, and
 * only the head of that queue waits on (and polls) the shared lock.
 */
export function layeredThreadLocks(shared: ThreadLockProvider): ThreadLockProvider {
  const local = new ThreadLocks();
  return {
    run: (threadId, operation, signal) =>
      local.run(threadId, () => shared.run(threadId, operation, signal), signal),
  };
}
