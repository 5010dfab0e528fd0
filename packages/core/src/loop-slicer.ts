export interface LoopSlicerOptions {
  /**
   * Work the slicer lets run in one turn of the event loop before it yields to I/O, in ms.
   * Default 10: a health probe or a new connection waits about that long under full load.
   */
  budgetMs?: number;
  now?: () => number;
}

/** "continue": work that finishes something already admitted; it goes before "admit" (new work). */
export type SlicePriority = "continue" | "admit";

export interface LoopSlicer {
  /**
   * Resolves when the caller may run its next stretch of CPU work. While the current turn of the
   * event loop is within budget it resolves at once; past it, the caller waits for a later turn,
   * after the loop has polled for I/O.
   */
  turn(priority?: SlicePriority): Promise<void>;
  /** Callers waiting for a later turn. */
  readonly waiting: number;
}

/** A FIFO with O(1) shift (arrays' shift is O(n), and these queues can hold thousands). */
class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  get length() {
    return this.#items.length - this.#head;
  }
  push(item: T) {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

const RESOLVED = Promise.resolve();

/**
 * Cooperative time slicing for a process whose requests are CPU bursts between long waits (an
 * agent turn waits seconds on a model, then parses, checkpoints and answers in a few ms).
 * Node runs every ready callback of one loop turn back to back, so a thousand model answers
 * arriving together hold the loop for seconds and a health probe, a new connection or a
 * cancellation waits behind all of them. Work that passes through `turn()` is spread over loop
 * turns of about `budgetMs`, with the loop polling for I/O in between; work that finishes an
 * admitted request ("continue") goes before new requests ("admit"), so an overloaded process
 * completes what it started instead of starting more.
 */
export function createLoopSlicer(options: LoopSlicerOptions = {}): LoopSlicer {
  const budgetMs = options.budgetMs ?? 10;
  const now = options.now ?? (() => performance.now());
  if (!(budgetMs > 0)) throw new RangeError(`budgetMs must be positive (got ${budgetMs})`);

  const continuing = new Queue<() => void>();
  const admitting = new Queue<() => void>();
  /** When the current loop turn's budget started; undefined once the loop has turned. */
  let sliceStart: number | undefined;
  let slice = 0;
  let drainScheduled = false;

  const startSlice = () => {
    const current = ++slice;
    sliceStart = now();
    // setImmediate runs after this turn's I/O callbacks: the next turn starts a fresh budget.
    setImmediate(() => {
      if (slice === current) sliceStart = undefined;
    });
  };
  const scheduleDrain = () => {
    if (drainScheduled) return;
    drainScheduled = true;
    setImmediate(drain);
  };
  const next = () => continuing.shift() ?? admitting.shift();

  /**
   * Releases waiters one at a time, each after the previous one's continuation has run up to its
   * first await (promise callbacks run in order), until this turn's budget is spent.
   */
  function drain() {
    drainScheduled = false;
    startSlice();
    const step = () => {
      if (continuing.length + admitting.length === 0) return;
      if (now() - (sliceStart ?? 0) >= budgetMs) {
        scheduleDrain();
        return;
      }
      next()?.();
      void RESOLVED.then(step);
    };
    step();
  }

  return {
    turn(priority = "admit") {
      const waiting = continuing.length + admitting.length;
      if (waiting === 0) {
        if (sliceStart === undefined) startSlice();
        if (now() - (sliceStart as number) < budgetMs) return RESOLVED;
      }
      return new Promise<void>((resolve) => {
        (priority === "continue" ? continuing : admitting).push(resolve);
        scheduleDrain();
      });
    },
    get waiting() {
      return continuing.length + admitting.length;
    },
  };
}
