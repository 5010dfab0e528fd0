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
 * cannot interleave with a live write. Every answer is stored, so appending is
 * on the hot path: a ring of slots, where an event id (`<stream>:<sequence>`)
 * names its slot, and neither an append, an eviction nor a lookup scans,
 * shifts or allocates beyond the id itself.
 */
export class BoundedEventStore {
  readonly #maxEvents: number;
  readonly #ids: (string | undefined)[];
  readonly #streams: (string | undefined)[];
  readonly #messages: (JSONRPCMessage | undefined)[];
  /** Sequence number of the next event; events are numbered from 1. */
  #next = 1;

  constructor(maxEvents = 512) {
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) throw new RangeError("maxEvents must be ≥ 1");
    this.#maxEvents = maxEvents;
    this.#ids = new Array(maxEvents);
    this.#streams = new Array(maxEvents);
    this.#messages = new Array(maxEvents);
  }

  get size(): number {
    return Math.min(this.#next - 1, this.#maxEvents);
  }

  /** Stores an event of `streamId` and returns its id (`<streamId>:<sequence>`). */
  append(streamId: string, message: JSONRPCMessage): string {
    const sequence = this.#next++;
    const id = `${streamId}:${sequence}`;
    const slot = sequence % this.#maxEvents;
    this.#ids[slot] = id;
    this.#streams[slot] = streamId;
    this.#messages[slot] = message;
    return id;
  }

  /** The stream an event id belongs to, while that event is still kept. */
  streamOf(eventId: string): string | undefined {
    const sequence = this.#sequenceOf(eventId);
    return sequence === undefined ? undefined : this.#streams[sequence % this.#maxEvents];
  }

  /** The kept events of the event's stream sent after it, oldest first. */
  eventsAfter(eventId: string): StoredEvent[] {
    const sequence = this.#sequenceOf(eventId);
    if (sequence === undefined) return [];
    const streamId = this.#streams[sequence % this.#maxEvents];
    const after: StoredEvent[] = [];
    for (let next = sequence + 1; next < this.#next; next++) {
      const slot = next % this.#maxEvents;
      const id = this.#ids[slot];
      const message = this.#messages[slot];
      if (this.#streams[slot] === streamId && id !== undefined && message !== undefined) {
        after.push({ id, message });
      }
    }
    return after;
  }

  /** The sequence number of a kept event; anything else (evicted, never issued, malformed) is undefined. */
  #sequenceOf(eventId: string): number | undefined {
    const sequence = Number(eventId.slice(eventId.lastIndexOf(":") + 1));
    if (
      !Number.isSafeInteger(sequence) ||
      sequence < this.#next - this.#maxEvents ||
      sequence >= this.#next
    ) {
      return undefined;
    }
    // The slot must still hold exactly this id (not a later event's, nor "a:007" for "a:7").
    return this.#ids[sequence % this.#maxEvents] === eventId ? sequence : undefined;
  }
}
