import type { Logger } from "@mcp-langgraph/core";
import type { Context, Tracer } from "@opentelemetry/api";
// Types only: erased from the build, so the SDK is loaded by the dynamic import below or not at all.
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";

/** OpenTelemetry settings from the standard OTEL_* variables (config.ts). */
export interface TracingSettings {
  /** Full URL spans are posted to (`…/v1/traces`). */
  url: string;
  protocol: "http/protobuf" | "http/json";
  /** Sent with every export (a collector's API key): a secret. */
  headers: Record<string, string>;
  /** Deadline of one export request. */
  timeoutMs: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** OTEL_TRACES_SAMPLER; `ratio` (OTEL_TRACES_SAMPLER_ARG, default 1) is read by the ratio samplers only. */
  sampler: {
    name:
      | "always_on"
      | "always_off"
      | "traceidratio"
      | "parentbased_always_on"
      | "parentbased_always_off"
      | "parentbased_traceidratio";
    ratio: number;
  };
  /** The batch span processor's bounds: spans beyond the queue are dropped, never buffered without end. */
  batch: {
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMillis: number;
    exportTimeoutMillis: number;
  };
}

/** The app's tracing, once configured: the tracer handed to every package, and the edge's helpers. */
export interface AppTracing {
  tracer: Tracer;
  /** The parent context named by a request's W3C `traceparent` / `tracestate` headers (a root when none). */
  extract(headers: Headers): Context;
  /** Exports the spans still buffered (bounded by the export timeout) and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  logger: Logger;
  /** Replaces the OTLP exporter (tests: an in-memory exporter behind the same provider and processor). */
  exporter?: SpanExporter | undefined;
}

/**
 * Starts tracing when it is configured. Without settings this returns undefined and imports
 * nothing: the packages get no tracer, so they create no spans, and the OpenTelemetry SDK is never
 * loaded (only `@opentelemetry/api`, whose calls the packages skip without a tracer).
 */
export async function startTracing(
  settings: TracingSettings | undefined,
  options: TracingOptions,
): Promise<AppTracing | undefined> {
  if (!settings) return undefined;
  const { createSdkTracing } = await import("./tracing-sdk.js");
  return createSdkTracing(settings, options);
}
