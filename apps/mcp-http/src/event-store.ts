import type { JSONRPCMessage } from "@modelcontextprotocol/server";

export interface StoredEvent {
  id: string;
  message: JSONRPCMessage;
}

/**
 * Per-session store of the SSE events sent on each stream, so a client that
 * lost a stream can resume with Last-Event-ID (SEP-1699 polling). Bounded:
 * it keeps the newest `maxEvents` and forgets older ones.
 *
 * Synchronous on purpose: the session transport appends and writes an event in
 * one step, so events reach a stream in the order they were sent, and a replay
 * cannot interleave with a live write. Each event's position is indexed by id,
 * so neither a resume nor an eviction scans the buffer.
 */
export class BoundedEventStore {
  readonly #maxEvents: number;
  /** Events in send order; `#first` is the sequence number of `#events[0]`. */
  readonly #events: { id: string; streamId: string; message: JSONRPCMessage }[] = [];
  readonly #sequenceOf = new Map<string, number>();
  #first = 1;
  #next = 1;

  constructor(maxEvents = 512) {
    this.#maxEvents = maxEvents;
  }

  get size(): number {
    return this.#events.length;
  }

  /** Stores an event of `streamId` and returns its id (`<streamId>:<sequence>`). */
  append(streamId: string, message: JSONRPCMessage): string {
    const sequence = this.#next++;
    const id = `${streamId}:${sequence}`;
    this.#events.push({ id, streamId, message });
    this.#sequenceOf.set(id, sequence);
    if (this.#events.length > this.#maxEvents) {
      const dropped = this.#events.shift();
      if (dropped) this.#sequenceOf.delete(dropped.id);
      this.#first++;
    }
    return id;
  }

  /** The stream an event id belongs to, while that event is still kept. */
  streamOf(eventId: string): string | undefined {
    const sequence = this.#sequenceOf.get(eventId);
    return sequence === undefined ? undefined : this.#events[sequence - this.#first]?.streamId;
  }

  /** The kept events of the event's stream sent after it, oldest first. */
  eventsAfter(eventId: string): StoredEvent[] {
    const sequence = this.#sequenceOf.get(eventId);
    if (sequence === undefined) return [];
    const streamId = this.#events[sequence - this.#first]?.streamId;
    const after: StoredEvent[] = [];
    for (let index = sequence - this.#first + 1; index < this.#events.length; index++) {
      const event = this.#events[index];
      if (event !== undefined && event.streamId === streamId)
        after.push({ id: event.id, message: event.message });
    }
    return after;
  }
}
