import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { CoreError, withSpan } from "../src/index.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer("core-test");
const manager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(manager);

afterAll(() => {
  context.disable();
});
beforeEach(() => exporter.reset());

describe("withSpan", () => {
  it("makes the span active across awaits, so a span started later is its child", async () => {
    await withSpan(tracer, "outer", {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await withSpan(tracer, "inner", {}, async () => "done");
    });
    const [inner, outer] = exporter.getFinishedSpans();
    expect(outer?.name).toBe("outer");
    expect(inner?.name).toBe("inner");
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(inner?.spanContext().traceId).toBe(outer?.spanContext().traceId);
  });

  it("marks a failure with its code as error.type and never its message", async () => {
    const failure = new CoreError("TIMEOUT", "the secret sk-123 leaked into a message");
    await expect(withSpan(tracer, "failing", {}, async () => Promise.reject(failure))).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.status.message ?? "").toBe("");
    expect(span?.attributes["error.type"]).toBe("TIMEOUT");
    expect(JSON.stringify(span?.attributes)).not.toContain("sk-123");
    expect(span?.events).toEqual([]);
  });

  it("ends the span when run throws synchronously", async () => {
    const run = (() => {
      throw new TypeError("boom");
    }) as () => Promise<void>;
    await expect(withSpan(tracer, "sync-throw", {}, run)).rejects.toThrow("boom");
    expect(exporter.getFinishedSpans()[0]?.attributes["error.type"]).toBe("TypeError");
  });

  it("takes an explicit parent instead of the active context", async () => {
    const parent = tracer.startSpan("parent");
    await withSpan(tracer, "child", { parent: trace.setSpan(context.active(), parent) }, async () => {});
    parent.end();
    const child = exporter.getFinishedSpans().find((span) => span.name === "child");
    expect(child?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });
});
