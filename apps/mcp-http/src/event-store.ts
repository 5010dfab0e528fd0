export interface StoredEvent {
  id: string;
  /** The event's data line: a serialized JSON-RPC message, or "" for a priming event. */
  data: string;
}

export interface EventStoreLimits {
  /** Events kept; the oldest are forgotten beyond it. Default 512. */
  maxEvents?: number;
  /** Bytes of event data kept (UTF-8); the oldest events are forgotten beyond it. Default 4 MiB. */
  maxBytes?: number;
}

export const DEFAULT_EVENT_STORE_MAX_EVENTS = 512;
export const DEFAULT_EVENT_STORE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Per-session store of the SSE events sent on each stream, so a client that
 * lost a stream can resume with Last-Event-ID (SEP-1699 polling). Bounded in
 * count and in bytes: it keeps the newest events within both and forgets older
 * ones. Without the byte bound, 512 answers echoing ~900 KB each held ~460 MB
 * per session. An event larger than the whole byte bound is sent but not kept
 * (resuming after it replays nothing older than the next event).
 *
 * Synchronous on purpose: the session transport appends and writes an event in
 * one step, so events reach a stream in the order they were sent, and a replay
 * cannot interleave with a live write. Every answer is stored, so appending is
 * on the hot path: a ring of slots, where an event id (`<stream>:<sequence>`)
 * names its slot, and neither an append, an eviction nor a lookup scans,
 * shifts or allocates beyond the id itself. Events hold their serialized data
 * (the transport serializes each message once, for the wire and for this store).
 */
export class BoundedEventStore {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #ids: (string | undefined)[];
  readonly #streams: (string | undefined)[];
  readonly #data: (string | undefined)[];
  readonly #sizes: number[];
  /** Sequence number of the next event; events are numbered from 1. */
  #next = 1;
  /** Sequence number of the oldest event still kept (== #next when none is). */
  #oldest = 1;
  #bytes = 0;

  constructor(limits: EventStoreLimits = {}) {
    const maxEvents = limits.maxEvents ?? DEFAULT_EVENT_STORE_MAX_EVENTS;
    const maxBytes = limits.maxBytes ?? DEFAULT_EVENT_STORE_MAX_BYTES;
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) throw new RangeError("maxEvents must be ≥ 1");
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError("maxBytes must be ≥ 1");
    this.#maxEvents = maxEvents;
    this.#maxBytes = maxBytes;
    this.#ids = new Array(maxEvents);
    this.#streams = new Array(maxEvents);
    this.#data = new Array(maxEvents);
    this.#sizes = new Array(maxEvents).fill(0);
  }

  /** Events kept. */
  get size(): number {
    return this.#next - this.#oldest;
  }

  /** Bytes of event data kept: never more than `maxBytes`. */
  get retainedBytes(): number {
    return this.#bytes;
  }

  /** Stores an event of `streamId` and returns its id (`<streamId>:<sequence>`). */
  append(streamId: string, data: string): string {
    const sequence = this.#next++;
    const id = `${streamId}:${sequence}`;
    if (this.#next - this.#oldest > this.#maxEvents) this.#evictOldest();
    const slot = sequence % this.#maxEvents;
    const size = data.length === 0 ? 0 : Buffer.byteLength(data);
    this.#ids[slot] = id;
    this.#streams[slot] = streamId;
    this.#data[slot] = data;
    this.#sizes[slot] = size;
    this.#bytes += size;
    while (this.#bytes > this.#maxBytes) this.#evictOldest();
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
      const data = this.#data[slot];
      if (this.#streams[slot] === streamId && id !== undefined && data !== undefined) {
        after.push({ id, data });
      }
    }
    return after;
  }

  #evictOldest(): void {
    const slot = this.#oldest++ % this.#maxEvents;
    this.#bytes -= this.#sizes[slot] ?? 0;
    this.#ids[slot] = undefined;
    this.#streams[slot] = undefined;
    this.#data[slot] = undefined;
    this.#sizes[slot] = 0;
  }

  /** The sequence number of a kept event; anything else (evicted, never issued, malformed) is undefined. */
  #sequenceOf(eventId: string): number | undefined {
    const sequence = Number(eventId.slice(eventId.lastIndexOf(":") + 1));
    if (!Number.isSafeInteger(sequence) || sequence < this.#oldest || sequence >= this.#next) {
      return undefined;
    }
    // The slot must still hold exactly this id (not a later event's, nor "a:007" for "a:7").
    return this.#ids[sequence % this.#maxEvents] === eventId ? sequence : undefined;
  }
}
