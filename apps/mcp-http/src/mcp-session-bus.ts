import { sessionStoreCall } from "./session-store-call.js";

/** What the bus sends commands through (node-redis `sendCommand`); a second client receives. */
export interface BusRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A subscriber connection (node-redis in subscriber mode). */
export interface BusSubscriber {
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
}

/**
 * What instances tell each other about one session, on its channel:
 * e: events appended to a stream another instance reads (`s` stream id, `e` entries);
 * r: the client's reply `m` to a server-to-client request, for the instance that asked;
 * n: a notification (`d` data, `i` event id) for the instance holding the standalone stream;
 * x: the session ended (DELETE, eviction): copies close now;
 * s: its resource subscriptions changed (published by McpSessionSubscriptions' scripts): copies resync;
 * a / d: an instance started / stopped reading stream `s` for the client (its producer keeps the call).
 */
export type BusMessage =
  | { t: "e"; s: string; e: string[] }
  | { t: "a" | "d"; s: string }
  | { t: "r"; m: unknown }
  | { t: "n"; d: string; i: string }
  | { t: "x" | "s" };

export interface McpSessionBusOptions {
  client: BusRedisClient;
  subscriber: BusSubscriber;
  /** SESSION_KEY_PREFIX. */
  keyPrefix: string;
  /** Stored events live this long after the stream's last append (MCP_SESSION_IDLE_SECONDS). */
  ttlMs: number;
  /** Per stream, as the in-process store (MCP_EVENT_STORE_MAX_EVENTS / _BYTES). */
  maxEvents: number;
  maxBytes: number;
  /** Deadline of each Redis call. */
  timeoutMs: number;
  /** A failed background append (Redis down): the event stays in the process, only its copy is lost. */
  onAppendError?: (error: unknown) => void;
}

/** The end of a stream: every event of its exchange has been appended. */
export const END_OF_STREAM = "";

/**
 * Appends a stream's entries, keeps it within both bounds (oldest first out; an entry larger than
 * the byte bound is not kept), slides its TTL, and, when an instance reads the stream (its reader
 * key exists), publishes the entries to it. The reader check and the append are one atomic step, so
 * an entry is either in the list a new reader reads after setting its key or published to it.
 */
const APPEND = `
local ttl = tonumber(ARGV[1])
local maxEvents = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3])
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 6, #ARGV do
  local size = #ARGV[i]
  if size <= maxBytes then
    redis.call('RPUSH', KEYS[1], ARGV[i])
    bytes = bytes + size
  end
end
local count = redis.call('LLEN', KEYS[1])
while count > 0 and (count > maxEvents or bytes > maxBytes) do
  local oldest = redis.call('LPOP', KEYS[1])
  bytes = bytes - #oldest
  count = count - 1
end
redis.call('SET', KEYS[2], bytes, 'PX', ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
if redis.call('EXISTS', KEYS[3]) == 1 then
  local entries = {}
  for i = 6, #ARGV do entries[#entries + 1] = ARGV[i] end
  redis.call('PUBLISH', ARGV[4], cjson.encode({t = 'e', s = ARGV[5], e = entries}))
end
return count`;

/**
 * Marks a stored stream as read elsewhere (so appends are published), then reads what it holds; an
 * unknown stream leaves no key behind (a client naming made-up streams creates nothing).
 */
const READ = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return redis.call('LRANGE', KEYS[1], 0, -1)`;

/**
 * A message for the session's standalone (GET) stream: published to the instance holding it, or,
 * while none does, kept (bounded, with the TTL) for the next one to open it. One atomic step with
 * HOLD, so a message is either published to the holder or in the backlog the next holder reads.
 */
const NOTIFY = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('PUBLISH', ARGV[1], ARGV[2])
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 0`;

