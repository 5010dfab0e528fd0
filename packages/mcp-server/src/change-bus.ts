/** Called with the conversation key that changed. */
export type ConversationChangeListener = (conversationKey: string) => void;

/**
 * Tells every MCP session of a process that a conversation changed (a turn on it finished), so
 * sessions subscribed to it can send `notifications/resources/updated`. An interface because a
 * shared deployment will carry the same events between processes (e.g. Redis pub/sub).
 */
export interface ConversationChangeBus {
  publish(conversationKey: string): Promise<void>;
  /** Starts delivering changes of one conversation; returns the function that stops it. */
  subscribe(conversationKey: string, listener: ConversationChangeListener): () => void;
}

/** The bus for one process: listeners live as long as the sessions that registered them. */
export function createInProcessChangeBus(): ConversationChangeBus {
  const listeners = new Map<string, Set<ConversationChangeListener>>();
  return {
    async publish(conversationKey) {
      // A copy: a listener may unsubscribe while being told.
      for (const listener of [...(listeners.get(conversationKey) ?? [])]) {
        try {
          listener(conversationKey);
        } catch {
          // One session's failure to deliver must not stop the others hearing of the change.
        }
      }
    },
    subscribe(conversationKey, listener) {
      let set = listeners.get(conversationKey);
      if (!set) {
        set = new Set();
        listeners.set(conversationKey, set);
      }
      set.add(listener);
      return () => {
        const current = listeners.get(conversationKey);
        if (!current) return;
        current.delete(listener);
        // Empty sets are dropped, so the map holds only keys someone still watches.
        if (current.size === 0) listeners.delete(conversationKey);
      };
    },
  };
}
