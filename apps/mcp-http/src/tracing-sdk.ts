import { context, DiagLogLevel, diag, ROOT_CONTEXT, type TextMapGetter } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { AppTracing, TracingOptions, TracingSettings } from "./tracing.js";

/** The instrumentation scope of the app's spans. */
const TRACER_NAME = "@mcp-langgraph/mcp-http";

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * The OpenTelemetry SDK, loaded only by `startTracing` when tracing is configured (see tracing.ts).
 *
 * The tracer provider is not registered as the global one: the app hands its tracer to each package
 * explicitly, and no library in the process (LangChain, LangSmith) starts exporting through it
 * behind the operator's back. The context manager is global by nature (the api's `context` is):
 * an AsyncLocalStorage one, so a span stays current across every await of the request it belongs to.
 */
export function createSdkTracing(
  settings: TracingSettings,
  { logger, exporter }: TracingOptions,
): AppTracing {
  const manager = new AsyncLocalStorageContextManager().enable();
  // Another app in this process (tests, several servers) may have installed one already: same kind.
  if (!context.setGlobalContextManager(manager)) manager.disable();
  // Export failures are worth a warning; the SDK's own messages name endpoints and statuses only.
  diag.setLogger(
    {
      error: (message) => logger.warn({ otel: message }, "tracing: export problem"),
      warn: (message) => logger.warn({ otel: message }, "tracing: export problem"),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ ...settings.resourceAttributes, "service.name": settings.serviceName }),
    ),
    sampler: samplerOf(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter ?? otlpExporter(settings), settings.batch)],
  });
  const propagator = new W3CTraceContextPropagator();
  return {
    tracer: provider.getTracer(TRACER_NAME),
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headerGetter),
    shutdown: () => provider.shutdown(),
  };
}

function otlpExporter(settings: TracingSettings): SpanExporter {
  const config = { url: settings.url, headers: settings.headers, timeoutMillis: settings.timeoutMs };
  return settings.protocol === "http/json" ? new OtlpJsonExporter(config) : new OtlpProtoExporter(config);
}

function samplerOf(sampler: TracingSettings["sampler"]): Sampler {
  switch (sampler.name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(sampler.ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampler.ratio) });
  }
}