/** This instance now holds the standalone stream: marks it so, and takes what waited for a holder. */
const HOLD = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local waiting = redis.call('LRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[2])
return waiting`;

/** The stream ended here: no holder, unless another instance has taken it over since. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * How the instances serving one MCP session share it beyond its record (SESSION_BACKEND=redis,
 * ADR 0175-0177): the SSE events of its streams, for Last-Event-ID on any instance, and one pub/sub
 * channel per session for replies, notifications and its end.
 */
export class McpSessionBus {
  readonly #options: McpSessionBusOptions;
  /** Entries waiting for the next flush, by session and stream: appended behind the answer, in one batch. */
  #queued = new Map<string, { sessionId: string; streamId: string; entries: string[] }>();
  #flushScheduled = false;
  readonly #listeners = new Map<string, Set<(message: BusMessage) => void>>();

  constructor(options: McpSessionBusOptions) {
    this.#options = options;
  }

  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  /**
   * Queues an entry of a stream (`<eventId>\n<data>`, or END_OF_STREAM). Synchronous: the answer
   * leaves first and every stream touched in this tick is written in one pipelined batch.
   */
  append(sessionId: string, streamId: string, entry: string): void {
    const key = `${sessionId} ${streamId}`;
    let queued = this.#queued.get(key);
    if (!queued) {
      queued = { sessionId, streamId, entries: [] };
      this.#queued.set(key, queued);
    }
    queued.entries.push(entry);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Writes what is queued; resolves once Redis has it (tests and shutdown wait for it). */
  async flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = [...this.#queued.values()];
    this.#queued = new Map();
    const { ttlMs, maxEvents, maxBytes } = this.#options;
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    await Promise.all(
      batch.map(async ({ sessionId, streamId, entries }) => {
        const keys = this.#streamKeys(sessionId, streamId);
        await this.#call(
          [
            "EVAL",
            APPEND,
            "3",
            keys.list,
            keys.bytes,
            keys.readers,
            String(ttlMs),
            String(maxEvents),
            String(maxBytes),
            this.#channel(sessionId),
            streamId,
            ...entries,
          ],
          signal,
        ).catch((error: unknown) => this.#options.onAppendError?.(error));
      }),
    );
  }

  /**
   * The stored entries of a stream, oldest first, after marking it read here so later appends are
   * published on the session's channel (subscribe first: `listen`).
   */
  async read(sessionId: string, streamId: string, signal: AbortSignal): Promise<string[]> {
    const keys = this.#streamKeys(sessionId, streamId);
    const entries = await this.#call(
      ["EVAL", READ, "2", keys.list, keys.readers, String(this.#options.ttlMs)],
      signal,
    );
    return entries as string[];
  }

  /**
   * Sends a message for the standalone stream to the instance holding it, or keeps it for the next
   * holder while none does.
   */
  async notify(sessionId: string, message: BusMessage, signal: AbortSignal): Promise<void> {
    const keys = this.#standaloneKeys(sessionId);
    await this.#call(
      [
        "EVAL",
        NOTIFY,
        "2",
        keys.holder,
        keys.backlog,
        this.#channel(sessionId),
        JSON.stringify(message),
        String(this.#options.ttlMs),
        String(this.#options.maxEvents),
      ],
      signal,
    );
  }

  /** Marks `holder` (unique per stream) as holding the standalone stream; returns the messages that waited. */
  async hold(sessionId: string, holder: string, signal: AbortSignal): Promise<BusMessage[]> {
    const keys = this.#standaloneKeys(sessionId);
    const waiting = (await this.#call(
      ["EVAL", HOLD, "2", keys.holder, keys.backlog, holder, String(this.#options.ttlMs)],
      signal,
    )) as string[];
    return waiting.flatMap((raw) => {
      try {
        return [JSON.parse(raw) as BusMessage];
      } catch {
        return [];
      }
    });
  }

  /** The standalone stream `holder` held has ended. */
  async release(sessionId: string, holder: string, signal: AbortSignal): Promise<void> {
    const keys = this.#standaloneKeys(sessionId);
    await this.#call(["EVAL", RELEASE, "1", keys.holder, holder], signal);
  }

  /** Sends a message to every instance holding a copy of the session; resolves to how many got it. */
  async publish(sessionId: string, message: BusMessage, signal: AbortSignal): Promise<number> {
    return Number(await this.#call(["PUBLISH", this.#channel(sessionId), JSON.stringify(message)], signal));
  }

  /** Listens on the session's channel until the returned function is called. */
  async listen(sessionId: string, listener: (message: BusMessage) => void): Promise<() => void> {
    const channel = this.#channel(sessionId);
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
      const own = listeners;
      await this.#options.subscriber.subscribe(channel, (raw) => {
        let message: BusMessage;
        try {
          message = JSON.parse(raw) as BusMessage;
        } catch {
          return;
        }
        for (const each of own) each(message);
      });
    }
    listeners.add(listener);
    return () => {
      const current = this.#listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.#listeners.delete(channel);
      void this.#options.subscriber.unsubscribe(channel).catch(() => {});
    };
  }

  /** The session's channel (scripts elsewhere publish on it atomically with their change). */
  channel(sessionId: string): string {
    return this.#channel(sessionId);
  }

  #channel(sessionId: string): string {
    return `${this.#options.keyPrefix}mcp-session-bus:${sessionId}`;
  }

  #standaloneKeys(sessionId: string) {
    const base = `${this.#options.keyPrefix}mcp-standalone:{${sessionId}}`;
    return { holder: `${base}:holder`, backlog: `${base}:backlog` };
  }

  #streamKeys(sessionId: string, streamId: string) {
    // One hash tag per session: a stream's keys share a cluster slot.
    const base = `${this.#options.keyPrefix}mcp-stream:{${sessionId}}:${streamId}`;
    return { list: base, bytes: `${base}:bytes`, readers: `${base}:readers` };
  }

  #call(args: string[], signal: AbortSignal): Promise<unknown> {
    const { client, timeoutMs } = this.#options;
    return sessionStoreCall(client, args, { what: "MCP session bus", timeoutMs, signal });
  }
}
