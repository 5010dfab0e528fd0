export interface SseEvent {
  id: string | undefined;
  data: string;
}

/** Splits complete SSE frames off `buffer`: the events (keep-alive comments skipped) and what is left. */
function takeFrames(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let rest = buffer;
  let end = rest.indexOf("\n\n");
  while (end >= 0) {
    const frame = rest.slice(0, end);
    rest = rest.slice(end + 2);
    end = rest.indexOf("\n\n");
    if (frame.startsWith(":")) continue; // keep-alive
    const id = /^id: ?(.*)$/m.exec(frame)?.[1];
    const data = [...frame.matchAll(/^data: ?(.*)$/gm)].map((match) => match[1]).join("\n");
    events.push({ id, data });
  }
  return { events, rest };
}

/** Reads SSE events from `response` until `done` says so or the stream ends; `cancel` drops the connection then. */
export async function readEvents(
  response: Response,
  done: (events: SseEvent[]) => boolean,
  { cancel = false } = {},
): Promise<{ events: SseEvent[]; ended: boolean }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = "";
  let ended = false;
  while (!done(events)) {
    const { value, done: finished } = await reader.read();
    if (finished) {
      ended = true;
      break;
    }
    buffer += decoder.decode(value, { stream: true });
    const taken = takeFrames(buffer);
    buffer = taken.rest;
    for (const event of taken.events) {
      events.push(event);
      if (done(events)) break;
    }
  }
  if (cancel) await reader.cancel();
  else reader.releaseLock();
  return { events, ended };
}

/** A JSON-RPC message as parsed. */
type Message = ReturnType<typeof JSON.parse>;

/** The JSON-RPC messages among SSE events (priming events carry no data). */
export const messagesOf = (events: SseEvent[]): Message[] =>
  events.filter((event) => event.data !== "").map((event) => JSON.parse(event.data));

/**
 * Every message of a long-lived SSE stream (a session's GET stream), read in the background from
 * the start, so nothing is dropped between two waits.
 */
export class SseCollector {
  readonly messages: Message[] = [];
  #ended = false;
  #wake: (() => void)[] = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(response: Response) {
    this.#reader = (response.body as ReadableStream<Uint8Array>).getReader();
    void this.#read();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const taken = takeFrames(buffer);
        buffer = taken.rest;
        this.messages.push(...messagesOf(taken.events));
        for (const wake of this.#wake.splice(0)) wake();
      }
    } catch {
      // Cancelled by close().
    }
    this.#ended = true;
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Waits until `condition` holds over the messages so far; fails if the stream ends first. */
  async until(condition: (messages: Message[]) => boolean): Promise<void> {
    while (!condition(this.messages)) {
      if (this.#ended) throw new Error(`the stream ended first; it carried ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
