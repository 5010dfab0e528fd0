import { CoreError } from "./errors.js";

/** A signal that aborts when `parent` aborts or when `timeoutMs` elapses, whichever comes first. */
export function deadlineSignal(timeoutMs: number, parent?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return parent ? AbortSignal.any([parent, timeout]) : timeout;
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "AbortError" ||
      error.name === "TimeoutError" ||
      (error as { code?: unknown }).code === "ABORT_ERR")
  );
}

/** Rejects with the signal's reason as soon as it aborts; otherwise settles like `promise`. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export interface DeadlineOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Builds the error thrown when the deadline (not the caller) ends the call. */
  onTimeout?: (timeoutMs: number) => Error;
}

/**
 * Runs `operation` with a signal bounded by `timeoutMs` and the caller's signal.
 * The result is raced against that signal, so the call returns on time even when
 * the operation ignores its signal. A deadline expiry becomes `onTimeout()`
 * (default: CoreError TIMEOUT); a caller abort rethrows the caller's reason.
 *
 * Hot path (every Redis, OpenFGA and LLM call): one controller, one timer and
 * plain listeners, no AbortSignal.any/timeout, which cost several times more.
 */
export function withDeadline<T>(
  operation: (signal: AbortSignal) => Promise<T>,
  { timeoutMs, signal, onTimeout }: DeadlineOptions,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const forwardCallerAbort = () => controller.abort(signal?.reason);
    const timer = setTimeout(
      () =>
        controller.abort(
          onTimeout?.(timeoutMs) ?? new CoreError("TIMEOUT", `operation timed out after ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forwardCallerAbort);
      controller.signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      settle();
      reject(controller.signal.reason);
    };
    controller.signal.addEventListener("abort", onAbort, { once: true });
    signal?.addEventListener("abort", forwardCallerAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = operation(controller.signal);
    } catch (error) {
      settle();
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

/**
 * Waits for `promise` at most `timeoutMs` (or until the caller aborts), for work
 * that cannot be cancelled once started, such as a command already written to a
 * pipelined connection. Cheaper than withDeadline: no controller, one timer.
 * The late result, if any, is dropped.
 */
export function raceDeadline<T>(
  promise: Promise<T>,
  { timeoutMs, signal, onTimeout }: DeadlineOptions,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onCallerAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onCallerAbort);
      reject(onTimeout?.(timeoutMs) ?? new CoreError("TIMEOUT", `operation timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onCallerAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onCallerAbort);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
