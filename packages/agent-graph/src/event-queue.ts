/**
 * A single-consumer async queue: the producer pushes, then ends or fails it;
 * the consumer iterates. It buffers without bound, which is safe here because
 * one agent turn produces a bounded number of events.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  readonly #buffer: T[] = [];
  #ended = false;
  #failure: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  push(event: T) {
    if (this.#ended) return;
    this.#buffer.push(event);
    this.#notify();
  }

  end() {
    this.#ended = true;
    this.#notify();
  }

  fail(error: unknown) {
    this.#failure = { error };
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.#buffer.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) {
        if (this.#failure) throw this.#failure.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
