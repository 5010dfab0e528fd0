import { raceAbort } from "@mcp-langgraph/core";

/** Runs one turn per thread at a time in this process, so concurrent turns cannot fork a thread. */
export class ThreadLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(threadId: string, operation: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
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
      return await operation();
    } finally {
      release();
    }
  }
}
