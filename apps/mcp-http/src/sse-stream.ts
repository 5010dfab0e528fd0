const encoder = new TextEncoder();

/** The SDK's default: a comment line often enough that proxies keep an idle stream open. */
export const DEFAULT_SSE_KEEP_ALIVE_MS = 15_000;

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
});

/** The empty event with an id that lets a client resume before any message was sent (SEP-1699). */
export const primingFrame = (eventId: string) => `id: ${eventId}\ndata: \n\n`;

/** A message event; `data` is the serialized JSON-RPC message (serialized once, also for the event store). */
export const messageFrame = (data: string, eventId: string | undefined) =>
  `event: message\n${eventId === undefined ? "" : `id: ${eventId}\n`}data: ${data}\n\n`;

/**
 * One server-sent-events response body: the HTTP response to hand back, and
 * the writes onto it. Writes after the stream closed (or the client went away)
 * are dropped; the caller keeps events it must not lose in the event store.
 */
export class SseStream {
  readonly response: Response;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #keepAlive: NodeJS.Timeout | undefined;
  #closed = false;
  #onClose: (() => void) | undefined;

  /** `onCancel` runs when the client disconnects (not when the server closes the stream). */
  constructor(headers: Record<string, string>, keepAliveMs: number, onCancel: () => void) {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => {
        this.#stop();
        onCancel();
      },
    });
    this.response = new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
    if (keepAliveMs >= 1) {
      this.#keepAlive = setInterval(() => this.#write(": keepalive\n\n"), keepAliveMs);
      this.#keepAlive.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  writePriming(eventId: string): void {
    this.#write(primingFrame(eventId));
  }

  writeMessage(data: string, eventId: string | undefined): void {
    this.#write(messageFrame(data, eventId));
  }

  /** Runs once when the stream ends, whichever side ends it (one listener). */
  onClose(listener: () => void): void {
    this.#onClose = listener;
  }

  close(): void {
    if (this.#closed) return;
    this.#stop();
    try {
      this.#controller.close();
    } catch {
      // Already closed by a cancelled reader.
    }
  }

  #stop(): void {
    if (!this.#closed) {
      const listener = this.#onClose;
      this.#onClose = undefined;
      queueMicrotask(() => listener?.());
    }
    this.#closed = true;
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  #write(text: string): void {
    if (this.#closed) return;
    try {
      this.#controller.enqueue(encoder.encode(text));
    } catch {
      this.#stop();
    }
  }
}
