import type { EventStore, JSONRPCMessage } from "@modelcontextprotocol/server";

interface StoredEvent {
  id: string;
  streamId: string;
  message: JSONRPCMessage;
}

/**
 * Per-session store of the SSE events sent on each stream, so a client that
 * lost a stream can resume with Last-Event-ID (SEP-1699 polling). Bounded:
 * it keeps the newest `maxEvents` and forgets older ones.
 */
export class BoundedEventStore implements EventStore {
  readonly #events: StoredEvent[] = [];
  readonly #maxEvents: number;
  #sequence = 0;

  constructor(maxEvents = 512) {
    this.#maxEvents = maxEvents;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}:${++this.#sequence}`;
    this.#events.push({ id, streamId, message });
    if (this.#events.length > this.#maxEvents) this.#events.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.#events.find((event) => event.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const index = this.#events.findIndex((event) => event.id === lastEventId);
    const streamId = this.#events[index]?.streamId ?? lastEventId.slice(0, lastEventId.lastIndexOf(":"));
    for (const event of this.#events.slice(index + 1)) {
      if (event.streamId === streamId) await send(event.id, event.message);
    }
    return streamId;
  }
}
