import { randomUUID } from "node:crypto";

/**
 * Called with the conversation key that changed and the change's id: unique per change and the
 * same on every process that hears of it, so copies of one session on several instances can agree
 * on which of them reports it (ADR 0182).
 */
export type ConversationChangeListener = (conversationKey: string, changeId: string) => void;

/**
 * Tells every MCP session that a conversation changed (a turn on it finished), so sessions
 * subscribed to it can send `notifications/resources/updated`. The in-process bus reaches the
 * sessions of one process; the Redis one (`createRedisChangeBus`) those of every instance.
 */
export interface ConversationChangeBus {
  /**
   * Delivers to this process's listeners, and to the other instances' when shared. Never rejects:
   * the change has happened, a bus that cannot carry it is the bus's to report.
   */
  publish(conversationKey: string, signal?: AbortSignal): Promise<void>;
  /** Starts delivering changes of one conversation; returns the function that stops it. */
  subscribe(conversationKey: string, listener: ConversationChangeListener): () => void;
}

/** The listeners of one process, by conversation key: what both buses deliver to. */
export class LocalChangeListeners {
  readonly #listeners = new Map<string, Set<ConversationChangeListener>>();

  deliver(conversationKey: string, changeId: string): void {
    // A copy: a listener may unsubscribe while being told.
    for (const listener of [...(this.#listeners.get(conversationKey) ?? [])]) {
      try {
        listener(conversationKey, changeId);
      } catch {
        // One session's failure to deliver must not stop the others hearing of the change.
      }
    }
  }

  add(conversationKey: string, listener: ConversationChangeListener): () => void {
    let set = this.#listeners.get(conversationKey);
    if (!set) {
      set = new Set();
      this.#listeners.set(conversationKey, set);
    }
    set.add(listener);
    return () => {
      const current = this.#listeners.get(conversationKey);
      if (!current) return;
      current.delete(listener);
      // Empty sets are dropped, so the map holds only keys someone still watches.
      if (current.size === 0) this.#listeners.delete(conversationKey);
    };
  }

  /** Keys someone watches (tests: nothing is left behind). */
  get size(): number {
    return this.#listeners.size;
  }
}

/** The bus for one process: listeners live as long as the sessions that registered them. */
export function createInProcessChangeBus(): ConversationChangeBus {
  const listeners = new LocalChangeListeners();
  return {
    async publish(conversationKey) {
      listeners.deliver(conversationKey, randomUUID());
    },
    subscribe: (conversationKey, listener) => listeners.add(conversationKey, listener),
  };
}
