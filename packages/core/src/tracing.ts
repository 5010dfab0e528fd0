import {
  type Attributes,
  type Context,
  context,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { isCodedError } from "./errors.js";

export type { Span, Tracer } from "@opentelemetry/api";

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default the active context (which an AsyncLocalStorage context manager carries). */
  parent?: Context;
}

/**
 * Runs `run` inside a new span, active for everything `run` awaits, and ends the span when it
 * settles. A failure sets the span's status to error with `error.type`: the error's string code
 * (or its name), never its message, which may quote a user's input or a provider's answer.
 * Packages call this only when given a tracer, so an app without tracing pays nothing.
 */
export function withSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  run: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { ...(options.kind === undefined ? {} : { kind: options.kind }), attributes: options.attributes ?? {} },
    parent,
  );
  let settled: Promise<T>;
  try {
    settled = context.with(trace.setSpan(parent, span), () => run(span));
  } catch (error) {
    settled = Promise.reject(error);
  }
  return settled.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      markFailed(span, error);
      span.end();
      throw error;
    },
  );
}

/** Sets a span's error status and `error.type` (see `withSpan`). */
export function markFailed(span: Span, error: unknown): void {
  span.setAttribute("error.type", errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** A bounded, non-sensitive name for a failure: its code, its class name, or `_OTHER`. */
export function errorType(error: unknown): string {
  if (isCodedError(error)) return error.code;
  if (error instanceof Error && error.name) return error.name;
  return "_OTHER";
}
